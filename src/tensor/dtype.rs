//! [`DType`]: the element types a tensor can hold, named as TensorFlow names them.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// The type of a tensor's values. Names follow TensorFlow (`int64`, `float32`, `string`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DType {
    /// `bool`, one byte per value (0 or 1) as numpy and TensorFlow keep it.
    Bool,
    /// `uint8`.
    U8,
    /// `uint16`.
    U16,
    /// `uint32`.
    U32,
    /// `uint64`.
    U64,
    /// `int8`.
    I8,
    /// `int16`.
    I16,
    /// `int32`.
    I32,
    /// `int64`.
    I64,
    /// `float16` (IEEE half).
    F16,
    /// `bfloat16`.
    BF16,
    /// `float32`.
    F32,
    /// `float64`.
    F64,
    /// UTF-8 text (TensorFlow's `tf.string` holding text).
    String,
    /// Arbitrary bytes (TensorFlow's `tf.string` holding binary data).
    Bytes,
}

impl DType {
    /// Every dtype, in declaration order.
    pub const ALL: [DType; 15] = [
        DType::Bool,
        DType::U8,
        DType::U16,
        DType::U32,
        DType::U64,
        DType::I8,
        DType::I16,
        DType::I32,
        DType::I64,
        DType::F16,
        DType::BF16,
        DType::F32,
        DType::F64,
        DType::String,
        DType::Bytes,
    ];

    /// Bytes per value for fixed-width dtypes; `None` for `String` and `Bytes`.
    pub fn item_size(self) -> Option<usize> {
        Some(match self {
            DType::Bool | DType::U8 | DType::I8 => 1,
            DType::U16 | DType::I16 | DType::F16 | DType::BF16 => 2,
            DType::U32 | DType::I32 | DType::F32 => 4,
            DType::U64 | DType::I64 | DType::F64 => 8,
            DType::String | DType::Bytes => return None,
        })
    }

    /// Whether values are variable-length (`String`, `Bytes`).
    pub fn is_variable_width(self) -> bool {
        self.item_size().is_none()
    }

    /// Whether this is an integer dtype.
    pub fn is_integer(self) -> bool {
        matches!(
            self,
            DType::U8
                | DType::U16
                | DType::U32
                | DType::U64
                | DType::I8
                | DType::I16
                | DType::I32
                | DType::I64
        )
    }

    /// Whether this is a floating-point dtype.
    pub fn is_float(self) -> bool {
        matches!(self, DType::F16 | DType::BF16 | DType::F32 | DType::F64)
    }

    /// TensorFlow's name (`"int64"`, `"float32"`, `"string"`, …); `Bytes` is `"bytes"`.
    pub fn name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::U8 => "uint8",
            DType::U16 => "uint16",
            DType::U32 => "uint32",
            DType::U64 => "uint64",
            DType::I8 => "int8",
            DType::I16 => "int16",
            DType::I32 => "int32",
            DType::I64 => "int64",
            DType::F16 => "float16",
            DType::BF16 => "bfloat16",
            DType::F32 => "float32",
            DType::F64 => "float64",
            DType::String => "string",
            DType::Bytes => "bytes",
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for DType {
    type Err = Error;

    /// Parses TensorFlow's names and the common short aliases (`f32`, `i64`, `u8`, `half`, …).
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "bool" => DType::Bool,
            "uint8" | "u8" => DType::U8,
            "uint16" | "u16" => DType::U16,
            "uint32" | "u32" => DType::U32,
            "uint64" | "u64" => DType::U64,
            "int8" | "i8" => DType::I8,
            "int16" | "i16" => DType::I16,
            "int32" | "i32" => DType::I32,
            "int64" | "i64" => DType::I64,
            "float16" | "f16" | "half" => DType::F16,
            "bfloat16" | "bf16" => DType::BF16,
            "float32" | "f32" | "float" => DType::F32,
            "float64" | "f64" | "double" => DType::F64,
            "string" | "str" | "utf8" => DType::String,
            "bytes" | "binary" => DType::Bytes,
            other => {
                let names: Vec<&str> = DType::ALL.iter().map(|d| d.name()).collect();
                return Err(Error::invalid_argument(format!(
                    "unknown dtype {other:?}; known dtypes: {}",
                    names.join(", ")
                )));
            }
        })
    }
}
