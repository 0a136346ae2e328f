//! `rebatch`: the rows of batches regrouped into batches of other sizes.

use std::sync::Arc;

use super::batch::make_group;
use super::batcher::{stack_rows, Batcher, Fit};
use crate::dataset::{Cardinality, Context, Dataset, Item, Items, Node, Stream};
use crate::element::{Element, ElementSpec};
use crate::error::{Error, Result};
use crate::tensor::Tensor;

struct RebatchNode {
    input: Arc<dyn Node>,
    batch_sizes: Vec<usize>,
    drop_remainder: bool,
}

impl Node for RebatchNode {
    fn name(&self) -> &'static str {
        "rebatch"
    }

    fn spec(&self) -> Result<ElementSpec> {
        let first = self.batch_sizes[0];
        let fixed =
            (self.drop_remainder && self.batch_sizes.iter().all(|&b| b == first)).then_some(first);
        self.input
            .spec()?
            .map_components(|s| Ok(s.unbatched()?.batched(fixed)))
    }

    fn cardinality(&self) -> Cardinality {
        Cardinality::Unknown
    }

    fn open(&self, ctx: &Context) -> Result<Stream> {
        let mut input = self.input.open(ctx)?.into_items();
        let sizes = self.batch_sizes.clone();
        let mut batcher = Batcher::new(sizes[0], self.drop_remainder, Fit::SameShape);
        let mut turn = 0usize;
        let mut exhausted = false;
        let mut failed = false;
        let mut index = 0u64;
        let mut seq = 0u64;
        let row_spec = self.input.spec()?.map_components(|s| s.unbatched())?;
        let stream: Items = Box::new(std::iter::from_fn(move || {
            if failed {
                return None;
            }
            let want = sizes[turn % sizes.len()];
            if want == 0 {
                // As tf.data: a size of 0 yields an empty batch without reading.
                turn += 1;
                seq += 1;
                return Some(empty_batch(&row_spec).map(|b| Item::new(seq - 1, b)));
            }
            batcher.set_batch_size(want);
            while !batcher.is_full() && !exhausted {
                match input.next() {
                    Some(Ok(batch)) => {
                        index += 1;
                        if let Err(e) = batcher.push_batch(batch) {
                            failed = true;
                            return Some(Err(e.with_stage("rebatch").with_element(index - 1)));
                        }
                    }
                    Some(Err(e)) => {
                        failed = true;
                        return Some(Err(e));
                    }
                    None => exhausted = true,
                }
            }
            let group = if exhausted {
                batcher.finish()
            } else {
                batcher.take()
            }?;
            turn += 1;
            seq += 1;
            let mut group = group;
            group.seq = seq - 1;
            Some(make_group(group, "rebatch", &stack_rows))
        }));
        Ok(Stream::Items(stream))
    }
}

/// A batch of zero rows of elements of `spec` (unknown dimensions taken as 0).
fn empty_batch(spec: &ElementSpec) -> Result<Element> {
    let components = spec
        .components()
        .iter()
        .map(|s| {
            let mut shape = vec![0];
            shape.extend(s.shape.iter().map(|d| d.unwrap_or(0)));
            Tensor::zeros(s.dtype, shape)
        })
        .collect::<Result<Vec<_>>>()?;
    Element::new(spec.structure().clone(), components)
}

impl Dataset {
    /// Regroups the rows of batched elements into batches of `batch_sizes[0]`, `batch_sizes[1]`, …
    /// in turn (one size: every batch that size; tf.data's `rebatch`). The last batch is smaller unless
    /// `drop_remainder`.
    ///
    /// A size of 0 yields an empty batch without reading (as in tf.data).
    ///
    /// Errors when the list is empty or a component is a scalar.
    pub fn rebatch(&self, batch_sizes: Vec<usize>, drop_remainder: bool) -> Result<Dataset> {
        if batch_sizes.is_empty() {
            return Err(
                Error::invalid_argument("rebatch needs one or more batch sizes")
                    .with_stage("rebatch"),
            );
        }
        let spec = self.element_spec()?;
        if spec.components().iter().any(|s| s.rank() == 0) {
            return Err(
                Error::invalid_argument("Cannot rebatch an input with scalar components.")
                    .with_stage("rebatch"),
            );
        }
        Ok(self.derive(RebatchNode {
            input: self.node().clone(),
            batch_sizes,
            drop_remainder,
        }))
    }
}
