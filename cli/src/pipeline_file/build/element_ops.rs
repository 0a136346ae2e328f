//! The built-in element operations of pipeline files, for configs that need no user code:
//!
//! | op | arguments | does |
//! |---|---|---|
//! | `cast` | `dtype`, `components`? | `tf.cast` of every component (or the listed ones) |
//! | `scale` | `a` (1), `b` (0), `components`? | `x * a + b` on float components (all of them, or the listed ones) |
//! | `one_hot` | `depth`, `component`?, `dtype` (`float32`) | `tf.one_hot` of an integer component: a trailing axis of `depth`; out-of-range indices give zeros |
//! | `select` | `components` (a list) or `component` | a dict of the listed components, or the one component alone |
//! | `rename` | `names`: `{"old": "new"}` | renames top-level components; the element becomes a dict |
//! | `decode_raw` | `component`?, `dtype`, `shape`? | `tf.io.decode_raw` (little-endian) of a bytes component, reshaped to `shape` (default: a vector) |
//!
//! Components are named by path (`"image"`, `"0"`, `"a/1"`). Every op works on elements and on
//! batches alike. Errors at construction name the op; errors while iterating carry the op's index and
//! name as the stage.

use serde_json::Value;

use super::{bad, field, positive};
use crate::pipeline_file::cast;
use slicestream::dataset::Dataset;
use slicestream::element::{Element, ElementSpec, Structure, TensorSpec};
use slicestream::error::{Error, Result};
use slicestream::tensor::{alloc, DType, Tensor};

/// The names of the element ops, for messages.
pub(super) const ELEMENT_OPS: &str = "cast, scale, one_hot, select, rename, decode_raw";

/// Applies element op `name`, or `None` when `name` is not one. `stage` names the op in errors raised
/// while iterating.
pub(super) fn element_op(
    ds: &Dataset,
    name: &str,
    op: &Value,
    stage: &str,
) -> Option<Result<Dataset>> {
    let stage = stage.to_string();
    Some(match name {
        "cast" => cast_op(ds, op, stage),
        "scale" => scale(ds, op, stage),
        "one_hot" => one_hot(ds, op, stage),
        "select" => select(ds, op, stage),
        "rename" => rename(ds, op, stage),
        "decode_raw" => decode_raw(ds, op, stage),
        _ => return None,
    })
}

fn string<'a>(v: &'a Value, what: &str) -> Result<&'a str> {
    v.as_str()
        .ok_or_else(|| bad(format!("{what} must be a string, got {v}")))
}

/// The leaf indices of `"components"` (all when absent).
fn components(spec: &ElementSpec, op: &Value) -> Result<Option<Vec<usize>>> {
    match op.get("components") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| spec.structure().leaf_index(string(v, "a component name")?))
            .collect::<Result<Vec<_>>>()
            .map(Some),
        Some(v) => Err(bad(format!(
            "\"components\" must be a list of names, got {v}"
        ))),
    }
}

/// Maps the listed leaves with `f`, keeping the others; the spec is computed up front.
fn map_leaves(
    ds: &Dataset,
    spec: ElementSpec,
    leaves: Vec<usize>,
    stage: String,
    f: impl Fn(&Tensor) -> Result<Tensor> + Send + Sync + 'static,
) -> Dataset {
    ds.map_with_spec(spec, move |e: Element| {
        e.try_map_components(|i, t| {
            if leaves.contains(&i) {
                f(t)
            } else {
                Ok(t.clone())
            }
        })
        .map_err(|err| err.with_stage(stage.clone()))
    })
}

fn cast_op(ds: &Dataset, op: &Value, stage: String) -> Result<Dataset> {
    let dtype: DType = string(field(op, "dtype")?, "dtype")?.parse()?;
    let spec = ds.element_spec()?;
    let leaves = components(&spec, op)?.unwrap_or_else(|| (0..spec.components().len()).collect());
    let mut i = 0;
    let out = spec.map_components(|s| {
        let s = if leaves.contains(&i) {
            TensorSpec::with_unknown(dtype, s.shape.clone())
        } else {
            s.clone()
        };
        i += 1;
        Ok(s)
    })?;
    Ok(map_leaves(ds, out, leaves, stage, move |t| cast(t, dtype)))
}

fn number(op: &Value, name: &str, default: f64) -> Result<f64> {
    match op.get(name) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => v.as_f64().filter(|x| x.is_finite()).ok_or_else(|| {
            bad(format!(
                "argument {name:?} must be a finite number, got {v}"
            ))
        }),
    }
}

