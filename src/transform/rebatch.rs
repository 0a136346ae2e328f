//! `rebatch`: the rows of batches regrouped into batches of other sizes.

use std::collections::VecDeque;
use std::sync::Arc;

use super::batch::stack_elements;
use super::unbatch::split_rows;
use crate::dataset::{Cardinality, Context, Dataset, Elements, Node, Stream};
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
        let mut input = self.input.open(ctx)?.into_elements();
        let sizes = self.batch_sizes.clone();
        let drop = self.drop_remainder;
        let mut rows: VecDeque<Element> = VecDeque::new();
        let mut turn = 0usize;
        let mut exhausted = false;
        let mut index = 0u64;
        let row_spec = self.input.spec()?.map_components(|s| s.unbatched())?;
        let stream: Elements = Box::new(std::iter::from_fn(move || {
            let want = sizes[turn % sizes.len()];
            if want == 0 {
                // As tf.data: a size of 0 yields an empty batch without reading.
                turn += 1;
                return Some(empty_batch(&row_spec));
            }
            while rows.len() < want && !exhausted {
                match input.next() {
                    Some(Ok(batch)) => match split_rows(&batch) {
                        Ok(r) => rows.extend(r),
                        Err(e) => return Some(Err(e.with_stage("rebatch").with_element(index))),
                    },
                    Some(Err(e)) => return Some(Err(e)),
                    None => exhausted = true,
                }
            }
            if rows.is_empty() || (drop && rows.len() < want) {
                return None;
            }
            turn += 1;
            index += 1;
            let take = want.min(rows.len());
            let picked: Vec<Element> = rows.drain(..take).collect();
            Some(
                stack_elements(&picked)
                    .map_err(|e| e.with_stage("rebatch").with_element(index - 1)),
            )
        }));
        Ok(Stream::Elements(stream))
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
