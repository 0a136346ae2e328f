//! The plan's machinery: a [`Node`] per source or transformation, opened per epoch into a [`Stream`]
//! of [`Item`]s.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use super::{Cardinality, RandomAccess};
use crate::element::{Element, ElementSpec};
use crate::error::Result;
use crate::runtime::stats::StageCounters;
use crate::runtime::{Reservation, Runtime};

/// What flows from one stage to the next (as polars-stream's `Morsel`): an element, the bytes of
/// the memory budget it holds (if a buffering stage reserved them; they travel with it until the
/// consumer takes the element), and its sequence number: increasing along the stream of the stage
/// that yielded it (a stage that drops items, as `filter` or `skip`, leaves gaps; one that makes or
/// merges items numbers them anew).
#[derive(Debug)]
pub(crate) struct Item {
    pub(crate) seq: u64,
    pub(crate) element: Element,
    pub(crate) reservation: Option<Reservation>,
}

impl Item {
    /// Element number `seq`, holding no budget.
    pub(crate) fn new(seq: u64, element: Element) -> Item {
        Item {
            seq,
            element,
            reservation: None,
        }
    }

    /// The same item, numbered `seq` (for stages that drop or reorder items).
    pub(crate) fn renumbered(mut self, seq: u64) -> Item {
        self.seq = seq;
        self
    }

    /// The element and the budget it holds.
    pub(crate) fn into_parts(self) -> (Element, Option<Reservation>) {
        (self.element, self.reservation)
    }

    /// Makes the item hold exactly its element's bytes of the budget `of`, keeping what it already
    /// holds; with `wait`, waits for room, else returns `false` (holding what it held) when there is
    /// none now.
    pub(crate) fn hold(
        &mut self,
        of: &Arc<crate::runtime::MemoryBudget>,
        wait: bool,
    ) -> Result<bool> {
        let bytes = self.element.nbytes();
        let r = self.reservation.get_or_insert_with(|| of.empty());
        if wait {
            r.resize(bytes).map(|_| true)
        } else {
            r.try_resize(bytes)
        }
    }
}

/// A stream of items, each a `Result`; after an `Err` a stream yields nothing more that counts.
pub(crate) type Items = Box<dyn Iterator<Item = Result<Item>> + Send>;

pub(crate) use super::indices::Indices;

/// What a node yields when opened: items, or indices into a random-access source (cheaper to
/// take, skip, shard, repeat and shuffle; batched by slicing or gathering).
pub(crate) enum Stream {
    Items(Items),
    Indexed {
        source: Arc<dyn RandomAccess>,
        indices: Indices,
    },
}

impl Stream {
    /// A stream of new elements (a source's, or a stage's that makes elements of its own), numbered
    /// from 0, holding no budget.
    pub(crate) fn elements<I>(elements: I) -> Stream
    where
        I: Iterator<Item = Result<Element>> + Send + 'static,
    {
        Stream::Items(numbered(elements))
    }

    /// The items this stream stands for.
    pub(crate) fn into_items(self) -> Items {
        match self {
            Stream::Items(items) => items,
            Stream::Indexed { source, indices } => {
                numbered(indices.map(move |i| i.and_then(|i| source.get(i))))
            }
        }
    }

    /// The same stream with its indices (or items) passed through `f`.
    pub(crate) fn map_parts(
        self,
        on_indices: impl FnOnce(Indices) -> Indices,
        on_items: impl FnOnce(Items) -> Items,
    ) -> Stream {
        match self {
            Stream::Items(items) => Stream::Items(on_items(items)),
            Stream::Indexed { source, indices } => Stream::Indexed {
                source,
                indices: on_indices(indices),
            },
        }
    }
}

/// `elements` as items numbered from 0.
pub(crate) fn numbered<I>(elements: I) -> Items
where
    I: Iterator<Item = Result<Element>> + Send + 'static,
{
    let mut seq = 0u64;
    Box::new(elements.map(move |e| {
        let item = Item::new(seq, e?);
        seq += 1;
        Ok(item)
    }))
}

