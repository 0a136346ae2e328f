//! Parsing `tf.train.Example` records into elements, like `tf.io.parse_single_example`.

use std::sync::Arc;

use super::{Example, FeatureKind};
use crate::element::{Element, ElementSpec, Structure, TensorSpec};
use crate::error::{Error, Result};
use crate::tensor::{DType, Tensor};

/// How to parse one feature (tf's `tf.io.FixedLenFeature` / `tf.io.VarLenFeature`).
///
/// The dtype is one of what an Example holds: [`DType::I64`] (from `int64_list`), [`DType::F32`]
/// (from `float_list`), [`DType::Bytes`] or [`DType::String`] (from `bytes_list`; `String` values
/// must be valid UTF-8).
#[derive(Debug, Clone, PartialEq)]
pub enum FeatureSpec {
    /// Exactly `shape`'s number of values, reshaped to `shape` (`[]` for a scalar). A missing feature
    /// takes `default` (same dtype and number of values), or is an error without one.
    FixedLen {
        /// The values' dtype.
        dtype: DType,
        /// The shape of the parsed tensor.
        shape: Vec<usize>,
        /// The value when the feature is missing.
        default: Option<Tensor>,
    },
    /// Any number of values, as a rank-1 tensor (empty when the feature is missing). TensorFlow
    /// gives a `SparseTensor` here; its dense values are this tensor.
    VarLen {
        /// The values' dtype.
        dtype: DType,
    },
}

/// The number of values of `shape`, `None` when it overflows.
fn checked_count(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))
}

fn shape_overflows(name: &str, shape: &[usize]) -> Error {
    Error::invalid_argument(format!(
        "feature {name:?}: shape {shape:?} has more values than fit in memory"
    ))
}

impl FeatureSpec {
    /// A required fixed-length feature.
    pub fn fixed(dtype: DType, shape: impl Into<Vec<usize>>) -> Self {
        FeatureSpec::FixedLen {
            dtype,
            shape: shape.into(),
            default: None,
        }
    }

    /// A fixed-length feature with a default for records that lack it.
    pub fn fixed_with_default(dtype: DType, shape: impl Into<Vec<usize>>, default: Tensor) -> Self {
        FeatureSpec::FixedLen {
            dtype,
            shape: shape.into(),
            default: Some(default),
        }
    }

    /// A variable-length feature.
    pub fn var_len(dtype: DType) -> Self {
        FeatureSpec::VarLen { dtype }
    }

    /// The dtype of the parsed tensor.
    pub fn dtype(&self) -> DType {
        match self {
            FeatureSpec::FixedLen { dtype, .. } | FeatureSpec::VarLen { dtype } => *dtype,
        }
    }

    /// The spec of the parsed tensor (`[None]` for a var-len feature).
    pub fn tensor_spec(&self) -> TensorSpec {
        match self {
            FeatureSpec::FixedLen { dtype, shape, .. } => TensorSpec::new(*dtype, shape),
            FeatureSpec::VarLen { dtype } => TensorSpec::with_unknown(*dtype, vec![None]),
        }
    }
}

/// The list an Example stores `dtype` in, with its article.
fn list_for(dtype: DType) -> &'static str {
    match dtype {
        DType::I64 => "an int64_list",
        DType::F32 => "a float_list",
        _ => "a bytes_list",
    }
}

/// The features to parse out of each `tf.train.Example`, by name and in order: the `features`
/// argument of `tf.io.parse_single_example`, checked once. Parsing gives a dict element with one
/// component per feature, in this order.
///
/// ```
/// use slicestream::io::tfrecord::{Example, Feature, FeatureDescription, FeatureSpec};
/// use slicestream::DType;
///
/// let description = FeatureDescription::new([
///     ("label", FeatureSpec::fixed(DType::I64, [])),
///     ("score", FeatureSpec::fixed(DType::F32, [3])),
///     ("tags", FeatureSpec::var_len(DType::String)),
/// ])?;
/// let example = Example::new([
///     ("label", Feature::int64s([7])),
///     ("score", Feature::floats([0.5, 1.5, 2.5])),
/// ]);
/// let element = description.parse(&example.to_bytes())?;
/// assert_eq!(element.get("label")?.as_slice::<i64>()?, [7]);
/// assert_eq!(element.get("tags")?.shape(), [0]);
/// # Ok::<(), slicestream::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct FeatureDescription {
    features: Vec<(String, FeatureSpec)>,
    structure: Arc<Structure>,
}

