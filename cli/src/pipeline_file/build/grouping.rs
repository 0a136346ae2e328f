//! The grouping ops of pipeline files: `group_by_window` (each window batched by the window size)
//! and `bucket_by_sequence_length`, with their key and length functions.

use std::sync::Arc;

use serde_json::Value;

use super::{bad, field, flag, function, int, padding};
use crate::pipeline_file::eval;
use crate::pipeline_file::expr::Function;
use slicestream::dataset::Dataset;
use slicestream::element::{Element, ElementSpec};
use slicestream::error::{Error, Result};
use slicestream::tensor::DType;
use slicestream::transform::BucketOptions;

/// A function of the element that must return an integer scalar (a key or a length), checked on
/// the spec now; `int64_only` refuses other integer dtypes, as TensorFlow's `key_func` does.
fn scalar_fn(
    op: &Value,
    name: &str,
    spec: &ElementSpec,
    int64_only: bool,
) -> Result<impl Fn(&Element) -> Result<i64> + Send + Sync + 'static> {
    let f: Arc<Function> = Arc::new(function(op, name)?);
    let out = eval::infer_spec(&f, spec)?;
    let ok = match out.components() {
        [s] if s.rank() == 0 => {
            if int64_only {
                s.dtype == DType::I64
            } else {
                s.dtype.is_integer()
            }
        }
        _ => false,
    };
    if !ok {
        let want = if int64_only { "an int64" } else { "an integer" };
        return Err(Error::incompatible(format!(
            "{name} must return {want} scalar, {} returns {out}",
            f.source
        )));
    }
    Ok(move |e: &Element| -> Result<i64> {
        let out = eval::apply(&f, e)?;
        let t = out.component(0)?;
        Ok(match t.dtype() {
            DType::I64 => t.as_slice::<i64>()?[0],
            DType::I32 => i64::from(t.as_slice::<i32>()?[0]),
            _ => crate::pipeline_file::tensor_ops::cast(t, DType::I64)?.as_slice::<i64>()?[0],
        })
    })
}

/// `{"op": "group_by_window", "key_fn": K, "window_size": N}`: tf.data's `group_by_window` with
/// `reduce_func = lambda key, window: window.batch(N)`.
pub(super) fn group_by_window(ds: &Dataset, op: &Value) -> Result<Dataset> {
    let key = scalar_fn(op, "key_fn", &ds.element_spec()?, true)?;
    let size = int(op, "window_size")?;
    // The batch size of a window; a window size that is not positive fails at iteration, as in
    // TensorFlow, before any window is batched.
    let batch = usize::try_from(size).unwrap_or(1).max(1);
    ds.group_by_window(key, move |_, window| window.batch(batch, false), size)
}

/// A list of integers.
fn ints(op: &Value, name: &str) -> Result<Vec<i64>> {
    field(op, name)?
        .as_array()
        .ok_or_else(|| bad(format!("{name} must be a list of integers")))?
        .iter()
        .map(|v| {
            v.as_i64()
                .ok_or_else(|| bad(format!("{name} must be a list of integers")))
        })
        .collect()
}

/// `{"op": "bucket_by_sequence_length", "element_length_fn": L, "bucket_boundaries": [...],
/// "bucket_batch_sizes": [...], "padded_shapes": ..., "padding_values": ...,
/// "pad_to_bucket_boundary": B, "drop_remainder": B}` (the last four optional).
pub(super) fn bucket_by_sequence_length(ds: &Dataset, op: &Value) -> Result<Dataset> {
    let spec = ds.element_spec()?;
    let length = scalar_fn(op, "element_length_fn", &spec, false)?;
    let boundaries = ints(op, "bucket_boundaries")?;
    let sizes = ints(op, "bucket_batch_sizes")?
        .into_iter()
        .map(|b| {
            usize::try_from(b).ok().filter(|&b| b > 0).ok_or_else(|| {
                bad(format!(
                    "bucket batch sizes must be greater than zero, got {b}"
                ))
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let (shapes, values) = padding(&spec, op)?;
    let mut options = BucketOptions::default()
        .with_pad_to_bucket_boundary(flag(op, "pad_to_bucket_boundary")?)
        .with_drop_remainder(flag(op, "drop_remainder")?);
    if let Some(shapes) = shapes {
        options = options.with_padded_shapes(shapes);
    }
    if let Some(values) = values {
        options = options.with_padding_values(values);
    }
    ds.bucket_by_sequence_length(length, &boundaries, &sizes, options)
}
