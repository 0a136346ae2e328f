//! Running element functions ([`super::expr::Function`]) on elements, and on specs to know the output
//! spec before iterating.

use std::collections::HashMap;

use super::expr::{BinOp, Body, Expr, Function, Params};
use super::tensor_ops::{as_string, binary, cast, fill, len, literal, negate, string_to_number};
use slicestream::element::{Element, ElementSpec, Structure, TensorSpec};
use slicestream::error::{Error, Result};
use slicestream::tensor::{DType, Tensor};

/// What an expression computes with: tensors when running, specs when inferring.
trait Domain: Clone {
    fn dtype(&self) -> DType;
    fn literal(value: &Expr, dtype: DType) -> Result<Self>;
    fn binary(op: BinOp, a: &Self, b: &Self) -> Result<Self>;
    fn negate(a: &Self) -> Result<Self>;
    fn fill(dims: &[(Self, Option<i64>)], value: &Self) -> Result<Self>;
    fn call(name: &str, a: &Self) -> Result<Self>;
}

/// A function call of the language: `cast_DTYPE`, `as_string`, `string_to_number`, `len`.
enum Call {
    Cast(DType),
    AsString,
    StringToNumber,
    Len,
}

fn call_of(name: &str) -> Result<Call> {
    match name.strip_prefix("cast_") {
        Some(d) => Ok(Call::Cast(d.parse()?)),
        None => match name {
            "as_string" => Ok(Call::AsString),
            "string_to_number" => Ok(Call::StringToNumber),
            "len" => Ok(Call::Len),
            _ => Err(Error::invalid_argument(format!(
                "unknown function {name:?}; known: fill, max, min, cast_DTYPE, as_string, \
                 string_to_number, len"
            ))),
        },
    }
}

impl Domain for Tensor {
    fn dtype(&self) -> DType {
        Tensor::dtype(self)
    }
    fn literal(value: &Expr, dtype: DType) -> Result<Self> {
        literal(value, dtype)
    }
    fn binary(op: BinOp, a: &Self, b: &Self) -> Result<Self> {
        binary(op, a, b)
    }
    fn negate(a: &Self) -> Result<Self> {
        negate(a)
    }
    fn fill(dims: &[(Self, Option<i64>)], value: &Self) -> Result<Self> {
        let dims = dims.iter().map(|(t, _)| t).collect::<Vec<_>>();
        fill(&dims, value)
    }
    fn call(name: &str, a: &Self) -> Result<Self> {
        match call_of(name)? {
            Call::Cast(d) => cast(a, d),
            Call::AsString => as_string(a),
            Call::StringToNumber => string_to_number(a),
            Call::Len => len(a),
        }
    }
}

