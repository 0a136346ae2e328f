//! The parallel engine of `map` and `map_batch`: chunks of elements run on the pipeline's pool,
//! results reassembled in input order by sequence number (or taken as they finish).

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crossbeam_channel::{unbounded, Receiver, Sender};

use super::batcher::{stack_rows, Batcher, Fit};
use super::map_work::Work;
use crate::dataset::indices::Indices;
use crate::dataset::{Context, Item, Items, RandomAccess};
use crate::element::Element;
use crate::error::{Error, ErrorKind, Result};
use crate::runtime::stats::StageCounters;
use crate::runtime::{merge_into, MemoryBudget, Reservation};

/// The results of one chunk, in input order.
struct Chunk {
    seq: u64,
    results: Vec<Result<Element>>,
    reservation: Option<Reservation>,
}

/// Sends its chunk exactly once, even if the task unwinds: the consumer never waits for a chunk
/// that will not come.
struct SendOnDrop {
    tx: Sender<Chunk>,
    chunk: Option<Chunk>,
    stage: &'static str,
}

impl Drop for SendOnDrop {
    fn drop(&mut self) {
        if let Some(mut chunk) = self.chunk.take() {
            if std::thread::panicking() {
                // User code runs under `call_user`, which catches its panics: this is the pool's.
                chunk.results.push(Err(Error::new(ErrorKind::WorkerPanicked(
                    "a worker of the pool panicked outside the user's function".into(),
                ))
                .with_stage(self.stage)));
            }
            let _ = self.tx.send(chunk);
        }
    }
}

/// The batch of one chunk's mapped elements (batch number `seq`, whose first element is input
/// element `first_index`), grouped and checked by a [`Batcher`]: the first error if any (the
/// elements before it are lost with their batch, as in `batch`), nothing for a short last batch
/// when `drop_remainder`, else the stacked batch.
fn stack_chunk(
    results: Vec<Result<Element>>,
    seq: u64,
    first_index: u64,
    size: usize,
    drop_remainder: bool,
) -> Vec<Result<Element>> {
    let mut batcher = Batcher::new(size, drop_remainder, Fit::SameShape).numbered_from(first_index);
    for r in results {
        let pushed = r.and_then(|e| batcher.push_element(e, None));
        if let Err(e) = pushed {
            return vec![Err(e.with_stage("batch"))];
        }
    }
    match batcher.finish() {
        Some(group) => {
            vec![stack_rows(&group.rows).map_err(|e| e.with_stage("batch").with_element(seq))]
        }
        None => Vec::new(),
    }
}

/// The inputs of one chunk: elements, or (fused over a random-access source) indices into it, read
/// by the worker that maps them, so that reading is parallel too.
enum Inputs {
    Elements(Vec<Result<Element>>),
    /// Indices, and the error that ended them, if one did.
    Indices(Arc<dyn RandomAccess>, Vec<usize>, Option<Error>),
}

impl Inputs {
    fn len(&self) -> usize {
        match self {
            Inputs::Elements(v) => v.len(),
            Inputs::Indices(_, v, e) => v.len() + usize::from(e.is_some()),
        }
    }

    /// The elements, each read when it is reached.
    fn into_elements(self) -> Box<dyn Iterator<Item = Result<Element>>> {
        match self {
            Inputs::Elements(v) => Box::new(v.into_iter()),
            Inputs::Indices(source, v, e) => {
                Box::new(v.into_iter().map(move |i| source.get(i)).chain(e.map(Err)))
            }
        }
    }
}

/// At most this many inputs are reserved up front for one chunk (a fused batch size larger than the
/// data must not allocate by the argument).
const MAX_CHUNK_PREALLOCATED: usize = 1024;

/// A chunk of inputs, their bytes, and the bytes of the budget they held upstream.
type Pulled = (Inputs, usize, Reservation);

