//! `group_by_window`: elements grouped by a key; each full window (or, at the end, each group left
//! over) reduced to a dataset whose elements are yielded in turn.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use super::flat_map::{DatasetsFn, FlatMapNode};
use super::window::window_dataset;
use super::{call_user, sampled_spec};
use crate::dataset::{Context, Dataset, Items};
use crate::element::{Element, ElementSpec};
use crate::error::{Error, Result};

/// A key function: the group of an element.
pub(crate) type KeyFn = dyn Fn(&Element) -> Result<i64> + Send + Sync;
/// A reduce function: a key and its window (a dataset) to the dataset whose elements are yielded.
pub(crate) type ReduceFn = dyn Fn(i64, Dataset) -> Result<Dataset> + Send + Sync;
/// A window-size function: the size of the windows of a key.
pub(crate) type WindowSizeFn = dyn Fn(i64) -> Result<i64> + Send + Sync;

/// One epoch of windows, as TensorFlow's `GroupByWindowDataset` makes them: elements are read
/// until one key's group holds its window size, which is then reduced (before any more input is
/// read); when the input ends, the groups left are reduced in increasing key order.
struct Grouper {
    input: Items,
    stage: &'static str,
    key: Arc<KeyFn>,
    size: Arc<WindowSizeFn>,
    reduce: Arc<ReduceFn>,
    spec: ElementSpec,
    groups: BTreeMap<i64, Vec<Element>>,
    /// Input elements read so far (the next one's index).
    read: u64,
    exhausted: bool,
    failed: bool,
}

impl Grouper {
    /// The dataset `reduce` makes of the window of `key`.
    fn reduce_window(&self, key: i64, window: Vec<Element>, index: u64) -> Result<Dataset> {
        let window = window_dataset(window, &self.spec);
        call_user(self.stage, index, || (self.reduce)(key, window))
    }

    /// Puts input element `index` in its group; the key and the window, when the group is full.
    fn add(&mut self, element: Element, index: u64) -> Result<Option<(i64, Vec<Element>)>> {
        let key = call_user(self.stage, index, || (self.key)(&element))?;
        let size = call_user(self.stage, index, || (self.size)(key))?;
        if size <= 0 {
            return Err(Error::invalid_argument(format!(
                "Window size must be greater than zero, but got {size}."
            ))
            .with_stage(self.stage)
            .with_element(index));
        }
        let group = self.groups.entry(key).or_default();
        group.push(element);
        if group.len() as u64 == size as u64 {
            return Ok(self.groups.remove(&key).map(|w| (key, w)));
        }
        Ok(None)
    }
}

impl Iterator for Grouper {
    type Item = Result<Dataset>;

    fn next(&mut self) -> Option<Result<Dataset>> {
        if self.failed {
            return None;
        }
        while !self.exhausted {
            match self.input.next() {
                Some(Ok(item)) => {
                    let index = self.read;
                    self.read += 1;
                    match self.add(item.element, index) {
                        Ok(Some((key, window))) => {
                            let out = self.reduce_window(key, window, index);
                            self.failed = out.is_err();
                            return Some(out);
                        }
                        Ok(None) => {}
                        Err(e) => {
                            self.failed = true;
                            return Some(Err(e));
                        }
                    }
                }
                Some(Err(e)) => {
                    self.failed = true;
                    return Some(Err(e));
                }
                None => self.exhausted = true,
            }
        }
        let (key, window) = self.groups.pop_first()?;
        let out = self.reduce_window(key, window, self.read);
        self.failed = out.is_err();
        Some(out)
    }
}

