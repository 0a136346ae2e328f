//! `tf.train.Example` as prost messages (TensorFlow's field numbers), and [`example_from_element`].

use std::collections::BTreeMap;

use prost::bytes::{Buf, BufMut};
use prost::encoding::{self, DecodeContext, WireType};
use prost::{DecodeError, Message};

use crate::element::Element;
use crate::error::{Error, Result};
use crate::tensor::{DType, Tensor};

/// `tf.train.Example`: one record of named features.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Example {
    /// The features; `None` and an empty map both mean none.
    #[prost(message, optional, tag = "1")]
    pub features: Option<Features>,
}

/// `tf.train.Features`: `map<string, Feature> feature = 1`.
///
/// Encoded deterministically: entries sorted by key (bytewise), each entry writing its key and value
/// even when empty — what TensorFlow's `SerializeToString(deterministic=True)` writes.
#[derive(Clone, PartialEq, Default, Debug)]
pub struct Features {
    /// The features by name.
    pub feature: BTreeMap<String, Feature>,
}

/// `tf.train.Feature`: one list of values (or none).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Feature {
    /// Which list it holds.
    #[prost(oneof = "FeatureKind", tags = "1, 2, 3")]
    pub kind: Option<FeatureKind>,
}

/// The `kind` oneof of `tf.train.Feature`.
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum FeatureKind {
    /// `bytes_list = 1`.
    #[prost(message, tag = "1")]
    BytesList(BytesList),
    /// `float_list = 2`.
    #[prost(message, tag = "2")]
    FloatList(FloatList),
    /// `int64_list = 3`.
    #[prost(message, tag = "3")]
    Int64List(Int64List),
}

/// `tf.train.BytesList`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct BytesList {
    /// The values.
    #[prost(bytes = "vec", repeated, tag = "1")]
    pub value: Vec<Vec<u8>>,
}

/// `tf.train.FloatList` (packed).
#[derive(Clone, PartialEq, prost::Message)]
pub struct FloatList {
    /// The values.
    #[prost(float, repeated, tag = "1")]
    pub value: Vec<f32>,
}

/// `tf.train.Int64List` (packed).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Int64List {
    /// The values.
    #[prost(int64, repeated, tag = "1")]
    pub value: Vec<i64>,
}

impl FeatureKind {
    /// The proto's name of the list: `"bytes_list"`, `"float_list"` or `"int64_list"`.
    pub fn list_name(&self) -> &'static str {
        match self {
            FeatureKind::BytesList(_) => "bytes_list",
            FeatureKind::FloatList(_) => "float_list",
            FeatureKind::Int64List(_) => "int64_list",
        }
    }

    /// How many values the list holds.
    pub fn len(&self) -> usize {
        match self {
            FeatureKind::BytesList(l) => l.value.len(),
            FeatureKind::FloatList(l) => l.value.len(),
            FeatureKind::Int64List(l) => l.value.len(),
        }
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Feature {
    /// A `bytes_list` feature.
    pub fn bytes<B: Into<Vec<u8>>>(values: impl IntoIterator<Item = B>) -> Self {
        Feature {
            kind: Some(FeatureKind::BytesList(BytesList {
                value: values.into_iter().map(Into::into).collect(),
            })),
        }
    }

    /// A `float_list` feature.
    pub fn floats(values: impl IntoIterator<Item = f32>) -> Self {
        Feature {
            kind: Some(FeatureKind::FloatList(FloatList {
                value: values.into_iter().collect(),
            })),
        }
    }

    /// An `int64_list` feature.
    pub fn int64s(values: impl IntoIterator<Item = i64>) -> Self {
        Feature {
            kind: Some(FeatureKind::Int64List(Int64List {
                value: values.into_iter().collect(),
            })),
        }
    }
}

impl Example {
    /// An example of these named features.
    pub fn new<S: Into<String>>(features: impl IntoIterator<Item = (S, Feature)>) -> Self {
        Example {
            features: Some(Features {
                feature: features.into_iter().map(|(k, v)| (k.into(), v)).collect(),
            }),
        }
    }

    /// The feature called `name`, if present.
    pub fn get(&self, name: &str) -> Option<&Feature> {
        self.features.as_ref()?.feature.get(name)
    }

    /// Serialized deterministically (map keys sorted): TensorFlow's
    /// `SerializeToString(deterministic=True)` bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.encode_to_vec()
    }

    /// Parses serialized bytes. Errors ([`crate::ErrorKind::Format`]) when they are not an `Example`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        Example::decode(bytes).map_err(|e| {
            Error::format(format!(
                "{} bytes are not a valid tf.train.Example: {e}",
                bytes.len()
            ))
        })
    }
}