pub(crate) struct ParallelMap {
    input: Items,
    /// Set by [`ParallelMap::reading`]: the source the workers read and the indices they read.
    indexed: Option<(Arc<dyn RandomAccess>, Indices)>,
    input_done: bool,
    work: Arc<Work>,
    epoch: u64,
    pool: Arc<rayon::ThreadPool>,
    budget: Arc<MemoryBudget>,
    counters: Option<Arc<StageCounters>>,
    /// Elements from this index on skip their work: set past the first failing element (the
    /// elements before it still run, so that they all reach the consumer before its error), and to 0
    /// once the error is out or on drop.
    stop_at: Arc<AtomicU64>,
    chunk_size: usize,
    max_in_flight: usize,
    deterministic: bool,
    tx: Sender<Chunk>,
    rx: Receiver<Chunk>,
    in_flight: usize,
    next_index: u64,
    next_seq: u64,
    next_out: u64,
    reorder: BTreeMap<u64, Chunk>,
    /// Elements pulled from the input that did not fit the budget yet, with their bytes and what
    /// they already hold of it.
    stash: Option<Pulled>,
    /// An item pulled from the input that would have made its chunk too large for the budget.
    carry: Option<Item>,
    /// The largest input element so far, in bytes.
    largest: usize,
    /// The largest output element so far, in bytes (`None` until a chunk has come back). Under a
    /// budget, each pulled element counts as the larger of its own size and this, so that a map
    /// that grows its elements cannot start more work than the budget holds; until the first chunk
    /// is back, one chunk runs at a time.
    largest_output: Option<usize>,
    ready: VecDeque<Result<Element>>,
    ready_reservation: Option<Reservation>,
    /// The sequence number of the next item out.
    out_seq: u64,
    failed: bool,
    /// Fused with the `batch` after it: each chunk is one batch (`batch_size`, `drop_remainder`),
    /// stacked on the pool by the worker that mapped it.
    batch: Option<(usize, bool)>,
    /// Fused and not deterministic: the short last batch, held back until every other batch is out
    /// (only the last batch may be short, as with `map` then `batch`).
    held: Option<Chunk>,
}

impl ParallelMap {
    pub(crate) fn new(
        input: Items,
        work: Arc<Work>,
        ctx: &Context,
        calls: usize,
        deterministic: bool,
    ) -> Result<Self> {
        let (tx, rx) = unbounded();
        // Whole batches are one call each; single elements go in chunks so that the per-task cost of
        // the pool is spread over several of them.
        let chunk_size = if work.keep_batch_size { 1 } else { 16 };
        Ok(ParallelMap {
            input,
            indexed: None,
            input_done: false,
            work,
            epoch: ctx.epoch,
            pool: ctx.runtime.pool()?,
            budget: ctx.runtime.budget.clone(),
            counters: ctx.stage.clone(),
            stop_at: Arc::new(AtomicU64::new(u64::MAX)),
            chunk_size,
            max_in_flight: calls,
            deterministic,
            tx,
            rx,
            in_flight: 0,
            next_index: 0,
            next_seq: 0,
            next_out: 0,
            reorder: BTreeMap::new(),
            stash: None,
            carry: None,
            largest: 0,
            largest_output: None,
            ready: VecDeque::new(),
            ready_reservation: None,
            out_seq: 0,
            failed: false,
            batch: None,
            held: None,
        })
    }

    /// Yields batches of `batch_size` mapped elements instead of single ones (tf.data's
    /// `map_and_batch`): each chunk is one batch, mapped and stacked by one worker of the pool, so
    /// that stacking runs in parallel too. Only without a memory budget (chunks are then never
    /// split). A failing element ends the output with its error, as `map` then `batch` would.
    pub(crate) fn batching(mut self, batch_size: usize, drop_remainder: bool) -> Self {
        self.chunk_size = batch_size;
        // One batch per call, and one more queued so that the pool never waits for the consumer.
        self.max_in_flight = self.max_in_flight.clamp(2, 8) + 1;
        self.batch = Some((batch_size, drop_remainder));
        self
    }

    /// Takes its input as indices into `source`, each read by the worker that maps it (used when
    /// fused with `batch`, where chunks are never split by a budget).
    pub(crate) fn reading(mut self, source: Arc<dyn RandomAccess>, indices: Indices) -> Self {
        self.indexed = Some((source, indices));
        self
    }

