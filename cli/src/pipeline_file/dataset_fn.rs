//! Dataset functions of pipeline files, for `flat_map` and `interleave`: `x->range(x)`,
//! `x->repeat(x,x)` (`from_tensors(x).repeat(x)`), `x->range(x).batch(2)`.
//!
//! A dataset function is `PARAMS->SOURCE` followed by any number of `.METHOD(ARGS)`. PARAMS are
//! those of element functions ([`super::expr`]). SOURCE is `range(stop)`, `range(start, stop)`,
//! `range(start, stop, step)`, `from_tensors(e)` or `repeat(e, count)`; METHOD is `batch(n)` /
//! `batch(n, drop_remainder)`, `take(n)`, `skip(n)` or `repeat(n)`. Every argument is an
//! expression of the element functions' language over the parameters (counts are integer scalars,
//! `true`/`false` for `drop_remainder`).

use super::eval;
use super::expr::{parse_function, Function};
use slicestream::dataset::Dataset;
use slicestream::element::{Element, ElementSpec, TensorSpec};
use slicestream::error::{Error, Result};
use slicestream::tensor::DType;

/// How a dataset function starts.
#[derive(Debug)]
enum Source {
    /// `range(start, stop, step)`, each argument an expression.
    Range(Vec<Function>),
    /// `from_tensors(value)`.
    FromTensors(Function),
    /// `repeat(value, count)`: `from_tensors(value).repeat(count)`.
    Repeat(Function, Function),
}

/// A method applied to the dataset made so far.
#[derive(Debug)]
enum Method {
    Batch(Function, Option<Function>),
    Take(Function),
    Skip(Function),
    Repeat(Function),
}

/// A parsed dataset function.
#[derive(Debug)]
pub struct DatasetFn {
    source: Source,
    methods: Vec<Method>,
    text: String,
}

fn bad(text: &str, why: impl std::fmt::Display) -> Error {
    Error::invalid_argument(format!("dataset function {text:?}: {why}"))
}

/// `name(args)` calls separated by `.`: the name and argument texts of each, split at the commas
/// and dots that are not inside brackets.
fn calls(text: &str, body: &str) -> Result<Vec<(String, Vec<String>)>> {
    let mut out = Vec::new();
    let mut rest = body.trim();
    loop {
        let open = rest
            .find('(')
            .ok_or_else(|| bad(text, format!("expected a call, found {rest:?}")))?;
        let name = rest[..open].trim().to_string();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(bad(
                text,
                format!("expected a name before '(', found {name:?}"),
            ));
        }
        let mut depth = 0usize;
        let mut args = Vec::new();
        let mut start = open + 1;
        let mut close = None;
        for (i, c) in rest.char_indices().skip(open) {
            match c {
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' => {
                    depth = depth
                        .checked_sub(1)
                        .ok_or_else(|| bad(text, "unbalanced brackets"))?;
                    if depth == 0 {
                        args.push(rest[start..i].trim().to_string());
                        close = Some(i);
                        break;
                    }
                }
                ',' if depth == 1 => {
                    args.push(rest[start..i].trim().to_string());
                    start = i + 1;
                }
                _ => {}
            }
        }
        let close = close.ok_or_else(|| bad(text, "unbalanced brackets"))?;
        if args.len() == 1 && args[0].is_empty() {
            args.clear();
        }
        out.push((name, args));
        rest = rest[close + 1..].trim_start();
        if rest.is_empty() {
            return Ok(out);
        }
        rest = rest
            .strip_prefix('.')
            .ok_or_else(|| bad(text, format!("expected '.' before {rest:?}")))?;
    }
}

