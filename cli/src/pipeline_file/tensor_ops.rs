//! Elementwise tensor arithmetic for pipeline-file functions, with TensorFlow's rules: integer
//! arithmetic wraps in the tensor's dtype, `%` is floor modulo, `/` on integers gives floats, scalars
//! broadcast.

use super::expr::{BinOp, Expr};
use slicestream::error::{Error, Result};
use slicestream::tensor::{DType, Tensor};

/// One value, wide enough for every dtype.
#[derive(Clone, Copy, Debug)]
enum Num {
    I(i128),
    F(f64),
}

impl Num {
    fn as_f64(self) -> f64 {
        match self {
            Num::I(v) => v as f64,
            Num::F(v) => v,
        }
    }
}

fn to_nums(t: &Tensor) -> Result<Vec<Num>> {
    macro_rules! ints {
        ($ty:ty) => {
            t.as_slice::<$ty>()?
                .iter()
                .map(|&v| Num::I(v as i128))
                .collect()
        };
    }
    Ok(match t.dtype() {
        DType::Bool => t
            .as_slice::<bool>()?
            .iter()
            .map(|&v| Num::I(v as i128))
            .collect(),
        DType::U8 => ints!(u8),
        DType::U16 => ints!(u16),
        DType::U32 => ints!(u32),
        DType::U64 => ints!(u64),
        DType::I8 => ints!(i8),
        DType::I16 => ints!(i16),
        DType::I32 => ints!(i32),
        DType::I64 => ints!(i64),
        DType::F16 => t
            .as_slice::<half::f16>()?
            .iter()
            .map(|v| Num::F(v.to_f64()))
            .collect(),
        DType::BF16 => t
            .as_slice::<half::bf16>()?
            .iter()
            .map(|v| Num::F(v.to_f64()))
            .collect(),
        DType::F32 => t
            .as_slice::<f32>()?
            .iter()
            .map(|&v| Num::F(v as f64))
            .collect(),
        DType::F64 => t.as_slice::<f64>()?.iter().map(|&v| Num::F(v)).collect(),
        d => {
            return Err(Error::invalid_argument(format!(
                "arithmetic on {d} tensors is not supported"
            )))
        }
    })
}

/// Values into a tensor of `dtype`: integers wrap (keep the low bits), floats round, bool is `!= 0`.
fn from_nums(dtype: DType, shape: Vec<usize>, v: &[Num]) -> Result<Tensor> {
    macro_rules! ints {
        ($ty:ty) => {
            Tensor::from_vec(
                shape,
                v.iter()
                    .map(|n| match *n {
                        Num::I(i) => i as $ty,
                        Num::F(f) => f as $ty,
                    })
                    .collect::<Vec<$ty>>(),
            )
        };
    }
    match dtype {
        DType::Bool => Tensor::from_vec(
            shape,
            v.iter().map(|n| n.as_f64() != 0.0).collect::<Vec<bool>>(),
        ),
        DType::U8 => ints!(u8),
        DType::U16 => ints!(u16),
        DType::U32 => ints!(u32),
        DType::U64 => ints!(u64),
        DType::I8 => ints!(i8),
        DType::I16 => ints!(i16),
        DType::I32 => ints!(i32),
        DType::I64 => ints!(i64),
        DType::F16 => Tensor::from_vec(
            shape,
            v.iter()
                .map(|n| half::f16::from_f64(n.as_f64()))
                .collect::<Vec<_>>(),
        ),
        DType::BF16 => Tensor::from_vec(
            shape,
            v.iter()
                .map(|n| half::bf16::from_f64(n.as_f64()))
                .collect::<Vec<_>>(),
        ),
        DType::F32 => Tensor::from_vec(
            shape,
            v.iter().map(|n| n.as_f64() as f32).collect::<Vec<f32>>(),
        ),
        DType::F64 => Tensor::from_vec(shape, v.iter().map(|n| n.as_f64()).collect::<Vec<f64>>()),
        d => Err(Error::invalid_argument(format!(
            "cannot make {d} values from numbers"
        ))),
    }
}

/// The float dtype of integer true division, as TensorFlow picks it.
pub(crate) fn true_div_dtype(d: DType) -> DType {
    match d {
        DType::I8 | DType::I16 | DType::U8 | DType::U16 => DType::F32,
        _ => DType::F64,
    }
}