impl Domain for TensorSpec {
    fn dtype(&self) -> DType {
        self.dtype
    }
    fn literal(value: &Expr, dtype: DType) -> Result<Self> {
        if matches!(value, Expr::Float(_)) && (dtype.is_integer() || dtype == DType::Bool) {
            return Err(Error::incompatible(format!(
                "a float literal cannot combine with a {dtype} tensor"
            )));
        }
        if dtype.is_variable_width() {
            return Err(Error::incompatible(format!(
                "a number cannot combine with a {dtype} tensor"
            )));
        }
        Ok(TensorSpec::new(dtype, &[]))
    }
    fn binary(op: BinOp, a: &Self, b: &Self) -> Result<Self> {
        if a.dtype.is_variable_width() || b.dtype.is_variable_width() {
            return Err(Error::incompatible(format!(
                "{op:?} is not defined for {} tensors",
                a.dtype
            )));
        }
        if a.dtype == DType::Bool
            && matches!(op, BinOp::Sub | BinOp::Div | BinOp::Mod | BinOp::FloorDiv)
        {
            return Err(Error::incompatible(format!(
                "{op:?} is not defined for bool tensors"
            )));
        }
        if a.dtype != b.dtype {
            return Err(Error::incompatible(format!(
                "operands of {op:?} have dtypes {} and {}",
                a.dtype, b.dtype
            )));
        }
        let shape = if a.rank() == 0 {
            b.shape.clone()
        } else if b.rank() == 0 {
            a.shape.clone()
        } else if a.rank() == b.rank() {
            a.shape
                .iter()
                .zip(&b.shape)
                .map(|(x, y)| x.or(*y))
                .collect()
        } else {
            return Err(Error::incompatible(format!(
                "operands of {op:?} have ranks {} and {}",
                a.rank(),
                b.rank()
            )));
        };
        let dtype = if op.is_comparison() {
            DType::Bool
        } else if op == BinOp::Div && a.dtype.is_integer() {
            super::tensor_ops::true_div_dtype(a.dtype)
        } else {
            a.dtype
        };
        Ok(TensorSpec::with_unknown(dtype, shape))
    }
    fn negate(a: &Self) -> Result<Self> {
        Ok(a.clone())
    }
    fn fill(dims: &[(Self, Option<i64>)], value: &Self) -> Result<Self> {
        if let Some((d, _)) = dims
            .iter()
            .find(|(d, _)| d.rank() != 0 || d.dtype.is_variable_width())
        {
            return Err(Error::incompatible(format!(
                "fill: each dimension must be a number scalar, got {d}"
            )));
        }
        let shape = dims
            .iter()
            .map(|(_, lit)| lit.and_then(|v| usize::try_from(v).ok()))
            .collect();
        Ok(TensorSpec::with_unknown(value.dtype, shape))
    }
    fn call(name: &str, a: &Self) -> Result<Self> {
        let dtype = match call_of(name)? {
            // A cast between text and numbers fails when it runs, as in TensorFlow.
            Call::Cast(d) => d,
            Call::AsString if a.dtype.is_variable_width() => a.dtype,
            Call::AsString => DType::String,
            Call::StringToNumber if a.dtype == DType::String => DType::F32,
            Call::StringToNumber => {
                return Err(Error::incompatible(format!(
                    "string_to_number takes a string tensor, not {}",
                    a.dtype
                )))
            }
            Call::Len if a.rank() == 0 => {
                return Err(Error::invalid_argument(
                    "len of a scalar: it has no first dimension",
                ))
            }
            Call::Len => return Ok(TensorSpec::new(DType::I32, &[])),
        };
        Ok(TensorSpec::with_unknown(dtype, a.shape.clone()))
    }
}

/// A name bound to a part of the element: a tensor (or spec) or a nested structure.
#[derive(Clone)]
enum Bound<T> {
    Leaf(T),
    Nested,
}

/// The parameters a function without a parameter list implies, as the lambdas of tf.data's
/// fixtures are written: `y`, `z` or `w` used means positional `(x, y[, z[, w]])`; only `x` (or no
/// name) means one parameter `x`; other names are keys of a dict element.
fn implied_params(body: &Body) -> Params {
    const POSITIONAL: [&str; 4] = ["x", "y", "z", "w"];
    let names = free_names(body);
    let highest = names
        .iter()
        .filter_map(|n| POSITIONAL.iter().position(|p| p == n))
        .max();
    match highest {
        Some(k) if k > 0 => Params::Tuple(POSITIONAL[..=k].iter().map(|s| s.to_string()).collect()),
        _ if names.iter().all(|n| n == "x") => Params::Single("x".to_string()),
        _ => {
            let mut keys = names;
            keys.sort();
            keys.dedup();
            Params::Dict(keys)
        }
    }
}

