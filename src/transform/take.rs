//! `take`: the first `count` elements.

use std::sync::Arc;

use crate::dataset::indices::take_indices;
use crate::dataset::{Cardinality, Context, Dataset, Indexing, Node, Stream};
use crate::element::ElementSpec;
use crate::error::Result;

struct TakeNode {
    input: Arc<dyn Node>,
    count: u64,
}

impl Node for TakeNode {
    fn name(&self) -> &'static str {
        "take"
    }

    fn spec(&self) -> Result<ElementSpec> {
        self.input.spec()
    }

    fn cardinality(&self) -> Cardinality {
        match self.input.cardinality() {
            // tf.data's rules: unknown stays unknown; `u64::MAX` means "all".
            Cardinality::Unknown => Cardinality::Unknown,
            Cardinality::Infinite if self.count == u64::MAX => Cardinality::Infinite,
            Cardinality::Infinite => Cardinality::Finite(self.count),
            Cardinality::Finite(n) => Cardinality::Finite(n.min(self.count)),
        }
    }

    fn indexing(&self) -> Indexing {
        Indexing::Passes
    }

    fn open(&self, ctx: &Context) -> Result<Stream> {
        if self.count == 0 {
            return Ok(Stream::Items(Box::new(std::iter::empty())));
        }
        let n = usize::try_from(self.count).unwrap_or(usize::MAX);
        Ok(self
            .input
            .open(ctx)?
            .map_parts(|i| take_indices(i, n), |e| Box::new(e.take(n))))
    }
}

impl Dataset {
    /// The first `count` elements (all of them when there are fewer, `u64::MAX` for all; tf.data's
    /// `take`). The input is
    /// not read past them, and stages before it stop when the iteration is dropped.
    pub fn take(&self, count: u64) -> Dataset {
        self.derive(TakeNode {
            input: self.node().clone(),
            count,
        })
    }
}
