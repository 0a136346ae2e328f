//! `slicestream.Dataset`: tf.data's `Dataset` methods, names, positional order, keywords and
//! defaults, over the Rust core. Every call into the core runs with the GIL released, so Python
//! functions of the pipeline (which attach for their own calls) can run on the pipeline's threads.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use slicestream::transform::ParallelCalls;
use slicestream::{Cardinality, Dataset};

use crate::errors::to_py_err;
use crate::functions::{PyFunction, PyGeneratorIter};
use crate::iter::PyIterator;
use crate::structure::{element_from_py, spec_from_py, spec_to_py, Lists};

/// tf.data's `AUTOTUNE`.
pub const AUTOTUNE: i64 = -1;

/// Runs `f` (a call into the core) with the GIL released and turns its error into an exception.
pub fn core<T: Send>(
    py: Python<'_>,
    f: impl FnOnce() -> slicestream::Result<T> + Send,
) -> PyResult<T> {
    py.detach(f).map_err(|e| to_py_err(py, e))
}

/// A count where a negative one means "all", as TensorFlow's kernels read it (take, skip).
fn count_or_all(count: i64) -> u64 {
    u64::try_from(count).unwrap_or(u64::MAX)
}

pub(crate) fn size(value: i64, what: &str) -> PyResult<usize> {
    usize::try_from(value)
        .map_err(|_| PyValueError::new_err(format!("{what} must be >= 0, got {value}")))
}

fn parallel_calls(num_parallel_calls: Option<i64>) -> PyResult<ParallelCalls> {
    Ok(match num_parallel_calls {
        None => ParallelCalls::Fixed(1),
        Some(AUTOTUNE) => ParallelCalls::Autotune,
        Some(n) if n >= 1 => ParallelCalls::Fixed(n as usize),
        Some(n) => {
            return Err(PyValueError::new_err(format!(
                "num_parallel_calls must be AUTOTUNE (-1) or >= 1, got {n}"
            )))
        }
    })
}

/// A dataset: a lazy plan of a source and transformations with tf.data's semantics. Iterating it
/// runs one epoch and yields its elements as NumPy values (as `as_numpy_iterator()` does).
#[pyclass(frozen, module = "slicestream", name = "Dataset")]
pub struct PyDataset {
    pub inner: Dataset,
    /// Whether the plan calls Python (a function or a generator): its threads then need the GIL.
    pub calls_python: bool,
    /// Whether the plan's last stage is `prefetch` (elements may be waiting at its output).
    pub ends_in_prefetch: bool,
}

impl PyDataset {
    /// A source's dataset: no Python in the plan.
    pub fn wrap(inner: Dataset) -> Self {
        PyDataset {
            inner,
            calls_python: false,
            ends_in_prefetch: false,
        }
    }

    /// A dataset whose plan calls Python.
    pub fn calling_python(inner: Dataset) -> Self {
        PyDataset {
            calls_python: true,
            ..Self::wrap(inner)
        }
    }

    /// `inner`, one stage over this plan: it calls Python if this one does.
    pub(crate) fn then(&self, inner: Dataset) -> Self {
        PyDataset {
            calls_python: self.calls_python,
            ..Self::wrap(inner)
        }
    }

    pub(crate) fn derive(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&Dataset) -> slicestream::Result<Dataset> + Send,
    ) -> PyResult<Self> {
        let inner = &self.inner;
        core(py, || f(inner)).map(|d| self.then(d))
    }
}

#[pymethods]
impl PyDataset {
    /// Creates a dataset whose elements are slices of the given tensors along their first
    /// dimension. NumPy arrays are used in place (no copy) when C-contiguous, aligned and
    /// native-endian; other values are converted as TensorFlow converts them.
    #[staticmethod]
    #[pyo3(signature = (tensors, name=None))]
    fn from_tensor_slices(
        py: Python<'_>,
        tensors: &Bound<'_, PyAny>,
        name: Option<&str>,
    ) -> PyResult<Self> {
        let _ = name;
        let element = element_from_py(tensors, Lists::AreTensors)?;
        core(py, || Dataset::from_tensor_slices(element)).map(Self::wrap)
    }

