//! Parsing serialized Examples straight into column buffers (see [`super::wire`]): one record
//! ([`FeatureDescription::parse`]) or a batch of records into batched tensors
//! ([`FeatureDescription::parse_batch`], TensorFlow's `parse_example`).

use arrow_buffer::{Buffer, MutableBuffer, ScalarBuffer};

use super::wire::{feature_list, scan_example, FeatureValues, ListKind};
use super::{FeatureDescription, FeatureSpec};
use crate::element::Element;
use crate::error::{Error, Result};
use crate::tensor::{DType, Tensor};

/// The values of one feature for the records parsed so far.
pub(crate) enum Column {
    /// Native `f32` bytes.
    F32(MutableBuffer),
    I64(Vec<i64>),
    Var {
        dtype: DType,
        offsets: Vec<i64>,
        values: Vec<u8>,
    },
}

/// The most values a column reserves before it sees the records.
const MAX_PREALLOCATED_VALUES: usize = 1 << 24;

impl Column {
    /// An empty column with room for `capacity` values, reserved up to a bound: the capacity comes
    /// from the features' shapes (an argument), and the records decide the rest.
    fn new(dtype: DType, capacity: usize) -> Column {
        let capacity = capacity.min(MAX_PREALLOCATED_VALUES);
        match dtype {
            DType::F32 => Column::F32(MutableBuffer::with_capacity(capacity * 4)),
            DType::I64 => Column::I64(Vec::with_capacity(capacity)),
            _ => {
                let mut offsets = Vec::with_capacity(capacity + 1);
                offsets.push(0);
                Column::Var {
                    dtype,
                    offsets,
                    values: Vec::new(),
                }
            }
        }
    }

    /// Appends `n` values of `list`, checked against the column's dtype.
    fn push_list(&mut self, name: &str, list: &FeatureValues, n: usize) -> Result<()> {
        let wire = |e: String| {
            Error::format(format!(
                "feature {name:?} is not a valid {}: {e}",
                list.kind.name()
            ))
        };
        match self {
            Column::F32(v) => {
                v.reserve(n * 4);
                list.floats_extend(v).map_err(wire)
            }
            Column::I64(v) => {
                v.reserve(n);
                list.int64s_extend(v).map_err(wire)
            }
            Column::Var {
                dtype,
                offsets,
                values,
            } => {
                let utf8 = *dtype == DType::String;
                let mut bad: Option<(usize, std::str::Utf8Error)> = None;
                let mut i = 0;
                list.each_bytes(|b| {
                    if utf8 && bad.is_none() {
                        if let Err(e) = std::str::from_utf8(b) {
                            bad = Some((i, e));
                        }
                    }
                    values.extend_from_slice(b);
                    offsets.push(values.len() as i64);
                    i += 1;
                    Ok(())
                })
                .map_err(wire)?;
                match bad {
                    None => Ok(()),
                    Some((i, e)) => Err(Error::format(format!(
                        "feature {name:?}: value {i} is not valid UTF-8 ({e}); parse it as DType::Bytes to keep the raw bytes"
                    ))),
                }
            }
        }
    }

    /// Appends a default tensor's values.
    fn push_tensor(&mut self, t: &Tensor) -> Result<()> {
        match self {
            Column::F32(v) => v.extend_from_slice(t.as_slice::<f32>()?),
            Column::I64(v) => v.extend_from_slice(t.as_slice::<i64>()?),
            Column::Var {
                offsets, values, ..
            } => {
                for i in 0..t.num_elements() {
                    values.extend_from_slice(t.bytes_at(i)?);
                    offsets.push(values.len() as i64);
                }
            }
        }
        Ok(())
    }

    fn into_tensor(self, shape: Vec<usize>) -> Result<Tensor> {
        match self {
            Column::F32(v) => Tensor::from_buffer(DType::F32, shape, v.into()),
            Column::I64(v) => Tensor::from_vec(shape, v),
            Column::Var {
                dtype,
                offsets,
                values,
            } => Tensor::from_var_parts(
                dtype,
                shape,
                ScalarBuffer::from(offsets),
                Buffer::from_vec(values),
            ),
        }
    }
}

