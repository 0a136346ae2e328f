//! Decoding: `TensorProto` bytes to a [`Tensor`], with TensorFlow's rules (see the module docs).

use arrow_buffer::{Buffer, MutableBuffer, ScalarBuffer};
use half::{bf16, f16};
use prost::Message;

use super::proto::{TensorProto, TensorShapeProto};
use super::{dtype_from_tf_data_type, swap_to_or_from_little_endian};
use crate::error::{Error, ErrorKind, Result};
use crate::tensor::{DType, Tensor, TensorElement};

/// Decodes serialized `TensorProto` bytes (what `tf.make_tensor_proto(...).SerializeToString()` or
/// `tf.io.serialize_tensor` give) into a tensor, as `tf.make_ndarray` reads them.
///
/// Errors ([`ErrorKind::Format`]) for bytes that are not a protobuf `TensorProto` (truncated, garbage)
/// and for everything [`tensor_from_proto`] rejects.
pub fn decode_tensor_proto(bytes: &[u8]) -> Result<Tensor> {
    let proto = TensorProto::decode(bytes).map_err(|e| {
        Error::format(format!(
            "{} bytes are not a valid TensorProto: {e}",
            bytes.len()
        ))
    })?;
    tensor_from_proto(&proto)
}

/// The tensor a [`TensorProto`] holds, following TensorFlow's decoding rules (see the module docs).
///
/// Errors ([`ErrorKind::Format`]) for an unknown or unsupported dtype, an unknown rank, a negative
/// dimension, a shape whose element count overflows, a `tensor_content` whose length does not match
/// the shape, or more typed values than the shape holds; [`ErrorKind::MemoryBudget`] when the tensor
/// cannot be allocated.
pub fn tensor_from_proto(proto: &TensorProto) -> Result<Tensor> {
    let dtype = dtype_from_tf_data_type(proto.dtype)?;
    let shape = shape_from_proto(proto.tensor_shape.as_ref())?;
    let n = element_count(&shape)?;
    if !proto.tensor_content.is_empty() {
        return match dtype {
            DType::Bytes | DType::String => strings_from_content(shape, n, &proto.tensor_content),
            _ => fixed_from_content(dtype, shape, n, &proto.tensor_content),
        };
    }
    let p = proto;
    match dtype {
        DType::F32 => typed("float_val", shape, n, &p.float_val, |&v| v),
        DType::F64 => typed("double_val", shape, n, &p.double_val, |&v| v),
        DType::I32 => typed("int_val", shape, n, &p.int_val, |&v| v),
        DType::I16 => typed("int_val", shape, n, &p.int_val, |&v| v as i16),
        DType::I8 => typed("int_val", shape, n, &p.int_val, |&v| v as i8),
        DType::U16 => typed("int_val", shape, n, &p.int_val, |&v| v as u16),
        DType::U8 => typed("int_val", shape, n, &p.int_val, |&v| v as u8),
        DType::I64 => typed("int64_val", shape, n, &p.int64_val, |&v| v),
        DType::U32 => typed("uint32_val", shape, n, &p.uint32_val, |&v| v),
        DType::U64 => typed("uint64_val", shape, n, &p.uint64_val, |&v| v),
        DType::Bool => typed("bool_val", shape, n, &p.bool_val, |&v| v),
        DType::F16 => typed("half_val", shape, n, &p.half_val, |&v| {
            f16::from_bits(v as u16)
        }),
        DType::BF16 => typed("half_val", shape, n, &p.half_val, |&v| {
            bf16::from_bits(v as u16)
        }),
        DType::Bytes | DType::String => strings_from_values(shape, n, &p.string_val),
    }
}

/// The shape's dimensions; a missing shape is a scalar (as in TensorFlow).
fn shape_from_proto(shape: Option<&TensorShapeProto>) -> Result<Vec<usize>> {
    let Some(shape) = shape else {
        return Ok(Vec::new());
    };
    if shape.unknown_rank {
        return Err(Error::format(
            "TensorProto shape has unknown rank: a tensor's shape must be fully known",
        ));
    }
    shape
        .dim
        .iter()
        .enumerate()
        .map(|(i, d)| {
            usize::try_from(d.size).map_err(|_| {
                let all: Vec<i64> = shape.dim.iter().map(|d| d.size).collect();
                Error::format(format!(
                    "TensorProto dimension {i} of shape {all:?} is {}: dimensions must be known and non-negative",
                    d.size
                ))
            })
        })
        .collect()
}

/// The number of values of `shape`, or an error when it overflows.
fn element_count(shape: &[usize]) -> Result<usize> {
    shape.iter().try_fold(1usize, |acc, &d| {
        acc.checked_mul(d).ok_or_else(|| {
            Error::format(format!(
                "TensorProto shape {shape:?} has more elements than can be addressed (the product overflows)"
            ))
        })
    })
}

fn too_large(what: impl std::fmt::Display, bytes: Option<usize>, shape: &[usize]) -> Error {
    Error::too_large(bytes).with_context(format!(
        "cannot allocate {what} for a TensorProto of shape {shape:?}"
    ))
}

