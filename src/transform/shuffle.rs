//! `shuffle`: tf.data's buffered shuffle, over indices when the source is random-access.

use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::dataset::stream::mix;
use crate::dataset::{Cardinality, Context, Dataset, Node, Stream};
use crate::element::ElementSpec;
use crate::error::{Error, Result};

struct ShuffleNode {
    input: Arc<dyn Node>,
    buffer_size: usize,
    seed: u64,
    reshuffle_each_iteration: bool,
}

/// Buffered shuffle of any stream of results: fill a buffer, then repeatedly emit a random slot and
/// refill it from the input. Errors pass through at once.
fn shuffle_stream<T: Send + 'static>(
    mut input: Box<dyn Iterator<Item = Result<T>> + Send>,
    buffer_size: usize,
    mut rng: ChaCha8Rng,
) -> Box<dyn Iterator<Item = Result<T>> + Send> {
    let mut buffer: Vec<T> = Vec::with_capacity(buffer_size.min(1 << 20));
    let mut exhausted = false;
    Box::new(std::iter::from_fn(move || {
        while !exhausted && buffer.len() < buffer_size {
            match input.next() {
                Some(Ok(x)) => buffer.push(x),
                Some(Err(e)) => return Some(Err(e)),
                None => exhausted = true,
            }
        }
        if buffer.is_empty() {
            return None;
        }
        let j = rng.random_range(0..buffer.len());
        Some(Ok(buffer.swap_remove(j)))
    }))
}

impl Node for ShuffleNode {
    fn spec(&self) -> Result<ElementSpec> {
        self.input.spec()
    }

    fn cardinality(&self) -> Cardinality {
        self.input.cardinality()
    }

    fn open(&self, ctx: &Context) -> Result<Stream> {
        let seed = if self.reshuffle_each_iteration {
            mix(self.seed ^ mix(ctx.epoch))
        } else {
            self.seed
        };
        let size = self.buffer_size;
        Ok(self.input.open(ctx)?.map_parts(
            |indices| shuffle_stream(indices, size, ChaCha8Rng::seed_from_u64(seed)),
            |elements| shuffle_stream(elements, size, ChaCha8Rng::seed_from_u64(seed)),
        ))
    }
}

impl Dataset {
    /// Shuffles with a buffer of `buffer_size` elements, as tf.data's `shuffle`: the buffer is filled,
    /// then each output is a random element of the buffer, replaced by the next input. A buffer at
    /// least the dataset's size gives a uniform shuffle.
    ///
    /// - `seed`: the same seed gives the same order (for a given epoch); `None` picks one at random now.
    /// - `reshuffle_each_iteration`: a new order each epoch (derived from the seed and the epoch).
    ///
    /// Over a random-access source the buffer holds indices, not elements: the batches that follow are
    /// one gather each.
    ///
    /// Errors when `buffer_size` is 0.
    pub fn shuffle(&self, buffer_size: usize, seed: Option<u64>, reshuffle_each_iteration: bool) -> Result<Dataset> {
        if buffer_size == 0 {
            return Err(Error::invalid_argument("buffer_size must be greater than zero.").with_stage("shuffle"));
        }
        Ok(Dataset::from_node(ShuffleNode {
            input: self.node().clone(),
            buffer_size,
            seed: seed.unwrap_or_else(rand::random),
            reshuffle_each_iteration,
        }))
    }
}
