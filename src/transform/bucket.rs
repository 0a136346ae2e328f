//! `bucket_by_sequence_length`: elements grouped into buckets by their length, each bucket batched
//! (padded) on its own: tf.data's `group_by_window` with a length-to-bucket key, as TensorFlow
//! builds it.

use std::sync::Arc;

use crate::dataset::Dataset;
use crate::element::{Element, ElementSpec, TensorSpec};
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// The optional arguments of [`Dataset::bucket_by_sequence_length`], as tf.data names them.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct BucketOptions {
    /// Per component (depth-first), the shape to pad to (`None` in a dimension: the longest in the
    /// batch, or the bucket's boundary − 1 with `pad_to_bucket_boundary`). Default: the components'
    /// spec shapes.
    pub padded_shapes: Option<Vec<Vec<Option<usize>>>>,
    /// Per component, a scalar to pad with. Default: 0, `false` or `""`.
    pub padding_values: Option<Vec<Tensor>>,
    /// Pad unknown dimensions to the bucket's boundary − 1 instead of the longest in the batch; an
    /// element of the last bucket (length >= the last boundary) is then an error.
    pub pad_to_bucket_boundary: bool,
    /// Batch without padding (the elements of a batch must have the same shape).
    pub no_padding: bool,
    /// Drop each bucket's last batch when it is short.
    pub drop_remainder: bool,
}

impl BucketOptions {
    /// `padded_shapes`.
    pub fn with_padded_shapes(mut self, shapes: Vec<Vec<Option<usize>>>) -> Self {
        self.padded_shapes = Some(shapes);
        self
    }

    /// `padding_values`.
    pub fn with_padding_values(mut self, values: Vec<Tensor>) -> Self {
        self.padding_values = Some(values);
        self
    }

    /// `pad_to_bucket_boundary`.
    pub fn with_pad_to_bucket_boundary(mut self, pad: bool) -> Self {
        self.pad_to_bucket_boundary = pad;
        self
    }

    /// `no_padding`.
    pub fn with_no_padding(mut self, no_padding: bool) -> Self {
        self.no_padding = no_padding;
        self
    }

    /// `drop_remainder`.
    pub fn with_drop_remainder(mut self, drop: bool) -> Self {
        self.drop_remainder = drop;
        self
    }
}

/// The bucket of a length, as TensorFlow computes it: the first `i` with `lower[i] <= length <
/// upper[i]`, where `lower = [i32::MIN] + boundaries` and `upper = boundaries + [i32::MAX]`.
fn bucket_of(length: i64, boundaries: &[i64]) -> Option<usize> {
    (0..=boundaries.len()).find(|&i| {
        let lower = if i == 0 {
            i64::from(i32::MIN)
        } else {
            boundaries[i - 1]
        };
        let upper = boundaries.get(i).copied().unwrap_or(i64::from(i32::MAX));
        lower <= length && length < upper
    })
}

