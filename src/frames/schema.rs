//! How slicestream's dtypes, shapes and structures map to Arrow types, fields and schemas, both ways.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, FieldRef, Schema};
use serde_json::Value;

use super::{Bf16Policy, FrameOptions};
use crate::element::{ElementSpec, Structure, TensorSpec};
use crate::error::{Error, Result};
use crate::tensor::DType;

/// Field metadata key naming an Arrow extension type.
pub const EXTENSION_NAME: &str = "ARROW:extension:name";
/// Field metadata key holding an extension type's parameters (JSON).
pub const EXTENSION_METADATA: &str = "ARROW:extension:metadata";
/// The canonical extension of fixed-shape tensors.
pub const FIXED_SHAPE_TENSOR: &str = "arrow.fixed_shape_tensor";
/// Field metadata key marking a `UInt16` column that holds `bfloat16` bits ([`Bf16Policy::Bits`]).
pub const DTYPE_KEY: &str = "slicestream:dtype";
/// Schema metadata key holding the element structure (so that tuples and nested dicts come back as
/// they were written).
pub const STRUCTURE_KEY: &str = "slicestream:structure";

/// The Arrow types slicestream reads, for error messages.
pub const SUPPORTED_ARROW_TYPES: &str =
    "Boolean, Int8, Int16, Int32, Int64, UInt8, UInt16, UInt32, \
UInt64, Float16, Float32, Float64, Utf8, LargeUtf8, Utf8View, Binary, LargeBinary, BinaryView, and \
FixedSizeList / List / LargeList of these (nested to any depth, the arrow.fixed_shape_tensor \
extension included)";

/// The Arrow type of a scalar of `dtype` (the leaf type of a tensor column).
///
/// `view_strings` picks `Utf8View` / `BinaryView` over `LargeUtf8` / `LargeBinary` (what polars
/// takes without a copy). `bfloat16` follows `options.bf16`.
pub(crate) fn leaf_type(
    dtype: DType,
    view_strings: bool,
    options: &FrameOptions,
    column: &str,
) -> Result<DataType> {
    Ok(match dtype {
        DType::Bool => DataType::Boolean,
        DType::U8 => DataType::UInt8,
        DType::U16 => DataType::UInt16,
        DType::U32 => DataType::UInt32,
        DType::U64 => DataType::UInt64,
        DType::I8 => DataType::Int8,
        DType::I16 => DataType::Int16,
        DType::I32 => DataType::Int32,
        DType::I64 => DataType::Int64,
        DType::F16 => DataType::Float16,
        DType::F32 => DataType::Float32,
        DType::F64 => DataType::Float64,
        DType::String if view_strings => DataType::Utf8View,
        DType::String => DataType::LargeUtf8,
        DType::Bytes if view_strings => DataType::BinaryView,
        DType::Bytes => DataType::LargeBinary,
        DType::BF16 => {
            match options.bf16 {
                Bf16Policy::Bits => DataType::UInt16,
                Bf16Policy::Error => return Err(Error::incompatible(
                    "bfloat16 has no Arrow or Polars type; cast the component to float32 first, \
                     or write its bits as UInt16 with FrameOptions::with_bf16(Bf16Policy::Bits)",
                )
                .with_component(column)),
            }
        }
    })
}

/// The slicestream dtype of an Arrow scalar type, `None` when there is none.
pub(crate) fn dtype_of(data_type: &DataType, field: Option<&Field>) -> Option<DType> {
    Some(match data_type {
        DataType::Boolean => DType::Bool,
        DataType::UInt8 => DType::U8,
        DataType::UInt16 if field.is_some_and(is_bf16_field) => DType::BF16,
        DataType::UInt16 => DType::U16,
        DataType::UInt32 => DType::U32,
        DataType::UInt64 => DType::U64,
        DataType::Int8 => DType::I8,
        DataType::Int16 => DType::I16,
        DataType::Int32 => DType::I32,
        DataType::Int64 => DType::I64,
        DataType::Float16 => DType::F16,
        DataType::Float32 => DType::F32,
        DataType::Float64 => DType::F64,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => DType::String,
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => DType::Bytes,
        _ => return None,
    })
}

