//! `Dataset.cache`, `save`, `load`, `ignore_errors` and the `random` source.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use slicestream::io::saved::SaveOptions;
use slicestream::Dataset;

use crate::dataset::{core, PyDataset};

#[pymethods]
impl PyDataset {
    /// Keeps the first complete pass in memory (`filename=""`, the default) or in the file
    /// `filename`; later passes read it instead of the input. A pass that does not finish keeps
    /// nothing (and leaves no file).
    #[pyo3(signature = (filename="", name=None), text_signature = "($self, filename='', name=None)")]
    fn cache(&self, filename: &str, name: Option<&str>) -> Self {
        let _ = name;
        let inner = if filename.is_empty() {
            self.inner.cache()
        } else {
            self.inner.cache_to_file(filename)
        };
        self.then(inner)
    }

    /// Drops the elements whose computation failed (a function's exception, a batch whose
    /// elements do not fit); errors of the pipeline itself (a corrupt file) still raise.
    #[pyo3(signature = (log_warning=false, name=None))]
    fn ignore_errors(&self, log_warning: bool, name: Option<&str>) -> Self {
        let _ = name;
        self.then(self.inner.ignore_errors(log_warning))
    }

    /// Writes the dataset into the new directory `path` (shards of element records and a
    /// `dataset.json`; slicestream's own format, not TensorFlow's), atomically.
    /// `compression`, `shard_func` and `checkpoint_args` are not supported (must be None).
    #[pyo3(signature = (path, compression=None, shard_func=None, checkpoint_args=None))]
    fn save(
        &self,
        py: Python<'_>,
        path: std::path::PathBuf,
        compression: Option<&Bound<'_, PyAny>>,
        shard_func: Option<&Bound<'_, PyAny>>,
        checkpoint_args: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        for (name, v) in [
            ("compression", compression),
            ("shard_func", shard_func),
            ("checkpoint_args", checkpoint_args),
        ] {
            if v.is_some_and(|v| !v.is_none()) {
                return Err(PyValueError::new_err(format!(
                    "save: `{name}` is not supported by slicestream"
                )));
            }
        }
        let inner = &self.inner;
        core(py, || inner.save(&path, SaveOptions::default())).map(|_| ())
    }

    /// The dataset `save` wrote into `path`, read lazily. `element_spec`, when given, must equal
    /// the saved spec; `compression` and `reader_func` are not supported; `wait` changes nothing
    /// (a saved directory exists only once it is complete).
    #[staticmethod]
    #[pyo3(signature = (path, element_spec=None, compression=None, reader_func=None, wait=false))]
    fn load(
        py: Python<'_>,
        path: std::path::PathBuf,
        element_spec: Option<&Bound<'_, PyAny>>,
        compression: Option<&Bound<'_, PyAny>>,
        reader_func: Option<&Bound<'_, PyAny>>,
        wait: bool,
    ) -> PyResult<Self> {
        let _ = wait;
        for (name, v) in [("compression", compression), ("reader_func", reader_func)] {
            if v.is_some_and(|v| !v.is_none()) {
                return Err(PyValueError::new_err(format!(
                    "load: `{name}` is not supported by slicestream"
                )));
            }
        }
        let ds = core(py, || Dataset::load(&path))?;
        if let Some(spec) = element_spec.filter(|s| !s.is_none()) {
            let wanted = crate::structure::spec_from_py(spec)?;
            let saved = core(py, || ds.element_spec())?;
            if wanted != saved {
                return Err(PyValueError::new_err(format!(
                    "load: the saved dataset's spec is {saved}, not the given {wanted}"
                )));
            }
        }
        Ok(PyDataset::wrap(ds))
    }

    /// An infinite dataset of pseudorandom int64 scalars (seeded: the same values for the same
    /// seed, not TensorFlow's values); with `rerandomize_each_iteration`, other values each epoch.
    #[staticmethod]
    #[pyo3(signature = (seed=None, rerandomize_each_iteration=None, name=None))]
    fn random(
        seed: Option<u64>,
        rerandomize_each_iteration: Option<bool>,
        name: Option<&str>,
    ) -> Self {
        let _ = name;
        PyDataset::wrap(Dataset::random(
            seed,
            rerandomize_each_iteration.unwrap_or(false),
        ))
    }
}
