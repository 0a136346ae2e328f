//! Tensors to and from NumPy arrays, without a copy wherever the memory allows.
//!
//! In: a C-contiguous, aligned, native-endian array of a fixed-width dtype becomes a tensor over the
//! array's own memory (an Arrow buffer whose owner keeps the array alive); any other array is copied
//! once. Python values that are not arrays follow TensorFlow's conversion (`int` → int32 where it
//! fits, `float` → float32, `str` → string). Out: a fixed-width tensor becomes an array over the
//! tensor's buffer, whose base object owns that buffer; it is writeable only when no one else shares
//! the buffer (a fresh batch), read-only when it is a view of a source (e.g. the caller's array).
//! Strings and bytes come out as `bytes` objects (in an object array when not scalar).

use std::ffi::c_void;
use std::panic::AssertUnwindSafe;
use std::ptr::NonNull;
use std::sync::Arc;

use arrow::buffer::Buffer;
use numpy::npyffi::{
    npy_intp, NpyTypes, PyArrayObject, NPY_ARRAY_ALIGNED, NPY_ARRAY_C_CONTIGUOUS,
    NPY_ARRAY_WRITEABLE, PY_ARRAY_API,
};
use numpy::{PyArrayDescr, PyArrayDescrMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyList, PyString, PyTuple};
use slicestream::{DType, Tensor};

use crate::errors::to_py_err;

