//! Builds a [`Dataset`] from a pipeline file: `{"input": SOURCE, "pipeline": [OP, …]}`. File
//! sources are in [`files`], the built-in element operations (cast, scale, one_hot, select, rename)
//! in [`element_ops`].

mod element_ops;
mod files;
mod grouping;
mod state_ops;

use serde_json::Value;

use super::dataset_fn::parse_dataset_fn;
use super::encoding::{element_from_json, shape_from_json, tensor_from_python_list};
use super::eval;
use super::expr::{parse_function, Function};
use slicestream::dataset::Dataset;
use slicestream::element::{Element, ElementSpec, Structure};
use slicestream::error::{Error, Result};
use slicestream::tensor::{DType, Tensor};
use slicestream::transform::{InterleaveOptions, Windows};
use std::sync::Arc;

/// What a prefix of the pipeline has built: a dataset, or windows waiting for `flat_map`.
enum Built {
    Dataset(Dataset),
    Windows(Windows),
}

fn bad(message: impl Into<String>) -> Error {
    Error::invalid_argument(message)
}

fn field<'a>(op: &'a Value, name: &str) -> Result<&'a Value> {
    op.get(name)
        .ok_or_else(|| bad(format!("missing argument {name:?}")))
}

fn int(op: &Value, name: &str) -> Result<i64> {
    field(op, name)?
        .as_i64()
        .ok_or_else(|| bad(format!("argument {name:?} must be an integer")))
}

fn opt_int(op: &Value, name: &str) -> Result<Option<i64>> {
    match op.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| bad(format!("argument {name:?} must be an integer or null"))),
    }
}

fn flag(op: &Value, name: &str) -> Result<bool> {
    match op.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(v) => v
            .as_bool()
            .ok_or_else(|| bad(format!("argument {name:?} must be true or false"))),
    }
}

fn positive(v: i64, name: &str) -> Result<usize> {
    usize::try_from(v)
        .ok()
        .filter(|&v| v > 0)
        .ok_or_else(|| bad(format!("{name} must be greater than zero, got {v}")))
}

/// A count where a negative number (tf.data uses -1) means "all".
fn count(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(u64::MAX)
}

fn str_arg<'a>(op: &'a Value, name: &str) -> Result<&'a str> {
    field(op, name)?
        .as_str()
        .ok_or_else(|| bad(format!("argument {name:?} must be a string")))
}

/// A size where 0 is refused later, with the transformation's own message.
fn non_negative(v: i64, name: &str) -> Result<usize> {
    usize::try_from(v).map_err(|_| bad(format!("{name} must be greater than zero, got {v}")))
}

fn function(op: &Value, name: &str) -> Result<Function> {
    let text = field(op, name)?
        .as_str()
        .ok_or_else(|| bad(format!("argument {name:?} must be a string")))?;
    parse_function(text)
}

/// Builds the dataset a pipeline file describes. Errors at construction are errors of this call, as
/// in tf.data; each names the op and its index.
pub fn build(file: &Value) -> Result<Dataset> {
    let input = file
        .get("input")
        .ok_or_else(|| bad("a pipeline file needs an \"input\""))?;
    let mut built = Built::Dataset(source(input).map_err(|e| e.with_stage("input"))?);
    let ops = match file.get("pipeline") {
        None | Some(Value::Null) => &[][..],
        Some(Value::Array(ops)) => ops.as_slice(),
        Some(_) => return Err(bad("\"pipeline\" must be a list of ops")),
    };
    for (i, op) in ops.iter().enumerate() {
        let name = op
            .get("op")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string();
        let stage = format!("pipeline op {i} ({name})");
        built = apply(built, op, &name, &stage).map_err(|e| e.set_stage(stage.clone()))?;
    }
    match built {
        Built::Dataset(d) => Ok(d),
        Built::Windows(_) => Err(bad(
            "the pipeline ends with window: follow it with flat_map",
        )),
    }
}

