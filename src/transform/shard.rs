//! `shard`: every `num_shards`-th element, starting at `index`.

use std::sync::Arc;

use crate::dataset::indices::indices;
use crate::dataset::{Cardinality, Context, Dataset, Indexing, Node, Stream};
use crate::element::ElementSpec;
use crate::error::{Error, Result};

struct ShardNode {
    input: Arc<dyn Node>,
    num_shards: u64,
    index: u64,
}

fn every_nth<T: Send + 'static>(
    it: impl Iterator<Item = Result<T>> + Send + 'static,
    n: u64,
    index: u64,
) -> impl Iterator<Item = Result<T>> + Send + 'static {
    let mut position = 0u64;
    it.filter(move |item| {
        if item.is_err() {
            return true;
        }
        let keep = position % n == index;
        position += 1;
        keep
    })
}

impl Node for ShardNode {
    fn name(&self) -> &'static str {
        "shard"
    }

    fn spec(&self) -> Result<ElementSpec> {
        self.input.spec()
    }

    fn cardinality(&self) -> Cardinality {
        match self.input.cardinality() {
            Cardinality::Finite(n) => Cardinality::Finite(
                n / self.num_shards + u64::from(self.index < n % self.num_shards),
            ),
            other => other,
        }
    }

    fn indexing(&self) -> Indexing {
        Indexing::Passes
    }

    fn open(&self, ctx: &Context) -> Result<Stream> {
        let (n, i) = (self.num_shards, self.index);
        Ok(self.input.open(ctx)?.map_parts(
            |x| indices(every_nth(x, n, i)),
            |x| Box::new(every_nth(x, n, i)),
        ))
    }
}

impl Dataset {
    /// Element `index`, `index + num_shards`, … (tf.data's `shard`): one worker's part of `num_shards`.
    /// Over a random-access source only the kept elements are read.
    ///
    /// Errors when `num_shards` is 0 or `index >= num_shards`.
    pub fn shard(&self, num_shards: u64, index: u64) -> Result<Dataset> {
        if num_shards == 0 {
            return Err(Error::invalid_argument(
                "Number of shards must be greater than zero (currently num_shards = 0).",
            )
            .with_stage("shard"));
        }
        if index >= num_shards {
            return Err(Error::invalid_argument(format!(
                "Index must be between 0 and {} (currently index = {index}).",
                num_shards - 1
            ))
            .with_stage("shard"));
        }
        Ok(self.derive(ShardNode {
            input: self.node().clone(),
            num_shards,
            index,
        }))
    }
}
