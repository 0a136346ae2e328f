//! Elements and specs to and from nested Python values, as tf.data nests them: a tensor is an
//! array (or a NumPy scalar), a tuple stays a tuple, a dict stays a dict (in its key order).

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};
use slicestream::{DType, Element, ElementSpec, Structure, Tensor, TensorSpec};

use crate::errors::to_py_err;
use crate::numpy_io::{tensor_from_py, tensor_from_py_as, tensor_to_py};

/// How deep a nested Python value may be: deeper is an error, not a stack overflow.
const MAX_DEPTH: usize = 64;

/// What a Python `list` means where an element is read.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Lists {
    /// A tensor's values (`from_tensor_slices([1, 2, 3])`), as TensorFlow reads them.
    AreTensors,
    /// A tuple (a function's return value), as tf.data converts them.
    AreTuples,
}

/// An element from a nested Python value.
pub fn element_from_py(obj: &Bound<'_, PyAny>, lists: Lists) -> PyResult<Element> {
    let mut components = Vec::new();
    let structure = read(obj, lists, &mut components, 0)?;
    Element::new(structure, components).map_err(|e| to_py_err(obj.py(), e))
}

fn read(
    obj: &Bound<'_, PyAny>,
    lists: Lists,
    out: &mut Vec<Tensor>,
    depth: usize,
) -> PyResult<Structure> {
    if depth > MAX_DEPTH {
        return Err(PyValueError::new_err(format!(
            "the element nests deeper than {MAX_DEPTH} tuples and dicts"
        )));
    }
    if let Ok(tuple) = obj.cast::<PyTuple>() {
        let items = tuple
            .iter()
            .map(|item| read(&item, lists, out, depth + 1))
            .collect::<PyResult<_>>()?;
        return Ok(Structure::Tuple(items));
    }
    if lists == Lists::AreTuples {
        if let Ok(list) = obj.cast::<PyList>() {
            let items = list
                .iter()
                .map(|item| read(&item, lists, out, depth + 1))
                .collect::<PyResult<_>>()?;
            return Ok(Structure::Tuple(items));
        }
    }
    if let Ok(dict) = obj.cast::<PyDict>() {
        let mut items = Vec::with_capacity(dict.len());
        for (key, value) in dict.iter() {
            let key = key_name(&key)?;
            items.push((key, read(&value, lists, out, depth + 1)?));
        }
        return Ok(Structure::Dict(items));
    }
    out.push(tensor_from_py(obj)?);
    Ok(Structure::Tensor)
}

fn key_name(key: &Bound<'_, PyAny>) -> PyResult<String> {
    match key.cast::<PyString>() {
        Ok(s) => Ok(s.to_cow()?.into_owned()),
        Err(_) => Err(PyTypeError::new_err(format!(
            "dict keys of an element must be str, not {}",
            key.get_type().name()?
        ))),
    }
}

/// An element from what a generator yielded, its Python values converted to the signature's
/// dtypes (arrays are taken as they are and checked by the pipeline).
pub fn element_from_py_with_spec(obj: &Bound<'_, PyAny>, spec: &ElementSpec) -> PyResult<Element> {
    let mut components = Vec::with_capacity(spec.components().len());
    let dtypes: Vec<DType> = spec.components().iter().map(|s| s.dtype).collect();
    read_as(obj, spec.structure(), &dtypes, &mut components)?;
    Element::new(spec.structure().clone(), components).map_err(|e| to_py_err(obj.py(), e))
}

