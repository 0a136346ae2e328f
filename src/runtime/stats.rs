//! Per-stage statistics of a pipeline run: elements, bytes, time busy and waiting, and the peak
//! bytes in flight. [`PipelineStats`] prints as a table.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The live counters of one stage, shared by the threads that run it.
#[derive(Debug)]
pub(crate) struct StageCounters {
    pub(crate) id: u64,
    pub(crate) name: &'static str,
    pub(crate) parent: Option<u64>,
    /// Whether it runs on another thread than its parent (its time is not part of the parent's).
    pub(crate) own_thread: bool,
    pub(crate) elements: AtomicU64,
    pub(crate) bytes: AtomicU64,
    /// Errors skipped (by `ignore_errors`).
    pub(crate) skipped: AtomicU64,
    /// Time in this stage's `next` calls, the stages it pulls from on the same thread included
    /// (counted only with [`crate::runtime::Options::with_stage_timing`]).
    pub(crate) inclusive_ns: AtomicU64,
    /// Time this stage spent blocked on a channel or the memory budget (likewise).
    pub(crate) wait_ns: AtomicU64,
    timed: bool,
}

impl StageCounters {
    /// Adds time blocked on a queue or the budget.
    pub(crate) fn add_wait(&self, d: Duration) {
        self.wait_ns
            .fetch_add(d.as_nanos() as u64, Ordering::Relaxed);
    }

    /// Adds time spent in one `next` call.
    pub(crate) fn add_inclusive(&self, d: Duration) {
        self.inclusive_ns
            .fetch_add(d.as_nanos() as u64, Ordering::Relaxed);
    }

    /// Starts timing a wait (a clock read only when timing is on).
    pub(crate) fn wait_start(&self) -> Option<std::time::Instant> {
        self.timed.then(std::time::Instant::now)
    }

    /// Ends a wait started with [`StageCounters::wait_start`].
    pub(crate) fn wait_end(&self, start: Option<std::time::Instant>) {
        if let Some(start) = start {
            self.add_wait(start.elapsed());
        }
    }
}

/// The stages of one pipeline run, in the order they were opened (outermost first).
#[derive(Debug, Default)]
pub(crate) struct StatsRegistry {
    stages: Mutex<Vec<Arc<StageCounters>>>,
    timed: bool,
}

impl StatsRegistry {
    /// A registry whose stages time themselves when `timed`.
    pub(crate) fn new(timed: bool) -> Self {
        StatsRegistry {
            stages: Mutex::default(),
            timed,
        }
    }

    /// The counters of stage `id`, registered on first use.
    pub(crate) fn stage(
        &self,
        id: u64,
        name: &'static str,
        parent: Option<u64>,
        own_thread: bool,
    ) -> Arc<StageCounters> {
        let mut stages = self.stages.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = stages.iter().find(|s| s.id == id) {
            return s.clone();
        }
        let s = Arc::new(StageCounters {
            id,
            name,
            parent,
            own_thread,
            elements: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
            inclusive_ns: AtomicU64::new(0),
            wait_ns: AtomicU64::new(0),
            timed: self.timed,
        });
        stages.push(s.clone());
        s
    }

    pub(crate) fn snapshot(&self) -> Vec<StageStats> {
        let stages = self.stages.lock().unwrap_or_else(|p| p.into_inner());
        let depth = |s: &StageCounters| {
            let mut d = 0;
            let mut parent = s.parent;
            while let Some(p) = parent.and_then(|p| stages.iter().find(|x| x.id == p)) {
                d += 1;
                parent = p.parent;
                if d > stages.len() {
                    break;
                }
            }
            d
        };
        let mut out: Vec<(usize, StageStats)> = stages
            .iter()
            .map(|s| {
                let wait = s.wait_ns.load(Ordering::Relaxed);
                // Its own time: its calls less those of the stages it pulls on its thread.
                let nested: u64 = stages
                    .iter()
                    .filter(|c| c.parent == Some(s.id) && !c.own_thread)
                    .map(|c| c.inclusive_ns.load(Ordering::Relaxed))
                    .sum();
                let exclusive = s
                    .inclusive_ns
                    .load(Ordering::Relaxed)
                    .saturating_sub(nested);
                (
                    depth(s),
                    StageStats {
                        name: s.name.to_string(),
                        elements: s.elements.load(Ordering::Relaxed),
                        bytes: s.bytes.load(Ordering::Relaxed),
                        errors_skipped: s.skipped.load(Ordering::Relaxed),
                        busy: Duration::from_nanos(exclusive.saturating_sub(wait)),
                        waiting: Duration::from_nanos(wait),
                    },
                )
            })
            .collect();
        // Sources first: deepest stage first, the consumer-facing stage last.
        out.sort_by_key(|(d, _)| std::cmp::Reverse(*d));
        out.into_iter().map(|(_, s)| s).collect()
    }
}

/// What one stage did.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct StageStats {
    /// The transformation or source (`"batch"`, `"map"`, `"from_tensor_slices"`, …).
    pub name: String,
    /// Elements it yielded (indices, for stages that move indices).
    pub elements: u64,
    /// Bytes of the elements it yielded (0 for stages that move indices).
    pub bytes: u64,
    /// Elements whose errors it skipped (`ignore_errors`; 0 for other stages).
    pub errors_skipped: u64,
    /// Time in its own work (stages nested on the same thread excluded); zero unless
    /// [`crate::runtime::Options::with_stage_timing`] is on.
    pub busy: Duration,
    /// Time blocked on a queue or the memory budget; likewise.
    pub waiting: Duration,
}

/// The statistics of one pipeline run (an epoch), from [`crate::DatasetIter::stats`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PipelineStats {
    /// Per stage, sources first.
    pub stages: Vec<StageStats>,
    /// The most bytes held in the pipeline's buffers at once.
    pub peak_bytes_in_flight: usize,
    /// The memory budget, if one was set.
    pub memory_budget: Option<usize>,
    /// Time since the iteration started.
    pub wall: Duration,
}

impl fmt::Display for PipelineStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<20} {:>12} {:>12} {:>10} {:>10}",
            "stage", "elements", "MiB", "busy s", "waiting s"
        )?;
        for s in &self.stages {
            writeln!(
                f,
                "{:<20} {:>12} {:>12.1} {:>10.3} {:>10.3}",
                s.name,
                s.elements,
                s.bytes as f64 / (1 << 20) as f64,
                s.busy.as_secs_f64(),
                s.waiting.as_secs_f64()
            )?;
        }
        write!(
            f,
            "peak bytes in flight: {:.1} MiB",
            self.peak_bytes_in_flight as f64 / (1 << 20) as f64
        )?;
        if let Some(b) = self.memory_budget {
            write!(f, " (budget {:.1} MiB)", b as f64 / (1 << 20) as f64)?;
        }
        write!(f, "; wall {:.3} s", self.wall.as_secs_f64())
    }
}