/// Binds the element to the function's names as tf.data calls a function: a tuple's items as
/// positional arguments (their number must match), a dict as one argument, a tensor as one argument.
fn bind<T: Clone>(
    f: &Function,
    structure: &Structure,
    leaves: &[T],
) -> Result<HashMap<String, Bound<T>>> {
    let items = structure.top_level();
    let part = |s: &Structure, r: &std::ops::Range<usize>| match s {
        Structure::Tensor => Bound::Leaf(leaves[r.start].clone()),
        _ => Bound::Nested,
    };
    let mut env = HashMap::new();
    let arity = |n: usize| {
        Error::invalid_argument(format!(
            "function {:?} takes {n} positional arguments but the element {structure} gives {}",
            f.source,
            match structure {
                Structure::Tuple(items) => items.len(),
                _ => 1,
            }
        ))
    };
    let params = match &f.params {
        Params::Implicit => implied_params(&f.body),
        p => p.clone(),
    };
    match (&params, structure) {
        (Params::Single(x), Structure::Tensor) => {
            env.insert(x.clone(), Bound::Leaf(leaves[0].clone()));
        }
        (Params::Single(x), Structure::Tuple(_)) if items.len() == 1 => {
            let (_, s, r) = &items[0];
            env.insert(x.clone(), part(s, r));
        }
        (Params::Single(_), Structure::Tuple(_)) => return Err(arity(1)),
        (Params::Single(x), Structure::Dict(_)) => {
            env.insert(x.clone(), Bound::Nested);
        }
        (Params::Tuple(names), Structure::Tuple(_)) => {
            if names.len() != items.len() {
                return Err(arity(names.len()));
            }
            for (n, (_, s, r)) in names.iter().zip(&items) {
                env.insert(n.clone(), part(s, r));
            }
        }
        (Params::Dict(keys), Structure::Dict(_)) => {
            for k in keys {
                let (_, s, r) = items.iter().find(|(name, _, _)| name == k).ok_or_else(|| {
                    Error::not_found(format!(
                        "function {:?} reads key {k:?}, the element is {structure}",
                        f.source
                    ))
                })?;
                env.insert(k.clone(), part(s, r));
            }
        }
        (Params::Dict(keys), _) => {
            return Err(Error::invalid_argument(format!(
                "function {:?} reads keys {keys:?} of a dict, but the element is {structure}",
                f.source
            )))
        }
        (Params::Tuple(names), _) => return Err(arity(names.len())),
        (Params::Implicit, _) => return Err(arity(0)),
    }
    Ok(env)
}

fn free_names(body: &Body) -> Vec<String> {
    fn expr(e: &Expr, out: &mut Vec<String>) {
        match e {
            Expr::Var(v) => out.push(v.clone()),
            Expr::Neg(a) | Expr::Call(_, a) => expr(a, out),
            Expr::Binary(_, a, b) => {
                expr(a, out);
                expr(b, out)
            }
            Expr::Fill(d, v) => {
                d.iter().for_each(|d| expr(d, out));
                expr(v, out)
            }
            Expr::Int(_) | Expr::Float(_) | Expr::Bool(_) => {}
        }
    }
    fn go(b: &Body, out: &mut Vec<String>) {
        match b {
            Body::Expr(e) => expr(e, out),
            Body::Tuple(items) => items.iter().for_each(|b| go(b, out)),
            Body::Dict(items) => items.iter().for_each(|(_, b)| go(b, out)),
        }
    }
    let mut out = Vec::new();
    go(body, &mut out);
    out
}

fn is_literal(e: &Expr) -> bool {
    matches!(e, Expr::Int(_) | Expr::Float(_) | Expr::Bool(_))
        || matches!(e, Expr::Neg(a) if is_literal(a))
}

fn default_literal_dtype(e: &Expr) -> DType {
    match e {
        Expr::Int(_) => DType::I32,
        Expr::Float(_) => DType::F32,
        Expr::Bool(_) => DType::Bool,
        Expr::Neg(a) => default_literal_dtype(a),
        _ => DType::I64,
    }
}

