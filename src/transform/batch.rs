//! `batch`: consecutive elements stacked along a new first dimension.

use std::sync::Arc;

use super::batcher::{stack_rows, Batcher, Fit, Group};
use super::parallel_gather::ParallelGather;
use crate::dataset::{Cardinality, Context, Dataset, Item, Items, Node, Stream};
use crate::element::{Element, ElementSpec};
use crate::error::{Error, Result};

/// Gathers of at least this many bytes per batch run on the pipeline's pool.
const PARALLEL_GATHER_BYTES: usize = 512 << 10;

/// TensorFlow's cardinality of a batching of `n` elements.
pub(crate) fn batched_cardinality(
    n: Cardinality,
    batch_size: usize,
    drop_remainder: bool,
) -> Cardinality {
    match n {
        Cardinality::Finite(n) => {
            let b = batch_size as u64;
            Cardinality::Finite(n / b + u64::from(!drop_remainder && n % b != 0))
        }
        other => other,
    }
}

pub(crate) fn check_batch_size(batch_size: i64) -> Result<usize> {
    if batch_size <= 0 {
        return Err(Error::invalid_argument(
            "Batch size must be greater than zero.",
        ));
    }
    Ok(batch_size as usize)
}

struct BatchNode {
    input: Arc<dyn Node>,
    batch_size: usize,
    drop_remainder: bool,
}

impl Node for BatchNode {
    fn name(&self) -> &'static str {
        "batch"
    }

    fn spec(&self) -> Result<ElementSpec> {
        let batch = self.drop_remainder.then_some(self.batch_size);
        self.input.spec()?.map_components(|s| Ok(s.batched(batch)))
    }

    fn cardinality(&self) -> Cardinality {
        batched_cardinality(
            self.input.cardinality(),
            self.batch_size,
            self.drop_remainder,
        )
    }

    fn open(&self, ctx: &Context) -> Result<Stream> {
        let (size, drop) = (self.batch_size, self.drop_remainder);
        let stream: Items = match self.input.open(ctx)? {
            Stream::Indexed {
                source,
                mut indices,
            } => {
                let mut picked = Vec::with_capacity(size.min(MAX_PICKED));
                // Large gathers run on the pipeline's pool, split across its threads.
                let runtime = ctx.runtime.clone();
                let row_bytes: usize = source
                    .spec()
                    .components()
                    .iter()
                    .map(|s| {
                        let dims: usize = s.shape.iter().map(|d| d.unwrap_or(0)).product();
                        s.dtype.item_size().unwrap_or(0) * dims
                    })
                    .sum();
                let use_pool = row_bytes.saturating_mul(size) >= PARALLEL_GATHER_BYTES
                    && runtime.num_threads() > 1;
                if use_pool && runtime.budget.limit().is_none() {
                    // Large batches: several gathered at once, one per worker (not under a
                    // memory budget, which the batches in flight would exceed unaccounted).
                    let threads = runtime.num_threads();
                    return Ok(Stream::Items(Box::new(ParallelGather::new(
                        source,
                        indices,
                        size,
                        drop,
                        runtime.clone(),
                        threads,
                    ))));
                }
                let mut seq = 0u64;
                Box::new(std::iter::from_fn(move || {
                    // A run of consecutive indices (an unshuffled source) is one slice, taken
                    // without listing its indices.
                    if let Some(run) = indices.next_run(size) {
                        if run.is_empty() || (drop && run.len() < size) {
                            return None;
                        }
                        seq += 1;
                        return Some(
                            source
                                .slice(run.start, run.end)
                                .map(|b| Item::new(seq - 1, b))
                                .map_err(|e| e.with_stage("batch").with_element(seq - 1)),
                        );
                    }
                    picked.clear();
                    if let Err(e) = indices.fill(size, &mut picked) {
                        return Some(Err(e));
                    }
                    if picked.is_empty() || (drop && picked.len() < size) {
                        return None;
                    }
                    seq += 1;
                    // Under a budget: one batch at a time, its copy split across the pool.
                    let batch = if use_pool {
                        runtime
                            .pool()
                            .and_then(|pool| pool.install(|| source.batch(&picked)))
                    } else {
                        source.batch(&picked)
                    };
                    Some(
                        batch
                            .map(|b| Item::new(seq - 1, b))
                            .map_err(|e| e.with_stage("batch").with_element(seq - 1)),
                    )
                }))
            }
            Stream::Items(input) => {
                batched_items(input, size, drop, Fit::SameShape, "batch", stack_rows)
            }
        };
        Ok(Stream::Items(stream))
    }

    fn continues_after_errors(&self) -> bool {
        true
    }
}