/// Numbers the items of `items` from 0 again (after a stage that drops, adds or reorders items).
pub(crate) fn renumber<I>(items: I) -> Items
where
    I: Iterator<Item = Result<Item>> + Send + 'static,
{
    let mut seq = 0u64;
    Box::new(items.map(move |i| {
        let item = i?.renumbered(seq);
        seq += 1;
        Ok(item)
    }))
}

/// What every node is opened with: which epoch this is (for reshuffling and per-epoch randomness),
/// the run's runtime (pool, memory budget, stats) and the stage that is opening it.
#[derive(Clone)]
pub(crate) struct Context {
    pub epoch: u64,
    pub runtime: Arc<Runtime>,
    pub stage: Option<Arc<StageCounters>>,
    /// Whether the stage being opened runs on another thread than the stage that opens it
    /// (`prefetch`'s input): its time is then not part of the opener's.
    pub on_own_thread: bool,
    /// The count of elements waiting at the plan's output, kept by the plan's last stage when it
    /// is a `prefetch` (its input never sees it): [`crate::DatasetIter::is_ready`] reads it.
    pub output_queue: Option<Arc<OutputQueue>>,
}

/// What waits at a plan's output when its last stage is `prefetch`: a count the producer raises
/// before each send and the consumer lowers after each receive, a condition variable that wakes
/// a consumer waiting for the count to rise ([`crate::DatasetIter::wait_ready`]), and the queue's
/// capacity: the prefetch's `buffer_size` plus extra slots the consumer may ask for
/// ([`crate::DatasetIter::read_ahead`]), which the producer waits for room under.
#[derive(Default)]
pub(crate) struct OutputQueue {
    count: AtomicUsize,
    /// The prefetch's own `buffer_size`.
    base: AtomicUsize,
    /// Slots the consumer added.
    extra: AtomicUsize,
    /// Set when the consumer is gone: a producer waiting for room stops waiting.
    closed: std::sync::atomic::AtomicBool,
    /// Set by the producer (under the lock, before it looks for room) while it may wait for room.
    waiting: std::sync::atomic::AtomicBool,
    lock: Mutex<()>,
    raised: Condvar,
    room: Condvar,
}

impl OutputQueue {
    /// One more element is on its way into the queue (called before the send: the count is never
    /// below what the queue holds).
    pub(crate) fn raise(&self) {
        self.count.fetch_add(1, Ordering::SeqCst);
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        self.raised.notify_all();
    }

    /// One element has left the queue.
    pub(crate) fn lower(&self) {
        self.count.fetch_sub(1, Ordering::SeqCst);
        // The producer says it may wait before it looks at the count, so a producer that saw a
        // full queue is seen here (and is already waiting once the lock is ours).
        if self.waiting.load(Ordering::SeqCst) {
            let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
            self.room.notify_all();
        }
    }

    /// Whether an element is waiting.
    pub(crate) fn is_ready(&self) -> bool {
        self.count.load(Ordering::SeqCst) > 0
    }

    /// Waits up to `timeout` for an element; whether one is waiting.
    pub(crate) fn wait_ready(&self, timeout: std::time::Duration) -> bool {
        let guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let (_guard, _) = self
            .raised
            .wait_timeout_while(guard, timeout, |_| !self.is_ready())
            .unwrap_or_else(|p| p.into_inner());
        self.is_ready()
    }

    /// The prefetch's `buffer_size` (set when it opens).
    pub(crate) fn set_base(&self, base: usize) {
        self.base.store(base, Ordering::SeqCst);
    }

    /// The prefetch's `buffer_size`.
    pub(crate) fn base(&self) -> usize {
        self.base.load(Ordering::SeqCst)
    }

    /// The queue's capacity now.
    pub(crate) fn capacity(&self) -> usize {
        self.base.load(Ordering::SeqCst) + self.extra.load(Ordering::SeqCst)
    }

    /// Whether the queue holds as many elements as it may.
    pub(crate) fn is_full(&self) -> bool {
        self.count.load(Ordering::SeqCst) >= self.capacity()
    }

    /// Lets the producer run `extra` elements further ahead than the prefetch's `buffer_size`.
    pub(crate) fn set_extra(&self, extra: usize) {
        self.extra.store(extra, Ordering::SeqCst);
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        self.room.notify_all();
    }

