//! `take`: the first `count` elements.

use std::sync::Arc;

use crate::dataset::{Cardinality, Context, Dataset, Node, Stream};
use crate::element::ElementSpec;
use crate::error::Result;

struct TakeNode {
    input: Arc<dyn Node>,
    count: u64,
}

impl Node for TakeNode {
    fn spec(&self) -> Result<ElementSpec> {
        self.input.spec()
    }

    fn cardinality(&self) -> Cardinality {
        match self.input.cardinality() {
            Cardinality::Finite(n) => Cardinality::Finite(n.min(self.count)),
            Cardinality::Infinite => Cardinality::Finite(self.count),
            Cardinality::Unknown if self.count == 0 => Cardinality::Finite(0),
            Cardinality::Unknown => Cardinality::Unknown,
        }
    }

    fn open(&self, ctx: &Context) -> Result<Stream> {
        if self.count == 0 {
            return Ok(Stream::Elements(Box::new(std::iter::empty())));
        }
        let n = usize::try_from(self.count).unwrap_or(usize::MAX);
        Ok(self
            .input
            .open(ctx)?
            .map_parts(|i| Box::new(i.take(n)), |e| Box::new(e.take(n))))
    }
}

impl Dataset {
    /// The first `count` elements (all of them when there are fewer; tf.data's `take`). The input is
    /// not read past them, and stages before it stop when the iteration is dropped.
    pub fn take(&self, count: u64) -> Dataset {
        Dataset::from_node(TakeNode {
            input: self.node().clone(),
            count,
        })
    }
}