/// A literal as a scalar tensor of `dtype`.
pub(crate) fn literal(value: &Expr, dtype: DType) -> Result<Tensor> {
    let n = match value {
        Expr::Int(v) => Num::I(*v as i128),
        Expr::Float(v) => Num::F(*v),
        Expr::Bool(b) => Num::I(*b as i128),
        Expr::Neg(inner) => {
            let t = literal(inner, dtype)?;
            return negate(&t);
        }
        other => {
            return Err(Error::invalid_argument(format!(
                "{other:?} is not a literal"
            )))
        }
    };
    if let (Num::F(f), true) = (n, dtype.is_integer()) {
        return Err(Error::incompatible(format!(
            "the float {f} cannot combine with a {dtype} tensor"
        )));
    }
    from_nums(dtype, Vec::new(), &[n])
}

fn floor_div_i(a: i128, b: i128) -> Result<i128> {
    if b == 0 {
        return Err(Error::invalid_argument("Integer division by zero"));
    }
    let q = a.wrapping_div(b);
    Ok(if (a % b != 0) && ((a < 0) != (b < 0)) {
        q - 1
    } else {
        q
    })
}

fn floor_mod_i(a: i128, b: i128) -> Result<i128> {
    if b == 0 {
        return Err(Error::invalid_argument("Integer division by zero"));
    }
    let r = a.wrapping_rem(b);
    Ok(if r != 0 && ((r < 0) != (b < 0)) {
        r + b
    } else {
        r
    })
}

fn floor_mod_f(a: f64, b: f64) -> f64 {
    let r = a % b;
    if r != 0.0 && ((r < 0.0) != (b < 0.0)) {
        r + b
    } else {
        r
    }
}

/// `a op b` elementwise; a scalar operand broadcasts. Operands must share a dtype.
pub(crate) fn binary(op: BinOp, a: &Tensor, b: &Tensor) -> Result<Tensor> {
    if a.dtype() != b.dtype() {
        return Err(Error::incompatible(format!(
            "cannot compute {op:?} of a {} tensor and a {} tensor",
            a.dtype(),
            b.dtype()
        )));
    }
    let shape = if a.rank() == 0 {
        b.shape().to_vec()
    } else if b.rank() == 0 || a.shape() == b.shape() {
        a.shape().to_vec()
    } else {
        return Err(Error::incompatible(format!(
            "Incompatible shapes: {:?} vs. {:?}",
            a.shape(),
            b.shape()
        )));
    };
    let (va, vb) = (to_nums(a)?, to_nums(b)?);
    let n: usize = shape.iter().product();
    let at = |v: &[Num], i: usize| if v.len() == 1 { v[0] } else { v[i] };
    let is_float = a.dtype().is_float();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let (x, y) = (at(&va, i), at(&vb, i));
        let r = match (op, x, y, is_float) {
            (BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Gt | BinOp::Le | BinOp::Ge, _, _, _) => {
                let ord = match (x, y) {
                    (Num::I(p), Num::I(q)) => p.partial_cmp(&q),
                    _ => x.as_f64().partial_cmp(&y.as_f64()),
                };
                use std::cmp::Ordering::*;
                let t = match op {
                    BinOp::Eq => ord == Some(Equal),
                    BinOp::Ne => ord != Some(Equal),
                    BinOp::Lt => ord == Some(Less),
                    BinOp::Gt => ord == Some(Greater),
                    BinOp::Le => matches!(ord, Some(Less | Equal)),
                    _ => matches!(ord, Some(Greater | Equal)),
                };
                Num::I(t as i128)
            }
            (BinOp::Div, _, _, _) => Num::F(x.as_f64() / y.as_f64()),
            (BinOp::Max | BinOp::Min, Num::I(p), Num::I(q), false) => {
                Num::I(if op == BinOp::Max { p.max(q) } else { p.min(q) })
            }
            (BinOp::Max | BinOp::Min, _, _, _) => {
                let (p, q) = (x.as_f64(), y.as_f64());
                Num::F(if p.is_nan() || q.is_nan() {
                    f64::NAN
                } else if op == BinOp::Max {
                    p.max(q)
                } else {
                    p.min(q)
                })
            }
            (_, Num::I(p), Num::I(q), false) => Num::I(match op {
                BinOp::Add => p.wrapping_add(q),
                BinOp::Sub => p.wrapping_sub(q),
                BinOp::Mul => p.wrapping_mul(q),
                BinOp::FloorDiv => floor_div_i(p, q)?,
                _ => floor_mod_i(p, q)?,
            }),
            _ => {
                let (p, q) = (x.as_f64(), y.as_f64());
                Num::F(match op {
                    BinOp::Add => p + q,
                    BinOp::Sub => p - q,
                    BinOp::Mul => p * q,
                    BinOp::FloorDiv => (p / q).floor(),
                    _ => floor_mod_f(p, q),
                })
            }
        };
        out.push(r);
    }
    let dtype = if op.is_comparison() {
        DType::Bool
    } else if op == BinOp::Div && !is_float {
        true_div_dtype(a.dtype())
    } else {
        a.dtype()
    };
    from_nums(dtype, shape, &out)
}

