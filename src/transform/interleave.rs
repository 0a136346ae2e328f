//! `interleave`: each input element mapped to a dataset; `cycle_length` of them are read at once,
//! `block_length` elements from each in turn (tf.data's `interleave`).

use std::sync::{Arc, OnceLock};

use super::call_user;
use super::sampled_spec;
use crate::dataset::{renumber, Cardinality, Context, Dataset, Item, Items, Node, Stream};
use crate::element::{Element, ElementSpec};
use crate::error::{Error, Result};

/// Maps input element `index` to its dataset.
pub(crate) type OpenFn = dyn Fn(u64, Element) -> Result<Dataset> + Send + Sync;

/// How [`Dataset::interleave_with`] runs: tf.data's `cycle_length` and `block_length`, a read-ahead
/// thread per open dataset, and an optional declared spec.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct InterleaveOptions {
    /// How many datasets are open at once (default 1: one after another).
    pub cycle_length: usize,
    /// How many consecutive elements each open dataset gives before the next one's turn (default 1).
    pub block_length: usize,
    /// When set, each open dataset is read on a thread of its own, up to this many elements ahead
    /// (a [`Dataset::prefetch`] of it): up to `cycle_length` files are read in parallel. The output
    /// order does not change. Default `None`: everything on the consumer's thread.
    pub read_ahead: Option<usize>,
    /// The spec of the elements. Default: inferred from the dataset of the first input element
    /// with every dimension unknown (dtypes and ranks kept), as [`Dataset::flat_map`] does. When
    /// declared, every dataset's spec must be compatible with it.
    pub spec: Option<ElementSpec>,
}

impl Default for InterleaveOptions {
    fn default() -> Self {
        InterleaveOptions {
            cycle_length: 1,
            block_length: 1,
            read_ahead: None,
            spec: None,
        }
    }
}

impl InterleaveOptions {
    /// Sets `cycle_length` (at least 1).
    pub fn with_cycle_length(mut self, cycle_length: usize) -> Self {
        self.cycle_length = cycle_length;
        self
    }

    /// Sets `block_length` (at least 1).
    pub fn with_block_length(mut self, block_length: usize) -> Self {
        self.block_length = block_length;
        self
    }

    /// Reads each open dataset ahead on its own thread, `buffer` elements deep.
    pub fn with_read_ahead(mut self, buffer: usize) -> Self {
        self.read_ahead = Some(buffer.max(1));
        self
    }

    /// Declares the element spec.
    pub fn with_spec(mut self, spec: ElementSpec) -> Self {
        self.spec = Some(spec);
        self
    }

    pub(crate) fn check(&self) -> Result<()> {
        if self.cycle_length == 0 {
            return Err(
                Error::invalid_argument("cycle_length must be greater than zero")
                    .with_stage("interleave"),
            );
        }
        if self.block_length == 0 {
            return Err(
                Error::invalid_argument("block_length must be greater than zero")
                    .with_stage("interleave"),
            );
        }
        Ok(())
    }
}

/// Whether a dataset of spec `found` can stand where `declared` is expected: same structure, dtypes
/// and ranks, and every dimension the declaration knows equal where `found` knows it too.
pub(crate) fn check_compatible(declared: &ElementSpec, found: &ElementSpec) -> Result<()> {
    let fits = declared.structure() == found.structure()
        && declared
            .components()
            .iter()
            .zip(found.components())
            .all(|(d, f)| {
                d.dtype == f.dtype
                    && d.rank() == f.rank()
                    && d.shape
                        .iter()
                        .zip(&f.shape)
                        .all(|(a, b)| a.is_none() || b.is_none() || a == b)
            });
    if fits {
        Ok(())
    } else {
        Err(Error::incompatible(format!(
            "a dataset of elements {found} does not fit the interleave's {declared}"
        )))
    }
}

pub(crate) struct InterleaveNode {
    pub(crate) input: Arc<dyn Node>,
    pub(crate) open: Arc<OpenFn>,
    pub(crate) options: InterleaveOptions,
    pub(crate) stage: &'static str,
    pub(crate) inferred: OnceLock<ElementSpec>,
}

impl Node for InterleaveNode {
    fn name(&self) -> &'static str {
        self.stage
    }

    fn spec(&self) -> Result<ElementSpec> {
        if let Some(s) = &self.options.spec {
            return Ok(s.clone());
        }
        if let Some(s) = self.inferred.get() {
            return Ok(s.clone());
        }
        let spec = sampled_spec(
            self.input.as_ref(),
            self.stage,
            " (declare it with InterleaveOptions::with_spec)",
            |e| call_user(self.stage, 0, || (self.open)(0, e)?.element_spec()),
        )?;
        Ok(self.inferred.get_or_init(|| spec).clone())
    }

    fn cardinality(&self) -> Cardinality {
        match self.input.cardinality() {
            Cardinality::Finite(0) => Cardinality::Finite(0),
            _ => Cardinality::Unknown,
        }
    }

    fn open(&self, ctx: &Context) -> Result<Stream> {
        let input = self.input.open(ctx)?.into_items();
        Ok(Stream::Items(renumber(Cycle {
            input,
            open: self.open.clone(),
            declared: self.options.spec.clone(),
            read_ahead: self.options.read_ahead,
            stage: self.stage,
            ctx: ctx.clone(),
            slots: Vec::new(),
            cycle_length: self.options.cycle_length,
            block_length: self.options.block_length,
            cycle_index: 0,
            block_index: 0,
            num_open: 0,
            end_of_input: false,
            input_index: 0,
            done: false,
        })))
    }
}

