//! [`IndexStream`]: the indices into a random-access source that a plan moves instead of elements.
//! Streams that hold runs of indices (a source's `0..n`, a permutation, `take` and `skip` of them)
//! hand a whole batch's indices over in one call ([`IndexStream::fill`]), so an unshuffled batch
//! costs no call per index.

use std::ops::Range;

use crate::error::Result;

/// A stream of indices into a random-access source; after an `Err` it yields nothing that counts.
pub(crate) trait IndexStream: Iterator<Item = Result<usize>> + Send {
    /// Appends up to `max` of the next indices to `out` and returns how many; an error ends the
    /// run (the indices before it stay appended). Fewer than `max` means the stream ended.
    fn fill(&mut self, max: usize, out: &mut Vec<usize>) -> Result<usize> {
        let mut n = 0;
        while n < max {
            match self.next() {
                Some(Ok(i)) => {
                    out.push(i);
                    n += 1;
                }
                Some(Err(e)) => return Err(e),
                None => break,
            }
        }
        Ok(n)
    }

    /// The next up to `max` indices as the run `start..end`, when this stream knows them to be
    /// consecutive without listing them (an empty run: the stream has ended); `None` when it
    /// cannot say, and then nothing was taken (use [`IndexStream::fill`]).
    fn next_run(&mut self, _max: usize) -> Option<Range<usize>> {
        None
    }
}

/// A stream of indices into a random-access source.
pub(crate) type Indices = Box<dyn IndexStream>;

/// Any iterator of indices as an [`IndexStream`] (one call per index).
pub(crate) fn indices<I>(iter: I) -> Indices
where
    I: Iterator<Item = Result<usize>> + Send + 'static,
{
    Box::new(Plain(iter))
}

struct Plain<I>(I);

impl<I: Iterator<Item = Result<usize>> + Send> Iterator for Plain<I> {
    type Item = Result<usize>;

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next()
    }
}

impl<I: Iterator<Item = Result<usize>> + Send> IndexStream for Plain<I> {}

/// The indices `start..end`.
pub(crate) fn index_range(start: usize, end: usize) -> Indices {
    Box::new(Run { next: start, end })
}

struct Run {
    next: usize,
    end: usize,
}

impl Iterator for Run {
    type Item = Result<usize>;

    fn next(&mut self) -> Option<Self::Item> {
        (self.next < self.end).then(|| {
            self.next += 1;
            Ok(self.next - 1)
        })
    }
}

impl IndexStream for Run {
    fn fill(&mut self, max: usize, out: &mut Vec<usize>) -> Result<usize> {
        let run = self.take_run(max);
        let n = run.len();
        out.extend(run);
        Ok(n)
    }

    fn next_run(&mut self, max: usize) -> Option<Range<usize>> {
        Some(self.take_run(max))
    }
}

impl Run {
    fn take_run(&mut self, max: usize) -> Range<usize> {
        let n = max.min(self.end - self.next);
        self.next += n;
        self.next - n..self.next
    }
}

/// The indices of `list`, in order (a permutation).
pub(crate) fn index_list(list: Vec<usize>) -> Indices {
    Box::new(List { list, next: 0 })
}

struct List {
    list: Vec<usize>,
    next: usize,
}

impl Iterator for List {
    type Item = Result<usize>;

    fn next(&mut self) -> Option<Self::Item> {
        let i = *self.list.get(self.next)?;
        self.next += 1;
        Some(Ok(i))
    }
}

impl IndexStream for List {
    fn fill(&mut self, max: usize, out: &mut Vec<usize>) -> Result<usize> {
        let rest = &self.list[self.next..];
        let n = max.min(rest.len());
        out.extend_from_slice(&rest[..n]);
        self.next += n;
        Ok(n)
    }
}

/// The first `n` indices of `inner`.
pub(crate) fn take_indices(inner: Indices, n: usize) -> Indices {
    Box::new(Take { inner, left: n })
}

struct Take {
    inner: Indices,
    left: usize,
}

impl Iterator for Take {
    type Item = Result<usize>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        self.inner.next()
    }
}

impl IndexStream for Take {
    fn fill(&mut self, max: usize, out: &mut Vec<usize>) -> Result<usize> {
        let want = max.min(self.left);
        let n = self.inner.fill(want, out)?;
        self.left -= n;
        if n < want {
            self.left = 0;
        }
        Ok(n)
    }

    fn next_run(&mut self, max: usize) -> Option<Range<usize>> {
        let want = max.min(self.left);
        let run = self.inner.next_run(want)?;
        self.left -= run.len();
        if run.len() < want {
            self.left = 0;
        }
        Some(run)
    }
}

/// `inner` after its first `n` indices; errors among the skipped ones still come through (an
/// error is never swallowed).
pub(crate) fn skip_indices(inner: Indices, n: u64) -> Indices {
    Box::new(Skip { inner, left: n })
}

struct Skip {
    inner: Indices,
    left: u64,
}

impl Skip {
    /// Skips what is left to skip; `Some(err)` for an error among the skipped, `None` otherwise
    /// (also at the end).
    fn skip(&mut self) -> Option<crate::error::Error> {
        let mut scratch = Vec::new();
        while self.left > 0 {
            scratch.clear();
            let want = usize::try_from(self.left.min(4096)).unwrap_or(4096);
            match self.inner.fill(want, &mut scratch) {
                Ok(0) => {
                    self.left = 0;
                    return None;
                }
                Ok(n) => self.left -= n as u64,
                Err(e) => {
                    // The indices before the error were skipped; the error takes no place.
                    self.left = self.left.saturating_sub(scratch.len() as u64);
                    return Some(e);
                }
            }
        }
        None
    }
}

impl Iterator for Skip {
    type Item = Result<usize>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.skip() {
            return Some(Err(e));
        }
        self.inner.next()
    }
}

impl IndexStream for Skip {
    fn fill(&mut self, max: usize, out: &mut Vec<usize>) -> Result<usize> {
        if let Some(e) = self.skip() {
            return Err(e);
        }
        self.inner.fill(max, out)
    }

    fn next_run(&mut self, max: usize) -> Option<Range<usize>> {
        if self.left > 0 {
            // Skipping may meet an error, which only `next` and `fill` can report.
            return None;
        }
        self.inner.next_run(max)
    }
}
