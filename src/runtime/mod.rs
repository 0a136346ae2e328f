//! The runtime of one pipeline run: its own thread pool, its memory budget, its stats, and the
//! count of live worker threads.

mod budget;
mod options;
pub(crate) mod stats;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

pub(crate) use budget::{merge_into, MemoryBudget, Reservation};
pub use options::Options;
pub use stats::{PipelineStats, StageStats};

use crate::error::{Error, ErrorKind, Result};

static LIVE_WORKERS: AtomicUsize = AtomicUsize::new(0);

/// The number of slicestream worker threads alive in this process (pool threads and stage threads
/// such as prefetch producers). Zero when no pipeline is running: dropping an iterator joins or ends
/// its threads.
pub fn live_workers() -> usize {
    LIVE_WORKERS.load(Ordering::SeqCst)
}

/// The threads this process may run at once (its CPU affinity and cgroup quota), read once: the
/// standard library reads cgroup files on every call, which costs more than a whole unshuffled
/// batch when a pipeline is opened for every epoch.
pub fn machine_threads() -> usize {
    static THREADS: OnceLock<usize> = OnceLock::new();
    *THREADS.get_or_init(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
}

/// Counts a worker thread as live from creation to drop.
pub(crate) struct WorkerGuard(());

impl WorkerGuard {
    pub(crate) fn new() -> Self {
        LIVE_WORKERS.fetch_add(1, Ordering::SeqCst);
        WorkerGuard(())
    }
}

impl Drop for WorkerGuard {
    fn drop(&mut self) {
        LIVE_WORKERS.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What the stages of one run share.
pub(crate) struct Runtime {
    pub(crate) options: Options,
    pool: OnceLock<std::result::Result<Arc<rayon::ThreadPool>, String>>,
    pub(crate) budget: Arc<MemoryBudget>,
    pub(crate) stats: stats::StatsRegistry,
    started: Instant,
}

impl Runtime {
    pub(crate) fn new(options: Options) -> Arc<Self> {
        let timed = options.stage_timing();
        Arc::new(Runtime {
            budget: Arc::new(MemoryBudget::new(options.memory_budget())),
            options,
            pool: OnceLock::new(),
            stats: stats::StatsRegistry::new(timed),
            started: Instant::now(),
        })
    }

    /// The run's own thread pool (never rayon's global one), started on first use.
    pub(crate) fn pool(&self) -> Result<Arc<rayon::ThreadPool>> {
        let pool = self.pool.get_or_init(|| {
            let threads = self.num_threads();
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .thread_name(|i| format!("slicestream-worker-{i}"))
                .start_handler(|_| {
                    LIVE_WORKERS.fetch_add(1, Ordering::SeqCst);
                })
                .exit_handler(|_| {
                    LIVE_WORKERS.fetch_sub(1, Ordering::SeqCst);
                })
                // Tasks send their results from a drop guard, so a panicking task still reports.
                .panic_handler(|_| {})
                .build()
                .map(Arc::new)
                .map_err(|e| e.to_string())
        });
        pool.clone()
            .map_err(|e| Error::new(ErrorKind::PoolStart(e.clone())))
    }

    /// The number of threads the pool has (or will have).
    pub(crate) fn num_threads(&self) -> usize {
        self.options.num_threads().unwrap_or_else(machine_threads)
    }

    pub(crate) fn stats(&self) -> PipelineStats {
        PipelineStats {
            stages: self.stats.snapshot(),
            peak_bytes_in_flight: self.budget.peak(),
            memory_budget: self.budget.limit(),
            wall: self.started.elapsed(),
        }
    }

    /// Wakes everything waiting on the budget: the run is ending.
    pub(crate) fn cancel(&self) {
        self.budget.cancel();
    }
}