/// Keeps a NumPy array alive while a tensor's buffer points into its memory.
struct ArrayOwner(#[allow(dead_code)] AssertUnwindSafe<Py<PyAny>>);

/// The base object of an array over a tensor's buffer: the array keeps the buffer alive.
#[pyclass(frozen, module = "slicestream")]
pub struct BufferOwner {
    #[allow(dead_code)]
    buffer: Buffer,
}

static NUMPY: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

/// The `numpy` module, imported once.
pub fn numpy(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    NUMPY
        .get_or_try_init(py, || Ok(py.import("numpy")?.unbind()))
        .map(|m| m.bind(py))
}

/// The NumPy dtype that holds `dtype` (`object` for strings and bytes).
pub fn numpy_descr(py: Python<'_>, dtype: DType) -> PyResult<Bound<'_, PyArrayDescr>> {
    Ok(match dtype {
        DType::Bool => numpy::dtype::<bool>(py),
        DType::U8 => numpy::dtype::<u8>(py),
        DType::U16 => numpy::dtype::<u16>(py),
        DType::U32 => numpy::dtype::<u32>(py),
        DType::U64 => numpy::dtype::<u64>(py),
        DType::I8 => numpy::dtype::<i8>(py),
        DType::I16 => numpy::dtype::<i16>(py),
        DType::I32 => numpy::dtype::<i32>(py),
        DType::I64 => numpy::dtype::<i64>(py),
        DType::F16 => numpy::dtype::<half::f16>(py),
        DType::F32 => numpy::dtype::<f32>(py),
        DType::F64 => numpy::dtype::<f64>(py),
        DType::String | DType::Bytes => PyArrayDescr::object(py),
        DType::BF16 => {
            return Err(PyTypeError::new_err(
                "bfloat16 has no NumPy dtype: cast it in a map (e.g. to float32) before it reaches Python",
            ))
        }
    })
}

/// The fixed-width dtype of a NumPy dtype, if slicestream has it.
fn dtype_of(descr: &Bound<'_, PyArrayDescr>) -> Option<DType> {
    let size = descr.itemsize();
    Some(match (descr.kind(), size) {
        (b'b', 1) => DType::Bool,
        (b'u', 1) => DType::U8,
        (b'u', 2) => DType::U16,
        (b'u', 4) => DType::U32,
        (b'u', 8) => DType::U64,
        (b'i', 1) => DType::I8,
        (b'i', 2) => DType::I16,
        (b'i', 4) => DType::I32,
        (b'i', 8) => DType::I64,
        (b'f', 2) => DType::F16,
        (b'f', 4) => DType::F32,
        (b'f', 8) => DType::F64,
        _ => return None,
    })
}

/// The NumPy dtype name of a slicestream dtype for `np.asarray(value, dtype=...)`.
pub fn numpy_dtype_name(dtype: DType) -> &'static str {
    match dtype {
        DType::String | DType::Bytes => "object",
        DType::BF16 => "float32",
        other => other.name(),
    }
}

/// A tensor from any Python value: an array, a NumPy scalar, anything with `__array__`, or Python
/// numbers, strings and (nested) lists, converted as TensorFlow converts them.
pub fn tensor_from_py(obj: &Bound<'_, PyAny>) -> PyResult<Tensor> {
    tensor_from_py_as(obj, None)
}

/// [`tensor_from_py`], with Python values (not arrays) converted to `dtype` when given (as
/// `from_generator` converts what the generator yields to its signature).
pub fn tensor_from_py_as(obj: &Bound<'_, PyAny>, dtype: Option<DType>) -> PyResult<Tensor> {
    let py = obj.py();
    if let Ok(array) = obj.cast::<PyUntypedArray>() {
        return tensor_from_array(array);
    }
    let np = numpy(py)?;
    if obj.is_instance(&np.getattr("generic")?)? || obj.hasattr("__array__")? {
        let array = np.call_method1("asarray", (obj,))?;
        return tensor_from_array(array.cast::<PyUntypedArray>()?);
    }
    if let Some(dtype) = dtype {
        if !dtype.is_variable_width() {
            let array = np.call_method1("asarray", (obj, numpy_dtype_name(dtype)))?;
            return tensor_from_array(array.cast::<PyUntypedArray>()?);
        }
    }
    if obj.is_instance_of::<PyString>() || obj.is_instance_of::<PyBytes>() {
        return strings_tensor(std::slice::from_ref(obj), Vec::new());
    }
    let array = np.call_method1("asarray", (obj,))?;
    let array = array.cast::<PyUntypedArray>()?;
    if matches!(array.dtype().kind(), b'U' | b'S') && has_non_string(obj, 0)? {
        // NumPy turns [1, "a"] into strings; TensorFlow refuses, and so do we.
        return Err(PyTypeError::new_err(
            "Can't convert Python sequence with mixed types to Tensor.",
        ));
    }
    // TensorFlow's rules for Python values: int → int32 unless a value needs int64; float → float32.
    let kind = array.dtype().kind();
    let converted = match kind {
        b'i' if fits_int32(np, array)? => Some("int32"),
        b'f' => Some("float32"),
        _ => None,
    };
    match converted {
        Some(name) => {
            let cast = array.call_method1("astype", (name,))?;
            tensor_from_array(cast.cast::<PyUntypedArray>()?)
        }
        None => tensor_from_array(array),
    }
}

/// Whether a nested Python list has a leaf that is not `str` or `bytes`.
fn has_non_string(obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<bool> {
    if obj.is_instance_of::<PyString>() || obj.is_instance_of::<PyBytes>() {
        return Ok(false);
    }
    if depth < 64 && (obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>()) {
        for item in obj.try_iter()? {
            if has_non_string(&item?, depth + 1)? {
                return Ok(true);
            }
        }
        return Ok(false);
    }
    Ok(true)
}

fn fits_int32(np: &Bound<'_, PyModule>, array: &Bound<'_, PyUntypedArray>) -> PyResult<bool> {
    if array.len() == 0 && array.ndim() > 0 {
        return Ok(true);
    }
    let min: i64 = np.call_method1("min", (array,))?.extract()?;
    let max: i64 = np.call_method1("max", (array,))?.extract()?;
    Ok(min >= i32::MIN as i64 && max <= i32::MAX as i64)
}

/// A tensor from a NumPy array: over its memory when it is C-contiguous, aligned and native-endian,
/// else from one copy.
pub fn tensor_from_array(array: &Bound<'_, PyUntypedArray>) -> PyResult<Tensor> {
    let py = array.py();
    let descr = array.dtype();
    let shape = array.shape().to_vec();
    let Some(dtype) = dtype_of(&descr) else {
        return match descr.kind() {
            b'U' | b'S' | b'O' => {
                let flat = array.call_method0("ravel")?.call_method0("tolist")?;
                let items: Vec<Bound<'_, PyAny>> = flat.cast::<PyList>()?.iter().collect();
                strings_tensor(&items, shape)
            }
            _ => Err(PyTypeError::new_err(format!(
                "NumPy dtype {} has no slicestream dtype (bool, ints, uints, float16/32/64, str, bytes)",
                descr.str()?
            ))),
        };
    };
    let native = descr.is_native_byteorder().unwrap_or(true);
    if !(array.is_c_contiguous() && array.is_aligned() && native) {
        // One copy into a C-contiguous native-endian array, then zero-copy over that.
        let np = numpy(py)?;
        let native_descr = descr.call_method1("newbyteorder", ("=",))?;
        let copy = np.call_method1("ascontiguousarray", (array, native_descr))?;
        return tensor_from_array(copy.cast::<PyUntypedArray>()?);
    }
    let item = dtype.item_size().unwrap_or(1);
    let len = shape
        .iter()
        .try_fold(item, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| PyValueError::new_err(format!("shape {shape:?} overflows")))?;
    // SAFETY: the array is C-contiguous and aligned, so its `len` bytes start at `data`; the
    // owner holds a reference to the array, which keeps that memory alive while the buffer lives.
    let buffer = unsafe {
        let data =
            (*numpy::npyffi::objects::_PyArray_GET_ITEM_DATA(array.as_array_ptr())).data as *mut u8;
        match NonNull::new(data) {
            Some(ptr) if len > 0 => Buffer::from_custom_allocation(
                ptr,
                len,
                Arc::new(ArrayOwner(AssertUnwindSafe(
                    array.clone().into_any().unbind(),
                ))),
            ),
            _ => Buffer::from_vec(Vec::<u8>::new()),
        }
    };
    Tensor::from_buffer(dtype, shape, buffer).map_err(|e| to_py_err(py, e))
}

/// A `string` tensor (every item `str`) or a `bytes` tensor (any item `bytes`; `str` items encoded
/// as UTF-8) from Python objects.
fn strings_tensor(items: &[Bound<'_, PyAny>], shape: Vec<usize>) -> PyResult<Tensor> {
    let py = items.first().map(|i| i.py());
    let mut values: Vec<Vec<u8>> = Vec::with_capacity(items.len());
    let mut all_text = true;
    for (i, item) in items.iter().enumerate() {
        if let Ok(s) = item.cast::<PyString>() {
            values.push(s.to_cow()?.as_bytes().to_vec());
        } else if let Ok(b) = item.cast::<PyBytes>() {
            all_text = false;
            values.push(b.as_bytes().to_vec());
        } else {
            return Err(PyTypeError::new_err(format!(
                "item {i} of a string array is a {}, not str or bytes",
                item.get_type().name()?
            )));
        }
    }
    let result = if all_text {
        Tensor::from_strings(
            shape,
            values
                .iter()
                .map(|v| std::str::from_utf8(v).unwrap_or_default()),
        )
    } else {
        Tensor::from_byte_strings(shape, values)
    };
    match (result, py) {
        (Ok(t), _) => Ok(t),
        (Err(e), Some(py)) => Err(to_py_err(py, e)),
        (Err(e), None) => Err(PyValueError::new_err(e.to_string())),
    }
}

/// A tensor as NumPy: a rank-0 tensor as a NumPy scalar (`bytes` for strings), else an array over
/// the tensor's buffer (strings: an object array of `bytes`), as `as_numpy_iterator()` gives them.
pub fn tensor_to_py(py: Python<'_>, tensor: Tensor) -> PyResult<Bound<'_, PyAny>> {
    if tensor.dtype().is_variable_width() {
        return strings_to_py(py, &tensor);
    }
    let array = tensor_to_array(py, tensor)?;
    if array.ndim() == 0 {
        return array.get_item(PyTuple::empty(py));
    }
    Ok(array.into_any())
}

/// A fixed-width tensor as an array over its buffer, with no copy.
pub fn tensor_to_array(py: Python<'_>, tensor: Tensor) -> PyResult<Bound<'_, PyUntypedArray>> {
    let dtype = tensor.dtype();
    let descr = numpy_descr(py, dtype)?;
    let mut dims: Vec<npy_intp> = tensor.shape().iter().map(|&d| d as npy_intp).collect();
    let data = tensor.data_ptr() as *mut c_void;
    let Some(buffer) = tensor.buffer().cloned() else {
        return Err(PyTypeError::new_err(format!(
            "{dtype} tensor has no fixed-width buffer"
        )));
    };
    drop(tensor);
    // Writeable only when this array is the buffer's one user (a fresh batch, not a view of a source).
    let writeable = buffer.strong_count() == 1;
    let mut flags = NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED;
    if writeable {
        flags |= NPY_ARRAY_WRITEABLE;
    }
    let owner = Bound::new(py, BufferOwner { buffer })?;
    // SAFETY: `data` points to the buffer's `product(dims) * itemsize` bytes, C-contiguous and
    // aligned for the dtype (a tensor's invariant); the owner, set as the array's base, keeps the
    // buffer alive as long as the array. NewFromDescr steals the descr reference and SetBaseObject
    // steals the owner reference, on success and on failure.
    unsafe {
        let subtype = numpy::npyffi::get_type_object(py, NpyTypes::PyArray_Type);
        let ptr = PY_ARRAY_API.PyArray_NewFromDescr(
            py,
            subtype,
            descr.into_ptr() as *mut _,
            dims.len() as std::ffi::c_int,
            dims.as_mut_ptr(),
            std::ptr::null_mut(),
            data,
            flags,
            std::ptr::null_mut(),
        );
        if ptr.is_null() {
            return Err(PyErr::fetch(py));
        }
        let array = Bound::from_owned_ptr(py, ptr);
        if PY_ARRAY_API.PyArray_SetBaseObject(py, ptr as *mut PyArrayObject, owner.into_ptr()) < 0 {
            return Err(PyErr::fetch(py));
        }
        Ok(array.cast_into_unchecked())
    }
}

fn strings_to_py<'py>(py: Python<'py>, tensor: &Tensor) -> PyResult<Bound<'py, PyAny>> {
    let values = tensor.byte_values().map_err(|e| to_py_err(py, e))?;
    let items: Vec<Bound<'py, PyBytes>> = values.iter().map(|v| PyBytes::new(py, v)).collect();
    if tensor.rank() == 0 {
        return Ok(items
            .into_iter()
            .next()
            .map_or_else(|| PyBytes::new(py, b"").into_any(), |b| b.into_any()));
    }
    let np = numpy(py)?;
    let array = np.call_method1("empty", (items.len(), "object"))?;
    for (i, b) in items.into_iter().enumerate() {
        array.set_item(i, b)?;
    }
    array.call_method1("reshape", (PyTuple::new(py, tensor.shape())?,))
}