    /// Pulls up to one chunk of input elements, with their bytes. Under a budget a chunk holds at
    /// most a `max_in_flight`-th of it (but at least one element), so that a budget that fits a few
    /// elements fits a chunk.
    fn pull(&mut self) -> Option<Pulled> {
        if let Some(s) = self.stash.take() {
            return Some(s);
        }
        // Under a budget, a chunk's outputs take at most a `max_in_flight`-th of it (at least one
        // element), each as large as the largest output so far.
        let per_output = self.largest_output.unwrap_or(0);
        let cap = self.budget.limit().map(|l| l / self.max_in_flight);
        if let Some((source, indices)) = self.indexed.as_mut() {
            let count = match cap {
                Some(cap) if per_output > 0 => self.chunk_size.min((cap / per_output).max(1)),
                _ => self.chunk_size,
            };
            let mut items = Vec::with_capacity(count.min(MAX_CHUNK_PREALLOCATED));
            let mut error = None;
            if !self.input_done {
                match indices.fill(count, &mut items) {
                    Ok(n) => self.input_done = n < count,
                    Err(e) => {
                        self.input_done = true;
                        error = Some(e);
                    }
                }
            }
            let inputs = Inputs::Indices(source.clone(), items, error);
            let bytes = match cap {
                Some(_) => inputs.len().saturating_mul(per_output),
                None => 0,
            };
            return (inputs.len() > 0).then(|| (inputs, bytes, self.budget.empty()));
        }
        let mut items = Vec::with_capacity(self.chunk_size.min(MAX_CHUNK_PREALLOCATED));
        let mut bytes = 0usize;
        let mut held: Option<Reservation> = None;
        while items.len() < self.chunk_size && !self.input_done {
            let next = match self.carry.take() {
                Some(item) => Some(Ok(item)),
                None if self.must_consume_first(!items.is_empty()) => break,
                None => self.input.next(),
            };
            match next {
                Some(Ok(item)) => {
                    let n = item.element.nbytes();
                    self.largest = self.largest.max(n);
                    let n = n.max(self.largest_output.unwrap_or(0));
                    if !items.is_empty() && cap.is_some_and(|cap| bytes.saturating_add(n) > cap) {
                        self.carry = Some(item);
                        break;
                    }
                    bytes = bytes.saturating_add(n);
                    // The bytes it held upstream go on with it, into the chunk's reservation.
                    let (element, reservation) = item.into_parts();
                    merge_into(&mut held, reservation);
                    items.push(Ok(element));
                }
                Some(Err(e)) => {
                    // An input that goes on after its error is read on (for ignore_errors).
                    self.input_done = !e.continues();
                    items.push(Err(e));
                    if self.input_done {
                        break;
                    }
                }
                None => self.input_done = true,
            }
        }
        let held = held.unwrap_or_else(|| self.budget.empty());
        (!items.is_empty()).then_some((Inputs::Elements(items), bytes, held))
    }

    /// Whether pulling more input could wait for an upstream stage that needs room this stage holds
    /// (in chunks, or in `pulled` elements of the chunk being made): while the budget has no room
    /// for another element, it consumes first.
    fn must_consume_first(&self, pulled: bool) -> bool {
        let holds = pulled || self.in_flight > 0 || !self.reorder.is_empty();
        let Some(limit) = self.budget.limit() else {
            return false;
        };
        let largest = self.largest.max(self.largest_output.unwrap_or(0));
        holds && self.budget.in_flight() + largest > limit
    }

    /// Starts chunks until `max_in_flight` are running, the input ends, or the budget is full.
    fn dispatch(&mut self) {
        while self.in_flight < self.max_in_flight && !self.failed {
            // Under a budget, the size of the outputs is learnt from one chunk before more start.
            let learning = self.budget.limit().is_some() && self.largest_output.is_none();
            if learning && self.in_flight > 0 {
                return;
            }
            let Some((items, bytes, mut reservation)) = self.pull() else {
                return;
            };
            // Reserve the chunk's bytes (those its elements held upstream go on with them); when the
            // budget is full and results are pending, consume first (they free it); with nothing
            // pending, wait for the rest of the pipeline.
            match reservation.try_resize(bytes) {
                Ok(true) => {}
                Ok(false) if self.in_flight > 0 || !self.reorder.is_empty() => {
                    self.stash = Some((items, bytes, reservation));
                    return;
                }
                Ok(false) => {
                    let start = self.counters.as_ref().and_then(|c| c.wait_start());
                    let r = reservation.resize(bytes);
                    if let Some(c) = &self.counters {
                        c.wait_end(start);
                    }
                    if let Err(e) = r {
                        self.ready.push_back(Err(e.with_stage(self.work.stage)));
                        self.failed = true;
                        return;
                    }
                }
                Err(e) => {
                    self.ready.push_back(Err(e
                        .with_stage(self.work.stage)
                        .with_element(self.next_index)));
                    self.failed = true;
                    return;
                }
            }
            self.spawn(items, reservation);
        }
    }