impl FeatureDescription {
    /// Checks and keeps a description. Errors ([`crate::ErrorKind::InvalidArgument`]) for a name
    /// given twice, a dtype an Example cannot hold, or a default whose dtype or number of values does
    /// not fit its feature.
    pub fn new<S: Into<String>>(
        features: impl IntoIterator<Item = (S, FeatureSpec)>,
    ) -> Result<Self> {
        let mut checked: Vec<(String, FeatureSpec)> = Vec::new();
        for (name, spec) in features {
            let name = name.into();
            if checked.iter().any(|(n, _)| *n == name) {
                return Err(Error::invalid_argument(format!(
                    "feature {name:?} is described twice"
                )));
            }
            let dtype = spec.dtype();
            if !matches!(
                dtype,
                DType::I64 | DType::F32 | DType::Bytes | DType::String
            ) {
                return Err(Error::invalid_argument(format!(
                    "feature {name:?}: a tf.train.Example holds int64, float32 and bytes/string values, not {dtype}"
                )));
            }
            if let FeatureSpec::FixedLen { shape, .. } = &spec {
                // Parsing multiplies the shape out: it must fit, once, here.
                crate::tensor::alloc::bytes_for(
                    checked_count(shape).ok_or_else(|| shape_overflows(&name, shape))?,
                    8,
                    &format!("feature {name:?} of shape {shape:?}"),
                )?;
            }
            let spec = match spec {
                FeatureSpec::FixedLen {
                    dtype,
                    shape,
                    default: Some(d),
                } => {
                    if d.dtype() != dtype {
                        return Err(Error::invalid_argument(format!(
                            "feature {name:?}: the default is {}, the feature is {dtype}",
                            d.dtype()
                        )));
                    }
                    let default = d.reshape(shape.clone()).map_err(|_| {
                        Error::invalid_argument(format!(
                            "feature {name:?}: the default has shape {:?}, which does not fit the feature's shape {shape:?}",
                            d.shape()
                        ))
                    })?;
                    FeatureSpec::FixedLen {
                        dtype,
                        shape,
                        default: Some(default),
                    }
                }
                other => other,
            };
            checked.push((name, spec));
        }
        let structure = Arc::new(Structure::dict_of_tensors(
            checked.iter().map(|(n, _)| n.clone()),
        ));
        Ok(FeatureDescription {
            features: checked,
            structure,
        })
    }

    /// The features, in order.
    pub fn features(&self) -> &[(String, FeatureSpec)] {
        &self.features
    }

    /// The spec of the parsed elements: a dict of the features, in order.
    pub fn element_spec(&self) -> ElementSpec {
        ElementSpec::from_parts(
            self.structure.clone(),
            self.features.iter().map(|(_, s)| s.tensor_spec()).collect(),
        )
    }

    pub(crate) fn shared_structure(&self) -> &Arc<Structure> {
        &self.structure
    }

    /// The features of an already decoded Example as a dict element, in the description's order
    /// (for bytes, [`FeatureDescription::parse`] is faster: it decodes nothing it does not keep).
    ///
    /// Errors name the feature (in the message and as the position's component):
    /// [`crate::ErrorKind::NotFound`] for a missing feature without a default;
    /// [`crate::ErrorKind::Incompatible`] for a list of the wrong type (a `float_list` where int64 is
    /// asked for) or a fixed-length feature with the wrong number of values;
    /// [`crate::ErrorKind::Format`] for a `String` feature whose bytes are not UTF-8. (The dataset
    /// sources add the file, record index and byte offset.) A feature whose `kind` is not set counts
    /// as missing, as in TensorFlow.
    pub fn parse_example(&self, example: &Example) -> Result<Element> {
        let map = example.features.as_ref().map(|f| &f.feature);
        let components = self
            .features
            .iter()
            .map(|(name, spec)| {
                let kind = map.and_then(|m| m.get(name)).and_then(|f| f.kind.as_ref());
                parse_feature(name, spec, kind).map_err(|e| e.with_component(name.as_str()))
            })
            .collect::<Result<Vec<_>>>()?;
        Element::from_shared(self.structure.clone(), components)
    }
}

fn parse_feature(name: &str, spec: &FeatureSpec, kind: Option<&FeatureKind>) -> Result<Tensor> {
    match spec {
        FeatureSpec::VarLen { dtype } => match kind {
            Some(kind) => values(name, *dtype, kind),
            None => Tensor::zeros(*dtype, [0]),
        },
        FeatureSpec::FixedLen {
            dtype,
            shape,
            default,
        } => {
            let Some(kind) = kind else {
                return default.clone().ok_or_else(|| {
                    Error::not_found(format!(
                        "feature {name:?} ({dtype}, shape {shape:?}) is required but missing from the Example (give its FeatureSpec a default to make it optional)"
                    ))
                });
            };
            let v = values(name, *dtype, kind)?;
            let n: usize = shape.iter().product();
            if v.num_elements() != n {
                return Err(Error::incompatible(format!(
                    "feature {name:?} has {} values, but its fixed shape {shape:?} needs {n}",
                    v.num_elements()
                )));
            }
            v.reshape(shape.clone())
        }
    }
}

/// The values of one feature as a rank-1 tensor of `dtype`.
fn values(name: &str, dtype: DType, kind: &FeatureKind) -> Result<Tensor> {
    match (dtype, kind) {
        (DType::I64, FeatureKind::Int64List(l)) => Ok(Tensor::from_vec1(l.value.clone())),
        (DType::F32, FeatureKind::FloatList(l)) => Ok(Tensor::from_vec1(l.value.clone())),
        (DType::Bytes, FeatureKind::BytesList(l)) => {
            Tensor::from_byte_strings([l.value.len()], &l.value)
        }
        (DType::String, FeatureKind::BytesList(l)) => {
            let strings = l
                .value
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    std::str::from_utf8(v).map_err(|e| {
                        Error::format(format!(
                            "feature {name:?}: value {i} is not valid UTF-8 ({e}); parse it as DType::Bytes to keep the raw bytes"
                        ))
                    })
                })
                .collect::<Result<Vec<&str>>>()?;
            Tensor::from_strings([strings.len()], strings)
        }
        (_, kind) => Err(Error::incompatible(format!(
            "feature {name:?} holds a {}, but it was described as {dtype}, which needs {}",
            kind.list_name(),
            list_for(dtype)
        ))),
    }
}