fn scale(ds: &Dataset, op: &Value, stage: String) -> Result<Dataset> {
    let (a, b) = (number(op, "a", 1.0)?, number(op, "b", 0.0)?);
    let spec = ds.element_spec()?;
    let paths = spec.paths();
    let leaves = match components(&spec, op)? {
        Some(leaves) => {
            if let Some(&i) = leaves
                .iter()
                .find(|&&i| !spec.components()[i].dtype.is_float())
            {
                return Err(bad(format!(
                    "scale works on float components; {:?} is {}: cast it first",
                    paths[i],
                    spec.components()[i].dtype
                )));
            }
            leaves
        }
        None => {
            let floats: Vec<usize> = (0..paths.len())
                .filter(|&i| spec.components()[i].dtype.is_float())
                .collect();
            if floats.is_empty() {
                return Err(bad(format!(
                    "scale works on float components and {spec} has none: cast first"
                )));
            }
            floats
        }
    };
    Ok(map_leaves(ds, spec, leaves, stage, move |t| {
        affine(t, a, b)
    }))
}

/// `t * a + b`, in the tensor's own float type (f16 and bf16 through f32).
fn affine(t: &Tensor, a: f64, b: f64) -> Result<Tensor> {
    let shape = t.shape().to_vec();
    match t.dtype() {
        DType::F64 => Tensor::from_vec(
            shape,
            t.as_slice::<f64>()?.iter().map(|x| x * a + b).collect(),
        ),
        DType::F32 => {
            let (a, b) = (a as f32, b as f32);
            Tensor::from_vec(
                shape,
                t.as_slice::<f32>()?.iter().map(|x| x * a + b).collect(),
            )
        }
        DType::F16 | DType::BF16 => {
            let wide = cast(t, DType::F32)?;
            cast(&affine(&wide, a, b)?, t.dtype())
        }
        other => Err(bad(format!("scale works on float components, not {other}"))),
    }
}

fn one_hot(ds: &Dataset, op: &Value, stage: String) -> Result<Dataset> {
    let depth_arg = field(op, "depth")?
        .as_i64()
        .ok_or_else(|| bad("argument \"depth\" must be an integer"))?;
    let depth = positive(depth_arg, "depth")?;
    let dtype: DType = match op.get("dtype") {
        None | Some(Value::Null) => DType::F32,
        Some(v) => string(v, "dtype")?.parse()?,
    };
    if dtype.is_variable_width() {
        return Err(bad(format!("one_hot makes numbers, not {dtype}")));
    }
    let spec = ds.element_spec()?;
    let leaf = match op.get("component") {
        Some(v) => spec.structure().leaf_index(string(v, "component")?)?,
        None if spec.components().len() == 1 => 0,
        None => {
            return Err(bad(format!(
                "one_hot needs \"component\": the element has {:?}",
                spec.paths()
            )))
        }
    };
    let input = &spec.components()[leaf];
    if !input.dtype.is_integer() {
        return Err(bad(format!(
            "one_hot takes an integer component; {:?} is {}",
            spec.paths()[leaf],
            input.dtype
        )));
    }
    let mut i = 0;
    let out = spec.map_components(|s| {
        let s = if i == leaf {
            let mut shape = s.shape.clone();
            shape.push(Some(depth));
            TensorSpec::with_unknown(dtype, shape)
        } else {
            s.clone()
        };
        i += 1;
        Ok(s)
    })?;
    Ok(map_leaves(ds, out, vec![leaf], stage, move |t| {
        let indices = cast(t, DType::I64)?;
        let indices = indices.as_slice::<i64>()?;
        let count = indices.len().checked_mul(depth).ok_or_else(|| {
            alloc::too_large(
                &format!("one_hot of {} indices, depth {depth}", indices.len()),
                None,
            )
        })?;
        let mut values = alloc::try_filled(count, 0f32, &format!("one_hot of depth {depth}"))?;
        for (row, &k) in indices.iter().enumerate() {
            if let Some(k) = usize::try_from(k).ok().filter(|&k| k < depth) {
                values[row * depth + k] = 1.0;
            }
        }
        let mut shape = t.shape().to_vec();
        shape.push(depth);
        cast(&Tensor::from_vec(shape, values)?, dtype)
    }))
}

fn select(ds: &Dataset, op: &Value, stage: String) -> Result<Dataset> {
    let spec = ds.element_spec()?;
    let (names, single): (Vec<String>, bool) = match (op.get("component"), op.get("components")) {
        (Some(v), None) => (vec![string(v, "component")?.to_string()], true),
        (None, Some(Value::Array(items))) if !items.is_empty() => (
            items
                .iter()
                .map(|v| string(v, "a component name").map(str::to_string))
                .collect::<Result<_>>()?,
            false,
        ),
        _ => return Err(bad(
            "select needs \"components\" (a non-empty list of names) or \"component\" (one name)",
        )),
    };
    let leaves = names
        .iter()
        .map(|n| spec.structure().leaf_index(n))
        .collect::<Result<Vec<_>>>()?;
    let specs: Vec<TensorSpec> = leaves
        .iter()
        .map(|&i| spec.components()[i].clone())
        .collect();
    let structure = if single {
        Structure::Tensor
    } else {
        check_unique(&names)?;
        Structure::dict_of_tensors(names.iter().cloned())
    };
    let out = ElementSpec::new(structure.clone(), specs)?;
    Ok(ds.map_with_spec(out, move |e: Element| {
        let parts = leaves.iter().map(|&i| e.components()[i].clone()).collect();
        Element::new(structure.clone(), parts).map_err(|err| err.with_stage(stage.clone()))
    }))
}

