//! Python callables as the pipeline's functions. Each call attaches to the interpreter only for
//! the call itself (the pipeline's threads run without the GIL otherwise); an exception the
//! callable raises travels through the pipeline as a [`slicestream::Error`] and comes out in
//! Python as itself (see `errors`).

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyTuple;
use slicestream::{Dataset, Element, ElementSpec, Result};

use crate::dataset::PyDataset;
use crate::errors::from_py_err;
use crate::structure::{element_from_py, element_from_py_with_spec, element_to_args, Lists};

/// A Python callable shared by the pipeline's threads.
#[derive(Clone)]
pub struct PyFunction(Arc<Py<PyAny>>);

impl PyFunction {
    /// Wraps a callable.
    pub fn new(f: Bound<'_, PyAny>) -> PyResult<Self> {
        if !f.is_callable() {
            return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                "expected a callable, got {}",
                f.get_type().name()?
            )));
        }
        Ok(PyFunction(Arc::new(f.unbind())))
    }

    fn call<T>(
        &self,
        element: Element,
        then: impl FnOnce(&Bound<'_, PyAny>) -> PyResult<T>,
    ) -> Result<T> {
        Python::attach(|py| {
            let args: Bound<'_, PyTuple> = element_to_args(py, element)?;
            let out = self.0.bind(py).call1(args)?;
            then(&out)
        })
        .map_err(from_py_err)
    }

    /// As a `map` function: the result is the new element (lists read as tuples).
    pub fn into_map_fn(self) -> impl Fn(Element) -> Result<Element> + Send + Sync + 'static {
        move |e| self.call(e, |out| element_from_py(out, Lists::AreTuples))
    }

    /// As a predicate (`filter`, `take_while`): the result's truth value (a scalar).
    pub fn into_predicate(self) -> impl Fn(&Element) -> Result<bool> + Send + Sync + 'static {
        move |e| self.call(e.clone(), |out| out.is_truthy())
    }

    /// As a function of (state, element), called as `f(state, element)` (`reduce`): the result is
    /// the new state (lists read as tuples).
    pub fn into_state_fn(
        self,
    ) -> impl Fn(Element, Element) -> Result<Element> + Send + Sync + 'static {
        move |s, x| {
            self.call(Element::tuple_of(vec![s, x]), |out| {
                element_from_py(out, Lists::AreTuples)
            })
        }
    }

    /// As a `scan` function: `f(state, element)` returns `(new_state, output)`.
    pub fn into_scan_fn(
        self,
    ) -> impl Fn(Element, Element) -> Result<(Element, Element)> + Send + Sync + 'static {
        move |s, x| {
            self.call(Element::tuple_of(vec![s, x]), |out| {
                let pair = out
                    .cast::<PyTuple>()
                    .ok()
                    .filter(|t| t.len() == 2)
                    .ok_or_else(|| {
                        pyo3::exceptions::PyTypeError::new_err(
                            "the scan function must return a tuple (new_state, output)",
                        )
                    })?;
                Ok((
                    element_from_py(&pair.get_item(0)?, Lists::AreTuples)?,
                    element_from_py(&pair.get_item(1)?, Lists::AreTuples)?,
                ))
            })
        }
    }

    /// As a function from an element to an integer (a key or a length): an `int`, a NumPy integer
    /// or a 0-d integer array.
    pub fn into_int_fn(
        self,
        what: &'static str,
    ) -> impl Fn(&Element) -> Result<i64> + Send + Sync + 'static {
        move |e| self.call(e.clone(), |out| int_of(out, what))
    }

    /// As `group_by_window`'s `reduce_func(key, window)`: the window comes in as a
    /// `slicestream.Dataset`, a `slicestream.Dataset` must come out.
    pub fn into_reduce_fn(
        self,
    ) -> impl Fn(i64, Dataset) -> Result<Dataset> + Send + Sync + 'static {
        move |key, window| {
            Python::attach(|py| {
                let window = Py::new(py, PyDataset::wrap(window))?;
                let out = self.0.bind(py).call1((key, window))?;
                dataset_of(&out)
            })
            .map_err(from_py_err)
        }
    }

    /// As `group_by_window`'s `window_size_func(key)`.
    pub fn into_window_size_fn(self) -> impl Fn(i64) -> Result<i64> + Send + Sync + 'static {
        move |key| {
            Python::attach(|py| int_of(&self.0.bind(py).call1((key,))?, "window_size_func"))
                .map_err(from_py_err)
        }
    }

    /// As a function from an element to a dataset (`flat_map`, `interleave`).
    pub fn into_dataset_fn(self) -> impl Fn(Element) -> Result<Dataset> + Send + Sync + 'static {
        move |e| self.call(e, dataset_of)
    }
}

/// The core dataset of a function's result, which must be a `slicestream.Dataset`.
fn dataset_of(out: &Bound<'_, PyAny>) -> PyResult<Dataset> {
    let ds = out.cast::<PyDataset>().map_err(|_| {
        pyo3::exceptions::PyTypeError::new_err(format!(
            "the function must return a slicestream.Dataset, not {}",
            out.get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default()
        ))
    })?;
    Ok(ds.get().inner.clone())
}

/// A function's result as an integer: an `int`, a NumPy integer or a 0-d integer array (not a
/// float or bool).
fn int_of(out: &Bound<'_, PyAny>, what: &str) -> PyResult<i64> {
    let is_bool = out.is_instance_of::<pyo3::types::PyBool>()
        || out
            .getattr("dtype")
            .and_then(|d| d.getattr("kind"))
            .and_then(|k| k.extract::<String>())
            .is_ok_and(|k| k != "i" && k != "u");
    if is_bool {
        return Err(crate::grouping::not_an_integer(what, out));
    }
    out.call_method0("__index__")
        .and_then(|i| i.extract::<i64>())
        .map_err(|_| crate::grouping::not_an_integer(what, out))
}

/// A Python generator, read one item per call with the interpreter attached only for that read.
pub struct PyGeneratorIter {
    iterator: Option<Py<PyAny>>,
    error: Option<PyErr>,
    spec: ElementSpec,
}

impl PyGeneratorIter {
    /// Calls `generator` (made anew each epoch, as tf.data does) and iterates what it returns; an
    /// exception from the call is the first item.
    pub fn start(generator: &Py<PyAny>, spec: ElementSpec) -> Self {
        let started = Python::attach(|py| -> PyResult<Py<PyAny>> {
            Ok(generator.bind(py).call0()?.try_iter()?.into_any().unbind())
        });
        let (iterator, error) = match started {
            Ok(it) => (Some(it), None),
            Err(err) => (None, Some(err)),
        };
        PyGeneratorIter {
            iterator,
            error,
            spec,
        }
    }
}

impl Iterator for PyGeneratorIter {
    type Item = Result<Element>;

    fn next(&mut self) -> Option<Result<Element>> {
        if let Some(err) = self.error.take() {
            return Some(Err(from_py_err(err)));
        }
        let iterator = self.iterator.as_ref()?;
        let read = Python::attach(|py| -> PyResult<Option<Element>> {
            match iterator.bind(py).try_iter()?.next() {
                None => Ok(None),
                Some(item) => Ok(Some(element_from_py_with_spec(&item?, &self.spec)?)),
            }
        });
        match read {
            Ok(Some(e)) => Some(Ok(e)),
            Ok(None) => {
                self.iterator = None;
                None
            }
            Err(err) => {
                self.iterator = None;
                Some(Err(from_py_err(err)))
            }
        }
    }
}