/// Builds a source: `range`, `from_tensor_slices`, `from_tensors`, `zip`, `from_python_list`, or a
/// file (`npy`, `npz`, `tfrecord`: see the `files` module). Relative file paths are relative to the
/// working directory.
pub fn source(input: &Value) -> Result<Dataset> {
    let kind = input
        .get("source")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("an input needs a \"source\" name"))?;
    if let Some(ds) = files::file_source(kind, input) {
        return ds;
    }
    match kind {
        "range" => {
            let args: Vec<i64> = field(input, "args")?
                .as_array()
                .ok_or_else(|| bad("range args must be a list"))?
                .iter()
                .map(|a| a.as_i64().ok_or_else(|| bad("range args must be integers")))
                .collect::<Result<_>>()?;
            let (start, stop, step) = match args.as_slice() {
                [stop] => (0, *stop, 1),
                [start, stop] => (*start, *stop, 1),
                [start, stop, step] => (*start, *stop, *step),
                _ => return Err(bad("range takes 1 to 3 args")),
            };
            let dtype = match input.get("dtype").and_then(Value::as_str) {
                Some(d) => d.parse()?,
                None => DType::I64,
            };
            Dataset::range_with_dtype(start, stop, step, dtype)
        }
        "from_tensor_slices" => Dataset::from_tensor_slices(element_from_json(field(input, "tensors")?)?),
        "from_tensors" => Dataset::from_tensors(element_from_json(field(input, "tensors")?)?),
        "counter" => state_ops::counter(input),
        "random" => Ok(Dataset::random(
            opt_int(input, "seed")?.map(|s| s as u64),
            flag(input, "rerandomize_each_iteration")?,
        )),
        "load" => Dataset::load(str_arg(input, "path")?),
        "from_python_list" => Dataset::from_tensor_slices(tensor_from_python_list(field(input, "value")?)?),
        "zip" => match field(input, "datasets")? {
            Value::Array(items) => Dataset::zip(&items.iter().map(build).collect::<Result<Vec<_>>>()?),
            Value::Object(items) => Dataset::zip_dict(
                items
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), build(v)?)))
                    .collect::<Result<Vec<_>>>()?,
            ),
            _ => Err(bad("zip datasets must be a list or an object")),
        },
        "choose_from_datasets" => {
            let datasets = field(input, "datasets")?
                .as_array()
                .ok_or_else(|| bad("choose_from_datasets datasets must be a list"))?
                .iter()
                .map(build)
                .collect::<Result<Vec<_>>>()?;
            let choice = build(field(input, "choice")?)?;
            // TensorFlow's default is to stop at the first chosen dataset that has ended.
            let stop = match input.get("stop_on_empty_dataset") {
                None | Some(Value::Null) => true,
                Some(_) => flag(input, "stop_on_empty_dataset")?,
            };
            Dataset::choose_from_datasets(&datasets, &choice, stop)
        }
        other => Err(bad(format!(
            "unknown source {other:?}; known: range, from_tensor_slices, from_tensors, from_python_list, zip, counter, choose_from_datasets, {}",
            files::FILE_SOURCES
        ))),
    }
}

/// Flattens a nested `{"tuple"}` / `{"dict"}` of leaves in the element's depth-first order.
fn flatten_structure<'a>(
    value: &'a Value,
    structure: &Structure,
    out: &mut Vec<&'a Value>,
) -> Result<()> {
    match structure {
        Structure::Tensor => {
            out.push(value);
            Ok(())
        }
        Structure::Tuple(items) => {
            let list = value
                .get("tuple")
                .and_then(Value::as_array)
                .ok_or_else(|| {
                    bad(format!(
                        "expected {{\"tuple\": [...]}} for {structure}, got {value}"
                    ))
                })?;
            if list.len() != items.len() {
                return Err(bad(format!(
                    "expected {} tuple items, got {}",
                    items.len(),
                    list.len()
                )));
            }
            list.iter()
                .zip(items)
                .try_for_each(|(v, s)| flatten_structure(v, s, out))
        }
        Structure::Dict(items) => {
            let map = value
                .get("dict")
                .and_then(Value::as_object)
                .ok_or_else(|| {
                    bad(format!(
                        "expected {{\"dict\": {{...}}}} for {structure}, got {value}"
                    ))
                })?;
            items.iter().try_for_each(|(k, s)| {
                let v = map
                    .get(k)
                    .ok_or_else(|| bad(format!("missing key {k:?}")))?;
                flatten_structure(v, s, out)
            })
        }
    }
}

/// The per-component padded shapes and padding values of a padding op (`padded_batch`,
/// `bucket_by_sequence_length`): `padded_shapes` in the element's structure, `padding_values` as
/// one scalar for all components or one per component; each `None` when not given.
type Padding = (Option<Vec<Vec<Option<usize>>>>, Option<Vec<Tensor>>);

