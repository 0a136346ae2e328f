//! The plan's machinery: a [`Node`] per source or transformation, opened per epoch into a [`Stream`].

use std::sync::Arc;

use super::{Cardinality, RandomAccess};
use crate::element::{Element, ElementSpec};
use crate::error::Result;
use crate::runtime::stats::StageCounters;
use crate::runtime::Runtime;

/// A stream of elements, each a `Result`.
pub(crate) type Elements = Box<dyn Iterator<Item = Result<Element>> + Send>;

/// A stream of indices into a [`RandomAccess`] source.
pub(crate) type Indices = Box<dyn Iterator<Item = Result<usize>> + Send>;

/// What a node yields when opened: elements, or indices into a random-access source (cheaper to
/// take, skip, shard, repeat and shuffle; batched by slicing or gathering).
pub(crate) enum Stream {
    Elements(Elements),
    Indexed {
        source: Arc<dyn RandomAccess>,
        indices: Indices,
    },
}

impl Stream {
    /// The elements this stream stands for.
    pub(crate) fn into_elements(self) -> Elements {
        match self {
            Stream::Elements(e) => e,
            Stream::Indexed { source, indices } => {
                Box::new(indices.map(move |i| i.and_then(|i| source.get(i))))
            }
        }
    }

    /// The same stream with its indices (or elements) passed through `f`.
    pub(crate) fn map_parts(
        self,
        on_indices: impl FnOnce(Indices) -> Indices,
        on_elements: impl FnOnce(Elements) -> Elements,
    ) -> Stream {
        match self {
            Stream::Elements(e) => Stream::Elements(on_elements(e)),
            Stream::Indexed { source, indices } => Stream::Indexed {
                source,
                indices: on_indices(indices),
            },
        }
    }
}

/// What every node is opened with: which epoch this is (for reshuffling and per-epoch randomness),
/// the run's runtime (pool, memory budget, stats) and the stage that is opening it.
#[derive(Clone)]
pub(crate) struct Context {
    pub epoch: u64,
    pub runtime: Arc<Runtime>,
    pub stage: Option<Arc<StageCounters>>,
}

impl Context {
    /// The context of a new run of epoch `epoch`.
    pub(crate) fn new(epoch: u64, runtime: Arc<Runtime>) -> Context {
        Context {
            epoch,
            runtime,
            stage: None,
        }
    }

    /// A context of its own, for looking at a plan outside a run (inferring a spec from the first
    /// element).
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

    /// The same run, opened by stage `stage`.
    pub(crate) fn with_stage(&self, stage: Arc<StageCounters>) -> Context {
        Context {
            stage: Some(stage),
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
    /// Whether `open` yields [`Stream::Indexed`] (indices into a random-access source).
    fn is_random_access(&self) -> bool {
        false
    }
    /// Opens a pass whose elements are already stacked into batches of `batch_size` (the last one
    /// smaller unless `drop_remainder`), when this node can build them itself in parallel (a
    /// parallel `map` fused with the `batch` after it, as tf.data's `map_and_batch`). `None`: it
    /// cannot, and `batch` stacks the elements of [`Node::open`].
    fn open_batched(
        &self,
        _ctx: &Context,
        _batch_size: usize,
        _drop_remainder: bool,
    ) -> Option<Result<Stream>> {
        None
    }
}
