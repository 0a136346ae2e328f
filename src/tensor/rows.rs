//! Rows of tensors: slicing and gathering rows, stacking and concatenating tensors, padding —
//! the copies a batch is made of (one new buffer each, split across the pipeline's pool when large).

use std::borrow::Borrow;

use arrow_buffer::{Buffer, MutableBuffer, ScalarBuffer};

use super::alloc;
use super::element_type::{cast_slice, TensorElement};
use super::tensor::{checked_num_elements, Storage};
use super::{DType, Tensor};
use crate::error::{Error, ErrorKind, Result};

impl Tensor {
    /// Values per row: the product of every dimension but the first.
    pub(crate) fn row_len(&self) -> usize {
        self.shape.iter().skip(1).product()
    }

    /// Rows `start..end` along the first dimension, sharing this tensor's buffers (no copy).
    pub fn slice_rows(&self, start: usize, end: usize) -> Result<Tensor> {
        let rows = *self
            .shape
            .first()
            .ok_or_else(|| Error::invalid_argument("cannot slice the rows of a scalar"))?;
        if start > end || end > rows {
            return Err(Error::invalid_argument(format!(
                "rows {start}..{end} out of range for {rows} rows"
            )));
        }
        let row_len = self.row_len();
        let mut shape = self.shape.clone();
        shape[0] = end - start;
        let storage = match &self.storage {
            Storage::Fixed(b) => {
                let item = self.dtype.item_size().unwrap_or(1);
                Storage::Fixed(
                    b.slice_with_length(start * row_len * item, (end - start) * row_len * item),
                )
            }
            Storage::Variable { offsets, values } => Storage::Variable {
                offsets: offsets.slice(start * row_len, (end - start) * row_len + 1),
                values: values.clone(),
            },
        };
        Ok(Tensor {
            dtype: self.dtype,
            shape,
            storage,
        })
    }

    /// Row `i` along the first dimension, without that dimension (no copy).
    pub fn row(&self, i: usize) -> Result<Tensor> {
        let mut t = self.slice_rows(i, i + 1)?;
        t.shape.remove(0);
        Ok(t)
    }

    // ----- building new tensors (one copy) --------------------------------------------------

    /// A new tensor of the given rows (along the first dimension), in order: one row-wise copy.
    pub fn gather_rows(&self, indices: &[usize]) -> Result<Tensor> {
        let rows = *self
            .shape
            .first()
            .ok_or_else(|| Error::invalid_argument("cannot gather the rows of a scalar"))?;
        if let Some(&bad) = indices.iter().find(|&&i| i >= rows) {
            return Err(Error::invalid_argument(format!(
                "row {bad} out of range for {rows} rows"
            )));
        }
        let row_len = self.row_len();
        let mut shape = self.shape.clone();
        shape[0] = indices.len();
        let storage = match &self.storage {
            Storage::Fixed(b) => {
                let item = self.dtype.item_size().unwrap_or(1);
                let row_bytes = row_len * item;
                let src = b.as_slice();
                let rows: Vec<&[u8]> = indices
                    .iter()
                    .map(|&i| &src[i * row_bytes..(i + 1) * row_bytes])
                    .collect();
                Storage::Fixed(concat_fixed(item, &rows))
            }
            Storage::Variable { offsets, values } => {
                let mut new_offsets = Vec::with_capacity(indices.len() * row_len + 1);
                let mut new_values = Vec::new();
                new_offsets.push(0i64);
                for &i in indices {
                    let (a, z) = (
                        offsets[i * row_len] as usize,
                        offsets[(i + 1) * row_len] as usize,
                    );
                    let base = new_values.len() as i64 - a as i64;
                    new_values.extend_from_slice(&values.as_slice()[a..z]);
                    for k in 1..=row_len {
                        new_offsets.push(offsets[i * row_len + k] + base);
                    }
                }
                Storage::Variable {
                    offsets: ScalarBuffer::from(new_offsets),
                    values: Buffer::from_vec(new_values),
                }
            }
        };
        Ok(Tensor {
            dtype: self.dtype,
            shape,
            storage,
        })
    }

    /// Stacks tensors of one dtype and shape along a new first dimension: `[n, ...shape]`. One copy.
    ///
    /// Errors name the first part whose dtype or shape differs (TensorFlow's batching error).
    pub fn stack(parts: &[Tensor]) -> Result<Tensor> {
        Tensor::stack_of(parts)
    }

