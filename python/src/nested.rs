//! Arguments nested like an element (`padded_shapes`, `padding_values`), flattened in the order
//! of the element's components.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use slicestream::Structure;

/// The leaves of `value`, read as nested like `structure` (a leaf of the structure takes the
/// value there whole, e.g. a shape list).
pub fn flatten_like<'py>(
    structure: &Structure,
    value: &Bound<'py, PyAny>,
    what: &str,
) -> PyResult<Vec<Bound<'py, PyAny>>> {
    let mut out = Vec::new();
    walk(structure, value, what, &mut out)?;
    Ok(out)
}

/// [`flatten_like`], where one value that is not a tuple, list or dict stands for every leaf
/// (TensorFlow broadcasts a single padding value to every component).
pub fn flatten_like_or_broadcast<'py>(
    structure: &Structure,
    value: &Bound<'py, PyAny>,
    what: &str,
) -> PyResult<Vec<Bound<'py, PyAny>>> {
    let nested = value.is_instance_of::<PyTuple>()
        || value.is_instance_of::<PyList>()
        || value.is_instance_of::<PyDict>();
    if nested || matches!(structure, Structure::Tensor) {
        return flatten_like(structure, value, what);
    }
    Ok(vec![value.clone(); structure.num_leaves()])
}

fn walk<'py>(
    structure: &Structure,
    value: &Bound<'py, PyAny>,
    what: &str,
    out: &mut Vec<Bound<'py, PyAny>>,
) -> PyResult<()> {
    match structure {
        Structure::Tensor => {
            out.push(value.clone());
            Ok(())
        }
        Structure::Tuple(items) => {
            let values: Vec<Bound<'py, PyAny>> = if let Ok(t) = value.cast::<PyTuple>() {
                t.iter().collect()
            } else if let Ok(l) = value.cast::<PyList>() {
                l.iter().collect()
            } else {
                return Err(PyTypeError::new_err(format!(
                    "{what} must be a tuple of {} items, like the element",
                    items.len()
                )));
            };
            if values.len() != items.len() {
                return Err(PyValueError::new_err(format!(
                    "{what} has {} items, the element's tuple {}",
                    values.len(),
                    items.len()
                )));
            }
            for (v, s) in values.iter().zip(items) {
                walk(s, v, what, out)?;
            }
            Ok(())
        }
        Structure::Dict(items) => {
            let dict = value.cast::<PyDict>().map_err(|_| {
                PyTypeError::new_err(format!("{what} must be a dict, like the element"))
            })?;
            for (key, s) in items {
                let v = dict
                    .get_item(key)?
                    .ok_or_else(|| PyValueError::new_err(format!("{what} has no key {key:?}")))?;
                walk(s, &v, what, out)?;
            }
            Ok(())
        }
    }
}