    /// Creates a dataset with a single element: the given tensors.
    #[staticmethod]
    #[pyo3(signature = (tensors, name=None))]
    fn from_tensors(
        py: Python<'_>,
        tensors: &Bound<'_, PyAny>,
        name: Option<&str>,
    ) -> PyResult<Self> {
        let _ = name;
        let element = element_from_py(tensors, Lists::AreTensors)?;
        core(py, || Dataset::from_tensors(element)).map(Self::wrap)
    }

    /// Creates a dataset of a step-separated range of values: `range(stop)`,
    /// `range(start, stop)` or `range(start, stop, step)`, of `output_type` (int64 by default).
    #[staticmethod]
    #[pyo3(signature = (*args, output_type=None, name=None))]
    fn range(
        py: Python<'_>,
        args: &Bound<'_, PyTuple>,
        output_type: Option<&Bound<'_, PyAny>>,
        name: Option<&str>,
    ) -> PyResult<Self> {
        let _ = name;
        let values: Vec<i64> = args.extract()?;
        let (start, stop, step) = match values.as_slice() {
            [stop] => (0, *stop, 1),
            [start, stop] => (*start, *stop, 1),
            [start, stop, step] => (*start, *stop, *step),
            _ => {
                return Err(PyTypeError::new_err(format!(
                    "range takes 1 to 3 positional arguments, got {}",
                    values.len()
                )))
            }
        };
        let dtype = match output_type {
            Some(d) => crate::structure::dtype_from_py(d)?,
            None => slicestream::DType::I64,
        };
        core(py, || Dataset::range_with_dtype(start, stop, step, dtype)).map(Self::wrap)
    }

    /// Creates a dataset whose elements are generated by `generator`, a callable returning an
    /// iterable (called anew each epoch). `output_signature` (nested `TensorSpec`s) is required;
    /// Python values the generator yields are converted to its dtypes.
    #[staticmethod]
    #[pyo3(signature = (generator, output_types=None, output_shapes=None, args=None, output_signature=None, name=None))]
    fn from_generator(
        generator: Bound<'_, PyAny>,
        output_types: Option<&Bound<'_, PyAny>>,
        output_shapes: Option<&Bound<'_, PyAny>>,
        args: Option<&Bound<'_, PyAny>>,
        output_signature: Option<&Bound<'_, PyAny>>,
        name: Option<&str>,
    ) -> PyResult<Self> {
        let _ = name;
        if output_types.is_some() || output_shapes.is_some() {
            return Err(PyTypeError::new_err(
                "from_generator takes output_signature (output_types and output_shapes are deprecated in TensorFlow too)",
            ));
        }
        let Some(signature) = output_signature else {
            return Err(PyTypeError::new_err(
                "from_generator needs output_signature",
            ));
        };
        let spec = spec_from_py(signature)?;
        let generator = match args {
            None => generator,
            Some(args) => {
                let functools = generator.py().import("functools")?;
                let args = PyTuple::new(
                    generator.py(),
                    args.try_iter()?.collect::<PyResult<Vec<_>>>()?,
                )?;
                let py = generator.py();
                let mut call_args = vec![generator];
                call_args.extend(args.iter());
                functools
                    .getattr("partial")?
                    .call1(PyTuple::new(py, call_args)?)?
            }
        };
        if !generator.is_callable() {
            return Err(PyTypeError::new_err(
                "generator must be a callable that returns an iterable",
            ));
        }
        let generator = generator.unbind();
        let element_spec = spec.clone();
        Ok(Self::calling_python(Dataset::from_generator(
            spec,
            move || PyGeneratorIter::start(&generator, element_spec.clone()),
        )))
    }

    /// Zips datasets: `zip(a, b)`, `zip((a, b))`, `zip({"x": a, "y": b})` or
    /// `zip(datasets=...)`, nesting as given.
    #[staticmethod]
    #[pyo3(signature = (*args, datasets=None, name=None))]
    fn zip(
        py: Python<'_>,
        args: &Bound<'_, PyTuple>,
        datasets: Option<&Bound<'_, PyAny>>,
        name: Option<&str>,
    ) -> PyResult<Self> {
        let _ = name;
        let nested = match (datasets, args.len()) {
            (Some(d), 0) => d.clone(),
            (Some(_), _) => {
                return Err(PyTypeError::new_err(
                    "zip takes datasets either positionally or as datasets=",
                ))
            }
            (None, 1) => args.get_item(0)?,
            (None, _) => args.clone().into_any(),
        };
        let mut calls_python = false;
        let inner = zip_nested(py, &nested, 0, &mut calls_python)?;
        Ok(PyDataset {
            calls_python,
            ..Self::wrap(inner)
        })
    }

