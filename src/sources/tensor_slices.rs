//! `from_tensor_slices`: the rows of in-memory tensors as elements, read by index, batched by slicing.

use std::sync::Arc;

use crate::dataset::{Cardinality, Context, Dataset, Indexing, Node, RandomAccess, Stream};
use crate::element::{Batch, Element, ElementSpec};
use crate::error::{Error, Result};

use super::IntoElement;

/// The rows of a set of tensors that share their first dimension.
pub(crate) struct TensorSlices {
    batch: Element,
    len: usize,
    spec: ElementSpec,
}

impl TensorSlices {
    pub(crate) fn new(batch: Element) -> Result<Self> {
        let mut len: Option<usize> = None;
        for (i, t) in batch.components().iter().enumerate() {
            let first = *t.shape().first().ok_or_else(|| {
                Error::invalid_argument("Unbatching a tensor is only supported for rank >= 1")
                    .with_component(batch.paths()[i].clone())
            })?;
            match len {
                None => len = Some(first),
                Some(l) if l != first => {
                    return Err(Error::incompatible(format!(
                        "Dimensions {l} and {first} are not compatible"
                    ))
                    .with_component(batch.paths()[i].clone()))
                }
                _ => {}
            }
        }
        let len = len.ok_or_else(|| {
            Error::invalid_argument("from_tensor_slices needs at least one component")
        })?;
        let spec = batch.spec().map_components(|s| s.unbatched())?;
        Ok(TensorSlices { batch, len, spec })
    }
}

impl RandomAccess for TensorSlices {
    fn spec(&self) -> ElementSpec {
        self.spec.clone()
    }

    fn len(&self) -> usize {
        self.len
    }

    fn get(&self, index: usize) -> Result<Element> {
        self.batch.try_map_components(|_, t| t.row(index))
    }

    fn slice(&self, start: usize, end: usize) -> Result<Batch> {
        self.batch
            .try_map_components(|_, t| t.slice_rows(start, end))
    }

    fn gather(&self, indices: &[usize]) -> Result<Batch> {
        self.batch.try_map_components(|_, t| t.gather_rows(indices))
    }
}

/// A node that opens a random-access source as indices `0..len`.
pub(crate) struct IndexedSource {
    pub(crate) name: &'static str,
    pub(crate) source: Arc<dyn RandomAccess>,
}

impl Node for IndexedSource {
    fn name(&self) -> &'static str {
        self.name
    }

    fn spec(&self) -> Result<ElementSpec> {
        Ok(self.source.spec())
    }

    fn cardinality(&self) -> Cardinality {
        Cardinality::Finite(self.source.len() as u64)
    }

    fn open(&self, _ctx: &Context) -> Result<Stream> {
        Ok(Stream::Indexed {
            source: self.source.clone(),
            indices: crate::dataset::indices::index_range(0, self.source.len()),
        })
    }

    fn indexing(&self) -> Indexing {
        Indexing::Source
    }
}

impl Dataset {
    /// A dataset of the slices of `tensors` along their first dimension (tf.data's
    /// `from_tensor_slices`): one tensor, a tuple of them, a dict (`BTreeMap` or [`Element::dict`]),
    /// an owned ndarray, a `Vec<T>` or a `Vec<String>`. No data is copied: elements and unshuffled
    /// batches are views of these tensors.
    ///
    /// Errors when a component is a scalar or the components' first dimensions differ.
    ///
    /// ```
    /// use slicestream::Dataset;
    /// let ds = Dataset::from_tensor_slices((vec![1.0f32, 2.0, 3.0], vec![7i64, 8, 9]))?;
    /// assert_eq!(ds.cardinality().as_tf(), 3);
    /// # Ok::<(), slicestream::Error>(())
    /// ```
    pub fn from_tensor_slices(tensors: impl IntoElement) -> Result<Dataset> {
        let slices = TensorSlices::new(tensors.into_element()?)
            .map_err(|e| e.with_stage("from_tensor_slices"))?;
        Ok(Dataset::from_random_access_named(
            "from_tensor_slices",
            Arc::new(slices),
        ))
    }

    /// A dataset over any [`RandomAccess`] source: batches slice it, shuffles move its indices.
    pub fn from_random_access(source: Arc<dyn RandomAccess>) -> Dataset {
        Dataset::from_random_access_named("random_access", source)
    }

    /// [`Dataset::from_random_access`] with the stage name that stats and errors show.
    pub(crate) fn from_random_access_named(
        name: &'static str,
        source: Arc<dyn RandomAccess>,
    ) -> Dataset {
        Dataset::from_node(IndexedSource { name, source })
    }

    /// A dataset of one element: `tensors` as a whole (tf.data's `from_tensors`).
    pub fn from_tensors(tensors: impl IntoElement) -> Result<Dataset> {
        let element = tensors.into_element()?;
        Ok(Dataset::from_random_access_named(
            "from_tensors",
            Arc::new(Elements::new(vec![element])?),
        ))
    }

    /// A dataset of the given elements, which must share one spec (shapes may differ where the
    /// spec says `None`; the spec is the most specific that all of them fit).
    pub fn from_elements(elements: Vec<Element>) -> Result<Dataset> {
        Ok(Dataset::from_random_access_named(
            "from_elements",
            Arc::new(Elements::new(elements)?),
        ))
    }

    /// An empty dataset of the given spec.
    pub fn empty(spec: ElementSpec) -> Dataset {
        Dataset::from_random_access(Arc::new(Elements {
            elements: Vec::new(),
            spec,
        }))
    }
}

/// Elements held in memory one by one (from_tensors, windows).
pub(crate) struct Elements {
    elements: Vec<Element>,
    spec: ElementSpec,
}

impl Elements {
    pub(crate) fn new(elements: Vec<Element>) -> Result<Self> {
        let first = elements.first().ok_or_else(|| {
            Error::invalid_argument("from_elements needs at least one element; use Dataset::empty")
        })?;
        let mut spec = first.spec();
        for (i, e) in elements.iter().enumerate().skip(1) {
            spec = spec
                .most_specific_compatible(&e.spec())
                .map_err(|err| err.with_element(i as u64))?;
        }
        Ok(Elements { elements, spec })
    }

    pub(crate) fn with_spec(elements: Vec<Element>, spec: ElementSpec) -> Self {
        Elements { elements, spec }
    }
}

impl RandomAccess for Elements {
    fn spec(&self) -> ElementSpec {
        self.spec.clone()
    }

    fn len(&self) -> usize {
        self.elements.len()
    }

    fn get(&self, index: usize) -> Result<Element> {
        self.elements.get(index).cloned().ok_or_else(|| {
            Error::invalid_argument(format!(
                "element {index} out of range for {} elements",
                self.elements.len()
            ))
        })
    }

    fn gather(&self, indices: &[usize]) -> Result<Batch> {
        let picked: Vec<Element> = indices
            .iter()
            .map(|&i| self.get(i))
            .collect::<Result<_>>()?;
        crate::transform::batcher::stack_checked(&picked)
    }
}
