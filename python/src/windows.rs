//! `Dataset.window(...)`: a dataset of windows, each a `Dataset`, for `flat_map`.

use std::sync::Mutex;

use pyo3::prelude::*;
use slicestream::transform::Windows;
use slicestream::{Dataset, ElementSpec, Result, Structure};

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

/// The element's top level: how a window is handed to the function.
#[derive(Clone)]
enum Items {
    One,
    Tuple(Vec<ElementSpec>),
    Dict(Vec<(String, ElementSpec)>),
}

/// A window split along the element's top level.
enum Parts {
    One(Dataset),
    Tuple(Vec<Dataset>),
    Dict(Vec<(String, Dataset)>),
}

fn top_level_specs(spec: &ElementSpec) -> Result<Items> {
    let sub = |s: Structure, range: std::ops::Range<usize>| {
        ElementSpec::new(s, spec.components()[range].to_vec())
    };
    Ok(match spec.structure() {
        Structure::Tensor => Items::One,
        Structure::Tuple(_) => Items::Tuple(
            spec.structure()
                .top_level()
                .into_iter()
                .map(|(_, s, r)| sub(s, r))
                .collect::<Result<_>>()?,
        ),
        Structure::Dict(_) => Items::Dict(
            spec.structure()
                .top_level()
                .into_iter()
                .map(|(k, s, r)| Ok((k, sub(s, r)?)))
                .collect::<Result<_>>()?,
        ),
    })
}

/// The window's datasets, one per top-level item (each a map that picks the item: no copy).
fn split(window: &Dataset, items: &Items) -> Result<Parts> {
    let pick = |i: usize, spec: &ElementSpec| {
        window.map_with_spec(spec.clone(), move |e| {
            e.unpack()
                .into_iter()
                .nth(i)
                .map(|(_, item)| item)
                .ok_or_else(|| {
                    slicestream::Error::not_found(format!("the window's element has no item {i}"))
                })
        })
    };
    Ok(match items {
        Items::One => Parts::One(window.clone()),
        Items::Tuple(specs) => {
            Parts::Tuple(specs.iter().enumerate().map(|(i, s)| pick(i, s)).collect())
        }
        Items::Dict(specs) => Parts::Dict(
            specs
                .iter()
                .enumerate()
                .map(|(i, (k, s))| (k.clone(), pick(i, s)))
                .collect(),
        ),
    })
}

/// An iterator over windows, each a `Dataset`.
#[pyclass(frozen, module = "slicestream", name = "WindowIterator")]
pub struct PyWindowIterator {
    inner: Mutex<Option<WindowIter>>,
}

#[pymethods]
impl PyWindows {
    /// Maps each window to a dataset and yields their elements in turn. As in tf.data, the
    /// function gets the window as the element's structure of datasets: one `Dataset` for a
    /// single-tensor element, one per item (positional) for a tuple, a dict of them for a dict.
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
        let spec = core(py, || windows.element_spec())?;
        let items = top_level_specs(&spec).map_err(|e| crate::errors::to_py_err(py, e))?;
        core(py, || {
            windows.flat_map(move |w: Dataset| {
                let parts = split(&w, &items)?;
                Python::attach(|py| -> PyResult<Dataset> {
                    let out = match parts {
                        Parts::One(d) => f.bind(py).call1((PyDataset::wrap(d),))?,
                        Parts::Tuple(ds) => {
                            let args: Vec<PyDataset> =
                                ds.into_iter().map(PyDataset::wrap).collect();
                            f.bind(py).call1(pyo3::types::PyTuple::new(py, args)?)?
                        }
                        Parts::Dict(ds) => {
                            let dict = pyo3::types::PyDict::new(py);
                            for (k, inner) in ds {
                                dict.set_item(k, PyDataset::wrap(inner))?;
                            }
                            f.bind(py).call1((dict,))?
                        }
                    };
                    Ok(out.cast::<PyDataset>()?.get().inner.clone())
                })
                .map_err(from_py_err)
            })
        })
        .map(PyDataset::calling_python)
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
            Some(Ok(inner)) => Ok(Some(PyDataset::wrap(inner))),
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