    /// Combines consecutive elements into batches of `batch_size` (the last one smaller unless
    /// `drop_remainder`). `num_parallel_calls` and `deterministic` are accepted for tf.data's
    /// signature; batching is already parallel where it gathers.
    #[pyo3(signature = (batch_size, drop_remainder=false, num_parallel_calls=None, deterministic=None, name=None))]
    fn batch(
        &self,
        py: Python<'_>,
        batch_size: i64,
        drop_remainder: bool,
        num_parallel_calls: Option<i64>,
        deterministic: Option<bool>,
        name: Option<&str>,
    ) -> PyResult<Self> {
        let _ = (num_parallel_calls, deterministic, name);
        let batch_size = size(batch_size, "batch_size")?;
        self.derive(py, |d| d.batch(batch_size, drop_remainder))
    }

    /// Batches elements of different shapes, padding each component to `padded_shapes` (nested
    /// like the element; `None` or `-1` in a dimension: the longest in the batch) with
    /// `padding_values` (nested scalars, or one scalar for every component; default 0, False
    /// or b"").
    #[pyo3(signature = (batch_size, padded_shapes=None, padding_values=None, drop_remainder=false, name=None))]
    fn padded_batch(
        &self,
        py: Python<'_>,
        batch_size: i64,
        padded_shapes: Option<&Bound<'_, PyAny>>,
        padding_values: Option<&Bound<'_, PyAny>>,
        drop_remainder: bool,
        name: Option<&str>,
    ) -> PyResult<Self> {
        let _ = name;
        let batch_size = size(batch_size, "batch_size")?;
        let inner = &self.inner;
        let spec = core(py, || inner.element_spec())?;
        let (shapes, values) =
            crate::grouping::padding_from_py(&spec, padded_shapes, padding_values)?;
        self.derive(py, |d| {
            d.padded_batch(batch_size, shapes, values, drop_remainder)
        })
    }

    /// Splits each element into its rows (the inverse of `batch`).
    #[pyo3(signature = (name=None))]
    fn unbatch(&self, py: Python<'_>, name: Option<&str>) -> PyResult<Self> {
        let _ = name;
        self.derive(py, |d| d.unbatch())
    }

    /// Re-batches the rows of batches into batches of `batch_size` (an int, or a list cycled
    /// through).
    #[pyo3(signature = (batch_size, drop_remainder=false, name=None))]
    fn rebatch(
        &self,
        py: Python<'_>,
        batch_size: &Bound<'_, PyAny>,
        drop_remainder: bool,
        name: Option<&str>,
    ) -> PyResult<Self> {
        let _ = name;
        let sizes: Vec<usize> = match batch_size.extract::<usize>() {
            Ok(n) => vec![n],
            Err(_) => batch_size.extract()?,
        };
        self.derive(py, |d| d.rebatch(sizes, drop_remainder))
    }

    /// Randomly shuffles the elements with a buffer of `buffer_size` elements.
    #[pyo3(signature = (buffer_size, seed=None, reshuffle_each_iteration=true, name=None))]
    fn shuffle(
        &self,
        py: Python<'_>,
        buffer_size: i64,
        seed: Option<u64>,
        reshuffle_each_iteration: bool,
        name: Option<&str>,
    ) -> PyResult<Self> {
        let _ = name;
        let buffer_size = size(buffer_size, "buffer_size")?;
        self.derive(py, |d| {
            d.shuffle(buffer_size, seed, reshuffle_each_iteration)
        })
    }

    /// A uniform shuffle of every element of a random-access dataset, with no element buffer.
    #[pyo3(signature = (seed=None, reshuffle_each_iteration=true, name=None))]
    fn global_shuffle(
        &self,
        py: Python<'_>,
        seed: Option<u64>,
        reshuffle_each_iteration: bool,
        name: Option<&str>,
    ) -> PyResult<Self> {
        let _ = name;
        self.derive(py, |d| d.global_shuffle(seed, reshuffle_each_iteration))
    }

