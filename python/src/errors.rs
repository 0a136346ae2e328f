//! slicestream errors as Python exceptions of the `slicestream.errors` hierarchy, and Python
//! exceptions raised in user functions carried through the pipeline unchanged.
//!
//! Every [`slicestream::Error`] becomes an instance of the class for its kind (each subclasses
//! `slicestream.Error` and the matching built-in: `ValueError`, `TypeError`, `OSError`, …), with the
//! message and the position as attributes (`stage`, `element`, `component`, `file`, `record`,
//! `offset`). An exception a user function raised comes back as itself (its own type and
//! traceback), with a note saying where in the pipeline it happened.

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use slicestream::{Error, ErrorKind};

static ERRORS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

fn errors_module(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    ERRORS
        .get_or_try_init(py, || Ok(py.import("slicestream.errors")?.unbind()))
        .map(|m| m.bind(py))
}

/// The name of the `slicestream.errors` class for a kind.
fn class_name(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidArgument(_) => "InvalidArgumentError",
        ErrorKind::Incompatible(_) => "IncompatibleError",
        ErrorKind::ShapeMismatch { .. } => "ShapeMismatchError",
        ErrorKind::DTypeMismatch { .. } => "DTypeMismatchError",
        ErrorKind::StructureMismatch { .. } => "StructureMismatchError",
        ErrorKind::NotFound(_) => "NotFoundError",
        ErrorKind::Panic(_) => "PanicError",
        ErrorKind::User => "UserFunctionError",
        ErrorKind::Format(_) => "FormatError",
        ErrorKind::Io => "IoError",
        ErrorKind::ExceedsMemoryBudget { .. } => "MemoryBudgetError",
        ErrorKind::TooLarge { .. } => "TooLargeError",
        ErrorKind::Cancelled => "CancelledError",
        _ => "PipelineError",
    }
}

/// The Python exception for a slicestream error.
pub fn to_py_err(py: Python<'_>, error: Error) -> PyErr {
    if let Some(original) = python_source(&error) {
        let original = original.clone_ref(py);
        let position = error.position().to_string();
        if !position.is_empty() {
            // PEP 678 notes (3.11+); older interpreters show the exception alone.
            let value = original.value(py);
            if value.hasattr("add_note").unwrap_or(false) {
                let _ = value
                    .call_method1("add_note", (format!("raised in slicestream ({position})"),));
            }
        }
        return original;
    }
    match build(py, &error) {
        Ok(err) => err,
        Err(failed) => {
            let fallback = PyRuntimeError::new_err(error.chain());
            fallback.set_cause(py, Some(failed));
            fallback
        }
    }
}

/// The Python exception a user function raised, if this error carries one.
fn python_source(error: &Error) -> Option<&PyErr> {
    let mut source = std::error::Error::source(error);
    while let Some(s) = source {
        if let Some(py_err) = s.downcast_ref::<PyErr>() {
            return Some(py_err);
        }
        source = s.source();
    }
    None
}

fn build(py: Python<'_>, error: &Error) -> PyResult<PyErr> {
    let name = match error.kind() {
        ErrorKind::NotFound(_) if has_io_source(error) => "MissingFileError",
        kind => class_name(kind),
    };
    let class = errors_module(py)?.getattr(name)?;
    let instance = class.call1((error.chain(),))?;
    let position = error.position();
    instance.setattr("message", error.message())?;
    instance.setattr("stage", position.stage.clone())?;
    instance.setattr("element", position.element)?;
    instance.setattr("component", position.component.clone())?;
    instance.setattr(
        "file",
        position.file.as_ref().map(|p| p.display().to_string()),
    )?;
    instance.setattr("record", position.record)?;
    instance.setattr("offset", position.byte_offset)?;
    Ok(PyErr::from_value(instance))
}

/// Whether an I/O error is among the error's sources (a file that is not there).
fn has_io_source(error: &Error) -> bool {
    let mut source = std::error::Error::source(error);
    while let Some(s) = source {
        if s.is::<std::io::Error>() {
            return true;
        }
        source = s.source();
    }
    false
}

/// A Python exception as a slicestream error (raised again as itself when it reaches Python).
pub fn from_py_err(error: PyErr) -> Error {
    Error::user(error)
}
