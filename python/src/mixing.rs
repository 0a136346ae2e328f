//! `Dataset.choose_from_datasets` and `Dataset.sample_from_datasets`: several datasets mixed by
//! a dataset of indices or at random by weight.

use pyo3::prelude::*;
use slicestream::Dataset;

use crate::dataset::{core, PyDataset};

/// The core datasets of a Python list of `slicestream.Dataset`s, and whether any calls Python.
fn inner_datasets(datasets: &Bound<'_, PyAny>) -> PyResult<(Vec<Dataset>, bool)> {
    let mut out = Vec::new();
    let mut calls_python = false;
    for d in datasets.try_iter()? {
        let d = d?;
        let d = d.cast::<PyDataset>().map_err(|_| {
            pyo3::exceptions::PyTypeError::new_err(
                "`datasets` must be a list of slicestream.Dataset",
            )
        })?;
        calls_python |= d.get().calls_python;
        out.push(d.get().inner.clone());
    }
    Ok((out, calls_python))
}

fn wrap(inner: Dataset, calls_python: bool) -> PyDataset {
    if calls_python {
        PyDataset::calling_python(inner)
    } else {
        PyDataset::wrap(inner)
    }
}

#[pymethods]
impl PyDataset {
    /// Element `k` from `datasets[choice_k]`, `choice_dataset` giving scalar int64 indices; with
    /// `stop_on_empty_dataset` (the default) the result ends when a chosen dataset has ended.
    #[staticmethod]
    #[pyo3(signature = (datasets, choice_dataset, stop_on_empty_dataset=true))]
    fn choose_from_datasets(
        py: Python<'_>,
        datasets: &Bound<'_, PyAny>,
        choice_dataset: PyRef<'_, PyDataset>,
        stop_on_empty_dataset: bool,
    ) -> PyResult<Self> {
        let (inputs, calls) = inner_datasets(datasets)?;
        let calls = calls || choice_dataset.calls_python;
        let choice = choice_dataset.inner.clone();
        core(py, || {
            Dataset::choose_from_datasets(&inputs, &choice, stop_on_empty_dataset)
        })
        .map(|d| wrap(d, calls))
    }

    /// Elements drawn at random from `datasets`, each with probability `weights[i]` over their sum
    /// (uniform without weights), from one stream seeded by `seed`.
    #[staticmethod]
    #[pyo3(signature = (datasets, weights=None, seed=None, stop_on_empty_dataset=false, rerandomize_each_iteration=None))]
    fn sample_from_datasets(
        py: Python<'_>,
        datasets: &Bound<'_, PyAny>,
        weights: Option<Vec<f64>>,
        seed: Option<u64>,
        stop_on_empty_dataset: bool,
        rerandomize_each_iteration: Option<bool>,
    ) -> PyResult<Self> {
        let (inputs, calls) = inner_datasets(datasets)?;
        // TensorFlow: None means each epoch draws anew unless a seed fixes the order.
        let rerandomize = rerandomize_each_iteration.unwrap_or(true);
        core(py, || {
            Dataset::sample_from_datasets(
                &inputs,
                weights.as_deref(),
                seed,
                stop_on_empty_dataset,
                rerandomize,
            )
        })
        .map(|d| wrap(d, calls))
    }
}
