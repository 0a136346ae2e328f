//! `slicestream._slicestream`: the Rust half of the `slicestream` Python package (the Python half
//! is `python/slicestream`). tf.data's `Dataset` over the slicestream engine: NumPy in and out
//! without a copy, Python functions in the pipeline, Arrow through the PyCapsule interface.
//!
//! Layout: `numpy_io` (tensors ⇄ arrays), `structure` (elements and specs ⇄ nested Python
//! values), `errors`, `functions` (Python callables as pipeline functions), `dataset` (the
//! methods), `sources` (files), `iter`, `windows`, `options`, `arrow_export`, `nested`.

use pyo3::prelude::*;

mod arrow_export;
mod dataset;
mod errors;
mod functions;
mod grouping;
mod iter;
mod mixing;
mod nested;
mod numpy_io;
mod options;
mod persistence;
mod sources;
mod state_ops;
mod structure;
mod windows;

// As in the CLI: with glibc's allocator every freed large batch goes back to the kernel and its
// pages fault in again for the next one.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[pymodule]
fn _slicestream(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<dataset::PyDataset>()?;
    m.add_class::<iter::PyIterator>()?;
    m.add_class::<windows::PyWindows>()?;
    m.add_class::<windows::PyWindowIterator>()?;
    m.add_class::<options::PyOptions>()?;
    m.add_class::<arrow_export::ArrowBatch>()?;
    m.add_class::<arrow_export::ArrowBatchIterator>()?;
    m.add_class::<numpy_io::BufferOwner>()?;
    m.add_function(pyo3::wrap_pyfunction!(iter::_shutdown, m)?)?;
    m.add("AUTOTUNE", dataset::AUTOTUNE)?;
    m.add("INFINITE_CARDINALITY", -1i64)?;
    m.add("UNKNOWN_CARDINALITY", -2i64)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
