//! Stats for every stage: a wrapper node that counts what each stage yields and times its work.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use super::stats::StageCounters;
use crate::dataset::stream::Indices;
use crate::dataset::{Cardinality, Context, Elements, Node, Stream};
use crate::element::{Element, ElementSpec};
use crate::error::Result;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// Nanoseconds spent in instrumented stages nested inside the current one, on this thread.
    static NESTED_NS: Cell<u64> = const { Cell::new(0) };
}

/// A node whose opened streams report to the run's stats.
pub(crate) struct Instrumented {
    id: u64,
    inner: Arc<dyn Node>,
}

impl Instrumented {
    pub(crate) fn new(inner: Arc<dyn Node>) -> Self {
        Instrumented {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            inner,
        }
    }
}

impl Node for Instrumented {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn spec(&self) -> Result<ElementSpec> {
        self.inner.spec()
    }

    fn cardinality(&self) -> Cardinality {
        self.inner.cardinality()
    }

    fn is_random_access(&self) -> bool {
        self.inner.is_random_access()
    }

    fn open(&self, ctx: &Context) -> Result<Stream> {
        let (counters, inner_ctx) = self.stage(ctx);
        let stream = self
            .inner
            .open(&inner_ctx)
            .map_err(|e| e.with_stage(self.inner.name()))?;
        Ok(counted(stream, counters))
    }

    fn open_batched(
        &self,
        ctx: &Context,
        batch_size: usize,
        drop_remainder: bool,
    ) -> Option<Result<Stream>> {
        let (counters, inner_ctx) = self.stage(ctx);
        let stream = self
            .inner
            .open_batched(&inner_ctx, batch_size, drop_remainder)?;
        Some(
            stream
                .map(|s| counted(s, counters))
                .map_err(|e| e.with_stage(self.inner.name())),
        )
    }
}

impl Instrumented {
    /// This stage's counters in the run's stats, and the context its inner node opens with.
    fn stage(&self, ctx: &Context) -> (Arc<StageCounters>, Context) {
        let counters =
            ctx.runtime
                .stats
                .stage(self.id, self.inner.name(), ctx.stage.as_ref().map(|s| s.id));
        let inner_ctx = ctx.with_stage(counters.clone());
        (counters, inner_ctx)
    }
}

/// `stream`, counting what it yields into `counters`.
fn counted(stream: Stream, counters: Arc<StageCounters>) -> Stream {
    match stream {
        Stream::Elements(elements) => Stream::Elements(Box::new(TimedElements {
            inner: elements,
            counters,
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

/// Times each `next` (excluding nested instrumented stages on this thread) and counts elements and
/// bytes.
struct TimedElements {
    inner: Elements,
    counters: Arc<StageCounters>,
}

impl Iterator for TimedElements {
    type Item = Result<Element>;

    fn next(&mut self) -> Option<Self::Item> {
        let outer = NESTED_NS.with(|n| n.replace(0));
        let start = Instant::now();
        let item = self.inner.next();
        let elapsed = start.elapsed().as_nanos() as u64;
        let nested = NESTED_NS.with(|n| n.replace(outer + elapsed));
        self.counters
            .exclusive_ns
            .fetch_add(elapsed.saturating_sub(nested), Ordering::Relaxed);
        if let Some(Ok(e)) = &item {
            self.counters.elements.fetch_add(1, Ordering::Relaxed);
            self.counters
                .bytes
                .fetch_add(e.nbytes() as u64, Ordering::Relaxed);
        }
        item
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

impl Drop for CountedIndices {
    fn drop(&mut self) {
        self.counters
            .elements
            .fetch_add(self.count, Ordering::Relaxed);
    }
}