fn read_as(
    obj: &Bound<'_, PyAny>,
    structure: &Structure,
    dtypes: &[DType],
    out: &mut Vec<Tensor>,
) -> PyResult<()> {
    match structure {
        Structure::Tensor => {
            let dtype = dtypes.get(out.len()).copied();
            out.push(tensor_from_py_as(obj, dtype)?);
            Ok(())
        }
        Structure::Tuple(items) => {
            let values: Vec<Bound<'_, PyAny>> = if let Ok(t) = obj.cast::<PyTuple>() {
                t.iter().collect()
            } else if let Ok(l) = obj.cast::<PyList>() {
                l.iter().collect()
            } else {
                return Err(PyTypeError::new_err(format!(
                    "expected a tuple of {} items (the output_signature), got {}",
                    items.len(),
                    obj.get_type().name()?
                )));
            };
            if values.len() != items.len() {
                return Err(PyValueError::new_err(format!(
                    "expected a tuple of {} items (the output_signature), got {}",
                    items.len(),
                    values.len()
                )));
            }
            for (value, s) in values.iter().zip(items) {
                read_as(value, s, dtypes, out)?;
            }
            Ok(())
        }
        Structure::Dict(items) => {
            let dict = obj.cast::<PyDict>().map_err(|_| {
                PyTypeError::new_err("expected a dict (the output_signature)".to_string())
            })?;
            for (key, s) in items {
                let value = dict.get_item(key)?.ok_or_else(|| {
                    PyValueError::new_err(format!(
                        "the element has no key {key:?} (the output_signature)"
                    ))
                })?;
                read_as(&value, s, dtypes, out)?;
            }
            Ok(())
        }
    }
}

/// An element as nested Python values: tensors as NumPy, tuples as tuples, dicts as dicts.
pub fn element_to_py(py: Python<'_>, element: Element) -> PyResult<Bound<'_, PyAny>> {
    let (structure, tensors) = element.into_parts();
    write(py, &structure, &mut tensors.into_iter())
}

fn write<'py>(
    py: Python<'py>,
    structure: &Structure,
    tensors: &mut impl Iterator<Item = Tensor>,
) -> PyResult<Bound<'py, PyAny>> {
    match structure {
        Structure::Tensor => match tensors.next() {
            Some(t) => tensor_to_py(py, t),
            None => Err(PyValueError::new_err(
                "an element has fewer tensors than its structure",
            )),
        },
        Structure::Tuple(items) => {
            let values = items
                .iter()
                .map(|s| write(py, s, tensors))
                .collect::<PyResult<Vec<_>>>()?;
            Ok(PyTuple::new(py, values)?.into_any())
        }
        Structure::Dict(items) => {
            let dict = PyDict::new(py);
            for (key, s) in items {
                dict.set_item(key, write(py, s, tensors)?)?;
            }
            Ok(dict.into_any())
        }
    }
}

/// The arguments a function of the pipeline gets for an element, as tf.data unpacks them: a
/// tuple's items as positional arguments, a dict or a tensor as one argument.
pub fn element_to_args(py: Python<'_>, element: Element) -> PyResult<Bound<'_, PyTuple>> {
    let is_tuple = matches!(element.structure(), Structure::Tuple(_));
    let value = element_to_py(py, element)?;
    if is_tuple {
        Ok(value.cast_into::<PyTuple>()?)
    } else {
        PyTuple::new(py, [value])
    }
}

static TENSOR_SPEC: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// An element spec as nested `slicestream.TensorSpec`s.
pub fn spec_to_py<'py>(py: Python<'py>, spec: &ElementSpec) -> PyResult<Bound<'py, PyAny>> {
    let class = TENSOR_SPEC
        .get_or_try_init(py, || -> PyResult<Py<PyAny>> {
            Ok(py
                .import("slicestream.spec")?
                .getattr("TensorSpec")?
                .unbind())
        })?
        .bind(py);
    let mut specs = spec.components().iter();
    write_spec(py, class, spec.structure(), &mut specs)
}

fn write_spec<'py, 'a>(
    py: Python<'py>,
    class: &Bound<'py, PyAny>,
    structure: &Structure,
    specs: &mut impl Iterator<Item = &'a TensorSpec>,
) -> PyResult<Bound<'py, PyAny>> {
    match structure {
        Structure::Tensor => {
            let spec = specs.next().ok_or_else(|| {
                PyValueError::new_err("a spec has fewer tensors than its structure")
            })?;
            let shape = PyTuple::new(py, spec.shape.iter().copied())?;
            class.call1((shape, spec.dtype.name()))
        }
        Structure::Tuple(items) => {
            let values = items
                .iter()
                .map(|s| write_spec(py, class, s, specs))
                .collect::<PyResult<Vec<_>>>()?;
            Ok(PyTuple::new(py, values)?.into_any())
        }
        Structure::Dict(items) => {
            let dict = PyDict::new(py);
            for (key, s) in items {
                dict.set_item(key, write_spec(py, class, s, specs)?)?;
            }
            Ok(dict.into_any())
        }
    }
}