/// The length of one map entry: key (field 1) and value (field 2), both always written.
fn entry_len(key: &str, value: &Feature) -> usize {
    encoding::key_len(1)
        + encoding::encoded_len_varint(key.len() as u64)
        + key.len()
        + encoding::message::encoded_len(2, value)
}

impl Message for Features {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        for (key, value) in &self.feature {
            encoding::encode_key(1, WireType::LengthDelimited, buf);
            encoding::encode_varint(entry_len(key, value) as u64, buf);
            encoding::string::encode(1, key, buf);
            encoding::message::encode(2, value, buf);
        }
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        if tag == 1 {
            encoding::btree_map::merge(
                encoding::string::merge,
                encoding::message::merge,
                &mut self.feature,
                buf,
                ctx,
            )
        } else {
            encoding::skip_field(wire_type, tag, buf, ctx)
        }
    }

    fn encoded_len(&self) -> usize {
        self.feature
            .iter()
            .map(|(k, v)| {
                let len = entry_len(k, v);
                encoding::key_len(1) + encoding::encoded_len_varint(len as u64) + len
            })
            .sum()
    }

    fn clear(&mut self) {
        self.feature.clear();
    }
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

/// The feature for one tensor: its values flattened row-major.
fn feature_of(t: &Tensor) -> Feature {
    if let Some((offsets, values)) = t.var_parts() {
        let values = values.as_slice();
        return Feature::bytes(
            offsets
                .windows(2)
                .map(|w| values[w[0] as usize..w[1] as usize].to_vec()),
        );
    }
    let b = t.buffer().map(|b| b.as_slice()).unwrap_or(&[]);
    let ints = |v: Vec<i64>| Feature::int64s(v);
    let floats = |v: Vec<f32>| Feature::floats(v);
    match t.dtype() {
        DType::Bool | DType::U8 => ints(native(b, |x: [u8; 1]| x[0] as i64)),
        DType::I8 => ints(native(b, |x: [u8; 1]| x[0] as i8 as i64)),
        DType::U16 => ints(native(b, |x| u16::from_ne_bytes(x) as i64)),
        DType::I16 => ints(native(b, |x| i16::from_ne_bytes(x) as i64)),
        DType::U32 => ints(native(b, |x| u32::from_ne_bytes(x) as i64)),
        DType::I32 => ints(native(b, |x| i32::from_ne_bytes(x) as i64)),
        DType::U64 => ints(native(b, |x| u64::from_ne_bytes(x) as i64)),
        DType::I64 => ints(native(b, i64::from_ne_bytes)),
        DType::F16 => floats(native(b, |x| half::f16::from_ne_bytes(x).to_f32())),
        DType::BF16 => floats(native(b, |x| half::bf16::from_ne_bytes(x).to_f32())),
        DType::F32 => floats(native(b, f32::from_ne_bytes)),
        DType::F64 => floats(native(b, |x| f64::from_ne_bytes(x) as f32)),
        DType::String | DType::Bytes => Feature::bytes(Vec::<Vec<u8>>::new()),
    }
}

/// A `tf.train.Example` holding every component of `element` as a feature named by its path
/// (`"image"`, `"a/0"`; a lone tensor is `"0"`), values flattened row-major:
///
/// * integers and bool → `int64_list` (`uint64` values above `i64::MAX` wrap to negative, as a bit
///   cast: `int64` is the only integer type an Example has);
/// * floats → `float_list` (`float64` is rounded to `float32`, the only float type an Example has);
/// * strings and bytes → `bytes_list`.
///
/// Shapes are not stored (an Example has none): give them back with [`super::FeatureSpec::FixedLen`]
/// when parsing.
pub fn example_from_element(element: &Element) -> Example {
    Example::new(
        element
            .paths()
            .into_iter()
            .zip(element.components())
            .map(|(path, t)| (path, feature_of(t))),
    )
}
