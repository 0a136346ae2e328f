//! `range`: integers `start, start + step, …` below `stop` (above it for a negative step).

use std::sync::Arc;

use crate::dataset::{Dataset, RandomAccess};
use crate::element::{Batch, Element, ElementSpec, TensorSpec};
use crate::error::{Error, Result};
use crate::tensor::{DType, Tensor};

struct Range {
    start: i64,
    step: i64,
    len: usize,
    dtype: DType,
}

impl Range {
    fn values(&self, indices: impl Iterator<Item = usize>, n: usize) -> Result<Tensor> {
        let values = indices.map(|i| self.start + self.step * i as i64);
        macro_rules! build {
            ($t:ty) => {{
                let v: Vec<$t> = values.map(|x| x as $t).collect();
                Tensor::from_vec(vec![n], v)
            }};
        }
        match self.dtype {
            DType::I64 => build!(i64),
            DType::I32 => build!(i32),
            DType::I16 => build!(i16),
            DType::I8 => build!(i8),
            DType::U64 => build!(u64),
            DType::U32 => build!(u32),
            DType::U16 => build!(u16),
            DType::U8 => build!(u8),
            DType::F64 => build!(f64),
            DType::F32 => build!(f32),
            other => Err(Error::invalid_argument(format!(
                "range cannot yield {other}"
            ))),
        }
    }
}

impl RandomAccess for Range {
    fn spec(&self) -> ElementSpec {
        ElementSpec::single(TensorSpec::new(self.dtype, &[]))
    }

    fn len(&self) -> usize {
        self.len
    }

    fn get(&self, index: usize) -> Result<Element> {
        Ok(Element::single(
            self.values(std::iter::once(index), 1)?.reshape(vec![])?,
        ))
    }

    fn slice(&self, start: usize, end: usize) -> Result<Batch> {
        Ok(Element::single(self.values(start..end, end - start)?))
    }

    fn gather(&self, indices: &[usize]) -> Result<Batch> {
        Ok(Element::single(
            self.values(indices.iter().copied(), indices.len())?,
        ))
    }
}

impl Dataset {
    /// `int64` values `start, start + step, …` stopping before `stop`, like Python's `range` and
    /// tf.data's `Dataset.range`. Errors when `step` is 0.
    pub fn range(start: i64, stop: i64, step: i64) -> Result<Dataset> {
        Self::range_with_dtype(start, stop, step, DType::I64)
    }

    /// [`Dataset::range`] yielding another numeric dtype (tf.data's `output_type`).
    pub fn range_with_dtype(start: i64, stop: i64, step: i64, dtype: DType) -> Result<Dataset> {
        if step == 0 {
            return Err(
                Error::invalid_argument("step in range() must be non-zero").with_stage("range")
            );
        }
        if matches!(
            dtype,
            DType::Bool | DType::F16 | DType::BF16 | DType::String | DType::Bytes
        ) {
            return Err(
                Error::invalid_argument(format!("range cannot yield {dtype}")).with_stage("range"),
            );
        }
        let span = if step > 0 {
            (stop as i128 - start as i128).max(0)
        } else {
            (start as i128 - stop as i128).max(0)
        };
        let step_abs = (step as i128).abs();
        let len = ((span + step_abs - 1) / step_abs) as usize;
        Ok(Dataset::from_random_access_named(
            "range",
            Arc::new(Range {
                start,
                step,
                len,
                dtype,
            }),
        ))
    }
}

impl Dataset {
    /// `start, start + step, …` without end (tf.data's `Dataset.counter`), as `dtype` (default
    /// `int64` in TensorFlow): an infinite dataset; values wrap around at the dtype's range as
    /// TensorFlow's do. Errors for a dtype that is not an integer or float.
    pub fn counter(start: i64, step: i64, dtype: DType) -> Result<Dataset> {
        if !(dtype.is_integer() || dtype.is_float()) || matches!(dtype, DType::F16 | DType::BF16) {
            return Err(
                Error::invalid_argument(format!("counter cannot yield {dtype}"))
                    .with_stage("counter"),
            );
        }
        let spec = ElementSpec::single(TensorSpec::new(DType::I64, &[]));
        let one = Dataset::from_tensors(Element::single(Tensor::scalar(0i64)))?;
        let counted = one
            .repeat_forever()
            .enumerate(0)
            .map_with_spec(spec, move |e| {
                let i = e.component(0)?.as_slice::<i64>()?[0];
                Ok(Element::single(Tensor::scalar(
                    start.wrapping_add(step.wrapping_mul(i)),
                )))
            });
        match dtype {
            DType::I64 => Ok(counted),
            other => {
                let spec = ElementSpec::single(TensorSpec::new(other, &[]));
                Ok(counted.map_with_spec(spec, move |e| {
                    let v = e.component(0)?.as_slice::<i64>()?[0];
                    let r = Range {
                        start: v,
                        step: 0,
                        len: 1,
                        dtype: other,
                    };
                    Ok(Element::single(
                        r.values(std::iter::once(0), 1)?.reshape(vec![])?,
                    ))
                }))
            }
        }
    }
}