/// An element spec from nested spec objects (`slicestream.TensorSpec`, `tf.TensorSpec`, anything
/// with `shape` and `dtype`).
pub fn spec_from_py(obj: &Bound<'_, PyAny>) -> PyResult<ElementSpec> {
    let mut specs = Vec::new();
    let structure = read_spec(obj, &mut specs, 0)?;
    ElementSpec::new(structure, specs).map_err(|e| to_py_err(obj.py(), e))
}

fn read_spec(
    obj: &Bound<'_, PyAny>,
    out: &mut Vec<TensorSpec>,
    depth: usize,
) -> PyResult<Structure> {
    if depth > MAX_DEPTH {
        return Err(PyValueError::new_err(format!(
            "the signature nests deeper than {MAX_DEPTH} tuples and dicts"
        )));
    }
    if let Ok(tuple) = obj.cast::<PyTuple>() {
        let items = tuple
            .iter()
            .map(|i| read_spec(&i, out, depth + 1))
            .collect::<PyResult<_>>()?;
        return Ok(Structure::Tuple(items));
    }
    if let Ok(list) = obj.cast::<PyList>() {
        let items = list
            .iter()
            .map(|i| read_spec(&i, out, depth + 1))
            .collect::<PyResult<_>>()?;
        return Ok(Structure::Tuple(items));
    }
    if let Ok(dict) = obj.cast::<PyDict>() {
        let mut items = Vec::with_capacity(dict.len());
        for (key, value) in dict.iter() {
            items.push((key_name(&key)?, read_spec(&value, out, depth + 1)?));
        }
        return Ok(Structure::Dict(items));
    }
    if !(obj.hasattr("shape")? && obj.hasattr("dtype")?) {
        return Err(PyTypeError::new_err(format!(
            "a signature's leaves are TensorSpecs (with shape and dtype), not {}",
            obj.get_type().name()?
        )));
    }
    let dtype = dtype_from_py(&obj.getattr("dtype")?)?;
    let shape_obj = obj.getattr("shape")?;
    // tf.TensorShape of unknown rank iterates with an error; slicestream needs a rank.
    let shape: Vec<Option<usize>> = shape_obj
        .try_iter()?
        .map(|d| {
            let d = d?;
            if d.is_none() {
                Ok(None)
            } else {
                Ok(Some(d.extract::<usize>()?))
            }
        })
        .collect::<PyResult<_>>()?;
    out.push(TensorSpec::with_unknown(dtype, shape));
    Ok(Structure::Tensor)
}

/// A dtype from a name (`"int64"`, TensorFlow's or NumPy's), a NumPy dtype or type, or a
/// `tf.DType`.
pub fn dtype_from_py(obj: &Bound<'_, PyAny>) -> PyResult<DType> {
    let name: String = if let Ok(s) = obj.cast::<PyString>() {
        s.to_cow()?.into_owned()
    } else if obj.hasattr("as_numpy_dtype")? {
        // tf.DType: its name is TensorFlow's (`string`, `int64`, …).
        obj.getattr("name")?.extract()?
    } else {
        let np = crate::numpy_io::numpy(obj.py())?;
        let descr = np.call_method1("dtype", (obj,))?;
        match descr.getattr("kind")?.extract::<String>()?.as_str() {
            "U" => "string".to_string(),
            "S" | "O" => "bytes".to_string(),
            _ => descr.getattr("name")?.extract()?,
        }
    };
    let name = match name.as_str() {
        "str" => "string",
        "bytes_" | "object" => "bytes",
        other => other,
    };
    name.parse::<DType>().map_err(|e| to_py_err(obj.py(), e))
}