fn eval_expr<T: Domain>(
    e: &Expr,
    env: &HashMap<String, Bound<T>>,
    hint: Option<DType>,
) -> Result<T> {
    match e {
        Expr::Var(name) => match env.get(name) {
            Some(Bound::Leaf(t)) => Ok(t.clone()),
            Some(Bound::Nested) => Err(Error::invalid_argument(format!(
                "{name} is a nested structure, not a tensor"
            ))),
            None => Err(Error::not_found(format!(
                "unknown name {name:?} in function"
            ))),
        },
        Expr::Int(_) | Expr::Float(_) | Expr::Bool(_) => {
            T::literal(e, hint.unwrap_or_else(|| default_literal_dtype(e)))
        }
        Expr::Neg(a) => T::negate(&eval_expr(a, env, hint)?),
        Expr::Binary(op, a, b) => {
            let (ta, tb) = if is_literal(a) && !is_literal(b) {
                let tb = eval_expr(b, env, hint)?;
                (eval_expr(a, env, Some(tb.dtype()))?, tb)
            } else {
                let ta = eval_expr(a, env, hint)?;
                let tb = eval_expr(b, env, Some(ta.dtype()))?;
                (ta, tb)
            };
            T::binary(*op, &ta, &tb)
        }
        Expr::Fill(dims, value) => {
            let dims = dims
                .iter()
                .map(|d| {
                    let lit = match d {
                        Expr::Int(v) => Some(*v),
                        _ => None,
                    };
                    Ok((eval_expr(d, env, Some(DType::I64))?, lit))
                })
                .collect::<Result<Vec<_>>>()?;
            T::fill(&dims, &eval_expr(value, env, hint)?)
        }
        Expr::Call(name, a) => T::call(name, &eval_expr(a, env, None)?),
    }
}

fn eval_body<T: Domain>(
    b: &Body,
    env: &HashMap<String, Bound<T>>,
    out: &mut Vec<T>,
) -> Result<Structure> {
    Ok(match b {
        Body::Expr(e) => {
            out.push(eval_expr(e, env, None)?);
            Structure::Tensor
        }
        Body::Tuple(items) => Structure::Tuple(
            items
                .iter()
                .map(|b| eval_body(b, env, out))
                .collect::<Result<_>>()?,
        ),
        Body::Dict(items) => {
            // tf.data orders a dict's keys (its nest flattening sorts them).
            let mut sorted: Vec<&(String, Body)> = items.iter().collect();
            sorted.sort_by(|a, b| a.0.cmp(&b.0));
            Structure::Dict(
                sorted
                    .into_iter()
                    .map(|(k, b)| Ok((k.clone(), eval_body(b, env, out)?)))
                    .collect::<Result<_>>()?,
            )
        }
    })
}

/// Runs `f` on an element.
pub fn apply(f: &Function, element: &Element) -> Result<Element> {
    let env = bind(f, element.structure(), element.components())?;
    let mut out = Vec::new();
    let structure = eval_body(&f.body, &env, &mut out)?;
    Element::new(structure, out)
}

/// The spec of `f`'s output for inputs of `spec`.
pub fn infer_spec(f: &Function, spec: &ElementSpec) -> Result<ElementSpec> {
    let env = bind(f, spec.structure(), spec.components())?;
    let mut out = Vec::new();
    let structure = eval_body(&f.body, &env, &mut out)?;
    ElementSpec::new(structure, out)
}

/// Runs a predicate: `f` must yield one scalar bool.
pub fn test(f: &Function, element: &Element) -> Result<bool> {
    let out = apply(f, element)?;
    let t = out.component(0)?;
    if out.len() != 1 || t.dtype() != DType::Bool || t.num_elements() != 1 {
        return Err(Error::incompatible(format!(
            "predicate {:?} must give one bool, gave {} {:?}",
            f.source,
            t.dtype(),
            t.shape()
        )));
    }
    Ok(t.as_slice::<bool>()?[0])
}

/// Checks at construction that `f` is a predicate for elements of `spec`.
pub fn check_predicate(f: &Function, spec: &ElementSpec) -> Result<()> {
    let out = infer_spec(f, spec)?;
    match out.components() {
        [s] if s.dtype == DType::Bool && s.rank() == 0 => Ok(()),
        _ => Err(Error::incompatible(format!(
            "predicate {:?} must give a scalar bool, gives {out}",
            f.source
        ))),
    }
}