    /// [`Tensor::stack`] of borrowed tensors (no clone of each part).
    pub fn stack_refs(parts: &[&Tensor]) -> Result<Tensor> {
        Tensor::stack_of(parts)
    }

    fn stack_of<P: Borrow<Tensor>>(parts: &[P]) -> Result<Tensor> {
        let first = parts
            .first()
            .ok_or_else(|| Error::invalid_argument("cannot stack zero tensors"))?
            .borrow();
        for (i, p) in parts.iter().enumerate().skip(1) {
            let p = p.borrow();
            if p.dtype != first.dtype {
                return Err(Error::incompatible(format!(
                    "Cannot batch tensors of different dtypes. First element had dtype {} and element {i} had dtype {}.",
                    first.dtype, p.dtype
                )));
            }
            if p.shape != first.shape {
                return Err(Error::incompatible(format!(
                    "Cannot batch tensors with different shapes. First element had shape {:?} and element {i} had shape {:?}.",
                    first.shape, p.shape
                )));
            }
        }
        let mut shape = Vec::with_capacity(first.rank() + 1);
        shape.push(parts.len());
        shape.extend_from_slice(&first.shape);
        Ok(Tensor {
            dtype: first.dtype,
            shape: shape.into(),
            storage: concat_storage(first.dtype, parts),
        })
    }

    /// Concatenates tensors of one dtype along their first dimension (the other dimensions must agree).
    pub fn concat_rows(parts: &[Tensor]) -> Result<Tensor> {
        let first = parts
            .first()
            .ok_or_else(|| Error::invalid_argument("cannot concatenate zero tensors"))?;
        if first.rank() == 0 {
            return Err(Error::invalid_argument(
                "cannot concatenate scalars along rows",
            ));
        }
        let mut rows = 0usize;
        for (i, p) in parts.iter().enumerate() {
            if p.dtype != first.dtype
                || p.rank() != first.rank()
                || p.shape[1..] != first.shape[1..]
            {
                return Err(Error::incompatible(format!(
                    "cannot concatenate rows: part 0 is {} {:?}, part {i} is {} {:?}",
                    first.dtype, first.shape, p.dtype, p.shape
                )));
            }
            rows += p.shape[0];
        }
        let mut shape = first.shape.clone();
        shape[0] = rows;
        Ok(Tensor {
            dtype: first.dtype,
            shape,
            storage: concat_storage(first.dtype, parts),
        })
    }

    /// This tensor padded at the end of each dimension up to `shape` with `value` (a one-element
    /// tensor of the same dtype). Errors when a dimension is larger than its target.
    pub fn pad_to(&self, shape: &[usize], value: &Tensor) -> Result<Tensor> {
        if shape.len() != self.rank() {
            return Err(Error::incompatible(format!(
                "cannot pad a rank-{} tensor to rank {}",
                self.rank(),
                shape.len()
            )));
        }
        if value.dtype != self.dtype {
            return Err(Error::new(ErrorKind::DTypeMismatch {
                expected: self.dtype,
                found: value.dtype,
            }));
        }
        if let Some(d) = (0..shape.len()).find(|&d| self.shape[d] > shape[d]) {
            return Err(Error::incompatible(format!(
                "Attempted to pad to a smaller size than the input element: dimension {d} is {} and the padded shape is {:?}",
                self.shape[d], shape
            )));
        }
        if shape == self.shape.as_slice() {
            return Ok(self.clone());
        }
        // Build the padded tensor as a gather over [values..., pad value].
        let n = checked_num_elements(shape)?;
        let pad_position = self.num_elements();
        let mut positions =
            alloc::try_filled(n, pad_position, &format!("padding to shape {shape:?}"))?;
        let mut src_strides = vec![1usize; self.rank()];
        let mut dst_strides = vec![1usize; self.rank()];
        for d in (0..self.rank().saturating_sub(1)).rev() {
            src_strides[d] = src_strides[d + 1] * self.shape[d + 1];
            dst_strides[d] = dst_strides[d + 1] * shape[d + 1];
        }
        for src in 0..self.num_elements() {
            let mut rem = src;
            let mut dst = 0;
            for d in 0..self.rank() {
                let idx = rem / src_strides[d];
                rem %= src_strides[d];
                dst += idx * dst_strides[d];
            }
            positions[dst] = src;
        }
        let flat = self.reshape(vec![self.num_elements()])?;
        let pad = value.reshape(vec![1])?;
        let joined = Tensor::concat_rows(&[flat, pad])?;
        let mut out = joined.gather_rows(&positions)?;
        out.shape = shape.into();
        Ok(out)
    }
}

