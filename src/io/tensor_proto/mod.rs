//! TensorFlow's `TensorProto`: tensors to and from its wire format, byte for byte as
//! `tf.make_tensor_proto` writes it and following `tf.make_ndarray`'s rules when reading.
//!
//! ```
//! use slicestream::io::tensor_proto::{decode_tensor_proto, encode_tensor_proto};
//! use slicestream::Tensor;
//!
//! let t = Tensor::from_vec(vec![2, 3], vec![-1.0f32, -0.5, 0.0, 0.5, 1.0, 1.5])?;
//! let bytes = encode_tensor_proto(&t); // what tf.make_tensor_proto(...).SerializeToString() gives
//! assert_eq!(decode_tensor_proto(&bytes)?, t);
//! # Ok::<(), slicestream::Error>(())
//! ```
//!
//! # Encoding (as `tf.make_tensor_proto` does)
//!
//! * numeric tensors with more than one value go to `tensor_content` (raw little-endian bytes), except
//!   `bool` (always `bool_val`) and `uint16` (always `int_val`), which TensorFlow never writes there;
//! * scalars and one-value tensors go to their typed field: `float_val`, `double_val`, `int_val`
//!   (int8/16/32, uint8/16), `int64_val`, `uint32_val`, `uint64_val`, `half_val` (float16 and bfloat16
//!   bits in an int32);
//! * `String` and `Bytes` tensors go to `string_val` as `DT_STRING`;
//! * empty tensors have no value field at all; the shape is always written (empty for a scalar).
//!
//! # Decoding (as `tf.make_ndarray` / TensorFlow's C++ `Tensor::FromProto`)
//!
//! * a non-empty `tensor_content` holds every value (its length must be exactly the shape's);
//! * otherwise the dtype's typed field: a list shorter than the shape repeats its last value, an empty
//!   list means zeros (empty strings); more values than the shape is an error;
//! * `DT_STRING` becomes a [`DType::Bytes`] tensor (TensorFlow strings are arbitrary bytes).
//!
//! Every malformed input is an error, never a panic: truncated or garbage protobuf bytes, an unknown
//! or unsupported `DataType`, an unknown rank, negative dimensions, a shape whose element count
//! overflows, a `tensor_content` of the wrong length, too many values. A tensor too large to allocate
//! (a huge shape with one splatted value) is an [`crate::ErrorKind::MemoryBudget`] error, not an abort.

mod decode;
mod proto;

pub use decode::{decode_tensor_proto, tensor_from_proto};
pub use proto::{Dim, TensorProto, TensorShapeProto};

use crate::error::{Error, Result};
use crate::tensor::{DType, Tensor};

/// TensorFlow's `DataType` enum value for `dtype`. `String` and `Bytes` are both `DT_STRING` (7).
pub fn tf_data_type(dtype: DType) -> i32 {
    match dtype {
        DType::F32 => 1,
        DType::F64 => 2,
        DType::I32 => 3,
        DType::U8 => 4,
        DType::I16 => 5,
        DType::I8 => 6,
        DType::String | DType::Bytes => 7,
        DType::I64 => 9,
        DType::Bool => 10,
        DType::BF16 => 14,
        DType::U16 => 17,
        DType::F16 => 19,
        DType::U32 => 22,
        DType::U64 => 23,
    }
}

/// TensorFlow's name for a `DataType` enum value (`"DT_FLOAT"`), if it is one.
pub fn tf_data_type_name(code: i32) -> Option<&'static str> {
    const NAMES: [&str; 33] = [
        "DT_INVALID",
        "DT_FLOAT",
        "DT_DOUBLE",
        "DT_INT32",
        "DT_UINT8",
        "DT_INT16",
        "DT_INT8",
        "DT_STRING",
        "DT_COMPLEX64",
        "DT_INT64",
        "DT_BOOL",
        "DT_QINT8",
        "DT_QUINT8",
        "DT_QINT32",
        "DT_BFLOAT16",
        "DT_QINT16",
        "DT_QUINT16",
        "DT_UINT16",
        "DT_COMPLEX128",
        "DT_HALF",
        "DT_RESOURCE",
        "DT_VARIANT",
        "DT_UINT32",
        "DT_UINT64",
        "DT_FLOAT8_E5M2",
        "DT_FLOAT8_E4M3FN",
        "DT_FLOAT8_E4M3FNUZ",
        "DT_FLOAT8_E4M3B11FNUZ",
        "DT_FLOAT8_E5M2FNUZ",
        "DT_INT4",
        "DT_UINT4",
        "DT_INT2",
        "DT_UINT2",
    ];
    usize::try_from(code)
        .ok()
        .and_then(|i| NAMES.get(i).copied())
}

