//! `unbatch`: each element split along its first dimension into that many elements.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::dataset::{Cardinality, Context, Dataset, Item, Items, Node, Stream};
use crate::element::{Element, ElementSpec};
use crate::error::{Error, Result};

struct UnbatchNode {
    input: Arc<dyn Node>,
}

/// The rows of a batch as elements (no copy); errors when components disagree on the batch size.
pub(crate) fn split_rows(batch: &Element) -> Result<Vec<Element>> {
    let mut rows: Option<usize> = None;
    for (c, t) in batch.components().iter().enumerate() {
        let n = *t.shape().first().ok_or_else(|| {
            Error::invalid_argument("Cannot unbatch an input with scalar components.")
        })?;
        match rows {
            None => rows = Some(n),
            Some(r) if r != n => {
                return Err(Error::incompatible(format!(
                    "Input element must have the same batch size in each component. Component 0 had size {r} but component {c} had size {n}."
                )))
            }
            _ => {}
        }
    }
    (0..rows.unwrap_or(0))
        .map(|i| batch.try_map_components(|_, t| t.row(i)))
        .collect()
}

impl Node for UnbatchNode {
    fn name(&self) -> &'static str {
        "unbatch"
    }

    fn spec(&self) -> Result<ElementSpec> {
        self.input.spec()?.map_components(|s| s.unbatched())
    }

    fn cardinality(&self) -> Cardinality {
        let Ok(spec) = self.input.spec() else {
            return Cardinality::Unknown;
        };
        // tf.data: the batch size is the first known leading dimension; unknown when none is
        // known or it is 0.
        let known = spec
            .components()
            .iter()
            .find_map(|s| s.shape.first().copied().flatten());
        let known = match known {
            Some(d) if d > 0 => d as u64,
            _ => return Cardinality::Unknown,
        };
        match self.input.cardinality() {
            Cardinality::Finite(n) => Cardinality::Finite(n * known),
            other => other,
        }
    }

    fn open(&self, ctx: &Context) -> Result<Stream> {
        let mut input = self.input.open(ctx)?.into_items();
        let mut pending: VecDeque<Element> = VecDeque::new();
        let mut index = 0u64;
        let mut seq = 0u64;
        let stream: Items = Box::new(std::iter::from_fn(move || loop {
            if let Some(e) = pending.pop_front() {
                seq += 1;
                return Some(Ok(Item::new(seq - 1, e)));
            }
            match input.next()? {
                Ok(batch) => match split_rows(&batch.element) {
                    Ok(rows) => {
                        index += 1;
                        pending.extend(rows)
                    }
                    Err(e) => return Some(Err(e.with_stage("unbatch").with_element(index))),
                },
                Err(e) => return Some(Err(e)),
            }
        }));
        Ok(Stream::Items(stream))
    }
}

impl Dataset {
    /// Splits each element along its first dimension into that many elements (tf.data's `unbatch`).
    /// The rows share the batch's buffers (no copy).
    ///
    /// Errors when a component is a scalar; iterating errors when the components of an element
    /// disagree on their first dimension.
    pub fn unbatch(&self) -> Result<Dataset> {
        let spec = self.element_spec()?;
        if spec.components().iter().any(|s| s.rank() == 0) {
            return Err(
                Error::invalid_argument("Cannot unbatch an input with scalar components.")
                    .with_stage("unbatch"),
            );
        }
        let mut known = spec.components().iter().filter_map(|s| s.shape[0]);
        if let Some(first) = known.next() {
            if let Some(other) = known.find(|&d| d != first) {
                return Err(Error::incompatible(format!(
                    "`unbatch()` is only supported for datasets of elements whose components have a matching leading dimension. Encountered both {first} and {other}."
                ))
                .with_stage("unbatch"));
            }
        }
        Ok(self.derive(UnbatchNode {
            input: self.node().clone(),
        }))
    }
}
