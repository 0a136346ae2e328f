//! [`ParallelGather`]: the batches of a random-access source gathered several at once — each
//! shuffled batch one task, copied by one thread: the pool's workers and the consuming thread
//! itself — and handed out in order,
//! so that shuffled batching uses every core (a gather is a memory copy: one core cannot saturate
//! the memory bus, two come close).

use std::collections::BTreeMap;
use std::sync::Arc;

use crossbeam_channel::{unbounded, Receiver, Sender};

use crate::dataset::indices::Indices;
use crate::dataset::{Item, RandomAccess};
use crate::element::Batch;
use crate::error::{Error, ErrorKind, Result};
use crate::runtime::Runtime;

/// The batches of `indices` over `source`, `batch_size` at a time, gathered by up to
/// `max_in_flight` tasks of `pool` at once.
pub(crate) struct ParallelGather {
    source: Arc<dyn RandomAccess>,
    indices: Indices,
    batch_size: usize,
    drop_remainder: bool,
    /// The run's runtime, whose pool is started only when a batch needs a gather (an unshuffled
    /// stream's slices need none).
    runtime: Arc<Runtime>,
    tx: Sender<(u64, Result<Batch>)>,
    rx: Receiver<(u64, Result<Batch>)>,
    /// Gathers running on the pool at most.
    pool_tasks: usize,
    /// Batches made or being made ahead of the consumer, at most.
    max_ahead: usize,
    in_flight: usize,
    next_seq: u64,
    next_out: u64,
    /// Batches that came back before their turn (and runs sliced at once).
    reorder: BTreeMap<u64, Result<Batch>>,
    input_done: bool,
    failed: bool,
}

impl ParallelGather {
    pub(crate) fn new(
        source: Arc<dyn RandomAccess>,
        indices: Indices,
        batch_size: usize,
        drop_remainder: bool,
        runtime: Arc<Runtime>,
        threads: usize,
    ) -> Self {
        let (tx, rx) = unbounded();
        ParallelGather {
            source,
            indices,
            batch_size,
            drop_remainder,
            runtime,
            tx,
            rx,
            // The consuming thread gathers too: the pool keeps one core less busy, with one task
            // queued so that a worker never waits for the consumer to hand it the next.
            pool_tasks: threads.saturating_sub(1).max(1) + 1,
            max_ahead: threads.max(1) + 2,
            in_flight: 0,
            next_seq: 0,
            next_out: 0,
            reorder: BTreeMap::new(),
            input_done: false,
            failed: false,
        }
    }

    /// Starts gathers on the pool until `pool_tasks` run, `max_ahead` batches are made or on their
    /// way, or the input ends; with `inline`, makes one batch on this thread instead.
    fn dispatch(&mut self, inline: bool) {
        while !self.input_done
            && (inline || self.in_flight < self.pool_tasks)
            && self.in_flight + self.reorder.len() < self.max_ahead
        {
            let seq = self.next_seq;
            // A run of consecutive indices is a slice: no copy, made here.
            if let Some(run) = self.indices.next_run(self.batch_size) {
                if run.is_empty() || (self.drop_remainder && run.len() < self.batch_size) {
                    self.input_done = true;
                    return;
                }
                self.next_seq += 1;
                self.reorder
                    .insert(seq, self.source.slice(run.start, run.end));
                if inline {
                    return;
                }
                continue;
            }
            let mut picked = Vec::with_capacity(self.batch_size.min(1 << 16));
            let filled = self.indices.fill(self.batch_size, &mut picked);
            match filled {
                Err(e) => {
                    self.input_done = true;
                    self.next_seq += 1;
                    self.reorder.insert(seq, Err(e));
                    return;
                }
                Ok(n) if n < self.batch_size => self.input_done = true,
                Ok(_) => {}
            }
            if picked.is_empty() || (self.drop_remainder && picked.len() < self.batch_size) {
                return;
            }
            if inline {
                // This thread gathers it, while the pool gathers the batches before it.
                self.next_seq += 1;
                self.reorder
                    .insert(seq, gather(self.source.as_ref(), &picked));
                return;
            }
            let pool = match self.runtime.pool() {
                Ok(pool) => pool,
                Err(e) => {
                    self.input_done = true;
                    self.next_seq += 1;
                    self.reorder.insert(seq, Err(e));
                    return;
                }
            };
            self.next_seq += 1;
            self.in_flight += 1;
            let (source, tx) = (self.source.clone(), self.tx.clone());
            pool.spawn(move || {
                let _ = tx.send((seq, gather(source.as_ref(), &picked)));
            });
        }
    }
}

/// The batch of `picked` (a gather), a panic in the source's code turned into an error.
fn gather(source: &dyn RandomAccess, picked: &[usize]) -> Result<Batch> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| source.batch(picked))).unwrap_or_else(
        |_| {
            Err(Error::new(ErrorKind::WorkerPanicked(
                "a panic while gathering a batch".into(),
            )))
        },
    )
}

impl Iterator for ParallelGather {
    type Item = Result<Item>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        if self.in_flight == 0 && self.reorder.is_empty() && !self.input_done {
            // An unshuffled stream's batches are slices, made here and at once.
            if let Some(run) = self.indices.next_run(self.batch_size) {
                if run.is_empty() || (self.drop_remainder && run.len() < self.batch_size) {
                    self.input_done = true;
                    return None;
                }
                let seq = self.next_seq;
                self.next_seq += 1;
                self.next_out += 1;
                return Some(match self.source.slice(run.start, run.end) {
                    Ok(b) => Ok(Item::new(seq, b)),
                    Err(e) => {
                        self.failed = true;
                        Err(e.with_stage("batch").with_element(seq))
                    }
                });
            }
        }
        loop {
            // Collect what the pool finished, so that its workers get new batches before this
            // thread takes one.
            while let Ok((seq, batch)) = self.rx.try_recv() {
                self.in_flight -= 1;
                self.reorder.insert(seq, batch);
            }
            if let Some(batch) = self.reorder.remove(&self.next_out) {
                let seq = self.next_out;
                self.next_out += 1;
                return Some(match batch {
                    Ok(b) => Ok(Item::new(seq, b)),
                    Err(e) => {
                        self.failed = true;
                        Err(e.with_stage("batch").with_element(seq))
                    }
                });
            }
            self.dispatch(false);
            if self.reorder.contains_key(&self.next_out) {
                continue;
            }
            // The next batch is on the pool: make a later one here rather than wait.
            let before = self.next_seq;
            self.dispatch(true);
            if self.next_seq != before {
                continue;
            }
            if self.in_flight == 0 {
                return None;
            }
            match self.rx.recv() {
                Ok((seq, batch)) => {
                    self.in_flight -= 1;
                    self.reorder.insert(seq, batch);
                }
                Err(_) => {
                    self.failed = true;
                    return Some(Err(Error::new(ErrorKind::ProducerGone).with_stage("batch")));
                }
            }
        }
    }
}