/// The slicestream dtype of a TensorFlow `DataType` enum value (`DT_STRING` is [`DType::Bytes`]).
///
/// Errors ([`crate::ErrorKind::Format`]) for `DT_INVALID` (what an empty or zeroed proto holds), for
/// TensorFlow types slicestream has no dtype for (complex, quantized, resource, variant, float8, int4,
/// reference types) and for values that are not a TensorFlow `DataType` at all.
pub fn dtype_from_tf_data_type(code: i32) -> Result<DType> {
    Ok(match code {
        1 => DType::F32,
        2 => DType::F64,
        3 => DType::I32,
        4 => DType::U8,
        5 => DType::I16,
        6 => DType::I8,
        7 => DType::Bytes,
        9 => DType::I64,
        10 => DType::Bool,
        14 => DType::BF16,
        17 => DType::U16,
        19 => DType::F16,
        22 => DType::U32,
        23 => DType::U64,
        0 => {
            return Err(Error::format(
                "TensorProto dtype is DT_INVALID (0): not a tensor (empty or zeroed bytes?)",
            ))
        }
        other => {
            return Err(Error::format(match tf_data_type_name(other) {
                Some(name) => {
                    format!("TensorProto dtype {name} ({other}) has no slicestream dtype")
                }
                None if (101..=132).contains(&other) => {
                    format!("TensorProto dtype {other} is a reference type, not a tensor's dtype")
                }
                None => format!("TensorProto dtype {other} is not a TensorFlow DataType"),
            }))
        }
    })
}

/// Whether `tf.make_tensor_proto` writes arrays of this dtype (more than one value) to `tensor_content`
/// (its `_TENSOR_CONTENT_TYPES`: not bool, not uint16, not strings).
fn uses_tensor_content(dtype: DType) -> bool {
    !matches!(
        dtype,
        DType::Bool | DType::U16 | DType::String | DType::Bytes
    )
}

/// The tensor as a [`TensorProto`], exactly as `tf.make_tensor_proto` builds it for the same array.
pub fn tensor_to_proto(tensor: &Tensor) -> TensorProto {
    let dtype = tensor.dtype();
    let dim = tensor
        .shape()
        .iter()
        .map(|&d| Dim {
            size: d as i64,
            name: String::new(),
        })
        .collect();
    let mut proto = TensorProto {
        dtype: tf_data_type(dtype),
        tensor_shape: Some(TensorShapeProto {
            dim,
            unknown_rank: false,
        }),
        ..Default::default()
    };
    let n = tensor.num_elements();
    if n == 0 {
        return proto;
    }
    if let Some((offsets, values)) = tensor.var_parts() {
        let values = values.as_slice();
        proto.string_val = offsets
            .windows(2)
            .map(|w| values[w[0] as usize..w[1] as usize].to_vec())
            .collect();
        return proto;
    }
    let bytes = tensor.buffer().map(|b| b.as_slice()).unwrap_or(&[]);
    if n > 1 && uses_tensor_content(dtype) {
        proto.tensor_content = to_little_endian(bytes, dtype.item_size().unwrap_or(1));
        return proto;
    }
    match dtype {
        DType::F32 => proto.float_val = native(bytes, f32::from_ne_bytes),
        DType::F64 => proto.double_val = native(bytes, f64::from_ne_bytes),
        DType::I32 => proto.int_val = native(bytes, i32::from_ne_bytes),
        DType::I16 => proto.int_val = native(bytes, |b| i16::from_ne_bytes(b) as i32),
        DType::I8 => proto.int_val = native(bytes, |b: [u8; 1]| b[0] as i8 as i32),
        DType::U16 => proto.int_val = native(bytes, |b| u16::from_ne_bytes(b) as i32),
        DType::U8 => proto.int_val = native(bytes, |b: [u8; 1]| b[0] as i32),
        DType::I64 => proto.int64_val = native(bytes, i64::from_ne_bytes),
        DType::U32 => proto.uint32_val = native(bytes, u32::from_ne_bytes),
        DType::U64 => proto.uint64_val = native(bytes, u64::from_ne_bytes),
        DType::Bool => proto.bool_val = native(bytes, |b: [u8; 1]| b[0] != 0),
        DType::F16 | DType::BF16 => {
            proto.half_val = native(bytes, |b| u16::from_ne_bytes(b) as i32)
        }
        DType::String | DType::Bytes => {}
    }
    proto
}

/// The tensor serialized as a `TensorProto`: the same bytes as TensorFlow's
/// `tf.make_tensor_proto(array).SerializeToString()` for the same array.
pub fn encode_tensor_proto(tensor: &Tensor) -> Vec<u8> {
    prost::Message::encode_to_vec(&tensor_to_proto(tensor))
}

/// Values of `N` native-endian bytes each, converted by `f`.
fn native<const N: usize, T>(bytes: &[u8], f: impl Fn([u8; N]) -> T) -> Vec<T> {
    bytes
        .chunks_exact(N)
        .map(|c| {
            let mut a = [0u8; N];
            a.copy_from_slice(c);
            f(a)
        })
        .collect()
}

/// Native-endian values of `item` bytes each, as little-endian bytes.
fn to_little_endian(bytes: &[u8], item: usize) -> Vec<u8> {
    let mut out = bytes.to_vec();
    swap_to_or_from_little_endian(&mut out, item);
    out
}

/// Reverses each `item`-byte value on big-endian targets (a no-op on little-endian ones).
pub(crate) fn swap_to_or_from_little_endian(bytes: &mut [u8], item: usize) {
    if cfg!(target_endian = "big") && item > 1 {
        for c in bytes.chunks_exact_mut(item) {
            c.reverse();
        }
    }
}