fn kind_of(dtype: DType) -> ListKind {
    match dtype {
        DType::F32 => ListKind::Float,
        DType::I64 => ListKind::Int64,
        _ => ListKind::Bytes,
    }
}

fn article(kind: ListKind) -> &'static str {
    match kind {
        ListKind::Int64 => "an int64_list",
        ListKind::Float => "a float_list",
        ListKind::Bytes => "a bytes_list",
    }
}

impl FeatureDescription {
    fn names(&self) -> Vec<&str> {
        self.features().iter().map(|(n, _)| n.as_str()).collect()
    }

    /// Parses one record into `columns` (one per feature); the number of values of each.
    fn parse_into(
        &self,
        bytes: &[u8],
        names: &[&str],
        columns: &mut [Column],
    ) -> Result<Vec<usize>> {
        let mut found: Vec<Option<&[u8]>> = vec![None; names.len()];
        scan_example(bytes, names, &mut found).map_err(|e| {
            Error::format(format!(
                "{} bytes are not a valid tf.train.Example: {e}",
                bytes.len()
            ))
        })?;
        let mut counts = Vec::with_capacity(names.len());
        for (((name, spec), feature), column) in
            self.features().iter().zip(&found).zip(columns.iter_mut())
        {
            let at = |e: Error| e.with_component(name.as_str());
            let list = match feature {
                Some(f) => feature_list(f).map_err(|e| {
                    at(Error::format(format!(
                        "feature {name:?} is not a valid Feature: {e}"
                    )))
                })?,
                None => None,
            };
            let dtype = spec.dtype();
            if let Some(list) = &list {
                if list.kind != kind_of(dtype) {
                    return Err(at(Error::incompatible(format!(
                        "feature {name:?} holds a {}, but it was described as {dtype}, which needs {}",
                        list.kind.name(),
                        article(kind_of(dtype))
                    ))));
                }
            }
            let count = match &list {
                Some(l) => l.count().map_err(|e| {
                    at(Error::format(format!(
                        "feature {name:?} is not a valid {}: {e}",
                        l.kind.name()
                    )))
                })?,
                None => 0,
            };
            match (spec, &list) {
                (FeatureSpec::VarLen { .. }, Some(l)) => column.push_list(name, l, count).map_err(at)?,
                (FeatureSpec::VarLen { .. }, None) => {}
                (FeatureSpec::FixedLen { shape, .. }, Some(l)) => {
                    let n: usize = shape.iter().product();
                    if count != n {
                        return Err(at(Error::incompatible(format!(
                            "feature {name:?} has {count} values, but its fixed shape {shape:?} needs {n}"
                        ))));
                    }
                    column.push_list(name, l, n).map_err(at)?;
                }
                (FeatureSpec::FixedLen { shape, default, .. }, None) => match default {
                    Some(d) => column.push_tensor(d).map_err(at)?,
                    None => {
                        return Err(at(Error::not_found(format!(
                            "feature {name:?} ({dtype}, shape {shape:?}) is required but missing from the Example (give its FeatureSpec a default to make it optional)"
                        ))))
                    }
                },
            }
            counts.push(match spec {
                FeatureSpec::FixedLen { shape, .. } => shape.iter().product(),
                FeatureSpec::VarLen { .. } => count,
            });
        }
        Ok(counts)
    }

