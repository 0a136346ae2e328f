//! `concatenate`: one dataset's elements, then another's.

use std::sync::Arc;

use crate::dataset::{Cardinality, Context, Dataset, Node, Stream};
use crate::element::ElementSpec;
use crate::error::Result;

struct ConcatenateNode {
    first: Arc<dyn Node>,
    second: Arc<dyn Node>,
    spec: ElementSpec,
}

impl Node for ConcatenateNode {
    fn name(&self) -> &'static str {
        "concatenate"
    }

    fn spec(&self) -> Result<ElementSpec> {
        Ok(self.spec.clone())
    }

    fn cardinality(&self) -> Cardinality {
        match (self.first.cardinality(), self.second.cardinality()) {
            (Cardinality::Infinite, _) | (_, Cardinality::Infinite) => Cardinality::Infinite,
            (Cardinality::Finite(a), Cardinality::Finite(b)) => Cardinality::Finite(a + b),
            _ => Cardinality::Unknown,
        }
    }

    fn open(&self, ctx: &Context) -> Result<Stream> {
        let first = self.first.open(ctx)?.into_items();
        let mut seq = 0u64;
        let second = self.second.clone();
        let ctx = ctx.clone();
        // The second input is opened only when the first is done.
        let mut second_stream = None;
        let mut first = Some(first);
        Ok(Stream::Items(Box::new(std::iter::from_fn(move || {
            if let Some(f) = first.as_mut() {
                if let Some(item) = f.next() {
                    seq += 1;
                    return Some(item);
                }
                first = None;
                match second.open(&ctx) {
                    Ok(s) => second_stream = Some(s.into_items()),
                    Err(e) => return Some(Err(e)),
                }
            }
            let item = second_stream.as_mut()?.next()?;
            // The second input's items follow the first's.
            let item = item.map(|i| {
                let n = seq;
                seq += 1;
                i.renumbered(n)
            });
            Some(item)
        }))))
    }
}

impl Dataset {
    /// This dataset's elements followed by `other`'s (tf.data's `concatenate`). The spec is the most
    /// specific both fit (dimensions that differ become unknown).
    ///
    /// Errors when the structures, dtypes or ranks differ.
    pub fn concatenate(&self, other: &Dataset) -> Result<Dataset> {
        let spec = self
            .element_spec()?
            .most_specific_compatible(&other.element_spec()?)
            .map_err(|e| e.with_stage("concatenate"))?;
        Ok(self.derive_from(
            &[self, other],
            ConcatenateNode {
                first: self.node().clone(),
                second: other.node().clone(),
                spec,
            },
        ))
    }
}