    /// Maps `map_func` across the elements: it gets a tuple's items as positional arguments, a
    /// dict or a single tensor as one argument, as NumPy values, and returns the new element.
    ///
    /// `num_parallel_calls` and `deterministic` are accepted for tf.data's signature, but a Python
    /// function is called one element at a time, in order, by the thread that iterates: the GIL
    /// lets only one call run at a time, and calls spread over the pipeline's threads only contend
    /// for it (measured on 2 cores: 10x slower with 2 threads; docs/performance.md). The stages
    /// around the map (gathers, batching, prefetch) still run in parallel, without the GIL. The
    /// fast way is vectorized: `batch` first, then map a function over whole batches.
    #[pyo3(signature = (map_func, num_parallel_calls=None, deterministic=None, synchronous=None, use_unbounded_threadpool=false, name=None))]
    #[allow(clippy::too_many_arguments)]
    fn map(
        &self,
        map_func: Bound<'_, PyAny>,
        num_parallel_calls: Option<i64>,
        deterministic: Option<bool>,
        synchronous: Option<bool>,
        use_unbounded_threadpool: bool,
        name: Option<&str>,
    ) -> PyResult<Self> {
        let _ = (deterministic, synchronous, use_unbounded_threadpool, name);
        // Checked as tf.data checks it, then run sequentially (see above).
        parallel_calls(num_parallel_calls)?;
        let f = PyFunction::new(map_func)?.into_map_fn();
        Ok(Self::calling_python(self.inner.map(f)))
    }

    /// Keeps the elements for which `predicate` is true.
    #[pyo3(signature = (predicate, name=None))]
    fn filter(&self, predicate: Bound<'_, PyAny>, name: Option<&str>) -> PyResult<Self> {
        let _ = name;
        Ok(Self::calling_python(
            self.inner
                .filter(PyFunction::new(predicate)?.into_predicate()),
        ))
    }

    /// Yields elements while `predicate` holds.
    #[pyo3(signature = (predicate, name=None))]
    fn take_while(&self, predicate: Bound<'_, PyAny>, name: Option<&str>) -> PyResult<Self> {
        let _ = name;
        Ok(Self::calling_python(
            self.inner
                .take_while(PyFunction::new(predicate)?.into_predicate()),
        ))
    }

    /// Maps each element to a dataset (`map_func` returns a `slicestream.Dataset`) and yields
    /// their elements in turn.
    #[pyo3(signature = (map_func, name=None))]
    fn flat_map(&self, map_func: Bound<'_, PyAny>, name: Option<&str>) -> PyResult<Self> {
        let _ = name;
        Ok(Self::calling_python(
            self.inner
                .flat_map(PyFunction::new(map_func)?.into_dataset_fn()),
        ))
    }

    /// Maps each element to a dataset and interleaves them: `cycle_length` at a time,
    /// `block_length` elements from each in turn (TensorFlow's deterministic order); with
    /// `num_parallel_calls` (AUTOTUNE or more than 1) each open dataset is read ahead on a thread.
    #[pyo3(signature = (map_func, cycle_length=None, block_length=None, num_parallel_calls=None, deterministic=None, name=None))]
    #[allow(clippy::too_many_arguments)]
    fn interleave(
        &self,
        py: Python<'_>,
        map_func: Bound<'_, PyAny>,
        cycle_length: Option<i64>,
        block_length: Option<i64>,
        num_parallel_calls: Option<i64>,
        deterministic: Option<bool>,
        name: Option<&str>,
    ) -> PyResult<Self> {
        let _ = (deterministic, name);
        let cycle = match cycle_length {
            None | Some(AUTOTUNE) => slicestream::runtime::machine_threads(),
            Some(n) => size(n, "cycle_length")?,
        };
        let block = size(block_length.unwrap_or(1), "block_length")?;
        let mut options = slicestream::transform::InterleaveOptions::default()
            .with_cycle_length(cycle)
            .with_block_length(block);
        // In parallel: each open dataset is read ahead on a thread of its own (the output order
        // stays TensorFlow's deterministic one, which `deterministic=False` allows too).
        if num_parallel_calls.is_some_and(|n| n == AUTOTUNE || n > 1) {
            options = options.with_read_ahead(2);
        }
        let f = PyFunction::new(map_func)?.into_dataset_fn();
        let inner = &self.inner;
        core(py, || inner.interleave_with(options, f)).map(Self::calling_python)
    }

    /// The first `count` elements (negative: all).
    #[pyo3(signature = (count, name=None))]
    fn take(&self, count: i64, name: Option<&str>) -> Self {
        let _ = name;
        self.then(self.inner.take(count_or_all(count)))
    }