fn is_bf16_field(field: &Field) -> bool {
    field.metadata().get(DTYPE_KEY).map(String::as_str) == Some("bfloat16")
}

/// The error for an Arrow type slicestream does not read, naming the column and listing what it reads.
pub(crate) fn unsupported(column: &str, data_type: &DataType) -> Error {
    Error::incompatible(format!(
        "Arrow type {data_type} is not supported; supported types: {SUPPORTED_ARROW_TYPES}"
    ))
    .with_component(column)
}

/// The non-null field of one tensor column (list items nullable, as Arrow's convention and pyarrow
/// want, though never null): a scalar type for rank 0; for each per-row dimension,
/// outermost first, a `FixedSizeList` when it is known and a `LargeList` when not.
///
/// `flat` makes a fully known shape one `FixedSizeList` of `prod(shape)` values carrying the
/// `arrow.fixed_shape_tensor` extension metadata (the canonical Arrow form, for record batches and
/// files); otherwise known dimensions nest (polars' `Array` dtype, which refuses extension fields).
pub(crate) fn column_field(
    name: &str,
    spec: &TensorSpec,
    flat: bool,
    options: &FrameOptions,
) -> Result<Field> {
    let leaf = leaf_type(spec.dtype, !flat && options.polars_views(), options, name)?;
    let mut leaf_meta = HashMap::new();
    if spec.dtype == DType::BF16 {
        leaf_meta.insert(DTYPE_KEY.to_string(), "bfloat16".to_string());
    }
    let known: Option<Vec<usize>> = spec.shape.iter().copied().collect();
    if let (true, Some(shape), true) = (flat, &known, spec.rank() > 0) {
        let size = list_size(shape, name)?;
        // The item field is nullable, as in pyarrow's canonical storage type: pyarrow refuses a
        // non-null item as fixed_shape_tensor storage (and then reads a Parquet column back as a
        // plain FixedSizeList). Tensors hold no nulls either way.
        let item = Arc::new(Field::new("item", leaf, true).with_metadata(leaf_meta));
        let mut meta = HashMap::new();
        meta.insert(EXTENSION_NAME.to_string(), FIXED_SHAPE_TENSOR.to_string());
        meta.insert(EXTENSION_METADATA.to_string(), shape_metadata(shape));
        return Ok(Field::new(name, DataType::FixedSizeList(item, size), false).with_metadata(meta));
    }
    let mut data_type = leaf;
    let mut meta = leaf_meta;
    for dim in spec.shape.iter().rev() {
        let item: FieldRef = Arc::new(Field::new("item", data_type, true).with_metadata(meta));
        meta = HashMap::new();
        data_type = match dim {
            Some(d) => DataType::FixedSizeList(item, list_size(&[*d], name)?),
            None => DataType::LargeList(item),
        };
    }
    Ok(Field::new(name, data_type, false).with_metadata(meta))
}

fn list_size(shape: &[usize], column: &str) -> Result<i32> {
    shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .and_then(|n| i32::try_from(n).ok())
        .ok_or_else(|| {
            Error::invalid_argument(format!(
                "a row of shape {shape:?} has more values than an Arrow FixedSizeList holds (2^31 - 1)"
            ))
            .with_component(column)
        })
}

/// `{"shape":[8,8]}`: the extension metadata pyarrow writes and reads.
pub(crate) fn shape_metadata(shape: &[usize]) -> String {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    format!("{{\"shape\":[{}]}}", dims.join(","))
}

