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