/// One epoch of an interleave: TensorFlow's `InterleaveDatasetOp` iterator, step for step.
struct Cycle {
    input: Items,
    open: Arc<OpenFn>,
    declared: Option<ElementSpec>,
    read_ahead: Option<usize>,
    stage: &'static str,
    ctx: Context,
    /// The cycle's places opened so far (it grows up to `cycle_length`, which is an argument and
    /// is not allocated by).
    slots: Vec<Option<Items>>,
    cycle_length: usize,
    block_length: usize,
    cycle_index: usize,
    block_index: usize,
    num_open: usize,
    end_of_input: bool,
    input_index: u64,
    done: bool,
}

impl Cycle {
    fn advance(&mut self) {
        self.block_index = 0;
        let next = self.cycle_index + 1;
        // Places never opened stay empty once the input has ended: TensorFlow steps over them one
        // by one, which is the same as going back to the first place at once.
        self.cycle_index =
            if next == self.cycle_length || (self.end_of_input && next >= self.slots.len()) {
                0
            } else {
                next
            };
    }

    /// Opens the dataset of input element `index`.
    fn open_one(&self, index: u64, element: Element) -> Result<Items> {
        let ds = call_user(self.stage, index, || (self.open)(index, element))?;
        if let Some(declared) = &self.declared {
            check_compatible(declared, &ds.element_spec()?)
                .map_err(|e| e.with_stage(self.stage).with_element(index))?;
        }
        let ds = match self.read_ahead {
            Some(n) => ds.prefetch(n),
            None => ds,
        };
        Ok(ds.open(&self.ctx)?.into_items())
    }

    fn step(&mut self) -> Option<Result<Item>> {
        loop {
            if self.end_of_input && self.num_open == 0 {
                return None;
            }
            let ci = self.cycle_index;
            if let Some(current) = self.slots.get_mut(ci).and_then(Option::as_mut) {
                match current.next() {
                    Some(Ok(e)) => {
                        self.block_index += 1;
                        if self.block_index == self.block_length {
                            self.advance();
                        }
                        return Some(Ok(e));
                    }
                    Some(Err(e)) => return Some(Err(e.with_stage(self.stage))),
                    None => {
                        self.slots[ci] = None;
                        self.num_open -= 1;
                        self.advance();
                    }
                }
            } else if !self.end_of_input {
                match self.input.next() {
                    None => self.end_of_input = true,
                    Some(Err(e)) => return Some(Err(e)),
                    Some(Ok(item)) => {
                        let element = item.element;
                        let index = self.input_index;
                        self.input_index += 1;
                        match self.open_one(index, element) {
                            Ok(stream) => {
                                match self.slots.get_mut(ci) {
                                    Some(slot) => *slot = Some(stream),
                                    None => self.slots.push(Some(stream)),
                                }
                                self.num_open += 1;
                            }
                            Err(e) => return Some(Err(e)),
                        }
                    }
                }
            } else {
                self.advance();
            }
        }
    }
}

impl Iterator for Cycle {
    type Item = Result<Item>;

    fn next(&mut self) -> Option<Result<Item>> {
        if self.done {
            return None;
        }
        let item = self.step();
        if !matches!(item, Some(Ok(_))) {
            self.done = true;
            // Close every open dataset now (joins read-ahead threads).
            self.slots.iter_mut().for_each(|s| *s = None);
        }
        item
    }
}

impl Dataset {
    /// Maps each element to a dataset and interleaves them (tf.data's `interleave`): `cycle_length`
    /// datasets are open at once and give `block_length` consecutive elements each in turn; when
    /// one ends, its place in the cycle is taken by the dataset of the next input element when the
    /// cycle comes back to it. The order is TensorFlow's, exactly.
    ///
    /// The usual use is reading files: a dataset of file names, each mapped to the file's dataset
    /// (see [`Dataset::from_files`], which does it for a list of paths). The spec is inferred as for
    /// [`Dataset::flat_map`]; see [`Dataset::interleave_with`] to declare it or read ahead.
    ///
    /// Errors when `cycle_length` or `block_length` is 0. An `Err` or a panic in `f` ends the
    /// epoch with an error naming the input element.
    ///
    /// ```
    /// use slicestream::{Dataset, Element};
    /// // tf.data's documented example.
    /// let ds = Dataset::range(1, 6, 1)?.interleave(
    ///     |e: Element| Ok(Dataset::from_tensors(e)?.repeat(6)),
    ///     2,
    ///     4,
    /// )?;
    /// let got: Vec<i64> = ds
    ///     .iter()
    ///     .map(|e| e.unwrap().component(0).unwrap().as_slice::<i64>().unwrap()[0])
    ///     .collect();
    /// assert_eq!(
    ///     got,
    ///     [1, 1, 1, 1, 2, 2, 2, 2, 1, 1, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 3, 3, 4, 4, 5, 5, 5, 5, 5, 5]
    /// );
    /// # Ok::<(), slicestream::Error>(())
    /// ```
    pub fn interleave<F>(&self, f: F, cycle_length: usize, block_length: usize) -> Result<Dataset>
    where
        F: Fn(Element) -> Result<Dataset> + Send + Sync + 'static,
    {
        let options = InterleaveOptions::default()
            .with_cycle_length(cycle_length)
            .with_block_length(block_length);
        self.interleave_with(options, f)
    }

    /// [`Dataset::interleave`] with options: read-ahead threads, a declared spec.
    pub fn interleave_with<F>(&self, options: InterleaveOptions, f: F) -> Result<Dataset>
    where
        F: Fn(Element) -> Result<Dataset> + Send + Sync + 'static,
    {
        options.check()?;
        Ok(self.derive(InterleaveNode {
            input: self.node().clone(),
            open: Arc::new(move |_, e| f(e)),
            options,
            stage: "interleave",
            inferred: OnceLock::new(),
        }))
    }
}