/// The shape in a field's `arrow.fixed_shape_tensor` metadata, if it carries that extension.
///
/// Errors (naming the column) when the metadata is not valid JSON with a `shape` of non-negative
/// integers, or has a `permutation` other than the identity (a transposed physical layout, which
/// slicestream does not read).
pub(crate) fn tensor_extension_shape(field: &Field) -> Result<Option<Vec<usize>>> {
    let meta = field.metadata();
    if meta.get(EXTENSION_NAME).map(String::as_str) != Some(FIXED_SHAPE_TENSOR) {
        return Ok(None);
    }
    let bad = |why: &str| {
        Error::format(format!("bad arrow.fixed_shape_tensor metadata: {why}"))
            .with_component(field.name().clone())
    };
    let text = meta
        .get(EXTENSION_METADATA)
        .ok_or_else(|| bad("ARROW:extension:metadata is missing"))?;
    let value: Value = serde_json::from_str(text).map_err(|e| bad(&e.to_string()))?;
    let dims = |key: &str| -> Result<Option<Vec<usize>>> {
        match value.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_u64()
                        .and_then(|d| usize::try_from(d).ok())
                        .ok_or_else(|| bad(&format!("{key} holds {v}, not a non-negative integer")))
                })
                .collect::<Result<Vec<_>>>()
                .map(Some),
            Some(other) => Err(bad(&format!("{key} is {other}, not an array"))),
        }
    };
    let shape = dims("shape")?.ok_or_else(|| bad("no shape"))?;
    if let Some(p) = dims("permutation")? {
        if p.iter().enumerate().any(|(i, &d)| i != d) {
            return Err(Error::incompatible(format!(
                "arrow.fixed_shape_tensor with permutation {p:?} (a transposed layout) is not supported"
            ))
            .with_component(field.name().clone()));
        }
    }
    Ok(Some(shape))
}

/// One column's per-row spec, read from its Arrow field: scalars are rank 0, each `FixedSizeList`
/// level a known dimension, each `List` / `LargeList` level an unknown one; a column carrying the
/// `arrow.fixed_shape_tensor` extension takes the extension's shape.
pub fn column_spec(field: &Field) -> Result<TensorSpec> {
    let name = field.name();
    let mut shape = Vec::new();
    let mut current = field;
    let dtype = loop {
        match current.data_type() {
            DataType::FixedSizeList(item, k) => {
                let k = usize::try_from(*k).map_err(|_| {
                    Error::format(format!("a FixedSizeList of size {k}"))
                        .with_component(name.clone())
                })?;
                shape.push(Some(k));
                current = item;
            }
            DataType::List(item) | DataType::LargeList(item) => {
                shape.push(None);
                current = item;
            }
            other => {
                break dtype_of(other, Some(current)).ok_or_else(|| unsupported(name, other))?
            }
        }
    };
    if let Some(ext) = tensor_extension_shape(field)? {
        let known: Option<Vec<usize>> = shape.iter().copied().collect();
        // Both products come from the file's metadata: overflowing ones are no match.
        let product = |s: &[usize]| s.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        let total = known.as_deref().and_then(product);
        if total.is_none() || total != product(&ext) {
            return Err(Error::format(format!(
                "the arrow.fixed_shape_tensor shape {ext:?} does not fit its storage {}",
                field.data_type()
            ))
            .with_component(name.clone()));
        }
        return Ok(TensorSpec::new(dtype, &ext));
    }
    Ok(TensorSpec::with_unknown(dtype, shape))
}

/// The per-row [`ElementSpec`] of record batches of this schema: one component per column.
///
/// The structure is the one recorded under [`STRUCTURE_KEY`] when it names exactly these columns;
/// otherwise it is read from the column names (see [`structure_from_names`]).
pub fn element_spec(schema: &Schema) -> Result<ElementSpec> {
    let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let specs = schema
        .fields()
        .iter()
        .map(|f| column_spec(f))
        .collect::<Result<Vec<_>>>()?;
    let structure = schema
        .metadata()
        .get(STRUCTURE_KEY)
        .and_then(|s| decode_structure(s))
        .filter(|s| s.paths() == names)
        .map_or_else(|| structure_from_names(&names), Ok)?;
    ElementSpec::new(structure, specs)
}