    fn spawn(&mut self, items: Inputs, reservation: Reservation) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let first_index = self.next_index;
        self.next_index += items.len() as u64;
        self.in_flight += 1;
        let (work, stop_at, epoch) = (self.work.clone(), self.stop_at.clone(), self.epoch);
        let batch = self.batch;
        let mut guard = SendOnDrop {
            tx: self.tx.clone(),
            chunk: Some(Chunk {
                seq,
                results: Vec::with_capacity(items.len()),
                reservation: Some(reservation),
            }),
            stage: self.work.stage,
        };
        self.pool.spawn(move || {
            let Some(chunk) = guard.chunk.as_mut() else {
                return;
            };
            for (k, item) in items.into_elements().enumerate() {
                let index = first_index + k as u64;
                // Elements after a failed one are not needed; those before it are.
                if index >= stop_at.load(Ordering::Relaxed) {
                    break;
                }
                let result = item.and_then(|e| work.apply(epoch, index, e));
                // An element's failure that the stream goes on after (not in a fused batch, which
                // fails whole) leaves the rest of the chunk to do.
                let failed = result
                    .as_ref()
                    .err()
                    .is_some_and(|e| batch.is_some() || !e.continues());
                chunk.results.push(result);
                if failed {
                    stop_at.fetch_min(index + 1, Ordering::Relaxed);
                    break;
                }
            }
            if let Some((size, drop_remainder)) = batch {
                chunk.results = stack_chunk(
                    std::mem::take(&mut chunk.results),
                    seq,
                    first_index,
                    size,
                    drop_remainder,
                );
            }
            drop(guard);
        });
    }

    /// Whether `chunk` is a fused batch of fewer than `batch_size` elements.
    fn is_short_batch(&self, chunk: &Chunk) -> bool {
        let Some((size, _)) = self.batch else {
            return false;
        };
        matches!(chunk.results.first(), Some(Ok(b)) if b.batch_size().is_some_and(|n| n < size))
    }

    /// The next finished chunk to hand out, waiting for it.
    fn receive(&mut self) -> Option<Chunk> {
        loop {
            if self.deterministic {
                if let Some(c) = self.reorder.remove(&self.next_out) {
                    self.next_out += 1;
                    return Some(c);
                }
            }
            if self.in_flight == 0 {
                return self.held.take();
            }
            let start = self.counters.as_ref().and_then(|c| c.wait_start());
            let chunk = self.rx.recv().ok()?;
            if let Some(c) = &self.counters {
                c.wait_end(start);
            }
            self.in_flight -= 1;
            if !self.deterministic {
                if self.in_flight > 0 && self.is_short_batch(&chunk) {
                    self.held = Some(chunk);
                    continue;
                }
                return Some(chunk);
            }
            self.reorder.insert(chunk.seq, chunk);
        }
    }
}

impl Iterator for ParallelMap {
    type Item = Result<Item>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(result) = self.ready.pop_front() {
                let element = match result {
                    Ok(e) => e,
                    Err(e) if e.continues() && self.batch.is_none() => return Some(Err(e)),
                    Err(e) => {
                        self.failed = true;
                        self.stop_at.store(0, Ordering::Relaxed);
                        self.ready.clear();
                        return Some(Err(e));
                    }
                };
                // Under a limit, the element's bytes of its chunk's reservation go on with it.
                let reservation = match (self.ready_reservation.as_mut(), self.budget.limit()) {
                    (Some(r), Some(_)) => Some(r.split(element.nbytes())),
                    _ => None,
                };
                self.out_seq += 1;
                return Some(Ok(Item {
                    seq: self.out_seq - 1,
                    element,
                    reservation,
                }));
            }
            self.ready_reservation = None;
            if self.failed {
                return None;
            }
            self.dispatch();
            if !self.ready.is_empty() {
                continue;
            }
            let chunk = self.receive()?;
            let largest_out = chunk
                .results
                .iter()
                .filter_map(|r| r.as_ref().ok().map(Element::nbytes))
                .max();
            if let Some(n) = largest_out {
                self.largest_output = Some(self.largest_output.unwrap_or(0).max(n));
            }
            self.ready.extend(chunk.results);
            self.ready_reservation = chunk.reservation;
        }
    }
}

impl Drop for ParallelMap {
    fn drop(&mut self) {
        // Queued chunks skip their work; running ones finish their current element.
        self.stop_at.store(0, Ordering::Relaxed);
    }
}
