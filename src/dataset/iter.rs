//! [`DatasetIter`]: one epoch of a dataset, ending after the first error.

use super::Elements;
use crate::element::Element;
use crate::error::Result;

/// One epoch of a [`crate::Dataset`]: yields `Result<Element>` and ends after the first `Err`.
/// Dropping it stops the pipeline.
pub struct DatasetIter {
    state: State,
}

enum State {
    Running(Elements),
    Failed(Option<crate::error::Error>),
    Done,
}

impl DatasetIter {
    pub(crate) fn new(stream: Result<Elements>) -> Self {
        let state = match stream {
            Ok(s) => State::Running(s),
            Err(e) => State::Failed(Some(e)),
        };
        DatasetIter { state }
    }
}

impl Iterator for DatasetIter {
    type Item = Result<Element>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.state {
            State::Running(s) => match s.next() {
                Some(Ok(e)) => Some(Ok(e)),
                Some(Err(e)) => {
                    self.state = State::Done;
                    Some(Err(e))
                }
                None => {
                    self.state = State::Done;
                    None
                }
            },
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