/// The structure that column names describe: names split on `/` nest; a level whose names are
/// `"0"`, `"1"`, … in order is a tuple, any other a dict (in column order). A lone column named `"0"`
/// is a single tensor (the path of [`Structure::Tensor`]).
///
/// Errors when a name is both a leaf and a prefix of another (`"a"` and `"a/b"`) or repeats.
pub fn structure_from_names(names: &[String]) -> Result<Structure> {
    if names.len() == 1 && names[0] == "0" {
        return Ok(Structure::Tensor);
    }
    let split: Vec<Vec<&str>> = names.iter().map(|n| n.split('/').collect()).collect();
    let refs: Vec<&[&str]> = split.iter().map(Vec::as_slice).collect();
    nest(&refs, names)
}

fn nest(paths: &[&[&str]], names: &[String]) -> Result<Structure> {
    let clash = || {
        Error::invalid_argument(format!(
            "column names {names:?} do not describe a structure: a name repeats or is also a prefix of another"
        ))
    };
    let mut keys: Vec<(&str, Vec<&[&str]>)> = Vec::new();
    for p in paths {
        let (head, rest) = p.split_first().ok_or_else(clash)?;
        match keys.iter_mut().find(|(k, _)| k == head) {
            Some((_, group)) => group.push(rest),
            None => keys.push((head, vec![rest])),
        }
    }
    let mut items = Vec::with_capacity(keys.len());
    for (key, group) in &keys {
        let child = if group.len() == 1 && group[0].is_empty() {
            Structure::Tensor
        } else if group.iter().any(|g| g.is_empty()) {
            return Err(clash());
        } else {
            nest(group, names)?
        };
        items.push((key.to_string(), child));
    }
    let is_tuple = items
        .iter()
        .enumerate()
        .all(|(i, (k, _))| *k == i.to_string());
    Ok(if is_tuple {
        Structure::Tuple(items.into_iter().map(|(_, s)| s).collect())
    } else {
        Structure::Dict(items)
    })
}

/// The structure as JSON: `null` for a tensor, `{"tuple": [...]}`, `{"dict": [[key, ...], ...]}`.
pub(crate) fn encode_structure(s: &Structure) -> String {
    fn go(s: &Structure) -> Value {
        match s {
            Structure::Tensor => Value::Null,
            Structure::Tuple(items) => {
                serde_json::json!({ "tuple": items.iter().map(go).collect::<Vec<_>>() })
            }
            Structure::Dict(items) => serde_json::json!({
                "dict": items.iter().map(|(k, s)| serde_json::json!([k, go(s)])).collect::<Vec<_>>()
            }),
        }
    }
    go(s).to_string()
}

/// The structure [`encode_structure`] wrote; `None` for anything else (then names decide).
pub(crate) fn decode_structure(text: &str) -> Option<Structure> {
    fn go(v: &Value) -> Option<Structure> {
        match v {
            Value::Null => Some(Structure::Tensor),
            Value::Object(o) => {
                if let Some(Value::Array(items)) = o.get("tuple") {
                    return items
                        .iter()
                        .map(go)
                        .collect::<Option<_>>()
                        .map(Structure::Tuple);
                }
                let Some(Value::Array(items)) = o.get("dict") else {
                    return None;
                };
                items
                    .iter()
                    .map(|kv| Some((kv.get(0)?.as_str()?.to_string(), go(kv.get(1)?)?)))
                    .collect::<Option<_>>()
                    .map(Structure::Dict)
            }
            _ => None,
        }
    }
    go(&serde_json::from_str(text).ok()?)
}

/// The Arrow schema of record batches of rows of `spec` (one column per component, named by its
/// path; fixed-shape tensors as `FixedSizeList` with the `arrow.fixed_shape_tensor` extension),
/// with the structure recorded in the schema metadata.
pub fn arrow_schema(spec: &ElementSpec, options: &FrameOptions) -> Result<Schema> {
    let fields = spec
        .paths()
        .iter()
        .zip(spec.components())
        .map(|(p, s)| column_field(p, s, true, options))
        .collect::<Result<Vec<_>>>()?;
    let mut meta = HashMap::new();
    meta.insert(
        STRUCTURE_KEY.to_string(),
        encode_structure(spec.structure()),
    );
    Ok(Schema::new_with_metadata(fields, meta))
}