impl Dataset {
    /// Groups elements by `key_fn` into windows of `window_size` and yields the elements of
    /// `reduce_fn(key, window)` for each window in turn (tf.data's `group_by_window`): a window is
    /// reduced as soon as its group is full; at the end of the input the groups left over are
    /// reduced in increasing key order.
    ///
    /// The spec is that of `reduce_fn` applied to an empty window of the input's spec (called once
    /// here, with key 0), or, when that has no spec (a `map` inside with no declared spec), to a
    /// window of the input's first element, with every dimension unknown. Errors at iteration when `window_size` is not positive (as TensorFlow's
    /// kernel does), and with the error of a key or reduce function, naming the element.
    ///
    /// ```
    /// use slicestream::Dataset;
    /// let ds = Dataset::range(0, 7, 1)?
    ///     .group_by_window(|e| Ok(e.component(0)?.as_slice::<i64>()?[0] % 2), |_, w| w.batch(2, false), 2)?;
    /// let firsts: Vec<Vec<i64>> = ds.iter()
    ///     .map(|b| Ok(b?.component(0)?.as_slice::<i64>()?.to_vec()))
    ///     .collect::<slicestream::Result<_>>()?;
    /// assert_eq!(firsts, vec![vec![0, 2], vec![1, 3], vec![4, 6], vec![5]]);
    /// # Ok::<(), slicestream::Error>(())
    /// ```
    pub fn group_by_window<K, R>(
        &self,
        key_fn: K,
        reduce_fn: R,
        window_size: i64,
    ) -> Result<Dataset>
    where
        K: Fn(&Element) -> Result<i64> + Send + Sync + 'static,
        R: Fn(i64, Dataset) -> Result<Dataset> + Send + Sync + 'static,
    {
        self.group_by_window_with(key_fn, reduce_fn, move |_| Ok(window_size))
    }

    /// [`Dataset::group_by_window`] with a window size per key (tf.data's `window_size_func`),
    /// asked for each element of the key.
    pub fn group_by_window_with<K, R, W>(
        &self,
        key_fn: K,
        reduce_fn: R,
        window_size_fn: W,
    ) -> Result<Dataset>
    where
        K: Fn(&Element) -> Result<i64> + Send + Sync + 'static,
        R: Fn(i64, Dataset) -> Result<Dataset> + Send + Sync + 'static,
        W: Fn(i64) -> Result<i64> + Send + Sync + 'static,
    {
        const STAGE: &str = "group_by_window";
        let input_spec = self.element_spec()?;
        let empty = call_user(STAGE, 0, || {
            reduce_fn(0, Dataset::empty(input_spec.clone()))?.element_spec()
        });
        // A reduce function whose spec needs an element (a `map` without a declared spec) gets a
        // window of the input's first element (dimensions then unknown).
        let spec = match empty {
            Ok(spec) => spec,
            Err(e) => sampled_spec(self.node().as_ref(), STAGE, "", |first| {
                let key = key_fn(&first)?;
                reduce_fn(key, window_dataset(vec![first], &input_spec))?.element_spec()
            })
            .map_err(|_| e)?,
        };
        self.grouped(
            STAGE,
            Arc::new(key_fn),
            Arc::new(reduce_fn),
            Arc::new(window_size_fn),
            spec,
        )
    }

    /// The plan of a grouping named `stage` (`group_by_window`, `bucket_by_sequence_length`) whose
    /// elements have `spec`.
    pub(crate) fn grouped(
        &self,
        stage: &'static str,
        key: Arc<KeyFn>,
        reduce: Arc<ReduceFn>,
        size: Arc<WindowSizeFn>,
        spec: ElementSpec,
    ) -> Result<Dataset> {
        let input_spec = self.element_spec()?;
        let input = self.node().clone();
        let datasets: Arc<DatasetsFn> = Arc::new(move |ctx: &Context| {
            Ok(Box::new(Grouper {
                input: input.open(ctx)?.into_items(),
                stage,
                key: key.clone(),
                size: size.clone(),
                reduce: reduce.clone(),
                spec: input_spec.clone(),
                groups: BTreeMap::new(),
                read: 0,
                exhausted: false,
                failed: false,
            }))
        });
        Ok(self.derive(FlatMapNode {
            name: stage,
            datasets,
            spec: Arc::new(move || Ok(spec.clone())),
            cached: OnceLock::new(),
        }))
    }
}
