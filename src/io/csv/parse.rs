//! Cells to values: one typed column buffer per component, filled row by row, frozen into tensors.

use half::{bf16, f16};

use crate::error::Result;
use crate::tensor::{DType, Tensor};

/// Why a cell does not parse as a dtype (the caller adds the row and column).
pub(crate) type CellError = String;

fn text(cell: &[u8]) -> std::result::Result<&str, CellError> {
    std::str::from_utf8(cell).map_err(|e| {
        format!(
            "{:?} is not valid UTF-8 ({e})",
            String::from_utf8_lossy(cell)
        )
    })
}

fn numeric<T: std::str::FromStr>(cell: &[u8], dtype: DType) -> std::result::Result<T, CellError>
where
    T::Err: std::fmt::Display,
{
    let s = text(cell)?;
    s.trim()
        .parse::<T>()
        .map_err(|e| format!("cannot parse {s:?} as {dtype}: {e}"))
}

fn boolean(cell: &[u8]) -> std::result::Result<bool, CellError> {
    let s = text(cell)?;
    let t = s.trim();
    if t.eq_ignore_ascii_case("true") || t == "1" {
        Ok(true)
    } else if t.eq_ignore_ascii_case("false") || t == "0" {
        Ok(false)
    } else {
        Err(format!(
            "cannot parse {s:?} as bool: expected true, false, 1 or 0"
        ))
    }
}

/// The values of one component for a run of rows.
pub(crate) enum Builder {
    Bool(Vec<bool>),
    U8(Vec<u8>),
    U16(Vec<u16>),
    U32(Vec<u32>),
    U64(Vec<u64>),
    I8(Vec<i8>),
    I16(Vec<i16>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    F16(Vec<f16>),
    BF16(Vec<bf16>),
    F32(Vec<f32>),
    F64(Vec<f64>),
    Var {
        dtype: DType,
        offsets: Vec<i64>,
        values: Vec<u8>,
    },
}

impl Builder {
    /// An empty buffer for `capacity` values of `dtype`.
    /// The capacity comes from the batch size (an argument): it is reserved up to a bound.
    pub(crate) fn new(dtype: DType, capacity: usize) -> Builder {
        let c = capacity.min(1 << 24);
        match dtype {
            DType::Bool => Builder::Bool(Vec::with_capacity(c)),
            DType::U8 => Builder::U8(Vec::with_capacity(c)),
            DType::U16 => Builder::U16(Vec::with_capacity(c)),
            DType::U32 => Builder::U32(Vec::with_capacity(c)),
            DType::U64 => Builder::U64(Vec::with_capacity(c)),
            DType::I8 => Builder::I8(Vec::with_capacity(c)),
            DType::I16 => Builder::I16(Vec::with_capacity(c)),
            DType::I32 => Builder::I32(Vec::with_capacity(c)),
            DType::I64 => Builder::I64(Vec::with_capacity(c)),
            DType::F16 => Builder::F16(Vec::with_capacity(c)),
            DType::BF16 => Builder::BF16(Vec::with_capacity(c)),
            DType::F32 => Builder::F32(Vec::with_capacity(c)),
            DType::F64 => Builder::F64(Vec::with_capacity(c)),
            DType::String | DType::Bytes => {
                let mut offsets = Vec::with_capacity(c + 1);
                offsets.push(0);
                Builder::Var {
                    dtype,
                    offsets,
                    values: Vec::new(),
                }
            }
        }
    }

    /// Parses `cell` and appends its value; on error nothing is appended.
    pub(crate) fn push(&mut self, cell: &[u8]) -> std::result::Result<(), CellError> {
        match self {
            Builder::Bool(v) => v.push(boolean(cell)?),
            Builder::U8(v) => v.push(numeric(cell, DType::U8)?),
            Builder::U16(v) => v.push(numeric(cell, DType::U16)?),
            Builder::U32(v) => v.push(numeric(cell, DType::U32)?),
            Builder::U64(v) => v.push(numeric(cell, DType::U64)?),
            Builder::I8(v) => v.push(numeric(cell, DType::I8)?),
            Builder::I16(v) => v.push(numeric(cell, DType::I16)?),
            Builder::I32(v) => v.push(numeric(cell, DType::I32)?),
            Builder::I64(v) => v.push(numeric(cell, DType::I64)?),
            Builder::F16(v) => v.push(f16::from_f32(numeric::<f32>(cell, DType::F16)?)),
            Builder::BF16(v) => v.push(bf16::from_f32(numeric::<f32>(cell, DType::BF16)?)),
            Builder::F32(v) => v.push(numeric(cell, DType::F32)?),
            Builder::F64(v) => v.push(numeric(cell, DType::F64)?),
            Builder::Var {
                dtype,
                offsets,
                values,
            } => {
                if *dtype == DType::String {
                    text(cell)?;
                }
                values.extend_from_slice(cell);
                offsets.push(values.len() as i64);
            }
        }
        Ok(())
    }

    /// Keeps the first `n` values (drops those of a row that failed half way).
    pub(crate) fn truncate(&mut self, n: usize) {
        match self {
            Builder::Bool(v) => v.truncate(n),
            Builder::U8(v) => v.truncate(n),
            Builder::U16(v) => v.truncate(n),
            Builder::U32(v) => v.truncate(n),
            Builder::U64(v) => v.truncate(n),
            Builder::I8(v) => v.truncate(n),
            Builder::I16(v) => v.truncate(n),
            Builder::I32(v) => v.truncate(n),
            Builder::I64(v) => v.truncate(n),
            Builder::F16(v) => v.truncate(n),
            Builder::BF16(v) => v.truncate(n),
            Builder::F32(v) => v.truncate(n),
            Builder::F64(v) => v.truncate(n),
            Builder::Var {
                offsets, values, ..
            } => {
                offsets.truncate(n + 1);
                values.truncate(offsets.last().copied().unwrap_or(0) as usize);
            }
        }
    }

