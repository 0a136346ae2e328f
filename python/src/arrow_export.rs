//! Batches and whole datasets through the Arrow PyCapsule interface, written over `arrow::ffi`
//! by hand: arrow 60's own Python bridge (`arrow-pyarrow`) is built on pyo3 0.29, and one extension
//! cannot link two pyo3 versions (see INTEROP.md). The capsules hold the C structs themselves;
//! a consumer moves them out and marks them released, an unconsumed one is released when the
//! capsule is freed (the structs' `Drop`).

use std::ffi::CStr;

use arrow::array::{Array, RecordBatch, RecordBatchReader, StructArray};
use arrow::datatypes::SchemaRef;
use arrow::error::ArrowError;
use arrow::ffi::{to_ffi, FFI_ArrowSchema};
use arrow::ffi_stream::FFI_ArrowArrayStream;
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyTuple};
use slicestream::frames::{FrameOptions, RecordBatchConverter};
use slicestream::{Dataset, DatasetIter, ElementSpec};

use crate::dataset::core;
use crate::errors::to_py_err;
use crate::iter::{next_element, register, Slot};

fn capsule<'py, T: Send + 'static>(
    py: Python<'py>,
    value: T,
    name: &'static CStr,
) -> PyResult<Bound<'py, PyAny>> {
    Ok(PyCapsule::new_with_value(py, value, name)?.into_any())
}

fn arrow_err(py: Python<'_>, e: ArrowError) -> PyErr {
    to_py_err(py, slicestream::Error::format(e.to_string()))
}

/// The converter for a dataset whose elements are batches: rows have the unbatched spec.
fn converter(py: Python<'_>, dataset: &Dataset) -> PyResult<RecordBatchConverter> {
    core(py, || {
        let spec: ElementSpec = dataset.element_spec()?;
        let rows = spec.map_components(|s| s.unbatched())?;
        RecordBatchConverter::new(&rows, &FrameOptions::default())
    })
}

/// One batch as an Arrow record batch over the batch's own buffers.
#[pyclass(frozen, module = "slicestream", name = "ArrowBatch")]
pub struct ArrowBatch {
    batch: RecordBatch,
}

#[pymethods]
impl ArrowBatch {
    /// The Arrow C Data Interface capsules (`arrow_schema`, `arrow_array`) of the batch as a
    /// struct array: `pyarrow.record_batch(b)`.
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_array__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let _ = requested_schema;
        let data = StructArray::from(self.batch.clone()).into_data();
        let (array, schema) = to_ffi(&data).map_err(|e| arrow_err(py, e))?;
        PyTuple::new(
            py,
            [
                capsule(py, schema, c"arrow_schema")?,
                capsule(py, array, c"arrow_array")?,
            ],
        )
    }

    /// The schema's capsule (`arrow_schema`).
    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let schema = FFI_ArrowSchema::try_from(self.batch.schema().as_ref())
            .map_err(|e| arrow_err(py, e))?;
        capsule(py, schema, c"arrow_schema")
    }

    /// A one-batch stream (`arrow_array_stream`): `polars.DataFrame(b)`, `pyarrow.table(b)`.
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let _ = requested_schema;
        let schema = self.batch.schema();
        let batches = vec![Ok(self.batch.clone())];
        let reader = arrow::record_batch::RecordBatchIterator::new(batches, schema);
        capsule(
            py,
            FFI_ArrowArrayStream::new(Box::new(reader)),
            c"arrow_array_stream",
        )
    }

    /// The number of rows.
    #[getter]
    fn num_rows(&self) -> usize {
        self.batch.num_rows()
    }

    /// The column names (component paths).
    #[getter]
    fn column_names(&self) -> Vec<String> {
        self.batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    }

    fn __len__(&self) -> usize {
        self.batch.num_rows()
    }

    fn __repr__(&self) -> String {
        format!(
            "<slicestream.ArrowBatch rows={} columns={:?}>",
            self.batch.num_rows(),
            self.column_names()
        )
    }
}

/// An epoch of batches as [`ArrowBatch`]es.
#[pyclass(frozen, module = "slicestream", name = "ArrowBatchIterator")]
pub struct ArrowBatchIterator {
    inner: Slot,
    converter: RecordBatchConverter,
}

impl ArrowBatchIterator {
    /// A new epoch of `dataset`, whose elements must be batches.
    pub fn new(py: Python<'_>, dataset: &Dataset) -> PyResult<Self> {
        let converter = converter(py, dataset)?;
        Ok(ArrowBatchIterator {
            inner: register(py.detach(|| dataset.iter())),
            converter,
        })
    }
}

#[pymethods]
impl ArrowBatchIterator {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<ArrowBatch>> {
        match next_element(py, &self.inner, false)? {
            None => Ok(None),
            Some(element) => {
                let batch = self
                    .converter
                    .convert(&element)
                    .map_err(|e| to_py_err(py, e))?;
                Ok(Some(ArrowBatch { batch }))
            }
        }
    }
}

impl Drop for ArrowBatchIterator {
    fn drop(&mut self) {
        let taken = self.inner.lock().ok().and_then(|mut slot| slot.take());
        if taken.is_some() {
            Python::attach(|py| py.detach(move || drop(taken)));
        }
    }
}

/// A dataset's epoch as an Arrow `RecordBatchReader` for the C stream interface.
struct DatasetReader {
    iter: Option<DatasetIter>,
    converter: RecordBatchConverter,
}

impl Iterator for DatasetReader {
    type Item = Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        let iter = self.iter.as_mut()?;
        // The consumer may hold the GIL (or not): release it while the pipeline runs, so Python
        // functions of the pipeline can run on its threads.
        let next = Python::attach(|py| py.detach(|| iter.next()));
        match next {
            None => {
                self.iter = None;
                None
            }
            Some(Err(e)) => {
                self.iter = None;
                Some(Err(ArrowError::ExternalError(e.chain().into())))
            }
            Some(Ok(element)) => Some(
                self.converter
                    .convert(&element)
                    .map_err(|e| ArrowError::ExternalError(e.chain().into())),
            ),
        }
    }
}

impl Drop for DatasetReader {
    fn drop(&mut self) {
        if let Some(iter) = self.iter.take() {
            Python::attach(|py| py.detach(move || drop(iter)));
        }
    }
}

impl RecordBatchReader for DatasetReader {
    fn schema(&self) -> SchemaRef {
        self.converter.schema().clone()
    }
}

/// A new epoch of `dataset` (of batches) as an `arrow_array_stream` capsule.
pub fn stream_capsule<'py>(py: Python<'py>, dataset: &Dataset) -> PyResult<Bound<'py, PyAny>> {
    let converter = converter(py, dataset)?;
    let reader = DatasetReader {
        iter: Some(py.detach(|| dataset.iter())),
        converter,
    };
    capsule(
        py,
        FFI_ArrowArrayStream::new(Box::new(reader)),
        c"arrow_array_stream",
    )
}
