//! `batch`: consecutive elements stacked along a new first dimension.

use std::sync::Arc;

use crate::dataset::{Cardinality, Context, Dataset, Elements, Node, RandomAccess, Stream};
use crate::element::{Batch, Element, ElementSpec};
use crate::error::{Error, Result};
use crate::tensor::Tensor;

use super::tf_shape;

/// Stacks elements of one structure into a batch; errors name the component and element whose shape
/// differs from the first's (TensorFlow's message).
pub(crate) fn stack_elements(elements: &[Element]) -> Result<Batch> {
    let first = elements
        .first()
        .ok_or_else(|| Error::invalid_argument("cannot batch zero elements"))?;
    let mut components = Vec::with_capacity(first.len());
    for c in 0..first.len() {
        let column: Vec<&Tensor> = elements.iter().map(|e| &e.components()[c]).collect();
        // Tensor::stack checks that dtypes and shapes agree; on failure, TensorFlow's message.
        let stacked = Tensor::stack_refs(&column).map_err(|e| {
            let head = column[0];
            let differs = column
                .iter()
                .position(|t| t.dtype() != head.dtype() || t.shape() != head.shape());
            match differs {
                Some(j) => Error::incompatible(format!(
                    "Cannot batch tensors with different shapes in component {c}. First element had shape {} and element {j} had shape {}.",
                    tf_shape(head.shape()),
                    tf_shape(column[j].shape())
                )),
                None => e,
            }
        })?;
        components.push(stacked);
    }
    Element::from_shared(first.shared_structure().clone(), components)
}

/// Gathers of at least this many bytes per batch run on the pipeline's pool.
const PARALLEL_GATHER_BYTES: usize = 512 << 10;

fn is_consecutive(indices: &[usize]) -> bool {
    let first = indices[0];
    indices.iter().enumerate().all(|(k, &i)| i == first + k)
}

/// The batch of the given indices: a slice when they are consecutive, a gather otherwise.
pub(crate) fn batch_indices(source: &dyn RandomAccess, indices: &[usize]) -> Result<Batch> {
    let first = indices[0];
    if is_consecutive(indices) {
        source.slice(first, first + indices.len())
    } else {
        source.gather(indices)
    }
}

/// TensorFlow's cardinality of a batching of `n` elements.
pub(crate) fn batched_cardinality(
    n: Cardinality,
    batch_size: usize,
    drop_remainder: bool,
) -> Cardinality {
    match n {
        Cardinality::Finite(n) => {
            let b = batch_size as u64;
            Cardinality::Finite(n / b + u64::from(!drop_remainder && n % b != 0))
        }
        other => other,
    }
}

pub(crate) fn check_batch_size(batch_size: i64) -> Result<usize> {
    if batch_size <= 0 {
        return Err(Error::invalid_argument(
            "Batch size must be greater than zero.",
        ));
    }
    Ok(batch_size as usize)
}

struct BatchNode {
    input: Arc<dyn Node>,
    batch_size: usize,
    drop_remainder: bool,
}

impl Node for BatchNode {
    fn name(&self) -> &'static str {
        "batch"
    }

    fn spec(&self) -> Result<ElementSpec> {
        let batch = self.drop_remainder.then_some(self.batch_size);
        self.input.spec()?.map_components(|s| Ok(s.batched(batch)))
    }

    fn cardinality(&self) -> Cardinality {
        batched_cardinality(
            self.input.cardinality(),
            self.batch_size,
            self.drop_remainder,
        )
    }

    fn open(&self, ctx: &Context) -> Result<Stream> {
        let (size, drop) = (self.batch_size, self.drop_remainder);
        if let Some(fused) = self.input.open_batched(ctx, size, drop) {
            return fused;
        }
        let mut index = 0u64;
        let stream: Elements = match self.input.open(ctx)? {
            Stream::Indexed {
                source,
                mut indices,
            } => {
                let mut picked = Vec::with_capacity(size);
                // Large gathers run on the pipeline's pool, split across its threads.
                let runtime = ctx.runtime.clone();
                let row_bytes: usize = source
                    .spec()
                    .components()
                    .iter()
                    .map(|s| {
                        let dims: usize = s.shape.iter().map(|d| d.unwrap_or(0)).product();
                        s.dtype.item_size().unwrap_or(0) * dims
                    })
                    .sum();
                let use_pool =
                    row_bytes * size >= PARALLEL_GATHER_BYTES && runtime.num_threads() > 1;
                Box::new(std::iter::from_fn(move || {
                    picked.clear();
                    for i in indices.by_ref().take(size) {
                        match i {
                            Ok(i) => picked.push(i),
                            Err(e) => return Some(Err(e)),
                        }
                    }
                    if picked.is_empty() || (drop && picked.len() < size) {
                        return None;
                    }
                    index += 1;
                    let batch = if use_pool && !is_consecutive(&picked) {
                        runtime.pool().and_then(|pool| {
                            pool.install(|| batch_indices(source.as_ref(), &picked))
                        })
                    } else {
                        batch_indices(source.as_ref(), &picked)
                    };
                    Some(batch.map_err(|e| e.with_stage("batch").with_element(index - 1)))
                }))
            }
            Stream::Elements(mut input) => {
                let mut picked = Vec::with_capacity(size);
                Box::new(std::iter::from_fn(move || {
                    picked.clear();
                    for e in input.by_ref().take(size) {
                        match e {
                            Ok(e) => picked.push(e),
                            Err(e) => return Some(Err(e)),
                        }
                    }
                    if picked.is_empty() || (drop && picked.len() < size) {
                        return None;
                    }
                    index += 1;
                    Some(
                        stack_elements(&picked)
                            .map_err(|e| e.with_stage("batch").with_element(index - 1)),
                    )
                }))
            }
        };
        Ok(Stream::Elements(stream))
    }
}

impl Dataset {
    /// Stacks `batch_size` consecutive elements into one (tf.data's `batch`). The last batch is
    /// smaller unless `drop_remainder`. Over a random-access source an unshuffled batch is a slice of
    /// it (no copy) and a shuffled one a single row-wise gather.
    ///
    /// Errors when `batch_size` is 0; iterating errors when elements of one batch differ in shape
    /// (use [`Dataset::padded_batch`]).
    pub fn batch(&self, batch_size: usize, drop_remainder: bool) -> Result<Dataset> {
        let batch_size = check_batch_size(batch_size as i64).map_err(|e| e.with_stage("batch"))?;
        Ok(self.derive(BatchNode {
            input: self.node().clone(),
            batch_size,
            drop_remainder,
        }))
    }
}
