//! `skip`: every element after the first `count`.

use std::sync::Arc;

use crate::dataset::indices::skip_indices;
use crate::dataset::{Cardinality, Context, Dataset, Indexing, Node, Stream};
use crate::element::ElementSpec;
use crate::error::Result;

struct SkipNode {
    input: Arc<dyn Node>,
    count: u64,
}

/// Skips `n` items, but lets errors among them through (an error is never swallowed).
fn skip_ok<T>(
    mut it: Box<dyn Iterator<Item = Result<T>> + Send>,
    n: u64,
) -> Box<dyn Iterator<Item = Result<T>> + Send>
where
    T: Send + 'static,
{
    let mut left = n;
    Box::new(std::iter::from_fn(move || {
        while left > 0 {
            match it.next()? {
                Ok(_) => left -= 1,
                Err(e) => return Some(Err(e)),
            }
        }
        it.next()
    }))
}

impl Node for SkipNode {
    fn name(&self) -> &'static str {
        "skip"
    }

    fn spec(&self) -> Result<ElementSpec> {
        self.input.spec()
    }

    fn cardinality(&self) -> Cardinality {
        match self.input.cardinality() {
            Cardinality::Finite(n) => Cardinality::Finite(n.saturating_sub(self.count)),
            other => other,
        }
    }

    fn indexing(&self) -> Indexing {
        Indexing::Passes
    }

    fn open(&self, ctx: &Context) -> Result<Stream> {
        let n = self.count;
        Ok(match self.input.open(ctx)? {
            // Over a random-access source skipping costs nothing per element.
            Stream::Indexed { source, indices } => Stream::Indexed {
                source,
                indices: skip_indices(indices, n),
            },
            Stream::Items(e) => Stream::Items(skip_ok(e, n)),
        })
    }
}

impl Dataset {
    /// Every element after the first `count` (tf.data's `skip`; `u64::MAX` skips all).
    pub fn skip(&self, count: u64) -> Dataset {
        self.derive(SkipNode {
            input: self.node().clone(),
            count,
        })
    }
}