/// Parses a dataset function.
pub fn parse_dataset_fn(text: &str) -> Result<DatasetFn> {
    let (params, body) = text
        .split_once("->")
        .ok_or_else(|| bad(text, "expected PARAMS->DATASET, e.g. x->range(x)"))?;
    let arg = |a: &str| parse_function(&format!("{params}->{a}"));
    let mut chain = calls(text, body)?.into_iter();
    let (name, args) = chain.next().ok_or_else(|| bad(text, "no source"))?;
    let source = match (name.as_str(), args.as_slice()) {
        ("range", [_] | [_, _] | [_, _, _]) => {
            Source::Range(args.iter().map(|a| arg(a)).collect::<Result<_>>()?)
        }
        ("from_tensors", [v]) => Source::FromTensors(arg(v)?),
        ("repeat", [v, n]) => Source::Repeat(arg(v)?, arg(n)?),
        _ => {
            return Err(bad(
                text,
                format!(
                    "unknown source {name} with {} arguments; known: range(stop), \
                     range(start, stop[, step]), from_tensors(value), repeat(value, count)",
                    args.len()
                ),
            ))
        }
    };
    let methods = chain
        .map(|(name, args)| {
            Ok(match (name.as_str(), args.as_slice()) {
                ("batch", [n]) => Method::Batch(arg(n)?, None),
                ("batch", [n, d]) => Method::Batch(arg(n)?, Some(arg(d)?)),
                ("take", [n]) => Method::Take(arg(n)?),
                ("skip", [n]) => Method::Skip(arg(n)?),
                ("repeat", [n]) => Method::Repeat(arg(n)?),
                _ => {
                    return Err(bad(
                        text,
                        format!(
                            "unknown method {name} with {} arguments; known: batch(n[, \
                             drop_remainder]), take(n), skip(n), repeat(n)",
                            args.len()
                        ),
                    ))
                }
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(DatasetFn {
        source,
        methods,
        text: text.to_string(),
    })
}

/// An argument's value on `element`: an integer scalar.
fn int_arg(f: &Function, element: &Element, what: &str) -> Result<i64> {
    let out = eval::apply(f, element)?;
    let t = out.component(0)?;
    if t.num_elements() != 1 || !t.dtype().is_integer() {
        return Err(Error::invalid_argument(format!(
            "{what} must be an integer scalar, {} gives a {} tensor of shape {:?}",
            f.source,
            t.dtype(),
            t.shape()
        )));
    }
    Ok(super::tensor_ops::cast(t, DType::I64)?.as_slice::<i64>()?[0])
}

/// A count: negative means "all" (or "forever" for `repeat`), as in tf.data.
fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

impl DatasetFn {
    /// The dataset this function makes of `element`.
    pub fn apply(&self, element: &Element) -> Result<Dataset> {
        let mut ds = match &self.source {
            Source::Range(args) => {
                let v = args
                    .iter()
                    .map(|a| int_arg(a, element, "a range argument"))
                    .collect::<Result<Vec<_>>>()?;
                match v.as_slice() {
                    [stop] => Dataset::range(0, *stop, 1)?,
                    [start, stop] => Dataset::range(*start, *stop, 1)?,
                    [start, stop, step] => Dataset::range(*start, *stop, *step)?,
                    _ => unreachable_arity(&self.text)?,
                }
            }
            Source::FromTensors(v) => Dataset::from_tensors(eval::apply(v, element)?)?,
            Source::Repeat(v, n) => {
                let n = int_arg(n, element, "a repeat count")?;
                let ds = Dataset::from_tensors(eval::apply(v, element)?)?;
                if n < 0 {
                    ds.repeat_forever()
                } else {
                    ds.repeat(count(n))
                }
            }
        };
        for m in &self.methods {
            ds = match m {
                Method::Batch(n, drop) => {
                    let n = int_arg(n, element, "a batch size")?;
                    let size = usize::try_from(n).ok().filter(|&n| n > 0).ok_or_else(|| {
                        Error::invalid_argument("Batch size must be greater than zero.")
                    })?;
                    ds.batch(size, self.drop_remainder(drop.as_ref(), element)?)?
                }
                Method::Take(n) => ds.take(count(int_arg(n, element, "a take count")?)),
                Method::Skip(n) => ds.skip(count(int_arg(n, element, "a skip count")?)),
                Method::Repeat(n) => match int_arg(n, element, "a repeat count")? {
                    n if n < 0 => ds.repeat_forever(),
                    n => ds.repeat(count(n)),
                },
            };
        }
        Ok(ds)
    }

    fn drop_remainder(&self, drop: Option<&Function>, element: &Element) -> Result<bool> {
        let Some(f) = drop else { return Ok(false) };
        let out = eval::apply(f, element)?;
        let t = out.component(0)?;
        match (t.dtype(), t.num_elements()) {
            (DType::Bool, 1) => Ok(t.as_slice::<bool>()?[0]),
            _ => Err(bad(&self.text, "drop_remainder must be true or false")),
        }
    }

    /// The spec of the datasets this function makes of elements of `input`, as TensorFlow traces
    /// it: `range` gives int64 scalars, `from_tensors`/`repeat` the value's spec, `batch` a new
    /// first dimension (known only for a literal size with a literal `drop_remainder` of true).
    pub fn spec(&self, input: &ElementSpec) -> Result<ElementSpec> {
        let mut spec = match &self.source {
            Source::Range(args) => {
                for a in args {
                    check_int_scalar(&eval::infer_spec(a, input)?, &a.source)?;
                }
                ElementSpec::single(TensorSpec::new(DType::I64, &[]))
            }
            Source::FromTensors(v) => eval::infer_spec(v, input)?,
            Source::Repeat(v, n) => {
                check_int_scalar(&eval::infer_spec(n, input)?, &n.source)?;
                eval::infer_spec(v, input)?
            }
        };
        for m in &self.methods {
            if let Method::Batch(n, drop) = m {
                check_int_scalar(&eval::infer_spec(n, input)?, &n.source)?;
                let known = match (literal_int(n), drop.as_ref().map(literal_bool)) {
                    (Some(n), Some(Some(true))) => usize::try_from(n).ok(),
                    _ => None,
                };
                spec = spec.map_components(|s| Ok(s.batched(known)))?;
            }
        }
        Ok(spec)
    }
}

/// The value of a function whose body is an integer literal.
fn literal_int(f: &Function) -> Option<i64> {
    match &f.body {
        super::expr::Body::Expr(super::expr::Expr::Int(v)) => Some(*v),
        _ => None,
    }
}

/// The value of a function whose body is `true` or `false`.
fn literal_bool(f: &Function) -> Option<bool> {
    match &f.body {
        super::expr::Body::Expr(super::expr::Expr::Bool(v)) => Some(*v),
        _ => None,
    }
}

fn check_int_scalar(spec: &ElementSpec, source: &str) -> Result<()> {
    match spec.components() {
        [s] if s.rank() == 0 && s.dtype.is_integer() => Ok(()),
        _ => Err(Error::incompatible(format!(
            "{source} must give an integer scalar, it gives {spec}"
        ))),
    }
}

/// `range` is parsed with one to three arguments only.
fn unreachable_arity(text: &str) -> Result<Dataset> {
    Err(bad(text, "range takes one to three arguments"))
}
