//! `Dataset.group_by_window` and `Dataset.bucket_by_sequence_length`, and the padding arguments
//! they share with `padded_batch`.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use slicestream::transform::BucketOptions;
use slicestream::{ElementSpec, Tensor};

use crate::dataset::{core, size, PyDataset};
use crate::functions::PyFunction;
use crate::numpy_io::tensor_from_py_as;

/// One padded shape: a sequence of sizes, `None` or -1 for "the longest in the batch".
fn padded_shape(obj: &Bound<'_, PyAny>) -> PyResult<Vec<Option<usize>>> {
    obj.try_iter()?
        .map(|d| {
            let d = d?;
            if d.is_none() {
                return Ok(None);
            }
            match d.extract::<i64>()? {
                -1 => Ok(None),
                n if n >= 0 => Ok(Some(n as usize)),
                n => Err(PyValueError::new_err(format!(
                    "padded shape dimension {n} is negative"
                ))),
            }
        })
        .collect()
}

/// The per-component padded shapes and padding values of `padded_shapes` (nested like the
/// element) and `padding_values` (nested like the element, or one scalar for all components).
pub(crate) type Padding = (Option<Vec<Vec<Option<usize>>>>, Option<Vec<Tensor>>);

pub(crate) fn padding_from_py(
    spec: &ElementSpec,
    padded_shapes: Option<&Bound<'_, PyAny>>,
    padding_values: Option<&Bound<'_, PyAny>>,
) -> PyResult<Padding> {
    let shapes = match padded_shapes.filter(|s| !s.is_none()) {
        None => None,
        Some(shapes) => Some(
            crate::nested::flatten_like(spec.structure(), shapes, "padded_shapes")?
                .iter()
                .map(padded_shape)
                .collect::<PyResult<Vec<_>>>()?,
        ),
    };
    let values = match padding_values.filter(|v| !v.is_none()) {
        None => None,
        Some(values) => Some(
            crate::nested::flatten_like_or_broadcast(spec.structure(), values, "padding_values")?
                .iter()
                .zip(spec.components())
                .map(|(v, s)| tensor_from_py_as(v, Some(s.dtype)))
                .collect::<PyResult<Vec<Tensor>>>()?,
        ),
    };
    Ok((shapes, values))
}

#[pymethods]
impl PyDataset {
    /// Groups elements by `key_func(element)` (an integer) into windows of `window_size` (or
    /// `window_size_func(key)`), and yields the elements of `reduce_func(key, window)` (a
    /// `slicestream.Dataset`) for each: a window as soon as it is full, the rest in increasing
    /// key order at the end (TensorFlow's order).
    #[pyo3(signature = (key_func, reduce_func, window_size=None, window_size_func=None, name=None))]
    fn group_by_window(
        &self,
        py: Python<'_>,
        key_func: Bound<'_, PyAny>,
        reduce_func: Bound<'_, PyAny>,
        window_size: Option<i64>,
        window_size_func: Option<Bound<'_, PyAny>>,
        name: Option<&str>,
    ) -> PyResult<Self> {
        let _ = name;
        let key = PyFunction::new(key_func)?.into_int_fn("key_func");
        let reduce = PyFunction::new(reduce_func)?.into_reduce_fn();
        let inner = &self.inner;
        match (window_size, window_size_func) {
            (Some(size), None) => core(py, || inner.group_by_window(key, reduce, size)),
            (None, Some(f)) => {
                let f = PyFunction::new(f)?.into_window_size_fn();
                core(py, || inner.group_by_window_with(key, reduce, f))
            }
            _ => Err(PyValueError::new_err(
                "Either the `window_size` argument or the `window_size_func` argument must be \
                 specified.",
            )),
        }
        .map(PyDataset::calling_python)
    }

    /// Buckets elements by `element_length_func(element)` between `bucket_boundaries` and batches
    /// each bucket by its `bucket_batch_sizes` entry, padded (tf.data's
    /// `bucket_by_sequence_length`, with its arguments and defaults).
    #[pyo3(signature = (element_length_func, bucket_boundaries, bucket_batch_sizes, padded_shapes=None, padding_values=None, pad_to_bucket_boundary=false, no_padding=false, drop_remainder=false, name=None))]
    #[allow(clippy::too_many_arguments)]
    fn bucket_by_sequence_length(
        &self,
        py: Python<'_>,
        element_length_func: Bound<'_, PyAny>,
        bucket_boundaries: Vec<i64>,
        bucket_batch_sizes: Vec<i64>,
        padded_shapes: Option<&Bound<'_, PyAny>>,
        padding_values: Option<&Bound<'_, PyAny>>,
        pad_to_bucket_boundary: bool,
        no_padding: bool,
        drop_remainder: bool,
        name: Option<&str>,
    ) -> PyResult<Self> {
        let _ = name;
        let sizes = bucket_batch_sizes
            .iter()
            .map(|&b| size(b, "bucket_batch_sizes"))
            .collect::<PyResult<Vec<_>>>()?;
        let length = PyFunction::new(element_length_func)?.into_int_fn("element_length_func");
        let inner = &self.inner;
        let spec = core(py, || inner.element_spec())?;
        let (shapes, values) = padding_from_py(&spec, padded_shapes, padding_values)?;
        let mut options = BucketOptions::default()
            .with_pad_to_bucket_boundary(pad_to_bucket_boundary)
            .with_no_padding(no_padding)
            .with_drop_remainder(drop_remainder);
        if let Some(shapes) = shapes {
            options = options.with_padded_shapes(shapes);
        }
        if let Some(values) = values {
            options = options.with_padding_values(values);
        }
        core(py, || {
            inner.bucket_by_sequence_length(length, &bucket_boundaries, &sizes, options)
        })
        .map(PyDataset::calling_python)
    }
}

/// The error for a function that returned something other than an integer.
pub(crate) fn not_an_integer(what: &str, got: &Bound<'_, PyAny>) -> PyErr {
    PyTypeError::new_err(format!(
        "`{what}` must return a single integer scalar, got {}",
        got.get_type()
            .name()
            .map(|n| n.to_string())
            .unwrap_or_default()
    ))
}
