//! The ops of pipeline files that carry state across elements: `unique`, `scan`, `reduce` (which
//! yields one element: the final state), and the `counter` source.
//!
//! A scan or reduce function takes `(s, x)`: it is applied to the tuple element (state, element),
//! and a scan function returns the tuple (new state, output).

use serde_json::Value;

use super::{field, function, opt_int};
use crate::pipeline_file::encoding::element_from_json;
use crate::pipeline_file::eval;
use slicestream::dataset::Dataset;
use slicestream::element::{Element, ElementSpec, Structure};
use slicestream::error::{Error, Result};
use slicestream::tensor::{DType, Tensor};

/// `{"source": "counter", "start": N, "step": N, "dtype": "int64"}` (each optional, as in TF).
pub(super) fn counter(input: &Value) -> Result<Dataset> {
    let start = opt_int(input, "start")?.unwrap_or(0);
    let step = opt_int(input, "step")?.unwrap_or(1);
    let dtype = match input.get("dtype").and_then(Value::as_str) {
        Some(d) => d.parse()?,
        None => DType::I64,
    };
    Dataset::counter(start, step, dtype)
}

/// The spec of the tuple (a, b).
fn pair_spec(a: &ElementSpec, b: &ElementSpec) -> Result<ElementSpec> {
    let structure = Structure::Tuple(vec![a.structure().clone(), b.structure().clone()]);
    let mut components = a.components().to_vec();
    components.extend_from_slice(b.components());
    ElementSpec::new(structure, components)
}

/// The two top-level parts of a pair spec, or an error naming `what` the function must return.
fn split_spec(spec: &ElementSpec, what: &str) -> Result<(ElementSpec, ElementSpec)> {
    let parts = spec.structure().top_level();
    match (spec.structure(), parts.as_slice()) {
        (Structure::Tuple(_), [(_, s0, r0), (_, s1, r1)]) => Ok((
            ElementSpec::new(s0.clone(), spec.components()[r0.clone()].to_vec())?,
            ElementSpec::new(s1.clone(), spec.components()[r1.clone()].to_vec())?,
        )),
        _ => Err(Error::incompatible(format!(
            "a {what} function returns (new_state, output), got {spec}"
        ))),
    }
}

/// The two top-level parts of a pair element.
fn split(e: Element, what: &str) -> Result<(Element, Element)> {
    let mut parts = e.unpack().into_iter();
    match (parts.next(), parts.next(), parts.next()) {
        (Some((_, a)), Some((_, b)), None) if matches!(e.structure(), Structure::Tuple(_)) => {
            Ok((a, b))
        }
        _ => Err(Error::incompatible(format!(
            "a {what} function returns (new_state, output), got {}",
            e.structure()
        ))),
    }
}

/// Errors unless `found` is the state's spec (TensorFlow's construction check).
fn same_state(initial: &ElementSpec, found: &ElementSpec) -> Result<()> {
    if initial != found {
        return Err(Error::incompatible(format!(
            "The element types for the new state must match the initial state. Expected {initial}; got {found}."
        )));
    }
    Ok(())
}

/// The initial state of a scan or reduce.
fn initial_state(op: &Value) -> Result<Element> {
    element_from_json(field(op, "initial_state")?)
}

/// `{"op": "scan", "initial_state": TENSOR, "fn": F}`.
pub(super) fn scan(ds: &Dataset, op: &Value) -> Result<Dataset> {
    let f = function(op, "fn")?;
    let initial = initial_state(op)?;
    let state_spec = initial.spec();
    let out = eval::infer_spec(&f, &pair_spec(&state_spec, &ds.element_spec()?)?)?;
    let (next_state, output) = split_spec(&out, "scan")?;
    same_state(&state_spec, &next_state)?;
    ds.scan_with_spec(initial, output, move |s, x| {
        split(eval::apply(&f, &Element::tuple_of(vec![s, x]))?, "scan")
    })
}

/// `{"op": "reduce", "initial_state": TENSOR, "fn": F}`: a dataset of one element, the final state,
/// computed when it is iterated.
pub(super) fn reduce(ds: &Dataset, op: &Value) -> Result<Dataset> {
    let f = function(op, "fn")?;
    let initial = initial_state(op)?;
    let state_spec = initial.spec();
    let next = eval::infer_spec(&f, &pair_spec(&state_spec, &ds.element_spec()?)?)?;
    same_state(&state_spec, &next)?;
    let input = ds.clone();
    // One element (cardinality 1, as TensorFlow reports), computed when it is asked for.
    let one = Dataset::from_tensors(Element::single(Tensor::scalar(0i64)))?;
    Ok(one.map_with_spec(state_spec, move |_| {
        input.reduce(initial.clone(), |s, x| {
            eval::apply(&f, &Element::tuple_of(vec![s, x]))
        })
    }))
}

/// `{"op": "unique"}`.
pub(super) fn unique(ds: &Dataset) -> Result<Dataset> {
    ds.unique()
}
