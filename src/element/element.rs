//! [`Element`]: one item of a dataset — tensors nested as a single tensor, a tuple or a dict.

use std::sync::Arc;

use super::{ElementSpec, Structure, TensorSpec};
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// One item of a dataset: its components (tensors) and how they nest ([`Structure`]).
///
/// Components are kept flat, depth-first, beside a shared structure, so a transformation that works
/// per component (batch, unbatch, slicing) never walks the nesting. Address a component by index or
/// by path (`"image"`, `"0"`, `"a/0"`).
#[derive(Clone, Debug, PartialEq)]
pub struct Element {
    structure: Arc<Structure>,
    components: Vec<Tensor>,
}

/// A batch is an [`Element`] whose components carry a leading batch dimension.
pub type Batch = Element;

impl Element {
    /// An element that is one tensor.
    pub fn single(tensor: Tensor) -> Self {
        Element {
            structure: Arc::new(Structure::Tensor),
            components: vec![tensor],
        }
    }

    /// A tuple of tensors: components `"0"`, `"1"`, ….
    pub fn tuple(tensors: Vec<Tensor>) -> Self {
        Element {
            structure: Arc::new(Structure::tuple_of_tensors(tensors.len())),
            components: tensors,
        }
    }

    /// A dict of named tensors, in the order given.
    pub fn dict<S: Into<String>>(items: impl IntoIterator<Item = (S, Tensor)>) -> Self {
        let (names, components): (Vec<String>, Vec<Tensor>) =
            items.into_iter().map(|(k, v)| (k.into(), v)).unzip();
        Element {
            structure: Arc::new(Structure::dict_of_tensors(names)),
            components,
        }
    }

    /// An element of any nesting; errors when the structure's leaf count is not `components.len()`.
    pub fn new(structure: Structure, components: Vec<Tensor>) -> Result<Self> {
        Self::from_shared(Arc::new(structure), components)
    }

    pub(crate) fn from_shared(structure: Arc<Structure>, components: Vec<Tensor>) -> Result<Self> {
        if structure.num_leaves() != components.len() {
            return Err(Error::invalid_argument(format!(
                "structure {structure} has {} components, got {} tensors",
                structure.num_leaves(),
                components.len()
            )));
        }
        Ok(Element {
            structure,
            components,
        })
    }

    /// Nests elements as a tuple: `((x, y), z)` from `[(x, y), z]`.
    pub fn tuple_of(elements: Vec<Element>) -> Self {
        let structure = Structure::Tuple(elements.iter().map(|e| (*e.structure).clone()).collect());
        Element {
            structure: Arc::new(structure),
            components: elements.into_iter().flat_map(|e| e.components).collect(),
        }
    }

    /// Nests elements as a dict.
    pub fn dict_of<S: Into<String>>(items: Vec<(S, Element)>) -> Self {
        let mut structure = Vec::with_capacity(items.len());
        let mut components = Vec::new();
        for (k, e) in items {
            structure.push((k.into(), (*e.structure).clone()));
            components.extend(e.components);
        }
        Element {
            structure: Arc::new(Structure::Dict(structure)),
            components,
        }
    }

    /// How the components nest.
    pub fn structure(&self) -> &Structure {
        &self.structure
    }

    pub(crate) fn shared_structure(&self) -> &Arc<Structure> {
        &self.structure
    }

    /// The components, depth-first.
    pub fn components(&self) -> &[Tensor] {
        &self.components
    }

    /// The components, depth-first, by value.
    pub fn into_components(self) -> Vec<Tensor> {
        self.components
    }

    /// The structure (shared, not copied) and the components, by value.
    pub fn into_parts(self) -> (Arc<Structure>, Vec<Tensor>) {
        (self.structure, self.components)
    }

    /// The number of components.
    pub fn len(&self) -> usize {
        self.components.len()
    }

    /// Whether the element has no components (an empty tuple or dict).
    pub fn is_empty(&self) -> bool {
        self.components.is_empty()
    }

    /// The component at depth-first index `i`.
    pub fn component(&self, i: usize) -> Result<&Tensor> {
        self.components.get(i).ok_or_else(|| {
            Error::not_found(format!(
                "no component {i}; the element has {} components",
                self.components.len()
            ))
        })
    }

    /// The component at `path` (`"image"`, `"0"`, `"a/0"`).
    pub fn get(&self, path: &str) -> Result<&Tensor> {
        let i = self.structure.leaf_index(path)?;
        Ok(&self.components[i])
    }

    /// The component paths, depth-first.
    pub fn paths(&self) -> Vec<String> {
        self.structure.paths()
    }

    /// The top-level items as elements of their own: a tuple `(x, y)` gives `[x, y]`, a dict gives its
    /// values, a single tensor gives itself. This is how tf.data unpacks an element into a function's
    /// arguments.
    pub fn unpack(&self) -> Vec<(String, Element)> {
        if let Structure::Tensor = *self.structure {
            return vec![("0".to_string(), self.clone())];
        }
        self.structure
            .top_level()
            .into_iter()
            .map(|(name, s, range)| {
                (
                    name,
                    Element {
                        structure: Arc::new(s),
                        components: self.components[range].to_vec(),
                    },
                )
            })
            .collect()
    }

    /// The spec of this element (every dimension known).
    pub fn spec(&self) -> ElementSpec {
        ElementSpec::from_parts(
            self.structure.clone(),
            self.components.iter().map(TensorSpec::of).collect(),
        )
    }

    /// The bytes its values occupy.
    pub fn nbytes(&self) -> usize {
        self.components.iter().map(Tensor::nbytes).sum()
    }

    /// Every component transformed by `f` (with its depth-first index), same structure.
    pub fn try_map_components(
        &self,
        mut f: impl FnMut(usize, &Tensor) -> Result<Tensor>,
    ) -> Result<Element> {
        // A plain loop: this runs once per batch on the hot path.
        let mut components = Vec::with_capacity(self.components.len());
        for (i, t) in self.components.iter().enumerate() {
            components.push(f(i, t)?);
        }
        Ok(Element {
            structure: self.structure.clone(),
            components,
        })
    }

    /// The leading dimension shared by every component, if they all have one and it agrees.
    pub fn batch_size(&self) -> Option<usize> {
        let first = *self.components.first()?.shape().first()?;
        self.components
            .iter()
            .all(|t| t.shape().first() == Some(&first))
            .then_some(first)
    }
}
