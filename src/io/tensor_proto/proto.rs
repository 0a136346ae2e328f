//! TensorFlow's `TensorProto` and `TensorShapeProto` as prost messages, with TensorFlow's field numbers
//! (`tensorflow/core/framework/tensor.proto`, `tensor_shape.proto`).

/// `tensorflow.TensorProto`: a tensor on the wire.
///
/// `dtype` is kept as a plain `i32` (TensorFlow's `DataType` enum value) so that a value this crate
/// does not know still decodes, and [`super::tensor_from_proto`] can name it. Fields 14
/// (`resource_handle_val`) and 15 (`variant_val`) are not modelled: they are skipped when decoding.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorProto {
    /// The `DataType` enum value (`DT_FLOAT` = 1, `DT_INT64` = 9, …; see [`super::tf_data_type`]).
    #[prost(int32, tag = "1")]
    pub dtype: i32,
    /// The shape. TensorFlow always writes it, empty for a scalar.
    #[prost(message, optional, tag = "2")]
    pub tensor_shape: Option<TensorShapeProto>,
    /// Version of the proto's semantics (0).
    #[prost(int32, tag = "3")]
    pub version_number: i32,
    /// The values as raw little-endian bytes (for `DT_STRING`: varint lengths, then the bytes).
    #[prost(bytes = "vec", tag = "4")]
    pub tensor_content: Vec<u8>,
    /// `DT_FLOAT` values.
    #[prost(float, repeated, tag = "5")]
    pub float_val: Vec<f32>,
    /// `DT_DOUBLE` values.
    #[prost(double, repeated, tag = "6")]
    pub double_val: Vec<f64>,
    /// `DT_INT32`, `DT_INT16`, `DT_INT8`, `DT_UINT16` and `DT_UINT8` values.
    #[prost(int32, repeated, tag = "7")]
    pub int_val: Vec<i32>,
    /// `DT_STRING` values (arbitrary bytes).
    #[prost(bytes = "vec", repeated, tag = "8")]
    pub string_val: Vec<Vec<u8>>,
    /// `DT_COMPLEX64` values, real and imaginary parts interleaved (not supported by slicestream).
    #[prost(float, repeated, tag = "9")]
    pub scomplex_val: Vec<f32>,
    /// `DT_INT64` values.
    #[prost(int64, repeated, tag = "10")]
    pub int64_val: Vec<i64>,
    /// `DT_BOOL` values.
    #[prost(bool, repeated, tag = "11")]
    pub bool_val: Vec<bool>,
    /// `DT_COMPLEX128` values, interleaved (not supported by slicestream).
    #[prost(double, repeated, tag = "12")]
    pub dcomplex_val: Vec<f64>,
    /// `DT_HALF` and `DT_BFLOAT16` values: the raw 16 bits of each, in an `int32`.
    #[prost(int32, repeated, tag = "13")]
    pub half_val: Vec<i32>,
    /// `DT_UINT32` values.
    #[prost(uint32, repeated, tag = "16")]
    pub uint32_val: Vec<u32>,
    /// `DT_UINT64` values.
    #[prost(uint64, repeated, tag = "17")]
    pub uint64_val: Vec<u64>,
    /// `DT_FLOAT8_*` values, one byte each (not supported by slicestream).
    #[prost(bytes = "vec", tag = "18")]
    pub float8_val: Vec<u8>,
}

/// `tensorflow.TensorShapeProto`: a list of dimensions, or an unknown rank.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorShapeProto {
    /// The dimensions, outermost first (none for a scalar).
    #[prost(message, repeated, tag = "2")]
    pub dim: Vec<Dim>,
    /// The rank is unknown (never so for a tensor's values).
    #[prost(bool, tag = "3")]
    pub unknown_rank: bool,
}

/// `tensorflow.TensorShapeProto.Dim`: one dimension.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Dim {
    /// The size; -1 means unknown (not allowed in a tensor's shape).
    #[prost(int64, tag = "1")]
    pub size: i64,
    /// An optional name.
    #[prost(string, tag = "2")]
    pub name: String,
}
