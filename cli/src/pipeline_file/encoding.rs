//! The JSON encoding of tensors, elements and specs used by tf.data's golden fixtures and by
//! `slicestream run`: a tensor is `{"dtype", "shape", "values"}` (values as nested lists, strings as
//! UTF-8 text), a tuple `{"tuple": [...]}`, a dict `{"dict": {...}}`.

use serde_json::{json, Map, Value};

use slicestream::element::{Element, ElementSpec, Structure, TensorSpec};
use slicestream::error::{Error, Result};
use slicestream::tensor::{DType, Tensor};

fn bad(message: impl Into<String>) -> Error {
    Error::invalid_argument(message)
}

/// Parses a structure of tensors: `{"dtype","shape","values"}`, `{"tuple": [...]}` or `{"dict": {...}}`.
pub fn element_from_json(value: &Value) -> Result<Element> {
    let obj = value.as_object().ok_or_else(|| {
        bad(format!(
            "expected a tensor, tuple or dict object, got {value}"
        ))
    })?;
    if let Some(items) = obj.get("tuple") {
        let items = items
            .as_array()
            .ok_or_else(|| bad("\"tuple\" must be a list"))?;
        let parts = items
            .iter()
            .map(element_from_json)
            .collect::<Result<Vec<_>>>()?;
        return Ok(Element::tuple_of(parts));
    }
    if let Some(items) = obj.get("dict") {
        let items = items
            .as_object()
            .ok_or_else(|| bad("\"dict\" must be an object"))?;
        let parts = items
            .iter()
            .map(|(k, v)| Ok((k.clone(), element_from_json(v)?)))
            .collect::<Result<Vec<_>>>()?;
        return Ok(Element::dict_of(parts));
    }
    Ok(Element::single(tensor_from_json(value)?))
}

/// Parses one tensor `{"dtype": "int64", "shape": [2], "values": [1, 2]}`.
pub fn tensor_from_json(value: &Value) -> Result<Tensor> {
    let dtype: DType = value
        .get("dtype")
        .and_then(Value::as_str)
        .ok_or_else(|| bad(format!("tensor without a \"dtype\" string: {value}")))?
        .parse()?;
    let shape: Vec<usize> = value
        .get("shape")
        .and_then(Value::as_array)
        .ok_or_else(|| bad(format!("tensor without a \"shape\" list: {value}")))?
        .iter()
        .map(|d| {
            d.as_u64()
                .map(|d| d as usize)
                .ok_or_else(|| bad(format!("shape dimension {d} is not a non-negative integer")))
        })
        .collect::<Result<_>>()?;
    let values = value
        .get("values")
        .ok_or_else(|| bad(format!("tensor without \"values\": {value}")))?;
    let mut flat = Vec::new();
    flatten(values, &shape, &mut flat)?;
    tensor_from_scalars(dtype, shape, &flat)
}

/// Collects the leaves of nested lists, checking that they nest as `shape` says.
fn flatten<'a>(value: &'a Value, shape: &[usize], out: &mut Vec<&'a Value>) -> Result<()> {
    match shape.split_first() {
        None => {
            if value.is_array() {
                return Err(bad(format!(
                    "expected a scalar value, got the list {value}"
                )));
            }
            out.push(value);
            Ok(())
        }
        Some((&n, rest)) => {
            let items = value
                .as_array()
                .ok_or_else(|| bad(format!("expected a list of {n} items, got {value}")))?;
            if items.len() != n {
                return Err(bad(format!("expected {n} items, got {}", items.len())));
            }
            items.iter().try_for_each(|v| flatten(v, rest, out))
        }
    }
}