/// `-a` elementwise (wrapping for integers).
pub(crate) fn negate(a: &Tensor) -> Result<Tensor> {
    let v: Vec<Num> = to_nums(a)?
        .into_iter()
        .map(|n| match n {
            Num::I(i) => Num::I(i.wrapping_neg()),
            Num::F(f) => Num::F(-f),
        })
        .collect();
    from_nums(a.dtype(), a.shape().to_vec(), &v)
}

/// `tf.fill(dims, value)`: each dim a scalar integer tensor.
pub(crate) fn fill(dims: &[&Tensor], value: &Tensor) -> Result<Tensor> {
    let shape = dims
        .iter()
        .map(|d| match to_nums(d)?.as_slice() {
            [Num::I(n)] if *n >= 0 => Ok(*n as usize),
            // tf.fill truncates float dimensions.
            [Num::F(f)] if *f >= 0.0 => Ok(*f as usize),
            _ => Err(Error::invalid_argument(format!(
                "fill: a dimension must be a non-negative integer scalar, got {d:?}"
            ))),
        })
        .collect::<Result<Vec<_>>>()?;
    Tensor::full(shape, value)
}

/// `tf.cast(a, dtype)`.
pub fn cast(a: &Tensor, dtype: DType) -> Result<Tensor> {
    if a.dtype() == dtype {
        return Ok(a.clone());
    }
    from_nums(dtype, a.shape().to_vec(), &to_nums(a)?)
}

/// `tf.strings.as_string(a)`: integers in decimal, floats with six decimals, bools as `true`/`false`.
pub(crate) fn as_string(a: &Tensor) -> Result<Tensor> {
    if a.dtype().is_variable_width() {
        return Ok(a.clone());
    }
    let texts: Vec<String> = match a.dtype() {
        DType::Bool => a
            .as_slice::<bool>()?
            .iter()
            .map(|b| b.to_string())
            .collect(),
        d if d.is_float() => to_nums(a)?
            .iter()
            .map(|n| format!("{:.6}", n.as_f64()))
            .collect(),
        _ => to_nums(a)?
            .iter()
            .map(|n| match n {
                Num::I(i) => i.to_string(),
                Num::F(f) => f.to_string(),
            })
            .collect(),
    };
    Tensor::from_strings(a.shape().to_vec(), texts)
}

/// `tf.shape(a)[0]`: the first dimension, an int32 scalar.
pub(crate) fn len(a: &Tensor) -> Result<Tensor> {
    let first = *a
        .shape()
        .first()
        .ok_or_else(|| Error::invalid_argument("len of a scalar: it has no first dimension"))?;
    let first = i32::try_from(first)
        .map_err(|_| Error::invalid_argument(format!("len: {first} does not fit in int32")))?;
    Ok(Tensor::scalar(first))
}

/// `tf.strings.to_number(a)` (to float32): each string, spaces around it ignored, read as a
/// decimal or `0x` hexadecimal number (`inf` and `nan` too); any other text is an error, as
/// TensorFlow's `StringToNumberOp`.
pub(crate) fn string_to_number(a: &Tensor) -> Result<Tensor> {
    if a.dtype() != DType::String {
        return Err(Error::incompatible(format!(
            "string_to_number takes a string tensor, not {}",
            a.dtype()
        )));
    }
    let values = a
        .string_values()?
        .into_iter()
        .map(|text| {
            parse_number(text.trim()).ok_or_else(|| {
                Error::invalid_argument(format!(
                    "StringToNumberOp could not correctly convert string: {text}"
                ))
            })
        })
        .collect::<Result<Vec<f32>>>()?;
    Tensor::from_vec(a.shape().to_vec(), values)
}

/// A number as `absl::SimpleAtof` reads one: decimal (with an optional sign, fraction and
/// exponent, `inf`, `nan`) or `0x` hexadecimal.
fn parse_number(text: &str) -> Option<f32> {
    let (negative, unsigned) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if let Some(hex) = unsigned
        .strip_prefix("0x")
        .or_else(|| unsigned.strip_prefix("0X"))
    {
        let v = u64::from_str_radix(hex, 16).ok()? as f32;
        return Some(if negative { -v } else { v });
    }
    if unsigned.starts_with(['+', '-']) {
        return None;
    }
    text.parse::<f32>().ok()
}
