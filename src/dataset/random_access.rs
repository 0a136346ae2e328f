//! [`RandomAccess`]: sources whose elements can be read by index, so that batches are slices and a
//! shuffle moves indices, not data.

use crate::element::{Batch, Element, ElementSpec};
use crate::error::Result;

/// A source whose elements can be read by index: tensor slices in memory, memory-mapped files, ranges.
///
/// Pipelines over such a source move indices, not elements, until an element is needed: `take`,
/// `skip`, `shard`, `repeat` and `shuffle` work on indices, an unshuffled `batch` is one
/// [`RandomAccess::slice`] (no copy for in-memory tensors) and a shuffled one is one
/// [`RandomAccess::gather`] (one row-wise copy).
pub trait RandomAccess: Send + Sync + 'static {
    /// The spec of one element.
    fn spec(&self) -> ElementSpec;

    /// The number of elements.
    fn len(&self) -> usize;

    /// Whether there are no elements.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Element `index`.
    fn get(&self, index: usize) -> Result<Element>;

    /// Elements `start..end` as one batch (leading dimension `end - start`).
    fn slice(&self, start: usize, end: usize) -> Result<Batch> {
        let indices: Vec<usize> = (start..end).collect();
        self.gather(&indices)
    }

    /// The given elements, in order, as one batch.
    fn gather(&self, indices: &[usize]) -> Result<Batch>;

    /// The batch of the given indices (at least one): a [`RandomAccess::slice`] when they are
    /// consecutive, a [`RandomAccess::gather`] otherwise.
    fn batch(&self, indices: &[usize]) -> Result<Batch> {
        let first = indices.first().copied().unwrap_or(0);
        let consecutive = indices.iter().enumerate().all(|(k, &i)| i == first + k);
        if consecutive {
            self.slice(first, first + indices.len())
        } else {
            self.gather(indices)
        }
    }
}