/// A tensor of `dtype` and `shape` from JSON scalars (numbers, booleans or strings).
pub(crate) fn tensor_from_scalars(
    dtype: DType,
    shape: Vec<usize>,
    values: &[&Value],
) -> Result<Tensor> {
    macro_rules! ints {
        ($t:ty) => {{
            let v = values
                .iter()
                .map(|x| {
                    x.as_i64()
                        .and_then(|i| <$t>::try_from(i).ok())
                        .or_else(|| x.as_u64().and_then(|u| <$t>::try_from(u).ok()))
                        .ok_or_else(|| bad(format!("{x} is not a {} value", dtype)))
                })
                .collect::<Result<Vec<$t>>>()?;
            Tensor::from_vec(shape, v)
        }};
    }
    macro_rules! floats {
        ($conv:expr) => {{
            let v = values
                .iter()
                .map(|x| {
                    number(x)
                        .map($conv)
                        .ok_or_else(|| bad(format!("{x} is not a number")))
                })
                .collect::<Result<Vec<_>>>()?;
            Tensor::from_vec(shape, v)
        }};
    }
    match dtype {
        DType::Bool => {
            let v = values
                .iter()
                .map(|x| x.as_bool().ok_or_else(|| bad(format!("{x} is not a bool"))))
                .collect::<Result<Vec<bool>>>()?;
            Tensor::from_vec(shape, v)
        }
        DType::U8 => ints!(u8),
        DType::U16 => ints!(u16),
        DType::U32 => ints!(u32),
        DType::U64 => ints!(u64),
        DType::I8 => ints!(i8),
        DType::I16 => ints!(i16),
        DType::I32 => ints!(i32),
        DType::I64 => ints!(i64),
        DType::F16 => floats!(half::f16::from_f64),
        DType::BF16 => floats!(half::bf16::from_f64),
        DType::F32 => floats!(|f: f64| f as f32),
        DType::F64 => floats!(|f: f64| f),
        DType::String | DType::Bytes => {
            let v = values
                .iter()
                .map(|x| {
                    x.as_str()
                        .ok_or_else(|| bad(format!("{x} is not a string")))
                })
                .collect::<Result<Vec<&str>>>()?;
            if dtype == DType::String {
                Tensor::from_strings(shape, v)
            } else {
                Tensor::from_byte_strings(shape, v)
            }
        }
    }
}

/// A JSON number, or one of the strings `"nan"`, `"inf"`, `"-inf"` that stand for non-finite floats.
fn number(x: &Value) -> Option<f64> {
    match x.as_str() {
        Some("nan" | "NaN") => Some(f64::NAN),
        Some("inf" | "Infinity") => Some(f64::INFINITY),
        Some("-inf" | "-Infinity") => Some(f64::NEG_INFINITY),
        Some(_) => None,
        None => x.as_f64(),
    }
}

/// Parses a nested Python-style list (`[[1, 2], [3, 4]]`) into a tensor as `tf.constant` would:
/// integers become `int32`, any float makes `float32`, booleans `bool`, text `string`.
///
/// Errors with TensorFlow's message when the lists are ragged.
pub fn tensor_from_python_list(value: &Value) -> Result<Tensor> {
    let mut shape = Vec::new();
    let mut probe = value;
    while let Some(items) = probe.as_array() {
        shape.push(items.len());
        match items.first() {
            Some(first) => probe = first,
            None => break,
        }
    }
    let mut flat = Vec::new();
    flatten(value, &shape, &mut flat)
        .map_err(|_| bad("Can't convert non-rectangular Python sequence to Tensor."))?;
    let dtype = if flat.iter().all(|v| v.is_boolean()) && !flat.is_empty() {
        DType::Bool
    } else if flat.iter().all(|v| v.is_string()) && !flat.is_empty() {
        DType::String
    } else if flat.iter().all(|v| v.is_i64() || v.is_u64()) {
        DType::I32
    } else {
        DType::F32
    };
    tensor_from_scalars(dtype, shape, &flat)
}

/// Parses a spec: `{"dtype", "shape": [null, 3]}` nested in `{"tuple"}` / `{"dict"}`.
pub fn spec_from_json(value: &Value) -> Result<ElementSpec> {
    fn go(value: &Value, specs: &mut Vec<TensorSpec>) -> Result<Structure> {
        let obj = value
            .as_object()
            .ok_or_else(|| bad(format!("expected a spec object, got {value}")))?;
        if let Some(items) = obj.get("tuple").and_then(Value::as_array) {
            return Ok(Structure::Tuple(
                items.iter().map(|v| go(v, specs)).collect::<Result<_>>()?,
            ));
        }
        if let Some(items) = obj.get("dict").and_then(Value::as_object) {
            return Ok(Structure::Dict(
                items
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), go(v, specs)?)))
                    .collect::<Result<_>>()?,
            ));
        }
        let dtype: DType = obj
            .get("dtype")
            .and_then(Value::as_str)
            .ok_or_else(|| bad(format!("spec without a dtype: {value}")))?
            .parse()?;
        let shape = shape_from_json(obj.get("shape").unwrap_or(&Value::Null))?
            .ok_or_else(|| bad(format!("spec without a shape: {value}")))?;
        specs.push(TensorSpec::with_unknown(dtype, shape));
        Ok(Structure::Tensor)
    }
    let mut specs = Vec::new();
    let structure = go(value, &mut specs)?;
    ElementSpec::new(structure, specs)
}