fn padding(spec: &ElementSpec, op: &Value) -> Result<Padding> {
    let shapes = match op.get("padded_shapes") {
        None | Some(Value::Null) => None,
        Some(v) => {
            let mut leaves = Vec::new();
            flatten_structure(v, spec.structure(), &mut leaves)?;
            Some(
                leaves
                    .into_iter()
                    .map(|l| {
                        shape_from_json(l)?.ok_or_else(|| bad("a padded shape cannot be null"))
                    })
                    .collect::<Result<Vec<_>>>()?,
            )
        }
    };
    let values = match op.get("padding_values") {
        None | Some(Value::Null) => None,
        Some(v) => {
            let element = element_from_json(v)?;
            Some(if element.structure() == spec.structure() {
                element.into_components()
            } else if element.len() == 1 {
                // One scalar for every component (tf.data broadcasts a single padding value).
                let pad = element.into_components().remove(0);
                let mut out = Vec::with_capacity(spec.components().len());
                for s in spec.components() {
                    out.push(if s.dtype == pad.dtype() {
                        pad.clone()
                    } else {
                        super::tensor_ops::cast(&pad, s.dtype)?
                    });
                }
                out
            } else {
                return Err(bad(
                    "padding_values must be one scalar or match the element's structure",
                ));
            })
        }
    };
    Ok((shapes, values))
}

fn padded_batch(ds: &Dataset, op: &Value) -> Result<Dataset> {
    let batch_size = positive(int(op, "batch_size")?, "Batch size")?;
    let (shapes, values) = padding(&ds.element_spec()?, op)?;
    ds.padded_batch(batch_size, shapes, values, flag(op, "drop_remainder")?)
}