/// An empty vector with room for `n` values, or an error instead of an abort when that is too much.
fn reserve<T>(n: usize, shape: &[usize]) -> Result<Vec<T>> {
    let bytes = n.checked_mul(std::mem::size_of::<T>());
    let error = || {
        too_large(
            format_args!("{n} values of {} bytes", std::mem::size_of::<T>()),
            bytes,
            shape,
        )
    };
    // Beyond the machine's memory the reservation is refused before the allocator is asked (a
    // lazily mapping allocator would grant it).
    if bytes.is_none_or(|b| b > crate::tensor::alloc::allocation_limit()) {
        return Err(error());
    }
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| error())?;
    Ok(v)
}

/// Fixed-width values from raw little-endian `tensor_content`: one copy into an aligned buffer.
fn fixed_from_content(dtype: DType, shape: Vec<usize>, n: usize, content: &[u8]) -> Result<Tensor> {
    let item = dtype.item_size().unwrap_or(1);
    let expected = n.checked_mul(item);
    if expected != Some(content.len()) {
        return Err(Error::format(format!(
            "TensorProto tensor_content has {} bytes, but shape {shape:?} of {dtype} needs {}",
            content.len(),
            expected.map_or_else(
                || "more than can be addressed".to_string(),
                |e| e.to_string()
            )
        )));
    }
    let mut buffer = MutableBuffer::with_capacity(content.len());
    buffer.extend_from_slice(content);
    swap_to_or_from_little_endian(buffer.as_slice_mut(), item);
    Tensor::from_buffer(dtype, shape, buffer.into()).map_err(|e| match e.kind() {
        ErrorKind::Format(m) => Error::format(format!("TensorProto tensor_content: {m}")),
        _ => e,
    })
}

/// Values from a typed repeated field: shorter lists repeat their last value, an empty list is zeros.
fn typed<S, T: TensorElement>(
    field: &str,
    shape: Vec<usize>,
    n: usize,
    values: &[S],
    convert: impl Fn(&S) -> T,
) -> Result<Tensor> {
    if values.len() > n {
        return Err(Error::format(format!(
            "TensorProto {field} holds {} values, more than the {n} of shape {shape:?}",
            values.len()
        )));
    }
    let mut out = reserve::<T>(n, &shape)?;
    out.extend(values.iter().map(&convert));
    let fill = values.last().map(&convert).unwrap_or_default();
    out.resize(n, fill);
    Tensor::from_vec(shape, out)
}

/// Builds a `Bytes` tensor from lengths and the bytes those lengths cover, in order.
fn bytes_tensor(shape: Vec<usize>, offsets: Vec<i64>, values: Vec<u8>) -> Result<Tensor> {
    Tensor::from_var_parts(
        DType::Bytes,
        shape,
        ScalarBuffer::from(offsets),
        Buffer::from_vec(values),
    )
}

/// Strings from `string_val`, repeating the last one (or empty strings) up to the shape.
fn strings_from_values(shape: Vec<usize>, n: usize, values: &[Vec<u8>]) -> Result<Tensor> {
    if values.len() > n {
        return Err(Error::format(format!(
            "TensorProto string_val holds {} values, more than the {n} of shape {shape:?}",
            values.len()
        )));
    }
    let last = values.last().map_or(0, Vec::len);
    let given: usize = values.iter().map(Vec::len).sum();
    let total = (n - values.len())
        .checked_mul(last)
        .and_then(|t| t.checked_add(given))
        .filter(|&t| i64::try_from(t).is_ok())
        .ok_or_else(|| too_large("the repeated strings", None, &shape))?;
    let mut offsets = reserve::<i64>(n.saturating_add(1), &shape)?;
    let mut bytes = reserve::<u8>(total, &shape)?;
    offsets.push(0);
    for v in values {
        bytes.extend_from_slice(v);
        offsets.push(bytes.len() as i64);
    }
    if let Some(v) = values.last() {
        for _ in values.len()..n {
            bytes.extend_from_slice(v);
            offsets.push(bytes.len() as i64);
        }
    } else {
        offsets.resize(n + 1, 0);
    }
    bytes_tensor(shape, offsets, bytes)
}

/// Strings from `tensor_content` as TensorFlow's C++ encodes them (`EncodeStringList`): every length
/// as a varint32, then every string's bytes.
fn strings_from_content(shape: Vec<usize>, n: usize, content: &[u8]) -> Result<Tensor> {
    let bad = |why: String| {
        Error::format(format!(
            "TensorProto string tensor_content ({} bytes) for shape {shape:?}: {why}",
            content.len()
        ))
    };
    if n > content.len() {
        return Err(bad(format!("too short for {n} lengths")));
    }
    let mut rest = content;
    let mut offsets = reserve::<i64>(n + 1, &shape)?;
    offsets.push(0);
    let mut total: u64 = 0;
    for i in 0..n {
        let len = prost::encoding::decode_varint(&mut rest)
            .ok()
            .filter(|&l| l <= u32::MAX as u64)
            .ok_or_else(|| bad(format!("length {i} is not a varint32")))?;
        total += len;
        if total > content.len() as u64 {
            return Err(bad(format!(
                "the lengths add up to more than the {} bytes",
                content.len()
            )));
        }
        offsets.push(total as i64);
    }
    if total != rest.len() as u64 {
        return Err(bad(format!(
            "the lengths add up to {total} bytes but {} bytes follow them",
            rest.len()
        )));
    }
    bytes_tensor(shape, offsets, rest.to_vec())
}