/// Parses a shape list with `null` for unknown dimensions; `null` itself gives `None`.
pub fn shape_from_json(value: &Value) -> Result<Option<Vec<Option<usize>>>> {
    if value.is_null() {
        return Ok(None);
    }
    let dims = value.as_array().ok_or_else(|| {
        bad(format!(
            "a shape is a list of integers or nulls, got {value}"
        ))
    })?;
    dims.iter()
        .map(|d| match d {
            Value::Null => Ok(None),
            Value::Number(n) if n.as_i64() == Some(-1) => Ok(None),
            Value::Number(n) => n
                .as_u64()
                .map(|n| Some(n as usize))
                .ok_or_else(|| bad(format!("bad dimension {d}"))),
            _ => Err(bad(format!("bad dimension {d}"))),
        })
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

/// Encodes one tensor as `{"dtype", "shape", "values"}`.
pub fn tensor_to_json(tensor: &Tensor) -> Value {
    let flat: Vec<Value> = scalars_to_json(tensor);
    json!({
        "dtype": tensor.dtype().name(),
        "shape": tensor.shape(),
        "values": nest(&flat, tensor.shape()),
    })
}

fn nest(flat: &[Value], shape: &[usize]) -> Value {
    match shape.split_first() {
        None => flat.first().cloned().unwrap_or(Value::Null),
        Some((&n, rest)) => {
            let step: usize = rest.iter().product();
            Value::Array(
                (0..n)
                    .map(|i| {
                        nest(
                            &flat[(i * step).min(flat.len())..((i + 1) * step).min(flat.len())],
                            rest,
                        )
                    })
                    .collect(),
            )
        }
    }
}

fn scalars_to_json(t: &Tensor) -> Vec<Value> {
    macro_rules! vals {
        ($ty:ty, $f:expr) => {
            t.as_slice::<$ty>()
                .map(|s| s.iter().map($f).collect())
                .unwrap_or_default()
        };
    }
    match t.dtype() {
        DType::Bool => vals!(bool, |&v| json!(v)),
        DType::U8 => vals!(u8, |&v| json!(v)),
        DType::U16 => vals!(u16, |&v| json!(v)),
        DType::U32 => vals!(u32, |&v| json!(v)),
        DType::U64 => vals!(u64, |&v| json!(v)),
        DType::I8 => vals!(i8, |&v| json!(v)),
        DType::I16 => vals!(i16, |&v| json!(v)),
        DType::I32 => vals!(i32, |&v| json!(v)),
        DType::I64 => vals!(i64, |&v| json!(v)),
        DType::F16 => vals!(half::f16, |v| float_json(v.to_f64())),
        DType::BF16 => vals!(half::bf16, |v| float_json(v.to_f64())),
        DType::F32 => vals!(f32, |&v| float_json(v as f64)),
        DType::F64 => vals!(f64, |&v| float_json(v)),
        DType::String | DType::Bytes => (0..t.num_elements())
            .map(|i| match t.bytes_at(i) {
                Ok(b) => json!(String::from_utf8_lossy(b)),
                Err(_) => Value::Null,
            })
            .collect(),
    }
}

/// A float as JSON: finite values as numbers, the others as the strings `"nan"`, `"inf"`, `"-inf"`.
fn float_json(v: f64) -> Value {
    if v.is_finite() {
        json!(v)
    } else if v.is_nan() {
        json!("nan")
    } else if v > 0.0 {
        json!("inf")
    } else {
        json!("-inf")
    }
}

/// Encodes an element: a tensor, `{"tuple": [...]}` or `{"dict": {...}}`.
pub fn element_to_json(element: &Element) -> Value {
    fn go(s: &Structure, tensors: &mut std::slice::Iter<'_, Tensor>) -> Value {
        match s {
            Structure::Tensor => tensors.next().map(tensor_to_json).unwrap_or(Value::Null),
            Structure::Tuple(items) => {
                json!({"tuple": items.iter().map(|s| go(s, tensors)).collect::<Vec<_>>()})
            }
            Structure::Dict(items) => {
                let mut m = Map::new();
                for (k, s) in items {
                    m.insert(k.clone(), go(s, tensors));
                }
                json!({ "dict": m })
            }
        }
    }
    go(element.structure(), &mut element.components().iter())
}

/// Encodes a spec: `{"dtype", "shape"}` with `null` for unknown dimensions, nested as the element.
pub fn spec_to_json(spec: &ElementSpec) -> Value {
    fn go(s: &Structure, specs: &mut std::slice::Iter<'_, TensorSpec>) -> Value {
        match s {
            Structure::Tensor => specs
                .next()
                .map(|t| json!({"dtype": t.dtype.name(), "shape": t.shape}))
                .unwrap_or(Value::Null),
            Structure::Tuple(items) => {
                json!({"tuple": items.iter().map(|s| go(s, specs)).collect::<Vec<_>>()})
            }
            Structure::Dict(items) => {
                let mut m = Map::new();
                for (k, s) in items {
                    m.insert(k.clone(), go(s, specs));
                }
                json!({ "dict": m })
            }
        }
    }
    go(spec.structure(), &mut spec.components().iter())
}