    /// All but the first `count` elements (negative: skips all).
    #[pyo3(signature = (count, name=None))]
    fn skip(&self, count: i64, name: Option<&str>) -> Self {
        let _ = name;
        self.then(self.inner.skip(count_or_all(count)))
    }

    /// Repeats the dataset `count` times (`None` or negative: forever).
    #[pyo3(signature = (count=None, name=None))]
    fn repeat(&self, count: Option<i64>, name: Option<&str>) -> Self {
        let _ = name;
        match count.map(u64::try_from) {
            Some(Ok(c)) => self.then(self.inner.repeat(c)),
            _ => self.then(self.inner.repeat_forever()),
        }
    }

    /// Every `num_shards`-th element, starting at `index`.
    #[pyo3(signature = (num_shards, index, name=None))]
    fn shard(
        &self,
        py: Python<'_>,
        num_shards: u64,
        index: u64,
        name: Option<&str>,
    ) -> PyResult<Self> {
        let _ = name;
        self.derive(py, |d| d.shard(num_shards, index))
    }

    /// This dataset's elements, then `dataset`'s.
    #[pyo3(signature = (dataset, name=None))]
    fn concatenate(
        &self,
        py: Python<'_>,
        dataset: &PyDataset,
        name: Option<&str>,
    ) -> PyResult<Self> {
        let _ = name;
        let other = &dataset.inner;
        let mut out = self.derive(py, |d| d.concatenate(other))?;
        out.calls_python |= dataset.calls_python;
        Ok(out)
    }

    /// Pairs each element with its index: `(index, element)`, counting from `start`.
    #[pyo3(signature = (start=0, name=None))]
    fn enumerate(&self, start: i64, name: Option<&str>) -> Self {
        let _ = name;
        self.then(self.inner.enumerate(start))
    }

    /// Prepares up to `buffer_size` elements ahead on a thread of its own (`AUTOTUNE`: 2).
    #[pyo3(signature = (buffer_size, name=None))]
    fn prefetch(&self, buffer_size: i64, name: Option<&str>) -> PyResult<Self> {
        let _ = name;
        let n = if buffer_size == AUTOTUNE {
            2
        } else {
            size(buffer_size, "buffer_size")?
        };
        Ok(PyDataset {
            ends_in_prefetch: true,
            ..self.then(self.inner.prefetch(n))
        })
    }

    /// Groups elements into windows of `size` (starting every `shift`, taking every `stride`-th):
    /// a dataset of datasets, for `flat_map`.
    #[pyo3(signature = (size, shift=None, stride=1, drop_remainder=false, name=None))]
    fn window(
        &self,
        py: Python<'_>,
        size: usize,
        shift: Option<usize>,
        stride: usize,
        drop_remainder: bool,
        name: Option<&str>,
    ) -> PyResult<crate::windows::PyWindows> {
        let _ = name;
        let inner = &self.inner;
        core(py, || inner.window(size, shift, stride, drop_remainder))
            .map(crate::windows::PyWindows::new)
    }

    /// The same plan with pipeline-wide options: a `slicestream.Options` (`memory_budget` in
    /// bytes, `num_threads`) or a `tf.data.Options` (its `threading.private_threadpool_size`).
    #[pyo3(signature = (options, name=None))]
    fn with_options(&self, options: &Bound<'_, PyAny>, name: Option<&str>) -> PyResult<Self> {
        let _ = name;
        Ok(Self::wrap(
            self.inner
                .with_options(crate::options::options_from_py(options)?),
        ))
    }

    /// The options in force, as a `slicestream.Options`.
    fn options(&self) -> crate::options::PyOptions {
        crate::options::PyOptions::from_core(self.inner.options())
    }

