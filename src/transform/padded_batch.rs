//! `padded_batch`: batching elements of different shapes by padding each to a common shape.

use std::sync::Arc;

use super::batch::{batched_cardinality, batched_items, check_batch_size};
use super::batcher::{tf_shape, Fit};
use crate::dataset::{Cardinality, Context, Dataset, Node, Stream};
use crate::element::{Batch, Element, ElementSpec, TensorSpec};
use crate::error::{Error, Result};
use crate::tensor::{alloc, DType, Tensor};

struct PaddedBatchNode {
    input: Arc<dyn Node>,
    batch_size: usize,
    /// Per component: the target shape, `None` = the longest in the batch.
    padded_shapes: Vec<Vec<Option<usize>>>,
    /// Per component: a scalar of the component's dtype.
    padding_values: Vec<Tensor>,
    drop_remainder: bool,
}

fn pad_batch(
    elements: &[Element],
    shapes: &[Vec<Option<usize>>],
    values: &[Tensor],
) -> Result<Batch> {
    let first = &elements[0];
    let mut components = Vec::with_capacity(first.len());
    for c in 0..first.len() {
        let target_spec = &shapes[c];
        let mut target = vec![0usize; target_spec.len()];
        for (j, e) in elements.iter().enumerate() {
            let t = &e.components()[c];
            if t.rank() != target.len() {
                return Err(Error::incompatible(format!(
                    "component {c} of element {j} has shape {} but the padded shape has rank {}",
                    tf_shape(t.shape()),
                    target.len()
                )));
            }
            for (d, &size) in t.shape().iter().enumerate() {
                target[d] = target[d].max(size);
            }
        }
        for (d, fixed) in target_spec.iter().enumerate() {
            if let Some(fixed) = fixed {
                if target[d] > *fixed {
                    return Err(Error::incompatible(format!(
                        "Attempted to pad to a smaller size than the input element: component {c} has dimension {d} of size {} but the padded shape is {}",
                        target[d],
                        crate::transform::padded_batch::spec_shape(target_spec)
                    )));
                }
                target[d] = *fixed;
            }
        }
        if let Some(t) = pad_fixed_width(elements, c, &target, &values[c])? {
            components.push(t);
            continue;
        }
        let padded: Vec<Tensor> = elements
            .iter()
            .map(|e| e.components()[c].pad_to(&target, &values[c]))
            .collect::<Result<_>>()?;
        components.push(Tensor::stack(&padded)?);
    }
    Element::from_shared(first.shared_structure().clone(), components)
}

/// The padded batch of component `c` for fixed-width dtypes, built in one buffer: filled with the
/// padding value, then each element's innermost runs copied into place. `None` for strings.
fn pad_fixed_width(
    elements: &[Element],
    c: usize,
    target: &[usize],
    pad: &Tensor,
) -> Result<Option<Tensor>> {
    let Some(item) = pad.dtype().item_size() else {
        return Ok(None);
    };
    let Some(pad_bytes) = pad.buffer().map(|b| b.as_slice().to_vec()) else {
        return Ok(None);
    };
    // Sizes come from the padded shapes (an argument) and the data: checked, and allocated
    // fallibly, so that an absurd shape is an error rather than an abort.
    let what = format!(
        "a padded batch of {} elements of shape {target:?}",
        elements.len()
    );
    let per_element = target
        .iter()
        .try_fold(item, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| alloc::too_large(&what, None).with_stage("padded_batch"))?;
    let total = alloc::bytes_for(per_element, elements.len(), &what)
        .map_err(|e| e.with_stage("padded_batch"))?;
    let mut out: Vec<u8> =
        alloc::try_vec(total, &what).map_err(|e| e.with_stage("padded_batch"))?;
    if pad_bytes.iter().all(|&b| b == 0) {
        out.resize(total, 0);
    } else {
        out.extend(pad_bytes.iter().copied().cycle().take(total));
    }
    // Row-major strides of the target, in bytes.
    let mut strides = vec![item; target.len()];
    for d in (0..target.len().saturating_sub(1)).rev() {
        strides[d] = strides[d + 1] * target[d + 1];
    }
    for (j, e) in elements.iter().enumerate() {
        let t = &e.components()[c];
        if t.dtype() != pad.dtype() {
            return Err(Error::incompatible(format!(
                "component {c} of element {j} is {}, the padding value {}",
                t.dtype(),
                pad.dtype()
            )));
        }
        let src = t.buffer().map(|b| b.as_slice()).unwrap_or(&[]);
        let shape = t.shape();
        let run = shape.last().copied().unwrap_or(1) * item;
        let runs = src.len().checked_div(run).unwrap_or(0);
        let base = j * per_element;
        for r in 0..runs {
            // The position of run `r` in the element, over every dimension but the last.
            let mut rem = r;
            let mut offset = base;
            for d in (0..shape.len().saturating_sub(1)).rev() {
                offset += (rem % shape[d]) * strides[d];
                rem /= shape[d];
            }
            out[offset..offset + run].copy_from_slice(&src[r * run..(r + 1) * run]);
        }
    }
    let mut shape = Vec::with_capacity(target.len() + 1);
    shape.push(elements.len());
    shape.extend_from_slice(target);
    Tensor::from_buffer(pad.dtype(), shape, arrow_buffer::Buffer::from_vec(out)).map(Some)
}

