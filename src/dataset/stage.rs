//! [`Stage`]: one node of a plan as the plan holds it — with the stage's identity for stats, what
//! was decided about it when the plan was built (whether it yields indices), and the stages it reads.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use super::indices::IndexStream;
use super::stream::{Indexing, Indices, Items, Node, Stream};
use super::{Cardinality, Context};
use crate::element::{Element, ElementSpec};
use crate::error::Result;
use crate::runtime::stats::StageCounters;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A node of the plan: opened, it reports to the run's stats.
pub(crate) struct Stage {
    id: u64,
    node: Arc<dyn Node>,
    /// Whether the node yields indices into a random-access source (decided when built).
    random_access: bool,
    /// The stages it reads, for [`Stage::describe`].
    inputs: Vec<Arc<Stage>>,
}

impl Stage {
    /// `node` over `inputs` (none for a source).
    pub(crate) fn new(node: impl Node, inputs: Vec<Arc<Stage>>) -> Arc<Stage> {
        Stage::from_arc(Arc::new(node), inputs)
    }

    /// [`Stage::new`] of a shared node.
    pub(crate) fn from_arc(node: Arc<dyn Node>, inputs: Vec<Arc<Stage>>) -> Arc<Stage> {
        let random_access = match node.indexing() {
            Indexing::Source => true,
            Indexing::Passes => inputs.first().is_some_and(|i| i.random_access),
            Indexing::None => false,
        };
        Arc::new(Stage {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            node,
            random_access,
            inputs,
        })
    }

    /// The node itself (for decisions made when the plan is built, e.g. fusing with a batch).
    pub(crate) fn node(&self) -> &Arc<dyn Node> {
        &self.node
    }

    /// The stages it reads.
    pub(crate) fn inputs(&self) -> &[Arc<Stage>] {
        &self.inputs
    }

    /// Whether it yields indices into a random-access source.
    pub(crate) fn is_random_access(&self) -> bool {
        self.random_access
    }

    /// The plan up to here as stage names, sources first: `range → shuffle → map`, inputs of
    /// several-input stages in brackets. Runs nothing.
    pub(crate) fn describe(&self) -> String {
        let name = self.node.name();
        match self.inputs.as_slice() {
            [] => name.to_string(),
            [one] => format!("{} → {name}", one.describe()),
            many => {
                let parts: Vec<String> = many.iter().map(|s| s.describe()).collect();
                format!("[{}] → {name}", parts.join(", "))
            }
        }
    }

    /// This stage's counters in the run's stats, and the context its node opens with.
    fn stage_context(&self, ctx: &Context) -> (Arc<StageCounters>, Context) {
        let counters = ctx.runtime.stats.stage(
            self.id,
            self.node.name(),
            ctx.stage.as_ref().map(|s| s.id),
            ctx.on_own_thread,
        );
        let inner_ctx = ctx.with_stage(counters.clone());
        (counters, inner_ctx)
    }
}

impl Node for Stage {
    fn name(&self) -> &'static str {
        self.node.name()
    }

    fn spec(&self) -> Result<ElementSpec> {
        self.node.spec()
    }

    fn cardinality(&self) -> Cardinality {
        self.node.cardinality()
    }

    fn indexing(&self) -> Indexing {
        if self.random_access {
            Indexing::Source
        } else {
            Indexing::None
        }
    }

    fn open(&self, ctx: &Context) -> Result<Stream> {
        let (counters, inner_ctx) = self.stage_context(ctx);
        let stream = self
            .node
            .open(&inner_ctx)
            .map_err(|e| e.with_stage(self.node.name()))?;
        let timed = ctx.runtime.options.stage_timing();
        Ok(counted(
            stream,
            counters,
            timed,
            self.node.continues_after_errors(),
        ))
    }

    fn sample(&self, ctx: &Context) -> Result<Option<Element>> {
        self.node
            .sample(ctx)
            .map_err(|e| e.with_stage(self.node.name()))
    }
}

/// `stream`, counting what it yields into `counters` (and timing it when `timed`).
fn counted(stream: Stream, counters: Arc<StageCounters>, timed: bool, continues: bool) -> Stream {
    match stream {
        Stream::Items(inner) => Stream::Items(Box::new(CountedItems {
            inner,
            counters,
            timed,
            continues,
        })),
        Stream::Indexed { source, indices } => Stream::Indexed {
            source,
            indices: Box::new(CountedIndices {
                inner: indices,
                counters,
                count: 0,
            }),
        },
    }
}

/// Counts the items and bytes a stage yields (exactly, at any moment: a stage's stats may be read
/// mid-epoch); with stage timing on, also the time of each `next` (the time of the stages it pulls
/// from on the same thread is subtracted in the stats).
struct CountedItems {
    inner: Items,
    counters: Arc<StageCounters>,
    timed: bool,
    /// Whether the node goes on after a continuing error; if not, its errors are marked ending.
    continues: bool,
}

impl Iterator for CountedItems {
    type Item = Result<super::Item>;

    fn next(&mut self) -> Option<Self::Item> {
        let item = if self.timed {
            let start = Instant::now();
            let item = self.inner.next();
            self.counters.add_inclusive(start.elapsed());
            item
        } else {
            self.inner.next()
        };
        match item {
            Some(Ok(item)) => {
                self.counters.elements.fetch_add(1, Ordering::Relaxed);
                self.counters
                    .bytes
                    .fetch_add(item.element.nbytes() as u64, Ordering::Relaxed);
                Some(Ok(item))
            }
            Some(Err(e)) if !self.continues && e.continues() => Some(Err(e.ending())),
            other => other,
        }
    }
}

/// Counts indices cheaply (flushed every 4096 and at the end).
struct CountedIndices {
    inner: Indices,
    counters: Arc<StageCounters>,
    count: u64,
}

impl Iterator for CountedIndices {
    type Item = Result<usize>;

    fn next(&mut self) -> Option<Self::Item> {
        let item = self.inner.next();
        if let Some(Ok(_)) = item {
            self.count += 1;
            if self.count == 4096 {
                self.counters
                    .elements
                    .fetch_add(self.count, Ordering::Relaxed);
                self.count = 0;
            }
        }
        item
    }
}

impl IndexStream for CountedIndices {
    fn fill(&mut self, max: usize, out: &mut Vec<usize>) -> Result<usize> {
        let result = self.inner.fill(max, out);
        if let Ok(n) = result {
            self.count += n as u64;
            if self.count >= 4096 {
                self.counters
                    .elements
                    .fetch_add(self.count, Ordering::Relaxed);
                self.count = 0;
            }
        }
        result
    }

    fn next_run(&mut self, max: usize) -> Option<std::ops::Range<usize>> {
        let run = self.inner.next_run(max)?;
        self.count += run.len() as u64;
        Some(run)
    }
}

impl Drop for CountedIndices {
    fn drop(&mut self) {
        self.counters
            .elements
            .fetch_add(self.count, Ordering::Relaxed);
    }
}