    /// The values so far as a tensor of `shape` (whose size the caller has made the count), leaving
    /// the builder empty with room for `capacity` values.
    pub(crate) fn take(&mut self, shape: Vec<usize>, capacity: usize) -> Result<Tensor> {
        fn out<T: crate::TensorElement>(
            v: &mut Vec<T>,
            shape: Vec<usize>,
            capacity: usize,
        ) -> Result<Tensor> {
            Tensor::from_vec(
                shape,
                std::mem::replace(v, Vec::with_capacity(capacity.min(1 << 24))),
            )
        }
        match self {
            Builder::Bool(v) => out(v, shape, capacity),
            Builder::U8(v) => out(v, shape, capacity),
            Builder::U16(v) => out(v, shape, capacity),
            Builder::U32(v) => out(v, shape, capacity),
            Builder::U64(v) => out(v, shape, capacity),
            Builder::I8(v) => out(v, shape, capacity),
            Builder::I16(v) => out(v, shape, capacity),
            Builder::I32(v) => out(v, shape, capacity),
            Builder::I64(v) => out(v, shape, capacity),
            Builder::F16(v) => out(v, shape, capacity),
            Builder::BF16(v) => out(v, shape, capacity),
            Builder::F32(v) => out(v, shape, capacity),
            Builder::F64(v) => out(v, shape, capacity),
            Builder::Var {
                dtype,
                offsets,
                values,
            } => {
                let mut fresh = Vec::with_capacity(capacity.min(1 << 24) + 1);
                fresh.push(0);
                let offsets = std::mem::replace(offsets, fresh);
                let values = std::mem::take(values);
                Tensor::from_var_parts(
                    *dtype,
                    shape,
                    arrow_buffer::ScalarBuffer::from(offsets),
                    arrow_buffer::Buffer::from_vec(values),
                )
            }
        }
    }
}

/// Whether `cell` parses as `dtype` (for checking defaults up front).
pub(crate) fn check_cell(dtype: DType, cell: &[u8]) -> std::result::Result<(), CellError> {
    Builder::new(dtype, 1).push(cell)
}

// ----- type inference, tf.data's rule ---------------------------------------------------------------

/// The types inference tries, least permissive first (tf.data's `_infer_type`).
const LATTICE: [DType; 5] = [
    DType::I32,
    DType::I64,
    DType::F32,
    DType::F64,
    DType::String,
];

fn fits(dtype: DType, s: &str) -> bool {
    match dtype {
        DType::I32 => s.trim().parse::<i32>().is_ok(),
        DType::I64 => s.trim().parse::<i64>().is_ok(),
        // numpy's float32(s) < inf: "inf" and values beyond float32's range do not fit.
        DType::F32 => s.trim().parse::<f32>().is_ok_and(|v| v < f32::INFINITY),
        DType::F64 => s.trim().parse::<f64>().is_ok_and(|v| v < f64::INFINITY),
        _ => true,
    }
}

/// The type of a column after seeing `cell`, given what it was before (`None`: no value yet).
/// Missing cells (empty or the NA value) change nothing.
pub(crate) fn infer(cell: &[u8], na_value: &str, previous: Option<DType>) -> Option<DType> {
    if cell.is_empty() || cell == na_value.as_bytes() {
        return previous;
    }
    let Ok(s) = std::str::from_utf8(cell) else {
        return Some(DType::String);
    };
    let floor = previous
        .and_then(|p| LATTICE.iter().position(|&d| d == p))
        .unwrap_or(0);
    LATTICE[floor..].iter().copied().find(|&d| fits(d, s))
}

/// The widest of two inferred types (for a group of columns).
pub(crate) fn widest(a: DType, b: DType) -> DType {
    let rank = |d: DType| {
        LATTICE
            .iter()
            .position(|&x| x == d)
            .unwrap_or(LATTICE.len())
    };
    if rank(a) >= rank(b) {
        a
    } else {
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inference_follows_tf() {
        let run = |cells: &[&str]| cells.iter().fold(None, |p, c| infer(c.as_bytes(), "NA", p));
        assert_eq!(run(&["1", "2"]), Some(DType::I32));
        assert_eq!(run(&["1", "3000000000"]), Some(DType::I64));
        assert_eq!(run(&["1", "2.5"]), Some(DType::F32));
        assert_eq!(run(&["1e39"]), Some(DType::F64));
        assert_eq!(run(&["inf"]), Some(DType::String));
        assert_eq!(run(&["2.5", "7"]), Some(DType::F32));
        assert_eq!(run(&["", "NA"]), None);
        assert_eq!(run(&["x", "1"]), Some(DType::String));
    }

    #[test]
    fn cells_parse_or_say_why() {
        let mut b = Builder::new(DType::U8, 4);
        b.push(b" 7 ").unwrap();
        assert!(b.push(b"300").unwrap_err().contains("uint8"));
        assert!(b.push(b"x").unwrap_err().contains("\"x\""));
        let t = b.take(vec![1], 4).unwrap();
        assert_eq!(t.as_slice::<u8>().unwrap(), [7]);
        let mut b = Builder::new(DType::Bool, 2);
        b.push(b"True").unwrap();
        b.push(b"0").unwrap();
        assert!(b.push(b"yes").is_err());
        let mut s = Builder::new(DType::String, 1);
        assert!(s.push(&[0xff]).unwrap_err().contains("UTF-8"));
    }
}
