//! `shuffle`: tf.data's buffered shuffle, over indices when the source is random-access.

use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::dataset::stream::mix;
use crate::dataset::{Cardinality, Context, Dataset, Node, Stream};
use crate::element::{Element, ElementSpec};
use crate::error::{Error, Result};
use crate::runtime::{hand_on, hand_on_mark, take_handed_on, MemoryBudget, Reservation};

struct ShuffleNode {
    input: Arc<dyn Node>,
    buffer_size: usize,
    seed: u64,
    reshuffle_each_iteration: bool,
}

/// A budget and how many bytes an item holds in it.
type Budgeted<T> = Option<(Arc<MemoryBudget>, fn(&T) -> usize)>;

/// Buffered shuffle of any stream of results: fill a buffer, then repeatedly emit a random slot and
/// refill it from the input. Errors pass through at once.
///
/// With a budget, each buffered item holds `bytes_of(item)` bytes of it (keeping those it held
/// upstream, and handing them on when emitted); when the budget is full the buffer stops growing (it
/// shuffles over fewer items) rather than wait for itself.
fn shuffle_stream<T: Send + 'static>(
    mut input: Box<dyn Iterator<Item = Result<T>> + Send>,
    buffer_size: usize,
    mut rng: ChaCha8Rng,
    budget: Budgeted<T>,
) -> Box<dyn Iterator<Item = Result<T>> + Send> {
    let mut buffer: Vec<(T, Option<Reservation>)> = Vec::with_capacity(buffer_size.min(1 << 20));
    let mut exhausted = false;
    // An item that did not fit the budget yet, with the bytes it holds.
    let mut pending: Option<(T, Option<Reservation>)> = None;
    // The largest item so far, in bytes.
    let mut largest = 0;
    let emit = |(x, reservation): (T, Option<Reservation>)| {
        if let Some(r) = reservation {
            hand_on(r);
        }
        Some(Ok(x))
    };
    Box::new(std::iter::from_fn(move || {
        while !exhausted && buffer.len() < buffer_size {
            let (x, credit) = match pending.take() {
                Some(p) => p,
                None => {
                    // Pulling could wait for a stage upstream that needs room to make the item: with
                    // no room for one, shuffle over what the buffer holds.
                    if let Some((b, _)) = &budget {
                        let full = b.limit().is_some_and(|l| b.in_flight() + largest > l);
                        if full && !buffer.is_empty() {
                            break;
                        }
                    }
                    let mark = hand_on_mark();
                    let next = input.next();
                    // What the item held upstream (nothing for a source).
                    let credit = budget.as_ref().map(|(b, _)| take_handed_on(b, mark));
                    match next {
                        Some(Ok(x)) => (x, credit),
                        Some(Err(e)) => return Some(Err(e)),
                        None => {
                            exhausted = true;
                            break;
                        }
                    }
                }
            };
            let reservation = match (&budget, credit) {
                (Some((_, bytes_of)), Some(mut r)) => {
                    let bytes = bytes_of(&x);
                    largest = largest.max(bytes);
                    match r.try_resize(bytes) {
                        Ok(true) => Some(r),
                        Ok(false) if !buffer.is_empty() => {
                            pending = Some((x, Some(r)));
                            break;
                        }
                        Ok(false) => match r.resize(bytes) {
                            Ok(()) => Some(r),
                            Err(e) => return Some(Err(e.with_stage("shuffle"))),
                        },
                        Err(e) => return Some(Err(e.with_stage("shuffle"))),
                    }
                }
                _ => None,
            };
            buffer.push((x, reservation));
        }
        if buffer.is_empty() {
            return pending.take().and_then(emit);
        }
        let j = rng.random_range(0..buffer.len());
        emit(buffer.swap_remove(j))
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

    fn is_random_access(&self) -> bool {
        self.input.is_random_access()
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
            |indices| shuffle_stream(indices, size, ChaCha8Rng::seed_from_u64(seed), None),
            |elements| {
                let bytes_of: fn(&Element) -> usize = Element::nbytes;
                shuffle_stream(
                    elements,
                    size,
                    ChaCha8Rng::seed_from_u64(seed),
                    Some((budget, bytes_of)),
                )
            },
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