fn check_unique(names: &[String]) -> Result<()> {
    for (i, n) in names.iter().enumerate() {
        if names[..i].contains(n) {
            return Err(bad(format!("component {n:?} is named twice")));
        }
    }
    Ok(())
}

fn rename(ds: &Dataset, op: &Value, stage: String) -> Result<Dataset> {
    let map = field(op, "names")?
        .as_object()
        .ok_or_else(|| bad("\"names\" must be an object {\"old\": \"new\"}"))?;
    let spec = ds.element_spec()?;
    let top = spec.structure().top_level();
    for old in map.keys() {
        if !top.iter().any(|(name, _, _)| name == old) {
            return Err(Error::not_found(format!(
                "no component {old:?} to rename; the components are {:?}",
                top.iter().map(|(n, _, _)| n.as_str()).collect::<Vec<_>>()
            )));
        }
    }
    let items = top
        .iter()
        .map(|(name, s, _)| {
            let new = match map.get(name) {
                Some(v) => string(v, "a new name")?.to_string(),
                None => name.clone(),
            };
            Ok((new, s.clone()))
        })
        .collect::<Result<Vec<(String, Structure)>>>()?;
    check_unique(&items.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>())?;
    let structure = Structure::Dict(items);
    let out = ElementSpec::new(structure.clone(), spec.components().to_vec())?;
    Ok(ds.map_with_spec(out, move |e: Element| {
        Element::new(structure.clone(), e.into_components())
            .map_err(|err| err.with_stage(stage.clone()))
    }))
}

fn decode_raw(ds: &Dataset, op: &Value, stage: String) -> Result<Dataset> {
    let dtype: DType = string(field(op, "dtype")?, "dtype")?.parse()?;
    let item = dtype
        .item_size()
        .ok_or_else(|| bad(format!("decode_raw makes fixed-width values, not {dtype}")))?;
    let shape: Option<Vec<usize>> = match op.get("shape") {
        None | Some(Value::Null) => None,
        Some(Value::Array(dims)) => Some(
            dims.iter()
                .map(|d| {
                    d.as_u64()
                        .map(|d| d as usize)
                        .ok_or_else(|| bad("shape dimensions must be non-negative integers"))
                })
                .collect::<Result<_>>()?,
        ),
        Some(v) => return Err(bad(format!("\"shape\" must be a list, got {v}"))),
    };
    let spec = ds.element_spec()?;
    let leaf = match op.get("component") {
        Some(v) => spec.structure().leaf_index(string(v, "component")?)?,
        None if spec.components().len() == 1 => 0,
        None => {
            return Err(bad(format!(
                "decode_raw needs \"component\": the element has {:?}",
                spec.paths()
            )))
        }
    };
    if !spec.components()[leaf].dtype.is_variable_width() {
        return Err(bad(format!(
            "decode_raw takes a bytes component; {:?} is {}",
            spec.paths()[leaf],
            spec.components()[leaf].dtype
        )));
    }
    let mut i = 0;
    let out = spec.map_components(|s| {
        let s = if i == leaf {
            let mut dims = s.shape.clone();
            match &shape {
                Some(inner) => dims.extend(inner.iter().map(|&d| Some(d))),
                None => dims.push(None),
            }
            TensorSpec::with_unknown(dtype, dims)
        } else {
            s.clone()
        };
        i += 1;
        Ok(s)
    })?;
    Ok(map_leaves(ds, out, vec![leaf], stage, move |t| {
        let strings = t.byte_values()?;
        let len = strings.first().map_or(0, |b| b.len());
        if let Some(b) = strings.iter().find(|b| b.len() != len) {
            return Err(Error::incompatible(format!(
                "decode_raw: byte strings of {len} and {} bytes cannot make one tensor",
                b.len()
            )));
        }
        let inner = match &shape {
            Some(inner) => inner.clone(),
            None => vec![len / item],
        };
        let want = inner
            .iter()
            .try_fold(item, |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| alloc::too_large(&format!("decode_raw to shape {inner:?}"), None))?;
        if len != want {
            return Err(Error::incompatible(format!(
                "decode_raw: {len} bytes do not make {dtype} values of shape {inner:?} ({want} bytes)"
            )));
        }
        let mut bytes = Vec::with_capacity(len * strings.len());
        strings.iter().for_each(|b| bytes.extend_from_slice(b));
        if cfg!(target_endian = "big") {
            bytes.chunks_exact_mut(item).for_each(|c| c.reverse());
        }
        let mut dims = t.shape().to_vec();
        dims.extend(inner);
        Tensor::from_buffer(dtype, dims, arrow_buffer::Buffer::from_vec(bytes))
    }))
}
