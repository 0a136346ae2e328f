//! [`TensorSpec`] and [`ElementSpec`]: what each component of a dataset's elements looks like, known
//! before iteration (tf.data's `element_spec`).

use std::fmt;
use std::sync::Arc;

use super::Structure;
use crate::error::{Error, ErrorKind, Result};
use crate::tensor::{DType, Tensor};

/// One component's dtype and shape; `None` marks a dimension that is not known before iteration.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TensorSpec {
    /// The dtype of the values.
    pub dtype: DType,
    /// The shape, with `None` for unknown dimensions.
    pub shape: Vec<Option<usize>>,
}

impl TensorSpec {
    /// A spec with a fully known shape.
    pub fn new(dtype: DType, shape: &[usize]) -> Self {
        TensorSpec {
            dtype,
            shape: shape.iter().map(|&d| Some(d)).collect(),
        }
    }

    /// A spec with some dimensions unknown.
    pub fn with_unknown(dtype: DType, shape: Vec<Option<usize>>) -> Self {
        TensorSpec { dtype, shape }
    }

    /// The spec of a given tensor.
    pub fn of(tensor: &Tensor) -> Self {
        Self::new(tensor.dtype(), tensor.shape())
    }

    /// The rank.
    pub fn rank(&self) -> usize {
        self.shape.len()
    }

    /// Whether `tensor` has this dtype and a shape that fits.
    pub fn matches(&self, tensor: &Tensor) -> bool {
        tensor.dtype() == self.dtype
            && tensor.rank() == self.rank()
            && self
                .shape
                .iter()
                .zip(tensor.shape())
                .all(|(s, &d)| s.is_none_or(|s| s == d))
    }

    /// The error of a `tensor` that does not [match](TensorSpec::matches) this spec: a dtype
    /// mismatch, else a shape mismatch; `context` says where (shown as the message).
    pub(crate) fn mismatch(&self, tensor: &Tensor, context: String) -> Error {
        let kind = if tensor.dtype() != self.dtype {
            ErrorKind::DTypeMismatch {
                expected: self.dtype,
                found: tensor.dtype(),
            }
        } else {
            ErrorKind::ShapeMismatch {
                expected: self.shape.clone(),
                found: tensor.shape().to_vec(),
            }
        };
        Error::new(kind).with_context(context)
    }

    /// The spec that both `self` and `other` fit (unknown where their dimensions differ), or `None`
    /// when dtype or rank differ — TensorFlow's `most_specific_compatible_type`.
    pub fn most_specific_compatible(&self, other: &TensorSpec) -> Option<TensorSpec> {
        if self.dtype != other.dtype || self.rank() != other.rank() {
            return None;
        }
        let shape = self
            .shape
            .iter()
            .zip(&other.shape)
            .map(|(a, b)| if a == b { *a } else { None })
            .collect();
        Some(TensorSpec {
            dtype: self.dtype,
            shape,
        })
    }

    /// This spec with a leading dimension added.
    pub fn batched(&self, batch: Option<usize>) -> TensorSpec {
        let mut shape = Vec::with_capacity(self.rank() + 1);
        shape.push(batch);
        shape.extend_from_slice(&self.shape);
        TensorSpec {
            dtype: self.dtype,
            shape,
        }
    }

    /// This spec without its leading dimension; errors for a scalar.
    pub fn unbatched(&self) -> Result<TensorSpec> {
        if self.shape.is_empty() {
            return Err(Error::invalid_argument(
                "Unbatching a tensor is only supported for rank >= 1",
            ));
        }
        Ok(TensorSpec {
            dtype: self.dtype,
            shape: self.shape[1..].to_vec(),
        })
    }
}

impl fmt::Display for TensorSpec {
    /// TensorFlow's form: `TensorSpec(shape=(None, 3), dtype=tf.int64, name=None)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dims: Vec<String> = self
            .shape
            .iter()
            .map(|d| d.map_or("None".to_string(), |d| d.to_string()))
            .collect();
        let shape = match dims.len() {
            1 => format!("({},)", dims[0]),
            _ => format!("({})", dims.join(", ")),
        };
        write!(
            f,
            "TensorSpec(shape={shape}, dtype=tf.{}, name=None)",
            self.dtype
        )
    }
}

