//! File sources as `Dataset` static methods: NPY/NPZ, CSV, Parquet, Arrow IPC, TFRecord (records
//! or parsed `tf.train.Example`s). Nothing is read in Python: the files are opened by the core
//! (memory-mapped where the format allows) with the GIL released.

use std::path::PathBuf;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use slicestream::io::csv::CsvOptions;
use slicestream::io::tfrecord::{Compression, FeatureDescription, FeatureSpec};
use slicestream::Dataset;

use crate::dataset::{source, PyDataset};
use crate::numpy_io::tensor_from_py_as;
use crate::structure::dtype_from_py;

/// One path or a list of paths (str or `os.PathLike`).
fn paths(obj: &Bound<'_, PyAny>) -> PyResult<Vec<PathBuf>> {
    if obj.is_instance_of::<PyString>() || obj.hasattr("__fspath__")? {
        return Ok(vec![obj.extract()?]);
    }
    obj.try_iter()?.map(|p| p?.extract()).collect()
}

fn compression(name: Option<&str>) -> PyResult<Compression> {
    match name.unwrap_or("") {
        "" => Ok(Compression::None),
        "GZIP" => Ok(Compression::Gzip),
        "ZLIB" => Ok(Compression::Zlib),
        other => Err(PyValueError::new_err(format!(
            "compression_type must be '', 'GZIP' or 'ZLIB', not {other:?}"
        ))),
    }
}

/// A feature description from a dict of `FixedLenFeature` / `VarLenFeature` (slicestream's or
/// `tf.io`'s: anything with `dtype`, and `shape` and `default_value` for fixed-length ones).
fn features(obj: &Bound<'_, PyDict>) -> PyResult<FeatureDescription> {
    let mut out = Vec::with_capacity(obj.len());
    for (name, feature) in obj.iter() {
        let name: String = name.extract()?;
        let dtype = dtype_from_py(&feature.getattr("dtype")?)?;
        let spec = if feature.hasattr("shape")? {
            let shape: Vec<usize> = feature.getattr("shape")?.extract()?;
            let default = feature
                .getattr("default_value")
                .ok()
                .filter(|d| !d.is_none());
            match default {
                None => FeatureSpec::fixed(dtype, shape),
                Some(d) => {
                    let np = crate::numpy_io::numpy(obj.py())?;
                    let d = np.call_method1("asarray", (d,))?;
                    let tensor = tensor_from_py_as(&d, Some(dtype))?;
                    FeatureSpec::fixed_with_default(dtype, shape, tensor)
                }
            }
        } else {
            FeatureSpec::var_len(dtype)
        };
        out.push((name, spec));
    }
    FeatureDescription::new(out).map_err(|e| crate::errors::to_py_err(obj.py(), e))
}

#[pymethods]
impl PyDataset {
    /// The rows of an `.npy` file, memory-mapped (no copy).
    #[staticmethod]
    fn from_npy(py: Python<'_>, path: PathBuf) -> PyResult<PyDataset> {
        source(py, || Dataset::from_npy(path))
    }

    /// The rows of the arrays of an `.npz` archive, as a dict by array name (stored members
    /// memory-mapped; deflated ones read once).
    #[staticmethod]
    fn from_npz(py: Python<'_>, path: PathBuf) -> PyResult<PyDataset> {
        source(py, || Dataset::from_npz(path))
    }

    /// The rows of Parquet files as dict elements (`columns`: the ones to read, default all).
    #[staticmethod]
    #[pyo3(signature = (filenames, columns=None))]
    fn from_parquet(
        py: Python<'_>,
        filenames: &Bound<'_, PyAny>,
        columns: Option<Vec<String>>,
    ) -> PyResult<PyDataset> {
        let files = paths(filenames)?;
        source(py, || {
            let cols: Option<Vec<&str>> = columns
                .as_ref()
                .map(|c| c.iter().map(String::as_str).collect());
            Dataset::from_parquet(files, cols.as_deref())
        })
    }

    /// The rows of an Arrow IPC file or stream as dict elements.
    #[staticmethod]
    fn from_ipc(py: Python<'_>, path: PathBuf) -> PyResult<PyDataset> {
        source(py, || Dataset::from_ipc(path))
    }

