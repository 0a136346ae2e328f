//! [`DatasetIter`]: one epoch of a dataset, ending after the first error.

use std::sync::Arc;

use super::Items;
use crate::element::Element;
use crate::error::Result;
use crate::runtime::{PipelineStats, Runtime};

/// One epoch of a [`crate::Dataset`]: yields `Result<Element>` and ends after the first `Err`.
/// Dropping it stops the pipeline.
#[must_use = "an iterator does nothing until it is advanced"]
pub struct DatasetIter {
    state: State,
    runtime: Arc<Runtime>,
}

enum State {
    Running(Items),
    Failed(Option<crate::error::Error>),
    Done,
}

impl DatasetIter {
    pub(crate) fn new(stream: Result<Items>, runtime: Arc<Runtime>) -> Self {
        let state = match stream {
            Ok(s) => State::Running(s),
            Err(e) => State::Failed(Some(e)),
        };
        DatasetIter { state, runtime }
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