    /// The producer waits here, before raising the count, until the queue has room (its channel
    /// is sized for the most extra slots; this keeps it to the capacity asked for now).
    pub(crate) fn wait_room(&self) {
        let guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        self.waiting.store(true, Ordering::SeqCst);
        let _guard = self
            .room
            .wait_while(guard, |_| {
                !self.closed.load(Ordering::SeqCst) && self.is_full()
            })
            .unwrap_or_else(|p| p.into_inner());
        self.waiting.store(false, Ordering::SeqCst);
    }

    /// The consumer is gone: wakes a producer waiting for room.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        self.room.notify_all();
    }
}

impl Context {
    /// The context of a new run of epoch `epoch`.
    pub(crate) fn new(epoch: u64, runtime: Arc<Runtime>) -> Context {
        Context {
            epoch,
            runtime,
            stage: None,
            on_own_thread: false,
            output_queue: None,
        }
    }

    /// A context of its own, for looking at a plan outside a run (a spec's sample element, the
    /// windows of [`crate::transform::Windows::iter`]).
    pub(crate) fn detached(epoch: u64) -> Context {
        Context::new(epoch, Runtime::new(crate::runtime::Options::default()))
    }

    /// The context of repetition `r` of this epoch: a distinct, deterministic epoch number.
    pub(crate) fn repetition(&self, r: u64) -> Context {
        Context {
            epoch: mix(self.epoch ^ mix(r.wrapping_add(0x9e37_79b9))),
            ..self.clone()
        }
    }

    /// The same run, opened by stage `stage` (on the same thread as its opener).
    pub(crate) fn with_stage(&self, stage: Arc<StageCounters>) -> Context {
        Context {
            stage: Some(stage),
            on_own_thread: false,
            ..self.clone()
        }
    }

    /// The same context, for an input that the opening stage runs on a thread of its own.
    pub(crate) fn on_own_thread(&self) -> Context {
        Context {
            on_own_thread: true,
            output_queue: None,
            ..self.clone()
        }
    }
}

/// SplitMix64's finalizer: a bijective mix of 64 bits.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// How a node's output relates to indices into a random-access source; declared by each node and
/// combined when the plan is built (see [`crate::dataset::Stage`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Indexing {
    /// It yields indices into a source of its own.
    Source,
    /// It yields indices when its input does (take, skip, shard, shuffle, …).
    Passes,
    /// It yields items.
    None,
}

/// One source or transformation of a plan.
pub(crate) trait Node: Send + Sync + 'static {
    /// The stage name that stats and errors show (`"batch"`, `"map"`, …).
    fn name(&self) -> &'static str {
        "stage"
    }
    /// The spec of the elements it yields.
    fn spec(&self) -> Result<ElementSpec>;
    /// How many elements it yields, as far as known before iterating.
    fn cardinality(&self) -> Cardinality;
    /// Starts one pass over its elements.
    fn open(&self, ctx: &Context) -> Result<Stream>;
    /// Whether `open` yields [`Stream::Indexed`] (see [`Indexing`]).
    fn indexing(&self) -> Indexing {
        Indexing::None
    }
    /// One element of this node's spec, read as cheaply as it can be, for inferring the spec of an
    /// undeclared function downstream: through no buffer (a shuffle or prefetch passes its input's
    /// sample on), reading at most what one element of this node needs. `None` when it has none.
    fn sample(&self, ctx: &Context) -> Result<Option<Element>> {
        match self.open(ctx)?.into_items().next() {
            Some(item) => Ok(Some(item?.element)),
            None => Ok(None),
        }
    }
    /// Whether its stream goes on after yielding an error its input or its own work marked as
    /// continuing (an element's failure): `map` does, `batch` does (dropping the failed batch's
    /// elements, as tf.data). The stage of any other node marks such errors as ending, so that
    /// `ignore_errors` never takes the end of a stream for a skipped element.
    fn continues_after_errors(&self) -> bool {
        false
    }
    /// This node fused with a `batch` after it (tf.data's `map_and_batch`), when it can build its
    /// batches itself in parallel; asked when the plan is built.
    fn fuse_batch(&self, _batch_size: usize, _drop_remainder: bool) -> Option<Arc<dyn Node>> {
        None
    }
}