/// The spec of a dataset's elements: their [`Structure`] and one [`TensorSpec`] per leaf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElementSpec {
    structure: Arc<Structure>,
    components: Vec<TensorSpec>,
}

impl ElementSpec {
    /// A spec of this structure and leaf specs; errors when their counts differ.
    pub fn new(structure: Structure, components: Vec<TensorSpec>) -> Result<Self> {
        Self::from_shared(Arc::new(structure), components)
    }

    pub(crate) fn from_shared(
        structure: Arc<Structure>,
        components: Vec<TensorSpec>,
    ) -> Result<Self> {
        if structure.num_leaves() != components.len() {
            return Err(Error::invalid_argument(format!(
                "structure {structure} has {} components, got {} specs",
                structure.num_leaves(),
                components.len()
            )));
        }
        Ok(ElementSpec {
            structure,
            components,
        })
    }

    /// A spec whose leaf count the caller has made sure of.
    pub(crate) fn from_parts(structure: Arc<Structure>, components: Vec<TensorSpec>) -> Self {
        debug_assert_eq!(structure.num_leaves(), components.len());
        ElementSpec {
            structure,
            components,
        }
    }

    /// The spec of a single tensor.
    pub fn single(spec: TensorSpec) -> Self {
        ElementSpec {
            structure: Arc::new(Structure::Tensor),
            components: vec![spec],
        }
    }

    /// How the components nest.
    pub fn structure(&self) -> &Structure {
        &self.structure
    }

    /// One spec per leaf, depth-first.
    pub fn components(&self) -> &[TensorSpec] {
        &self.components
    }

    /// The path of each leaf (see [`Structure::paths`]).
    pub fn paths(&self) -> Vec<String> {
        self.structure.paths()
    }

    /// The spec of the component at `path`.
    pub fn get(&self, path: &str) -> Result<&TensorSpec> {
        Ok(&self.components[self.structure.leaf_index(path)?])
    }

    /// Every leaf spec transformed by `f`, same structure.
    pub fn map_components(&self, f: impl FnMut(&TensorSpec) -> Result<TensorSpec>) -> Result<Self> {
        Ok(ElementSpec {
            structure: self.structure.clone(),
            components: self.components.iter().map(f).collect::<Result<_>>()?,
        })
    }

    /// The spec that both fit, or an error naming both (TensorFlow's "Incompatible dataset elements").
    pub fn most_specific_compatible(&self, other: &ElementSpec) -> Result<ElementSpec> {
        let incompatible = || {
            Error::incompatible(format!(
                "Incompatible dataset elements:\n  {self} vs.   {other}"
            ))
        };
        if self.structure != other.structure {
            return Err(incompatible());
        }
        let components = self
            .components
            .iter()
            .zip(&other.components)
            .map(|(a, b)| a.most_specific_compatible(b).ok_or_else(incompatible))
            .collect::<Result<_>>()?;
        Ok(ElementSpec {
            structure: self.structure.clone(),
            components,
        })
    }
}

impl fmt::Display for ElementSpec {
    /// TensorFlow's nested form: a TensorSpec, a tuple of them or a dict of them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn go(
            s: &Structure,
            specs: &mut std::slice::Iter<'_, TensorSpec>,
            f: &mut fmt::Formatter<'_>,
        ) -> fmt::Result {
            match s {
                Structure::Tensor => match specs.next() {
                    Some(t) => write!(f, "{t}"),
                    None => f.write_str("?"),
                },
                Structure::Tuple(items) => {
                    f.write_str("(")?;
                    for (i, s) in items.iter().enumerate() {
                        if i > 0 {
                            f.write_str(", ")?;
                        }
                        go(s, specs, f)?;
                    }
                    if items.len() == 1 {
                        f.write_str(",")?;
                    }
                    f.write_str(")")
                }
                Structure::Dict(items) => {
                    f.write_str("{")?;
                    for (i, (k, s)) in items.iter().enumerate() {
                        if i > 0 {
                            f.write_str(", ")?;
                        }
                        write!(f, "'{k}': ")?;
                        go(s, specs, f)?;
                    }
                    f.write_str("}")
                }
            }
        }
        go(&self.structure, &mut self.components.iter(), f)
    }
}
