//! The stateful methods of `Dataset` (tf.data's `unique`, `scan`, `reduce`, `get_single_element`)
//! and the `counter` source.

use pyo3::prelude::*;
use slicestream::Dataset;

use crate::dataset::{core, PyDataset};
use crate::functions::PyFunction;
use crate::structure::{dtype_from_py, element_from_py, element_to_py, Lists};

#[pymethods]
impl PyDataset {
    /// Each distinct element once, in the order first seen; elements must be one `int32`,
    /// `int64` or `string` tensor.
    #[pyo3(signature = (name=None))]
    fn unique(&self, py: Python<'_>, name: Option<&str>) -> PyResult<Self> {
        let _ = name;
        self.derive(py, |d| d.unique())
    }

    /// A map with a running state: `scan_func(state, element)` returns `(new_state, output)`; the
    /// state starts as `initial_state` and keeps its dtypes and shapes.
    #[pyo3(signature = (initial_state, scan_func, name=None))]
    fn scan(
        &self,
        py: Python<'_>,
        initial_state: &Bound<'_, PyAny>,
        scan_func: Bound<'_, PyAny>,
        name: Option<&str>,
    ) -> PyResult<Self> {
        let _ = name;
        let initial = element_from_py(initial_state, Lists::AreTensors)?;
        let f = PyFunction::new(scan_func)?.into_scan_fn();
        let inner = &self.inner;
        core(py, || inner.scan(initial, f)).map(PyDataset::calling_python)
    }

    /// Folds the dataset into one value: `reduce_func(state, element)` is the new state, starting
    /// from `initial_state`. Returns the final state (NumPy arrays).
    #[pyo3(signature = (initial_state, reduce_func, name=None))]
    fn reduce<'py>(
        &self,
        py: Python<'py>,
        initial_state: &Bound<'py, PyAny>,
        reduce_func: Bound<'py, PyAny>,
        name: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let _ = name;
        let initial = element_from_py(initial_state, Lists::AreTensors)?;
        let f = PyFunction::new(reduce_func)?.into_state_fn();
        let inner = &self.inner;
        let state = core(py, || inner.reduce(initial, f))?;
        element_to_py(py, state)
    }

    /// The one element of a dataset that has exactly one (an error otherwise).
    #[pyo3(signature = (name=None))]
    fn get_single_element<'py>(
        &self,
        py: Python<'py>,
        name: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let _ = name;
        let inner = &self.inner;
        let element = core(py, || inner.get_single_element())?;
        element_to_py(py, element)
    }

    /// `start, start + step, …` without end, as `dtype` (int64 by default).
    #[staticmethod]
    #[pyo3(signature = (start=0, step=1, dtype=None, name=None))]
    fn counter(
        py: Python<'_>,
        start: i64,
        step: i64,
        dtype: Option<&Bound<'_, PyAny>>,
        name: Option<&str>,
    ) -> PyResult<Self> {
        let _ = name;
        let dtype = match dtype {
            Some(d) => dtype_from_py(d)?,
            None => slicestream::DType::I64,
        };
        core(py, || Dataset::counter(start, step, dtype)).map(PyDataset::wrap)
    }
}
