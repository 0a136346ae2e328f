//! [`Batcher`]: the one batcher, without threads or I/O (as arrow-select's `BatchCoalescer`): push
//! elements or whole batches, take completed groups of rows, finish. Every element is checked
//! against the first of its batch — structure, dtypes, and shapes (or ranks) — and a mismatch is a
//! typed error naming the element and the component, never a silently dropped component.
//!
//! `batch`, `padded_batch`, `rebatch`, the fused map-and-batch path and the frame sinks group with
//! it; what they do with a completed group (stack it, pad it, convert it) is theirs.

use std::sync::Arc;

use crate::dataset::Item;
use crate::element::{Batch, Element, Structure};
use crate::error::{Error, ErrorKind, Result};
use crate::runtime::{merge_into, Reservation};
use crate::tensor::Tensor;

use super::unbatch::split_rows;

/// How the elements of one batch must agree with its first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fit {
    /// The same structure, dtypes and shapes (`batch`, `rebatch`): the batch is one stack.
    SameShape,
    /// The same structure, dtypes and ranks; dimensions may differ (`padded_batch`, rows of unknown
    /// dimensions written as list columns).
    SameRank,
}

/// The rows of one completed batch, with the budget they hold.
pub(crate) struct Group {
    /// The batch's number in the batcher's output (0-based).
    pub(crate) seq: u64,
    /// The rows, in the order they were pushed.
    pub(crate) rows: Vec<Element>,
    /// The bytes of the memory budget the rows held.
    pub(crate) reservation: Option<Reservation>,
}

/// Groups elements into batches of `batch_size` (the last one shorter unless `drop_remainder`).
pub(crate) struct Batcher {
    batch_size: usize,
    drop_remainder: bool,
    fit: Fit,
    rows: Vec<Element>,
    reservation: Option<Reservation>,
    /// Elements pushed so far: the index of the next one in the input, for errors.
    pushed: u64,
    /// Groups taken so far.
    taken: u64,
}

/// Rows are reserved for at most this many elements up front: a batch size larger than the data
/// must not allocate by the argument (`batch(1 << 62)` over ten elements is one batch of ten).
const MAX_PREALLOCATED_ROWS: usize = 1024;

impl Batcher {
    /// A batcher of `batch_size` rows (at least 1) per batch.
    pub(crate) fn new(batch_size: usize, drop_remainder: bool, fit: Fit) -> Self {
        let batch_size = batch_size.max(1);
        Batcher {
            batch_size,
            drop_remainder,
            fit,
            rows: Vec::with_capacity(batch_size.min(MAX_PREALLOCATED_ROWS)),
            reservation: None,
            pushed: 0,
            taken: 0,
        }
    }

    /// Counts the elements pushed from `first` on (for errors, when the batcher sees a part of a
    /// stream: a chunk of the fused map-and-batch).
    pub(crate) fn numbered_from(mut self, first: u64) -> Self {
        self.pushed = first;
        self
    }

    /// Changes the size of the batches still to be completed (`rebatch`'s turns).
    pub(crate) fn set_batch_size(&mut self, batch_size: usize) {
        self.batch_size = batch_size.max(1);
    }

    /// Adds one element; errors when it does not fit the first element of its batch.
    pub(crate) fn push(&mut self, item: Item) -> Result<()> {
        let (element, reservation) = item.into_parts();
        self.push_element(element, reservation)
    }

    /// Adds one element and the budget it holds.
    pub(crate) fn push_element(
        &mut self,
        element: Element,
        reservation: Option<Reservation>,
    ) -> Result<()> {
        let index = self.pushed;
        self.pushed += 1;
        if let Some(first) = self.rows.first() {
            check_fits(first, &element, self.rows.len(), self.fit)
                .map_err(|e| e.with_element(index))?;
        }
        self.rows.push(element);
        merge_into(&mut self.reservation, reservation);
        Ok(())
    }

    /// Adds every row of a batch (components with a shared leading dimension).
    pub(crate) fn push_batch(&mut self, batch: Item) -> Result<()> {
        let (batch, reservation) = batch.into_parts();
        let rows = split_rows(&batch)?;
        let mut reservation = reservation;
        for row in rows {
            self.push_element(row, reservation.take())?;
        }
        Ok(())
    }

    /// Whether a complete batch is waiting to be taken.
    pub(crate) fn is_full(&self) -> bool {
        self.rows.len() >= self.batch_size
    }

    /// The next complete batch, if one is waiting.
    pub(crate) fn take(&mut self) -> Option<Group> {
        if !self.is_full() {
            return None;
        }
        let rest = if self.rows.len() > self.batch_size {
            self.rows.split_off(self.batch_size)
        } else {
            Vec::with_capacity(self.batch_size.min(MAX_PREALLOCATED_ROWS))
        };
        let rows = std::mem::replace(&mut self.rows, rest);
        Some(self.group(rows))
    }

