//! `Dataset.window(...)`: a dataset of windows, each a `Dataset`, for `flat_map`.

use std::sync::Mutex;

use pyo3::prelude::*;
use slicestream::transform::Windows;
use slicestream::{Dataset, Result};

use crate::dataset::{core, PyDataset};
use crate::errors::{from_py_err, to_py_err};
use crate::structure::spec_to_py;

/// The windows of a dataset (`Dataset.window`): each window is a `Dataset` of its elements.
/// `flat_map(lambda w: w.batch(n))` turns them back into elements.
#[pyclass(frozen, module = "slicestream", name = "WindowDataset")]
pub struct PyWindows {
    inner: Windows,
}

impl PyWindows {
    /// Wraps the core's windows.
    pub fn new(inner: Windows) -> Self {
        PyWindows { inner }
    }
}

type WindowIter = Box<dyn Iterator<Item = Result<Dataset>> + Send>;

/// An iterator over windows, each a `Dataset`.
#[pyclass(frozen, module = "slicestream", name = "WindowIterator")]
pub struct PyWindowIterator {
    inner: Mutex<Option<WindowIter>>,
}

#[pymethods]
impl PyWindows {
    /// Maps each window (a `Dataset`) to a dataset and yields their elements in turn.
    #[pyo3(signature = (map_func, name=None))]
    fn flat_map(
        &self,
        py: Python<'_>,
        map_func: Bound<'_, PyAny>,
        name: Option<&str>,
    ) -> PyResult<PyDataset> {
        let _ = name;
        let f = map_func.unbind();
        let windows = &self.inner;
        core(py, || {
            windows.flat_map(move |w: Dataset| {
                Python::attach(|py| -> PyResult<Dataset> {
                    let out = f.bind(py).call1((PyDataset { inner: w },))?;
                    Ok(out.cast::<PyDataset>()?.get().inner.clone())
                })
                .map_err(from_py_err)
            })
        })
        .map(|inner| PyDataset { inner })
    }

    /// The number of windows (-1 infinite, -2 unknown).
    fn cardinality(&self) -> i64 {
        self.inner.cardinality().as_tf()
    }

    /// The spec of the elements inside each window.
    #[getter]
    fn element_spec<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let windows = &self.inner;
        let spec = core(py, || windows.element_spec())?;
        spec_to_py(py, &spec)
    }

    fn __iter__(&self, py: Python<'_>) -> PyResult<PyWindowIterator> {
        let windows = &self.inner;
        let it = core(py, || windows.iter().map(|it| Box::new(it) as WindowIter))?;
        Ok(PyWindowIterator {
            inner: Mutex::new(Some(it)),
        })
    }
}

#[pymethods]
impl PyWindowIterator {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<PyDataset>> {
        let mut guard = self.inner.lock().map_err(|_| {
            pyo3::exceptions::PyRuntimeError::new_err("a window iterator failed earlier")
        })?;
        let Some(it) = guard.as_mut() else {
            return Ok(None);
        };
        match py.detach(|| it.next()) {
            Some(Ok(inner)) => Ok(Some(PyDataset { inner })),
            Some(Err(e)) => {
                *guard = None;
                Err(to_py_err(py, e))
            }
            None => {
                *guard = None;
                Ok(None)
            }
        }
    }
}