    /// The rows of CSV files (types inferred, or given by `column_types`), as dict elements by
    /// column name, or `(features, label)` with `label_name`; batched when `batch_size` is given
    /// (as `tf.data.experimental.make_csv_dataset`).
    #[staticmethod]
    #[pyo3(signature = (filenames, batch_size=None, column_names=None, column_types=None, column_defaults=None, label_name=None, select_columns=None, field_delim=",", use_quote_delim=true, na_value="", header=true))]
    #[allow(clippy::too_many_arguments)]
    fn from_csv(
        py: Python<'_>,
        filenames: &Bound<'_, PyAny>,
        batch_size: Option<usize>,
        column_names: Option<Vec<String>>,
        column_types: Option<&Bound<'_, PyDict>>,
        column_defaults: Option<&Bound<'_, PyDict>>,
        label_name: Option<String>,
        select_columns: Option<Vec<String>>,
        field_delim: &str,
        use_quote_delim: bool,
        na_value: &str,
        header: bool,
    ) -> PyResult<PyDataset> {
        let files = paths(filenames)?;
        let delim = match field_delim.as_bytes() {
            [b] => *b,
            _ => {
                return Err(PyValueError::new_err(
                    "field_delim must be one ASCII character",
                ))
            }
        };
        let mut options = CsvOptions::default()
            .with_delimiter(delim)
            .with_quote(use_quote_delim.then_some(b'"'))
            .with_header(header)
            .with_na_value(na_value)
            .with_batch_size(batch_size);
        if let Some(names) = column_names {
            options = options.with_column_names(names);
        }
        if let Some(types) = column_types {
            for (k, v) in types.iter() {
                options = options.with_column_type(k.extract::<String>()?, dtype_from_py(&v)?);
            }
        }
        if let Some(defaults) = column_defaults {
            for (k, v) in defaults.iter() {
                let value: String = v.str()?.extract()?;
                options = options.with_default(k.extract::<String>()?, value);
            }
        }
        if let Some(label) = label_name {
            options = options.with_label(label);
        }
        if let Some(cols) = select_columns {
            options = options.with_select_columns(cols);
        }
        source(py, || Dataset::from_csv_files(files, options))
    }

    /// The records of TFRecord files as scalar `bytes` (`tf.data.TFRecordDataset`);
    /// `compression_type` is `""`, `"GZIP"` or `"ZLIB"`. Both CRCs of every record are checked.
    #[staticmethod]
    #[pyo3(signature = (filenames, compression_type=None))]
    fn from_tfrecord(
        py: Python<'_>,
        filenames: &Bound<'_, PyAny>,
        compression_type: Option<&str>,
    ) -> PyResult<PyDataset> {
        let files = paths(filenames)?;
        let c = compression(compression_type)?;
        source(py, || Dataset::from_tfrecord(files, c))
    }

    /// The `tf.train.Example` records of TFRecord files parsed as `features` describes (a dict of
    /// `FixedLenFeature` / `VarLenFeature`), one dict element per record.
    #[staticmethod]
    #[pyo3(signature = (filenames, features, compression_type=None))]
    fn from_tfrecord_examples(
        py: Python<'_>,
        filenames: &Bound<'_, PyAny>,
        features: &Bound<'_, PyDict>,
        compression_type: Option<&str>,
    ) -> PyResult<PyDataset> {
        let files = paths(filenames)?;
        let c = compression(compression_type)?;
        let description = features_arg(features)?;
        source(py, || {
            Dataset::from_tfrecord_examples(files, c, description)
        })
    }

    /// Batches of parsed `tf.train.Example`s straight from the files' bytes, parsed in parallel
    /// (fixed-length features only): the fast way to read TFRecords.
    #[staticmethod]
    #[pyo3(signature = (filenames, features, batch_size, drop_remainder=false, compression_type=None))]
    fn from_tfrecord_example_batches(
        py: Python<'_>,
        filenames: &Bound<'_, PyAny>,
        features: &Bound<'_, PyDict>,
        batch_size: usize,
        drop_remainder: bool,
        compression_type: Option<&str>,
    ) -> PyResult<PyDataset> {
        let files = paths(filenames)?;
        let c = compression(compression_type)?;
        let description = features_arg(features)?;
        source(py, || {
            Dataset::from_tfrecord_example_batches(
                files,
                c,
                description,
                batch_size,
                drop_remainder,
            )
        })
    }
}

fn features_arg(obj: &Bound<'_, PyDict>) -> PyResult<FeatureDescription> {
    if obj.is_empty() {
        return Err(PyTypeError::new_err(
            "features must describe at least one feature",
        ));
    }
    features(obj)
}