/// The values of `parts` one after another, in one new buffer.
fn concat_storage<P: Borrow<Tensor>>(dtype: DType, parts: &[P]) -> Storage {
    match dtype.item_size() {
        Some(item) => {
            let chunks: Vec<&[u8]> = parts
                .iter()
                .filter_map(|p| match &p.borrow().storage {
                    Storage::Fixed(b) => Some(b.as_slice()),
                    Storage::Variable { .. } => None,
                })
                .collect();
            Storage::Fixed(concat_fixed(item, &chunks))
        }
        None => {
            let count: usize = parts.iter().map(|p| p.borrow().num_elements()).sum();
            let mut offsets = Vec::with_capacity(count + 1);
            let mut values = Vec::new();
            offsets.push(0i64);
            for p in parts {
                if let Storage::Variable {
                    offsets: o,
                    values: v,
                } = &p.borrow().storage
                {
                    let (a, z) = (o[0] as usize, o[o.len() - 1] as usize);
                    let base = values.len() as i64 - a as i64;
                    values.extend_from_slice(&v.as_slice()[a..z]);
                    offsets.extend(o.iter().skip(1).map(|x| x + base));
                }
            }
            Storage::Variable {
                offsets: ScalarBuffer::from(offsets),
                values: Buffer::from_vec(values),
            }
        }
    }
}

/// Byte chunks of fixed-width values (`item` bytes each) one after another in one new buffer,
/// allocated as a `Vec` of a native type of that width (not as a 64-byte aligned `MutableBuffer`), so
/// that [`Tensor::into_array`] can take the buffer back as a `Vec<T>` without a copy.
fn concat_fixed(item: usize, chunks: &[&[u8]]) -> Buffer {
    fn typed<T: TensorElement>(chunks: &[&[u8]]) -> Option<Buffer> {
        let typed: Vec<&[T]> = chunks
            .iter()
            .map(|c| cast_slice::<T>(c))
            .collect::<Option<_>>()?;
        let total: usize = typed.iter().map(|c| c.len()).sum();
        let mut out: Vec<T> = Vec::with_capacity(total);
        let parallel = total * std::mem::size_of::<T>() >= PARALLEL_COPY_BYTES
            && rayon::current_thread_index().is_some()
            && rayon::current_num_threads() > 1;
        if parallel {
            copy_parallel(&typed, &mut out.spare_capacity_mut()[..total]);
            // SAFETY: `copy_parallel` initialized exactly the first `total` values.
            unsafe { out.set_len(total) };
        } else {
            for c in typed {
                out.extend_from_slice(c);
            }
        }
        Some(T::vec_into_buffer(out))
    }
    let typed = match item {
        2 => typed::<u16>(chunks),
        4 => typed::<u32>(chunks),
        8 => typed::<u64>(chunks),
        _ => typed::<u8>(chunks),
    };
    // Tensor buffers are aligned for their dtype, so the typed copy succeeds; this is a fallback.
    typed.unwrap_or_else(|| {
        let mut out = MutableBuffer::with_capacity(chunks.iter().map(|c| c.len()).sum());
        for c in chunks {
            out.extend_from_slice(c);
        }
        out.into()
    })
}

/// Copies of at least this many bytes are split across the pool, when made on one of its threads.
const PARALLEL_COPY_BYTES: usize = 512 << 10;

/// Copies `chunks` one after another into `dst` (exactly their total length), split into one group
/// of chunks per thread of the current rayon pool.
fn copy_parallel<T: TensorElement>(chunks: &[&[T]], dst: &mut [std::mem::MaybeUninit<T>]) {
    use rayon::prelude::*;
    let per_group = chunks.len().div_ceil(rayon::current_num_threads()).max(1);
    let mut rest = dst;
    let mut groups = Vec::new();
    for group in chunks.chunks(per_group) {
        let n: usize = group.iter().map(|c| c.len()).sum();
        let (head, tail) = rest.split_at_mut(n);
        groups.push((group, head));
        rest = tail;
    }
    groups.into_par_iter().for_each(|(group, dst)| {
        let mut offset = 0;
        for c in group {
            // SAFETY: `dst[offset..offset + c.len()]` is in bounds (the group's lengths sum to
            // `dst.len()`), `MaybeUninit<T>` has `T`'s layout, and source and destination are
            // different allocations.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    c.as_ptr(),
                    dst[offset..].as_mut_ptr() as *mut T,
                    c.len(),
                );
            }
            offset += c.len();
        }
    });
}