impl Dataset {
    /// Groups elements into buckets by `element_length_fn` and batches each bucket on its own
    /// (tf.data's `bucket_by_sequence_length`): an element of length `l` goes to the first bucket
    /// `i` with `boundaries[i-1] <= l < boundaries[i]` (the first bucket below the first boundary,
    /// the last from the last boundary up); bucket `i` is batched `bucket_batch_sizes[i]` at a time,
    /// padded as [`BucketOptions`] says. Batches come out as their buckets fill, then the buckets
    /// left over in order (TensorFlow's `group_by_window`).
    ///
    /// Errors when `bucket_batch_sizes` does not have one more entry than `bucket_boundaries`, a
    /// batch size is not positive, or the padding does not fit the input's spec; at iteration, with
    /// `pad_to_bucket_boundary`, when a bucket of elements at or past the last boundary is batched.
    ///
    /// ```
    /// use slicestream::{transform::BucketOptions, Dataset, Element, Tensor};
    /// let rows: Vec<Element> = [1usize, 4, 2, 5, 3]
    ///     .iter()
    ///     .map(|&n| Element::single(Tensor::from_vec1(vec![7i64; n])))
    ///     .collect();
    /// let ds = Dataset::from_elements(rows)?.bucket_by_sequence_length(
    ///     |e| Ok(e.component(0)?.shape()[0] as i64),
    ///     &[3],
    ///     &[2, 2],
    ///     BucketOptions::default(),
    /// )?;
    /// let shapes: Vec<Vec<usize>> = ds.iter()
    ///     .map(|b| Ok(b?.component(0)?.shape().to_vec()))
    ///     .collect::<slicestream::Result<_>>()?;
    /// assert_eq!(shapes, vec![vec![2, 2], vec![2, 5], vec![1, 3]]);
    /// # Ok::<(), slicestream::Error>(())
    /// ```
    pub fn bucket_by_sequence_length<L>(
        &self,
        element_length_fn: L,
        bucket_boundaries: &[i64],
        bucket_batch_sizes: &[usize],
        options: BucketOptions,
    ) -> Result<Dataset>
    where
        L: Fn(&Element) -> Result<i64> + Send + Sync + 'static,
    {
        const STAGE: &str = "bucket_by_sequence_length";
        let bad = |m: String| Error::invalid_argument(m).with_stage(STAGE);
        if bucket_batch_sizes.len() != bucket_boundaries.len() + 1 {
            return Err(bad(format!(
                "`len(bucket_batch_sizes)` must equal `len(bucket_boundaries) + 1` but \
                 `len(bucket_batch_sizes)={}` and `len(bucket_boundaries)={}`.",
                bucket_batch_sizes.len(),
                bucket_boundaries.len()
            )));
        }
        if let Some(i) = bucket_batch_sizes.iter().position(|&b| b == 0) {
            return Err(bad(format!(
                "bucket_batch_sizes[{i}] is 0: batch sizes must be greater than zero"
            )));
        }
        let input_spec = self.element_spec()?;
        // The padding is checked now, as TensorFlow does when it traces the batching function.
        if !options.no_padding {
            let _checked = Dataset::empty(input_spec.clone())
                .padded_batch(
                    1,
                    options.padded_shapes.clone(),
                    options.padding_values.clone(),
                    false,
                )
                .map_err(|e| e.with_stage(STAGE))?;
        }
        let spec = bucketed_spec(&input_spec, &options)?;
        let boundaries: Arc<[i64]> = bucket_boundaries.into();
        let sizes: Arc<[usize]> = bucket_batch_sizes.into();
        let key_boundaries = boundaries.clone();
        let key = move |e: &Element| -> Result<i64> {
            let length = element_length_fn(e)?;
            bucket_of(length, &key_boundaries)
                .map(|b| b as i64)
                .ok_or_else(|| {
                    Error::invalid_argument(format!("length {length} falls in no bucket"))
                })
        };
        let window_sizes = sizes.clone();
        let size = move |bucket: i64| -> Result<i64> { Ok(window_sizes[bucket as usize] as i64) };
        let reduce = move |bucket: i64, window: Dataset| -> Result<Dataset> {
            let bucket = bucket as usize;
            let batch_size = sizes[bucket];
            if options.no_padding {
                return window.batch(batch_size, options.drop_remainder);
            }
            let filler = if options.pad_to_bucket_boundary {
                let Some(&boundary) = boundaries.get(bucket) else {
                    return Err(Error::invalid_argument(
                        "When pad_to_bucket_boundary=True, elements must have length < \
                         max(bucket_boundaries).",
                    ));
                };
                Some(usize::try_from(boundary - 1).map_err(|_| {
                    Error::invalid_argument(format!(
                        "bucket boundary {boundary} leaves no length to pad to"
                    ))
                })?)
            } else {
                None
            };
            let shapes = options.padded_shapes.clone().unwrap_or_else(|| {
                window
                    .element_spec()
                    .map(|s| s.components().iter().map(|c| c.shape.clone()).collect())
                    .unwrap_or_default()
            });
            let shapes = shapes
                .into_iter()
                .map(|shape| shape.into_iter().map(|d| d.or(filler)).collect())
                .collect();
            window.padded_batch(
                batch_size,
                Some(shapes),
                options.padding_values.clone(),
                options.drop_remainder,
            )
        };
        self.grouped(STAGE, Arc::new(key), Arc::new(reduce), Arc::new(size), spec)
    }
}

/// The spec TensorFlow gives a bucketed dataset: the batch dimension unknown (the batch size
/// depends on the bucket) and each component padded to its padded shape (or left as it is without
/// padding), dimensions padded to a bucket's boundary unknown.
fn bucketed_spec(input: &ElementSpec, options: &BucketOptions) -> Result<ElementSpec> {
    let shapes = options.padded_shapes.as_ref();
    let mut index = 0;
    input.map_components(|s| {
        let shape = match shapes.filter(|_| !options.no_padding) {
            Some(shapes) => shapes
                .get(index)
                .cloned()
                .unwrap_or_else(|| s.shape.clone()),
            None => s.shape.clone(),
        };
        index += 1;
        Ok(TensorSpec::with_unknown(s.dtype, shape).batched(None))
    })
}