pub(crate) fn spec_shape(shape: &[Option<usize>]) -> String {
    let dims: Vec<String> = shape
        .iter()
        .map(|d| d.map_or("?".to_string(), |d| d.to_string()))
        .collect();
    format!("[{}]", dims.join(","))
}

impl Node for PaddedBatchNode {
    fn name(&self) -> &'static str {
        "padded_batch"
    }

    fn spec(&self) -> Result<ElementSpec> {
        let batch = self.drop_remainder.then_some(self.batch_size);
        let input = self.input.spec()?;
        let mut i = 0;
        input.map_components(|s| {
            let spec =
                TensorSpec::with_unknown(s.dtype, self.padded_shapes[i].clone()).batched(batch);
            i += 1;
            Ok(spec)
        })
    }

    fn cardinality(&self) -> Cardinality {
        batched_cardinality(
            self.input.cardinality(),
            self.batch_size,
            self.drop_remainder,
        )
    }

    fn open(&self, ctx: &Context) -> Result<Stream> {
        let input = self.input.open(ctx)?.into_items();
        let shapes = self.padded_shapes.clone();
        let values = self.padding_values.clone();
        Ok(Stream::Items(batched_items(
            input,
            self.batch_size,
            self.drop_remainder,
            Fit::SameRank,
            "padded_batch",
            move |rows| pad_batch(rows, &shapes, &values),
        )))
    }

    fn continues_after_errors(&self) -> bool {
        true
    }
}

impl Dataset {
    /// Batches elements whose shapes differ by padding each component at the end of every dimension
    /// (tf.data's `padded_batch`).
    ///
    /// - `padded_shapes`: per component (depth-first), the shape to pad to, `None` in a dimension
    ///   meaning "the longest in the batch". Default: the component's spec shape (unknown dimensions
    ///   padded to the longest).
    /// - `padding_values`: per component, a scalar of its dtype. Default: 0, `false` or `""`.
    ///
    /// Errors when `batch_size` is 0, a list's length is not the number of components, a padded shape
    /// has the wrong rank or is smaller than a known dimension, or a padding value's dtype differs;
    /// iterating errors when an element is larger than its padded shape.
    pub fn padded_batch(
        &self,
        batch_size: usize,
        padded_shapes: Option<Vec<Vec<Option<usize>>>>,
        padding_values: Option<Vec<Tensor>>,
        drop_remainder: bool,
    ) -> Result<Dataset> {
        let stage = |e: Error| e.with_stage("padded_batch");
        let batch_size = check_batch_size(batch_size as i64).map_err(stage)?;
        let spec = self.element_spec()?;
        let n = spec.components().len();
        let padded_shapes = match padded_shapes {
            None => spec.components().iter().map(|s| s.shape.clone()).collect(),
            Some(shapes) => {
                if shapes.len() != n {
                    return Err(stage(Error::invalid_argument(format!(
                        "padded_shapes has {} entries for {n} components",
                        shapes.len()
                    ))));
                }
                for ((shape, s), path) in shapes.iter().zip(spec.components()).zip(spec.paths()) {
                    let compatible = shape.len() == s.rank()
                        && shape.iter().zip(&s.shape).all(|(p, d)| match (p, d) {
                            (Some(p), Some(d)) => p >= d,
                            _ => true,
                        });
                    if !compatible {
                        return Err(stage(
                            Error::incompatible(format!(
                                "The padded shape {} is not compatible with the shape {} of the corresponding input component.",
                                spec_shape(shape),
                                spec_shape(&s.shape)
                            ))
                            .with_component(path),
                        ));
                    }
                }
                shapes
            }
        };
        let padding_values = match padding_values {
            None => spec
                .components()
                .iter()
                .map(|s| Tensor::zeros(s.dtype, Vec::new()))
                .collect::<Result<Vec<_>>>()?,
            Some(values) => {
                if values.len() != n {
                    return Err(stage(Error::invalid_argument(format!(
                        "padding_values has {} entries for {n} components",
                        values.len()
                    ))));
                }
                for ((v, s), path) in values.iter().zip(spec.components()).zip(spec.paths()) {
                    let same_kind = v.dtype() == s.dtype
                        || (v.dtype().is_variable_width() && s.dtype.is_variable_width());
                    if !same_kind || v.num_elements() != 1 {
                        return Err(stage(
                            Error::incompatible(format!(
                                "padding value is {} {:?}, the component is {} (a scalar of its dtype is needed)",
                                v.dtype(),
                                v.shape(),
                                s.dtype
                            ))
                            .with_component(path),
                        ));
                    }
                }
                values
                    .into_iter()
                    .zip(spec.components())
                    .map(|(v, s)| {
                        let v = v.reshape(Vec::new())?;
                        if v.dtype() == s.dtype {
                            Ok(v)
                        } else {
                            // A string pad for a bytes component or the other way round.
                            let bytes = v.bytes_at(0)?.to_vec();
                            if s.dtype == DType::String {
                                let text = String::from_utf8(bytes).map_err(|_| {
                                    Error::incompatible("padding value is not UTF-8 text")
                                })?;
                                Tensor::from_strings(Vec::new(), [text])
                            } else {
                                Tensor::from_byte_strings(Vec::new(), [bytes])
                            }
                        }
                    })
                    .collect::<Result<Vec<_>>>()?
            }
        };
        Ok(self.derive(PaddedBatchNode {
            input: self.node().clone(),
            batch_size,
            padded_shapes,
            padding_values,
            drop_remainder,
        }))
    }
}