    /// Parses one serialized `tf.train.Example` straight from its bytes (`tf.io.parse_single_example`):
    /// a dict element with one component per feature, in the description's order.
    ///
    /// Errors name the feature (in the message and as the position's component):
    /// [`crate::ErrorKind::NotFound`] for a missing feature without a default;
    /// [`crate::ErrorKind::Incompatible`] for a list of the wrong type (a `float_list` where int64 is
    /// asked for) or a fixed-length feature with the wrong number of values;
    /// [`crate::ErrorKind::Format`] for bytes that are not an Example, or a `String` feature whose
    /// bytes are not UTF-8. (The dataset sources add the file, record index and byte offset.) A
    /// feature whose `kind` is not set counts as missing, as in TensorFlow.
    pub fn parse(&self, bytes: &[u8]) -> Result<Element> {
        let names = self.names();
        let mut columns: Vec<Column> = self
            .features()
            .iter()
            .map(|(_, s)| Column::new(s.dtype(), fixed_len(s).unwrap_or(0)))
            .collect();
        let counts = self.parse_into(bytes, &names, &mut columns)?;
        let tensors = columns
            .into_iter()
            .zip(self.features())
            .zip(counts)
            .map(|((c, (_, spec)), count)| match spec {
                FeatureSpec::FixedLen { shape, .. } => c.into_tensor(shape.clone()),
                FeatureSpec::VarLen { .. } => c.into_tensor(vec![count]),
            })
            .collect::<Result<Vec<_>>>()?;
        Element::from_shared(self.shared_structure().clone(), tensors)
    }

    /// Parses a batch of serialized Examples — a rank-1 `bytes` (or `string`) tensor of `n` records,
    /// as `Dataset::from_tfrecord(..).batch(n)` yields — into one dict element of batched
    /// components `[n, ...shape]` (TensorFlow's `tf.io.parse_example`), writing every record's
    /// values straight into one buffer per feature.
    ///
    /// Every feature must be fixed-length ([`crate::ErrorKind::InvalidArgument`] otherwise: a batch
    /// of var-len features is ragged; parse records one by one and use
    /// [`crate::Dataset::padded_batch`]). A bad record is an error as [`FeatureDescription::parse`]
    /// gives, its index in the batch as the position's `record`.
    pub fn parse_batch(&self, records: &Tensor) -> Result<Element> {
        if !matches!(records.dtype(), DType::Bytes | DType::String) || records.rank() != 1 {
            return Err(Error::invalid_argument(format!(
                "parse_batch takes a rank-1 tensor of serialized Examples, not {} {:?}",
                records.dtype(),
                records.shape()
            )));
        }
        self.check_fixed("parse_batch")?;
        let n = records.shape()[0];
        let records = (0..n).map(|i| records.bytes_at(i));
        self.parse_many(n, records, |i, e| e.with_record(i as u64))
    }

    /// Parses `n` records (fixed-length features only, checked by the caller) into one batch;
    /// `at(i, e)` adds where record `i` is to its error.
    pub(crate) fn parse_many<'a>(
        &self,
        n: usize,
        records: impl Iterator<Item = Result<&'a [u8]>>,
        at: impl Fn(usize, Error) -> Error,
    ) -> Result<Element> {
        let names = self.names();
        let mut columns: Vec<Column> = self
            .features()
            .iter()
            .map(|(_, s)| Column::new(s.dtype(), n * fixed_len(s).unwrap_or(0)))
            .collect();
        let mut rows = 0;
        for (i, record) in records.enumerate() {
            record
                .and_then(|r| self.parse_into(r, &names, &mut columns))
                .map_err(|e| at(i, e))?;
            rows += 1;
        }
        let tensors = columns
            .into_iter()
            .zip(self.features())
            .map(|(c, (_, spec))| {
                let mut shape = vec![rows];
                if let FeatureSpec::FixedLen { shape: s, .. } = spec {
                    shape.extend_from_slice(s);
                }
                c.into_tensor(shape)
            })
            .collect::<Result<Vec<_>>>()?;
        Element::from_shared(self.shared_structure().clone(), tensors)
    }

    /// Checks that every feature is fixed-length (what batch parsing needs).
    pub(crate) fn check_fixed(&self, what: &str) -> Result<()> {
        for (name, spec) in self.features() {
            if fixed_len(spec).is_none() {
                return Err(Error::invalid_argument(format!(
                    "{what} needs fixed-length features; {name:?} is var-len"
                ))
                .with_component(name.as_str()));
            }
        }
        Ok(())
    }
}

/// The number of values of a fixed-length feature.
fn fixed_len(spec: &FeatureSpec) -> Option<usize> {
    match spec {
        FeatureSpec::FixedLen { shape, .. } => Some(shape.iter().product()),
        FeatureSpec::VarLen { .. } => None,
    }
}
