//! `global_shuffle`: a full, uniform shuffle of a random-access source that moves indices only.

use std::sync::Arc;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::dataset::stream::mix;
use crate::dataset::{Cardinality, Context, Dataset, Indexing, Node, Stream};
use crate::element::ElementSpec;
use crate::error::{Error, Result};

struct GlobalShuffleNode {
    input: Arc<dyn Node>,
    seed: u64,
    reshuffle_each_iteration: bool,
}

impl Node for GlobalShuffleNode {
    fn name(&self) -> &'static str {
        "global_shuffle"
    }

    fn spec(&self) -> Result<ElementSpec> {
        self.input.spec()
    }

    fn cardinality(&self) -> Cardinality {
        self.input.cardinality()
    }

    fn indexing(&self) -> Indexing {
        Indexing::Passes
    }

    fn sample(&self, ctx: &Context) -> Result<Option<crate::Element>> {
        self.input.sample(ctx)
    }

    fn open(&self, ctx: &Context) -> Result<Stream> {
        let seed = if self.reshuffle_each_iteration {
            mix(self.seed ^ mix(ctx.epoch))
        } else {
            self.seed
        };
        match self.input.open(ctx)? {
            Stream::Indexed { source, indices } => {
                // The indices this epoch would visit, in a seeded random order: 8 bytes per element,
                // whatever the elements' size.
                let mut all: Vec<usize> = indices.collect::<Result<_>>()?;
                all.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
                Ok(Stream::Indexed {
                    source,
                    indices: crate::dataset::indices::index_list(all),
                })
            }
            Stream::Items(_) => Err(not_random_access()),
        }
    }
}

fn not_random_access() -> Error {
    Error::invalid_argument(
        "global_shuffle needs a random-access input (from_tensor_slices, range, NPY files, and take / \
         skip / shard / repeat / filter of them); use shuffle(buffer_size) for streams",
    )
    .with_stage("global_shuffle")
}

impl Dataset {
    /// A uniform shuffle of every element, with no buffer of elements (tf.data's
    /// `global_shuffle`): for random-access inputs the order is a seeded permutation of indices,
    /// costing 8 bytes per element instead of a copy of the data; batches that follow are one gather
    /// each.
    ///
    /// - `seed`: the same seed gives the same order for a given epoch; `None` picks one now.
    /// - `reshuffle_each_iteration`: a new permutation each epoch.
    ///
    /// Errors when the input is a stream (a generator, or after `map`, `batch`, …).
    pub fn global_shuffle(
        &self,
        seed: Option<u64>,
        reshuffle_each_iteration: bool,
    ) -> Result<Dataset> {
        if !self.stage().is_random_access() {
            return Err(not_random_access());
        }
        Ok(self.derive(GlobalShuffleNode {
            input: self.node().clone(),
            seed: seed.unwrap_or_else(rand::random),
            reshuffle_each_iteration,
        }))
    }
}