    /// Drops the batch being made, whose element `failed` (one past the rows pushed, or `None`
    /// for an error of the input) failed: returns how many more input elements belong to it, for
    /// the caller to skip (tf.data collects a whole batch before it stacks, so a batch that fails
    /// has used all its elements).
    pub(crate) fn discard(&mut self, failed: bool) -> usize {
        let used = self.rows.len() + usize::from(failed);
        self.rows.clear();
        self.reservation = None;
        self.taken += 1;
        if failed {
            self.batch_size.saturating_sub(used)
        } else {
            0
        }
    }

    /// At the end of the input: the last, short batch (none when empty or `drop_remainder`).
    pub(crate) fn finish(&mut self) -> Option<Group> {
        if let Some(g) = self.take() {
            return Some(g);
        }
        if self.rows.is_empty() || self.drop_remainder {
            self.rows.clear();
            self.reservation = None;
            return None;
        }
        let rows = std::mem::take(&mut self.rows);
        Some(self.group(rows))
    }

    fn group(&mut self, rows: Vec<Element>) -> Group {
        let seq = self.taken;
        self.taken += 1;
        // The rows still waiting keep none of the budget: it goes with the group (the next buffering
        // stage sizes it to the batch).
        Group {
            seq,
            rows,
            reservation: self.reservation.take(),
        }
    }
}

/// Checks that `element` (row `row` of its batch) fits `first`: the same structure and dtypes, and
/// the same shapes (or ranks, with [`Fit::SameRank`]).
pub(crate) fn check_fits(first: &Element, element: &Element, row: usize, fit: Fit) -> Result<()> {
    if !same_structure(first.shared_structure(), element.shared_structure()) {
        return Err(Error::new(ErrorKind::StructureMismatch {
            expected: first.structure().to_string(),
            found: element.structure().to_string(),
        })
        .with_context(format!(
            "element {row} of the batch has another structure than its first"
        )));
    }
    let paths = || first.paths();
    for (c, (a, b)) in first
        .components()
        .iter()
        .zip(element.components())
        .enumerate()
    {
        if a.dtype() != b.dtype() {
            return Err(Error::new(ErrorKind::DTypeMismatch {
                expected: a.dtype(),
                found: b.dtype(),
            })
            .with_context(format!(
                "Cannot batch tensors of different dtypes in component {c}: first element {} and element {row} {}",
                a.dtype(),
                b.dtype()
            ))
            .with_component(paths()[c].clone()));
        }
        let differs = match fit {
            Fit::SameShape => a.shape() != b.shape(),
            Fit::SameRank => a.rank() != b.rank(),
        };
        if differs {
            return Err(Error::new(ErrorKind::ShapeMismatch {
                expected: a.shape().iter().map(|&d| Some(d)).collect(),
                found: b.shape().to_vec(),
            })
            .with_context(match fit {
                Fit::SameShape => format!(
                    "Cannot batch tensors with different shapes in component {c}. First element had shape {} and element {row} had shape {}.",
                    tf_shape(a.shape()),
                    tf_shape(b.shape())
                ),
                Fit::SameRank => format!(
                    "Cannot batch tensors of different ranks in component {c}: first element {} and element {row} {}",
                    tf_shape(a.shape()),
                    tf_shape(b.shape())
                ),
            })
            .with_component(paths()[c].clone()));
        }
    }
    Ok(())
}

fn same_structure(a: &Arc<Structure>, b: &Arc<Structure>) -> bool {
    Arc::ptr_eq(a, b) || a == b
}

/// Stacks rows that fit one another ([`Fit::SameShape`], as a [`Batcher`] checked them) along a new
/// first dimension: one new buffer per component.
pub(crate) fn stack_rows(rows: &[Element]) -> Result<Batch> {
    let first = rows
        .first()
        .ok_or_else(|| Error::invalid_argument("cannot batch zero elements"))?;
    let mut components = Vec::with_capacity(first.len());
    let mut column: Vec<&Tensor> = Vec::with_capacity(rows.len());
    for c in 0..first.len() {
        column.clear();
        column.extend(rows.iter().map(|e| &e.components()[c]));
        components.push(Tensor::stack_refs(&column)?);
    }
    Element::from_shared(first.shared_structure().clone(), components)
}

/// Checks and stacks elements in one go (sources whose elements are held one by one).
pub(crate) fn stack_checked(elements: &[Element]) -> Result<Batch> {
    if let Some(first) = elements.first() {
        for (row, e) in elements.iter().enumerate().skip(1) {
            check_fits(first, e, row, Fit::SameShape)
                .map_err(|err| err.with_element(row as u64))?;
        }
    }
    stack_rows(elements)
}

/// A shape as TensorFlow prints it in messages: `[2,3]`.
pub(crate) fn tf_shape(shape: &[usize]) -> String {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    format!("[{}]", dims.join(","))
}
