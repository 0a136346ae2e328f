//! `window`: overlapping or strided groups of consecutive elements, each a small dataset.

use std::collections::VecDeque;
use std::sync::{Arc, OnceLock};

use super::call_user;
use super::flat_map::{DatasetsFn, FlatMapNode};
use crate::dataset::{Cardinality, Context, Dataset, Node};
use crate::element::{Element, ElementSpec};
use crate::error::{Error, Result};
use crate::sources::tensor_slices::Elements as HeldElements;

/// The windows of a dataset (tf.data's `window`): each window is a [`Dataset`] of up to `size`
/// elements. Turn them back into elements with [`Windows::flat_map`], e.g. `w.batch(size, false)`.
#[derive(Clone)]
#[must_use = "windows are lazy: turn them into a dataset with flat_map"]
pub struct Windows {
    origin: Dataset,
    input: Arc<dyn Node>,
    size: usize,
    shift: usize,
    stride: usize,
    drop_remainder: bool,
}

/// The windows of one epoch, each as its elements.
fn window_stream(
    mut input: crate::dataset::Items,
    size: usize,
    shift: usize,
    stride: usize,
    drop_remainder: bool,
) -> impl Iterator<Item = Result<Vec<Element>>> + Send {
    // Buffered elements with their input positions; the first has position `base`.
    let mut buffer: VecDeque<Element> = VecDeque::new();
    let mut base = 0usize;
    let mut start = 0usize;
    let mut exhausted = false;
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        // Sizes are arguments: a window's end past `usize::MAX` is the end of any input.
        let last = start.saturating_add((size - 1).saturating_mul(stride));
        while !exhausted && base + buffer.len() <= last {
            match input.next() {
                Some(Ok(item)) => buffer.push_back(item.element),
                Some(Err(e)) => {
                    done = true;
                    return Some(Err(e));
                }
                None => exhausted = true,
            }
        }
        let end = base + buffer.len();
        if start >= end {
            done = true;
            return None;
        }
        let window: Vec<Element> = (start..=last.min(end - 1))
            .step_by(stride)
            .map(|p| buffer[p - base].clone())
            .collect();
        if window.len() < size && drop_remainder {
            done = true;
            return None;
        }
        start = start.saturating_add(shift);
        while base < start && !buffer.is_empty() {
            buffer.pop_front();
            base += 1;
        }
        // Skip input elements that fall between windows (shift larger than the window).
        while base < start && !exhausted {
            match input.next() {
                Some(Ok(_)) => base += 1,
                Some(Err(e)) => {
                    done = true;
                    return Some(Err(e));
                }
                None => exhausted = true,
            }
        }
        Some(Ok(window))
    })
}

impl Windows {
    /// The number of windows, as tf.data computes it.
    pub fn cardinality(&self) -> Cardinality {
        match self.input.cardinality() {
            Cardinality::Finite(n) => {
                let (size, shift, stride) =
                    (self.size as u64, self.shift as u64, self.stride as u64);
                if self.drop_remainder {
                    let span = (size - 1).saturating_mul(stride).saturating_add(1);
                    Cardinality::Finite(if n < span { 0 } else { (n - span) / shift + 1 })
                } else {
                    Cardinality::Finite(n / shift + u64::from(n % shift != 0))
                }
            }
            other => other,
        }
    }

    /// The spec of the elements inside each window (the input's spec).
    pub fn element_spec(&self) -> Result<ElementSpec> {
        self.input.spec()
    }

    /// One epoch of windows, each a dataset.
    pub fn iter(&self) -> Result<impl Iterator<Item = Result<Dataset>> + Send> {
        let spec = self.input.spec()?;
        let input = self.input.open(&Context::detached(0))?.into_items();
        Ok(window_stream(
            input,
            self.size,
            self.shift,
            self.stride,
            self.drop_remainder,
        )
        .map(move |w| w.map(|w| window_dataset(w, &spec))))
    }

    /// Maps each window to a dataset with `f` and yields their elements in turn (tf.data's
    /// `window(...).flat_map(f)`). The spec comes from `f` applied to an empty window of the input's
    /// spec, so it is exact.
    pub fn flat_map<F>(&self, f: F) -> Result<Dataset>
    where
        F: Fn(Dataset) -> Result<Dataset> + Send + Sync + 'static,
    {
        let input_spec = self.input.spec()?;
        let spec = call_user("flat_map", 0, || {
            f(Dataset::empty(input_spec.clone()))?.element_spec()
        })?;
        let f = Arc::new(f);
        let me = self.clone();
        let datasets: Arc<DatasetsFn> = Arc::new(move |ctx: &Context| {
            let input = me.input.open(ctx)?.into_items();
            let f = f.clone();
            let spec = input_spec.clone();
            let mut index = 0u64;
            Ok(Box::new(
                window_stream(input, me.size, me.shift, me.stride, me.drop_remainder).map(
                    move |w| {
                        let i = index;
                        index += 1;
                        let ds = window_dataset(w?, &spec);
                        call_user("flat_map", i, || f(ds))
                    },
                ),
            ))
        });
        Ok(self.origin.derive(FlatMapNode {
            name: "flat_map",
            datasets,
            spec: Arc::new(move || Ok(spec.clone())),
            cached: OnceLock::new(),
        }))
    }
}

pub(crate) fn window_dataset(elements: Vec<Element>, spec: &ElementSpec) -> Dataset {
    Dataset::from_random_access(Arc::new(HeldElements::with_spec(elements, spec.clone())))
}

impl Dataset {
    /// Groups elements into windows of `size` (tf.data's `window`): window `k` starts at element
    /// `k * shift` (`shift` defaults to `size`) and takes every `stride`-th element from there. Windows
    /// at the end are shorter unless `drop_remainder`.
    ///
    /// Errors when `size`, `shift` or `stride` is 0.
    pub fn window(
        &self,
        size: usize,
        shift: Option<usize>,
        stride: usize,
        drop_remainder: bool,
    ) -> Result<Windows> {
        let shift = shift.unwrap_or(size);
        for (name, v) in [("size", size), ("shift", shift), ("stride", stride)] {
            if v == 0 {
                return Err(Error::invalid_argument(format!(
                    "Window {name} must be greater than zero, but got 0."
                ))
                .with_stage("window"));
            }
        }
        Ok(Windows {
            origin: self.clone(),
            input: self.node().clone(),
            size,
            shift,
            stride,
            drop_remainder,
        })
    }
}
