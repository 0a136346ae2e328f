//! [`Options`]: pipeline-wide settings (tf.data's `Dataset.with_options`).

/// Settings for a whole pipeline, set with [`crate::Dataset::with_options`]. Builder-style:
///
/// ```
/// use slicestream::runtime::Options;
/// let options = Options::default().with_memory_budget(64 << 20).with_num_threads(4);
/// assert_eq!(options.memory_budget(), Some(64 << 20));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    memory_budget: Option<usize>,
    num_threads: Option<usize>,
    stage_timing: bool,
}

impl Options {
    /// Caps the bytes buffered in the pipeline (shuffle buffers, prefetch queues, parallel map
    /// queues). Producers wait when it is full; an element larger than the whole budget is an error.
    pub fn with_memory_budget(mut self, bytes: usize) -> Self {
        self.memory_budget = Some(bytes);
        self
    }

    /// The number of threads of the pipeline's own pool (parallel map, large gathers). Default: the
    /// number of cores.
    pub fn with_num_threads(mut self, threads: usize) -> Self {
        self.num_threads = Some(threads.max(1));
        self
    }

    /// Times every stage (busy and waiting, in [`crate::DatasetIter::stats`]): two clock reads per
    /// element and stage, so off by default (counts of elements and bytes are always kept).
    pub fn with_stage_timing(mut self, on: bool) -> Self {
        self.stage_timing = on;
        self
    }

    /// Whether stages time themselves.
    pub fn stage_timing(&self) -> bool {
        self.stage_timing
    }

    /// The memory budget in bytes, if any.
    pub fn memory_budget(&self) -> Option<usize> {
        self.memory_budget
    }

    /// The pool size, if set.
    pub fn num_threads(&self) -> Option<usize> {
        self.num_threads
    }
}
