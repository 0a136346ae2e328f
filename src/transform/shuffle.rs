//! `shuffle`: tf.data's buffered shuffle, over indices when the source is random-access.

use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::dataset::indices::indices;
use crate::dataset::stream::mix;
use crate::dataset::{Cardinality, Context, Dataset, Indexing, Item, Items, Node, Stream};
use crate::element::{Element, ElementSpec};
use crate::error::{Error, Result};
use crate::runtime::MemoryBudget;

struct ShuffleNode {
    input: Arc<dyn Node>,
    buffer_size: usize,
    seed: u64,
    reshuffle_each_iteration: bool,
}

/// Buffered shuffle of any stream of results: fill a buffer, then repeatedly emit a random slot and
/// refill it from the input. Errors pass through at once.
fn shuffle_stream<T: Send + 'static>(
    mut input: impl Iterator<Item = Result<T>> + Send + 'static,
    buffer_size: usize,
    mut rng: ChaCha8Rng,
) -> impl Iterator<Item = Result<T>> + Send + 'static {
    let mut buffer: Vec<T> = Vec::with_capacity(buffer_size.min(1 << 16));
    let mut exhausted = false;
    std::iter::from_fn(move || {
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
    })
}

/// [`shuffle_stream`] of items under a memory budget: each buffered item holds its bytes (keeping
/// those it held upstream, which go on with it when emitted); when the budget is full the buffer
/// stops growing (it shuffles over fewer items) rather than wait for itself.
fn shuffle_items(
    mut input: Items,
    buffer_size: usize,
    mut rng: ChaCha8Rng,
    budget: Arc<MemoryBudget>,
) -> Items {
    let mut buffer: Vec<Item> = Vec::with_capacity(buffer_size.min(1 << 16));
    let mut exhausted = false;
    // An item that did not fit the budget yet.
    let mut pending: Option<Item> = None;
    // The largest item so far, in bytes.
    let mut largest = 0;
    let mut seq = 0u64;
    Box::new(std::iter::from_fn(move || {
        while !exhausted && buffer.len() < buffer_size {
            let mut item = match pending.take() {
                Some(p) => p,
                None => {
                    // Pulling could wait for a stage upstream that needs room to make the item: with
                    // no room for one, shuffle over what the buffer holds.
                    let full = budget
                        .limit()
                        .is_some_and(|l| budget.in_flight().saturating_add(largest) > l);
                    if full && !buffer.is_empty() {
                        break;
                    }
                    match input.next() {
                        Some(Ok(item)) => item,
                        Some(Err(e)) => return Some(Err(e)),
                        None => {
                            exhausted = true;
                            break;
                        }
                    }
                }
            };
            largest = largest.max(item.element.nbytes());
            match item.hold(&budget, false) {
                Ok(true) => buffer.push(item),
                Ok(false) if !buffer.is_empty() => {
                    pending = Some(item);
                    break;
                }
                Ok(false) => match item.hold(&budget, true) {
                    Ok(_) => buffer.push(item),
                    Err(e) => return Some(Err(e.with_stage("shuffle"))),
                },
                Err(e) => return Some(Err(e.with_stage("shuffle"))),
            }
        }
        let item = if buffer.is_empty() {
            pending.take()?
        } else {
            let j = rng.random_range(0..buffer.len());
            buffer.swap_remove(j)
        };
        seq += 1;
        Some(Ok(item.renumbered(seq - 1)))
    }))
}

impl Node for ShuffleNode {
    fn name(&self) -> &'static str {
        "shuffle"
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

    fn sample(&self, ctx: &Context) -> Result<Option<Element>> {
        // The spec's sample needs no buffer: any input element has the output's spec.
        self.input.sample(ctx)
    }

    fn open(&self, ctx: &Context) -> Result<Stream> {
        let seed = if self.reshuffle_each_iteration {
            mix(self.seed ^ mix(ctx.epoch))
        } else {
            self.seed
        };
        let size = self.buffer_size;
        let budget = ctx.runtime.budget.clone();
        Ok(self.input.open(ctx)?.map_parts(
            |i| indices(shuffle_stream(i, size, ChaCha8Rng::seed_from_u64(seed))),
            |items| shuffle_items(items, size, ChaCha8Rng::seed_from_u64(seed), budget),
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
    pub fn shuffle(
        &self,
        buffer_size: usize,
        seed: Option<u64>,
        reshuffle_each_iteration: bool,
    ) -> Result<Dataset> {
        if buffer_size == 0 {
            return Err(
                Error::invalid_argument("buffer_size must be greater than zero.")
                    .with_stage("shuffle"),
            );
        }
        Ok(self.derive(ShuffleNode {
            input: self.node().clone(),
            buffer_size,
            seed: seed.unwrap_or_else(rand::random),
            reshuffle_each_iteration,
        }))
    }
}