fn apply(built: Built, op: &Value, name: &str, stage: &str) -> Result<Built> {
    let ds = match built {
        Built::Windows(w) => {
            return match name {
                "flat_map" => {
                    let f = field(op, "fn")?.as_str().unwrap_or("");
                    if f != "window_to_batch" {
                        return Err(bad(format!(
                            "unknown flat_map fn {f:?}; known: window_to_batch"
                        )));
                    }
                    let b = positive(int(op, "batch_size")?, "Batch size")?;
                    Ok(Built::Dataset(
                        w.flat_map(move |window| window.batch(b, false))?,
                    ))
                }
                other => Err(bad(format!(
                    "window must be followed by flat_map, not {other}"
                ))),
            };
        }
        Built::Dataset(ds) => ds,
    };
    if let Some(out) = element_ops::element_op(&ds, name, op, stage) {
        return out.map(Built::Dataset);
    }
    let out = match name {
        "batch" => batch_checked(&ds, int(op, "batch_size")?, flag(op, "drop_remainder")?)?,
        "padded_batch" => padded_batch(&ds, op)?,
        "unbatch" => ds.unbatch()?,
        "rebatch" => {
            let sizes = match field(op, "batch_size")? {
                Value::Array(items) => items
                    .iter()
                    .map(|v| v.as_i64().ok_or_else(|| bad("batch sizes must be integers")))
                    .collect::<Result<Vec<_>>>()?,
                v => vec![v.as_i64().ok_or_else(|| bad("batch_size must be an integer or a list"))?],
            };
            let sizes = sizes
                .into_iter()
                .map(|s| usize::try_from(s).map_err(|_| bad(format!("batch_size must not be negative, got {s}"))))
                .collect::<Result<_>>()?;
            ds.rebatch(sizes, flag(op, "drop_remainder")?)?
        }
        "take" => ds.take(count(int(op, "count")?)),
        "skip" => ds.skip(count(int(op, "count")?)),
        "repeat" => match opt_int(op, "count")? {
            None => ds.repeat_forever(),
            Some(c) if c < 0 => ds.repeat_forever(),
            Some(c) => ds.repeat(count(c)),
        },
        "shard" => {
            let n = int(op, "num_shards")?;
            let i = int(op, "index")?;
            if n <= 0 {
                return Err(bad(format!("Number of shards must be greater than zero (currently num_shards = {n}).")));
            }
            if i < 0 || i >= n {
                return Err(bad(format!("Index must be between 0 and {} (currently index = {i}).", n - 1)));
            }
            ds.shard(n as u64, i as u64)?
        }
        "shuffle" => {
            let buffer = positive(int(op, "buffer_size")?, "buffer_size")?;
            let seed = opt_int(op, "seed")?.map(|s| s as u64);
            let reshuffle = op.get("reshuffle_each_iteration").and_then(Value::as_bool).unwrap_or(true);
            ds.shuffle(buffer, seed, reshuffle)?
        }
        "prefetch" => {
            let n = opt_int(op, "buffer_size")?.unwrap_or(-1);
            ds.prefetch(if n < 0 { 2 } else { n as usize })
        }
        "concatenate" => ds.concatenate(&build(field(op, "dataset")?)?)?,
        "enumerate" => ds.enumerate(opt_int(op, "start")?.unwrap_or(0)),
        "filter" | "take_while" => {
            let f = function(op, "predicate")?;
            eval::check_predicate(&f, &ds.element_spec()?)?;
            if name == "filter" {
                ds.filter(move |e| eval::test(&f, e))
            } else {
                ds.take_while(move |e| eval::test(&f, e))
            }
        }
        "group_by_window" => grouping::group_by_window(&ds, op)?,
        "bucket_by_sequence_length" => grouping::bucket_by_sequence_length(&ds, op)?,
        "flat_map" => {
            let f = Arc::new(parse_dataset_fn(str_arg(op, "fn")?)?);
            let spec = f.spec(&ds.element_spec()?)?;
            ds.flat_map_with_spec(spec, move |e| f.apply(&e))
        }
        "interleave" => {
            let f = Arc::new(parse_dataset_fn(str_arg(op, "fn")?)?);
            let spec = f.spec(&ds.element_spec()?)?;
            // TensorFlow's default cycle length (AUTOTUNE) is the machine's core count.
            let cycle = match opt_int(op, "cycle_length")? {
                None | Some(-1) => slicestream::runtime::machine_threads() as i64,
                Some(c) => c,
            };
            let block = opt_int(op, "block_length")?.unwrap_or(1);
            let (cycle, block) = (non_negative(cycle, "cycle_length")?, non_negative(block, "block_length")?);
            let options = InterleaveOptions::default()
                .with_cycle_length(cycle)
                .with_block_length(block)
                .with_spec(spec);
            ds.interleave_with(options, move |e| f.apply(&e))?
        }
        "cache" => match op.get("filename").and_then(Value::as_str) {
            None | Some("") => ds.cache(),
            Some(path) => ds.cache_to_file(path),
        },
        "ignore_errors" => ds.ignore_errors(flag(op, "log_warning")?),
        "unique" => state_ops::unique(&ds)?,
        "scan" => state_ops::scan(&ds, op)?,
        "reduce" => state_ops::reduce(&ds, op)?,
        "map" => {
            let f = function(op, "fn")?;
            let spec = eval::infer_spec(&f, &ds.element_spec()?)?;
            ds.map_with_spec(spec, move |e: Element| eval::apply(&f, &e))
        }
        "window" => {
            let size = positive(int(op, "size")?, "Window size")?;
            let shift = opt_int(op, "shift")?.map(|s| positive(s, "Window shift")).transpose()?;
            let stride = positive(opt_int(op, "stride")?.unwrap_or(1), "Window stride")?;
            return Ok(Built::Windows(ds.window(size, shift, stride, flag(op, "drop_remainder")?)?));
        }
        other => {
            return Err(bad(format!(
                "unknown op {other:?}; known: batch, padded_batch, unbatch, rebatch, take, skip, repeat, shard, shuffle, prefetch, concatenate, enumerate, filter, take_while, map, window, flat_map, interleave, cache, ignore_errors, group_by_window, bucket_by_sequence_length, unique, scan, reduce, {}",
                element_ops::ELEMENT_OPS
            )))
        }
    };
    Ok(Built::Dataset(out))
}

/// [`Dataset::batch`] taking a signed size as tf.data does (0 or negative is an error).
fn batch_checked(ds: &Dataset, batch_size: i64, drop_remainder: bool) -> Result<Dataset> {
    match usize::try_from(batch_size) {
        Ok(size) if size > 0 => ds.batch(size, drop_remainder),
        _ => Err(
            Error::invalid_argument("Batch size must be greater than zero.").with_stage("batch"),
        ),
    }
}