    /// The type specification of an element: nested `TensorSpec`s.
    #[getter]
    fn element_spec<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let inner = &self.inner;
        let spec = core(py, || inner.element_spec())?;
        spec_to_py(py, &spec)
    }

    /// The number of elements: `INFINITE_CARDINALITY` (-1) or `UNKNOWN_CARDINALITY` (-2) where
    /// not known without iterating.
    fn cardinality(&self, py: Python<'_>) -> i64 {
        let inner = &self.inner;
        py.detach(|| inner.cardinality().as_tf())
    }

    /// The number of elements; a TypeError when it is infinite or unknown.
    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        let inner = &self.inner;
        match py.detach(|| inner.cardinality()) {
            Cardinality::Infinite => Err(PyTypeError::new_err("The dataset is infinite.")),
            Cardinality::Unknown => Err(PyTypeError::new_err("The dataset length is unknown.")),
            c => Ok(c.finite().unwrap_or(0) as usize),
        }
    }

    /// A new epoch's iterator: elements as NumPy values.
    fn __iter__(&self, py: Python<'_>) -> PyIterator {
        let inner = &self.inner;
        // Without Python in the plan, a waiting element may be taken with the GIL held (see iter).
        let may_hold_gil = !self.calls_python && self.ends_in_prefetch;
        PyIterator::new(py.detach(|| inner.iter()), may_hold_gil)
    }

    /// A new epoch's iterator of NumPy values (what iterating the dataset gives).
    fn as_numpy_iterator(&self, py: Python<'_>) -> PyIterator {
        self.__iter__(py)
    }

    /// A new epoch's iterator of batches as Arrow record batches (objects with
    /// `__arrow_c_array__` and `__arrow_c_stream__`, for `pyarrow.record_batch`, `polars.DataFrame`).
    fn as_arrow_iterator(
        &self,
        py: Python<'_>,
    ) -> PyResult<crate::arrow_export::ArrowBatchIterator> {
        crate::arrow_export::ArrowBatchIterator::new(py, &self.inner)
    }

    /// The whole dataset (its elements must be batches) as an Arrow C stream of record batches:
    /// `pyarrow.table(ds)`, `pyarrow.RecordBatchReader.from_stream(ds)`, `polars.DataFrame(ds)`.
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let _ = requested_schema;
        crate::arrow_export::stream_capsule(py, &self.inner)
    }

    /// Iterates one epoch in Rust, converting nothing to Python, and returns the seconds it took
    /// (the benchmark's "Rust figure": what the engine gives before NumPy sees it).
    fn _drain_in_rust(&self, py: Python<'_>) -> PyResult<f64> {
        let inner = &self.inner;
        core(py, || {
            let start = std::time::Instant::now();
            for element in inner.iter() {
                std::hint::black_box(element?);
            }
            Ok(start.elapsed().as_secs_f64())
        })
    }

    fn __repr__(&self) -> String {
        format!("<slicestream.{:?}>", self.inner)
    }

    /// The plan's stages, as `Dataset(range → map → batch)`: runs nothing.
    fn __str__(&self) -> String {
        format!("{:?}", self.inner)
    }
}

fn zip_nested(
    py: Python<'_>,
    nested: &Bound<'_, PyAny>,
    depth: usize,
    calls_python: &mut bool,
) -> PyResult<Dataset> {
    if depth > 64 {
        return Err(PyValueError::new_err(
            "zip's datasets nest deeper than 64 levels",
        ));
    }
    if let Ok(ds) = nested.cast::<PyDataset>() {
        *calls_python |= ds.get().calls_python;
        return Ok(ds.get().inner.clone());
    }
    if let Ok(dict) = nested.cast::<PyDict>() {
        let mut items = Vec::with_capacity(dict.len());
        for (k, v) in dict.iter() {
            items.push((
                k.extract::<String>()?,
                zip_nested(py, &v, depth + 1, calls_python)?,
            ));
        }
        return core(py, || Dataset::zip_dict(items));
    }
    let items: Vec<Bound<'_, PyAny>> = if let Ok(t) = nested.cast::<PyTuple>() {
        t.iter().collect()
    } else if let Ok(l) = nested.cast::<PyList>() {
        l.iter().collect()
    } else {
        return Err(PyTypeError::new_err(format!(
            "zip takes datasets, or tuples and dicts of them, not {}",
            nested.get_type().name()?
        )));
    };
    let datasets = items
        .iter()
        .map(|i| zip_nested(py, i, depth + 1, calls_python))
        .collect::<PyResult<Vec<_>>>()?;
    core(py, || Dataset::zip(&datasets))
}

/// A dataset made by a source function of the core (files), with the GIL released.
pub fn source(
    py: Python<'_>,
    f: impl FnOnce() -> slicestream::Result<Dataset> + Send,
) -> PyResult<PyDataset> {
    core(py, f).map(PyDataset::wrap)
}