/// At most this many indices are reserved up front for one batch (a batch size larger than the
/// data must not allocate by the argument).
const MAX_PICKED: usize = 1 << 16;

/// The batches of `input` grouped by a [`Batcher`] (`fit`) and made by `make` from each group's
/// rows: every error names `stage` and, for a batch that cannot be made, its number.
pub(crate) fn batched_items(
    mut input: Items,
    batch_size: usize,
    drop_remainder: bool,
    fit: Fit,
    stage: &'static str,
    make: impl Fn(&[Element]) -> Result<Element> + Send + 'static,
) -> Items {
    let mut batcher = Batcher::new(batch_size, drop_remainder, fit);
    let mut done = false;
    // Input elements still to drop: the rest of a batch that failed.
    let mut skip = 0usize;
    Box::new(std::iter::from_fn(move || {
        let group = loop {
            if let Some(g) = batcher.take() {
                break g;
            }
            if done {
                return None;
            }
            match input.next() {
                Some(Ok(_)) if skip > 0 => skip -= 1,
                Some(Ok(item)) => {
                    if let Err(e) = batcher.push(item) {
                        // The batch failed; the batching goes on with the next one.
                        skip = batcher.discard(true);
                        return Some(Err(e.with_stage(stage).continuing()));
                    }
                }
                Some(Err(e)) if e.continues() => {
                    batcher.discard(false);
                    return Some(Err(e));
                }
                Some(Err(e)) => {
                    done = true;
                    return Some(Err(e));
                }
                None => {
                    done = true;
                    break batcher.finish()?;
                }
            }
        };
        // A group that cannot be made (padding to a smaller size, …) fails alone.
        Some(make_group(group, stage, &make).map_err(Error::continuing))
    }))
}

/// The item of one completed group: `make` of its rows, holding the rows' budget.
pub(crate) fn make_group(
    group: Group,
    stage: &'static str,
    make: &dyn Fn(&[Element]) -> Result<Element>,
) -> Result<Item> {
    let batch = make(&group.rows).map_err(|e| e.with_stage(stage).with_element(group.seq))?;
    let mut item = Item::new(group.seq, batch);
    item.reservation = group.reservation;
    Ok(item)
}

impl Dataset {
    /// Stacks `batch_size` consecutive elements into one (tf.data's `batch`). The last batch is
    /// smaller unless `drop_remainder`. Over a random-access source an unshuffled batch is a slice of
    /// it (no copy) and a shuffled one a single row-wise gather.
    ///
    /// Errors when `batch_size` is 0; iterating errors when elements of one batch differ in shape
    /// (use [`Dataset::padded_batch`]).
    pub fn batch(&self, batch_size: usize, drop_remainder: bool) -> Result<Dataset> {
        let batch_size = check_batch_size(batch_size as i64).map_err(|e| e.with_stage("batch"))?;
        // A parallel map just before fuses with the batch (decided here, when the plan is built).
        if let Some(fused) = self.stage().node().fuse_batch(batch_size, drop_remainder) {
            return Ok(self.replace_last(fused));
        }
        Ok(self.derive(BatchNode {
            input: self.node().clone(),
            batch_size,
            drop_remainder,
        }))
    }
}
