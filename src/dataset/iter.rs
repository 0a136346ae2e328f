//! [`DatasetIter`]: one epoch of a dataset, ending after the first error.

use std::sync::Arc;
use std::time::Duration;

use super::{Items, OutputQueue};
use crate::element::Element;
use crate::error::Result;
use crate::runtime::{PipelineStats, Runtime};

/// One epoch of a [`crate::Dataset`]: yields `Result<Element>` and ends after the first `Err`.
/// Dropping it stops the pipeline.
#[must_use = "an iterator does nothing until it is advanced"]
pub struct DatasetIter {
    state: State,
    runtime: Arc<Runtime>,
    /// The count of elements waiting at the output, when the plan ends in `prefetch`.
    queued: Option<Arc<OutputQueue>>,
}

enum State {
    Running(Items),
    Failed(Option<crate::error::Error>),
    Done,
}

impl DatasetIter {
    pub(crate) fn new(
        stream: Result<Items>,
        runtime: Arc<Runtime>,
        queued: Option<Arc<OutputQueue>>,
    ) -> Self {
        let state = match stream {
            Ok(s) => State::Running(s),
            Err(e) => State::Failed(Some(e)),
        };
        DatasetIter {
            state,
            runtime,
            queued,
        }
    }

    /// Whether [`Iterator::next`] would return without waiting: the epoch has ended or failed, or
    /// the plan ends in `prefetch` and an element is waiting there. `false` when it cannot be known
    /// (any other last stage), so a caller that must not block (a Python binding holding its
    /// interpreter's lock) can wait elsewhere.
    pub fn is_ready(&self) -> bool {
        match &self.state {
            State::Running(_) => self.queued.as_ref().is_some_and(|q| q.is_ready()),
            _ => true,
        }
    }

    /// Waits up to `timeout` until [`DatasetIter::is_ready`]; returns it. Returns `false` at once
    /// when readiness cannot be known (the plan does not end in `prefetch`).
    pub fn wait_ready(&self, timeout: Duration) -> bool {
        match (&self.state, &self.queued) {
            (State::Running(_), Some(q)) => q.wait_ready(timeout),
            (State::Running(_), None) => false,
            _ => true,
        }
    }

    /// Whether the plan ends in `prefetch` and its queue holds as many elements as it may now
    /// (the producer is waiting for room); `false` when it cannot be known.
    pub fn is_output_full(&self) -> bool {
        match &self.state {
            State::Running(_) => self.queued.as_ref().is_some_and(|q| q.is_full()),
            _ => false,
        }
    }

    /// Lets a plan that ends in `prefetch` run `extra` elements (at most 1024) further ahead than
    /// its `buffer_size`, for a consumer that is sometimes away longer than the pipeline needs to
    /// fill the buffer (a Python binding whose thread loses the interpreter's lock). The extra
    /// elements hold the memory budget as the prefetch's own do. No effect on other plans.
    pub fn read_ahead(&self, extra: usize) {
        if let Some(q) = &self.queued {
            q.set_extra(extra.min(crate::transform::MAX_EXTRA_SLOTS));
        }
    }

    /// The extra elements asked for with [`DatasetIter::read_ahead`].
    pub fn read_ahead_extra(&self) -> usize {
        self.queued
            .as_ref()
            .map_or(0, |q| q.capacity().saturating_sub(q.base()))
    }

    /// What each stage has done so far in this epoch, and the peak bytes in flight.
    pub fn stats(&self) -> PipelineStats {
        self.runtime.stats()
    }
}

impl Drop for DatasetIter {
    /// Stops the pipeline: wakes stages waiting on the memory budget, then drops the stages, which
    /// disconnects their channels and joins their threads.
    fn drop(&mut self) {
        self.runtime.cancel();
        self.state = State::Done;
    }
}

impl Iterator for DatasetIter {
    type Item = Result<Element>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.state {
            State::Running(s) => {
                match s.next() {
                    // The element leaves the pipeline: the bytes it held of the budget are free.
                    Some(Ok(item)) => Some(Ok(item.element)),
                    Some(Err(e)) => {
                        self.state = State::Done;
                        Some(Err(e))
                    }
                    None => {
                        self.state = State::Done;
                        None
                    }
                }
            }
            State::Failed(e) => {
                let e = e.take();
                self.state = State::Done;
                e.map(Err)
            }
            State::Done => None,
        }
    }
}

impl std::iter::FusedIterator for DatasetIter {}
