//! [`Tensor`]: a dtype, a shape and contiguous row-major values in Arrow buffers.

use std::borrow::Borrow;
use std::fmt;

use arrow_buffer::{Buffer, MutableBuffer, ScalarBuffer};

use super::element_type::{cast_slice, TensorElement};
use super::DType;
use crate::error::{Error, ErrorKind, Result};

/// The values of a tensor.
#[derive(Clone)]
pub(crate) enum Storage {
    /// Fixed-width values, `num_elements * item_size` bytes, aligned for the dtype.
    Fixed(Buffer),
    /// Strings or bytes: `num_elements + 1` offsets into `values` (they need not start at 0).
    Variable {
        offsets: ScalarBuffer<i64>,
        values: Buffer,
    },
}

/// A tensor: a [`DType`], a shape and its values, contiguous and row-major, held in Arrow buffers.
///
/// Cloning and slicing rows share the buffers (no copy). Fixed-width values are one
/// [`arrow_buffer::Buffer`]; strings and bytes are `i64` offsets plus one values buffer, as Arrow's
/// `LargeUtf8` / `LargeBinary`. Bool values are one byte each (0 or 1), as numpy and TensorFlow keep them.
#[derive(Clone)]
pub struct Tensor {
    dtype: DType,
    shape: Vec<usize>,
    storage: Storage,
}

/// The number of values of a shape, or an error when it overflows `usize`.
pub(crate) fn checked_num_elements(shape: &[usize]) -> Result<usize> {
    shape.iter().try_fold(1usize, |acc, &d| {
        acc.checked_mul(d).ok_or_else(|| {
            Error::invalid_argument(format!(
                "shape {shape:?} has more elements than fit in memory"
            ))
        })
    })
}

fn aligned(buffer: &Buffer, align: usize) -> bool {
    (buffer.as_ptr() as usize).is_multiple_of(align)
}

impl Tensor {
    // ----- construction -------------------------------------------------------------------

    /// A tensor of `shape` that takes ownership of `values` without copying them.
    ///
    /// Errors when the shape's element count is not `values.len()`.
    pub fn from_vec<T: TensorElement>(
        shape: impl Into<Vec<usize>>,
        values: Vec<T>,
    ) -> Result<Self> {
        let shape = shape.into();
        let n = checked_num_elements(&shape)?;
        if n != values.len() {
            return Err(Error::invalid_argument(format!(
                "shape {shape:?} needs {n} values, got {}",
                values.len()
            )));
        }
        Ok(Tensor {
            dtype: T::DTYPE,
            shape,
            storage: Storage::Fixed(T::vec_into_buffer(values)),
        })
    }

    /// A rank-1 tensor that takes ownership of `values` without copying them.
    pub fn from_vec1<T: TensorElement>(values: Vec<T>) -> Self {
        let shape = vec![values.len()];
        Tensor {
            dtype: T::DTYPE,
            shape,
            storage: Storage::Fixed(T::vec_into_buffer(values)),
        }
    }

    /// A scalar (rank-0) tensor.
    pub fn scalar<T: TensorElement>(value: T) -> Self {
        Tensor {
            dtype: T::DTYPE,
            shape: Vec::new(),
            storage: Storage::Fixed(T::vec_into_buffer(vec![value])),
        }
    }

    /// A tensor of `shape` over fixed-width values already in an Arrow buffer (no copy when the buffer
    /// is aligned for the dtype; a misaligned buffer, e.g. from a memory-mapped file, is copied once).
    ///
    /// Errors when the dtype is variable-width, the byte length does not match the shape, or a bool
    /// buffer holds a byte other than 0 or 1.
    pub fn from_buffer(dtype: DType, shape: impl Into<Vec<usize>>, buffer: Buffer) -> Result<Self> {
        let shape = shape.into();
        let item = dtype.item_size().ok_or_else(|| {
            Error::invalid_argument(format!(
                "{dtype} values are variable-width: use from_strings or from_var_parts"
            ))
        })?;
        let n = checked_num_elements(&shape)?;
        let expected = n.checked_mul(item).ok_or_else(|| {
            Error::invalid_argument(format!("shape {shape:?} of {dtype} overflows"))
        })?;
        if buffer.len() != expected {
            return Err(Error::invalid_argument(format!(
                "shape {shape:?} of {dtype} needs {expected} bytes, the buffer has {}",
                buffer.len()
            )));
        }
        if dtype == DType::Bool {
            if let Some(pos) = buffer.as_slice().iter().position(|&b| b > 1) {
                return Err(Error::format(format!(
                    "bool value {pos} is byte {}, not 0 or 1",
                    buffer.as_slice()[pos]
                )));
            }
        }
        let buffer = if aligned(&buffer, item) {
            buffer
        } else {
            Buffer::from_slice_ref(buffer.as_slice())
        };
        Ok(Tensor {
            dtype,
            shape,
            storage: Storage::Fixed(buffer),
        })
    }

    /// A `String` tensor of `shape` from its values in row-major order.
    pub fn from_strings<S: AsRef<str>>(
        shape: impl Into<Vec<usize>>,
        values: impl IntoIterator<Item = S>,
    ) -> Result<Self> {
        Self::from_var_values(
            DType::String,
            shape.into(),
            values.into_iter().map(|s| {
                // Borrow as bytes; the values are UTF-8 by type.
                let s: S = s;
                OwnedOrRef(s)
            }),
        )
    }

    /// A `Bytes` tensor of `shape` from its values in row-major order.
    pub fn from_byte_strings<B: AsRef<[u8]>>(
        shape: impl Into<Vec<usize>>,
        values: impl IntoIterator<Item = B>,
    ) -> Result<Self> {
        Self::from_var_values(DType::Bytes, shape.into(), values.into_iter())
    }

    fn from_var_values<B: AsRef<[u8]>>(
        dtype: DType,
        shape: Vec<usize>,
        values: impl Iterator<Item = B>,
    ) -> Result<Self> {
        let n = checked_num_elements(&shape)?;
        let mut offsets: Vec<i64> = Vec::with_capacity(n + 1);
        let mut bytes: Vec<u8> = Vec::new();
        offsets.push(0);
        for v in values {
            bytes.extend_from_slice(v.as_ref());
            offsets.push(bytes.len() as i64);
        }
        if offsets.len() != n + 1 {
            return Err(Error::invalid_argument(format!(
                "shape {shape:?} needs {n} values, got {}",
                offsets.len() - 1
            )));
        }
        Ok(Tensor {
            dtype,
            shape,
            storage: Storage::Variable {
                offsets: ScalarBuffer::from(offsets),
                values: Buffer::from_vec(bytes),
            },
        })
    }

    /// A `String` or `Bytes` tensor from Arrow-style parts: `num_elements + 1` offsets into `values`.
    ///
    /// Errors when offsets are out of order or out of bounds, or (for `String`) a value is not UTF-8.
    pub fn from_var_parts(
        dtype: DType,
        shape: impl Into<Vec<usize>>,
        offsets: ScalarBuffer<i64>,
        values: Buffer,
    ) -> Result<Self> {
        let shape = shape.into();
        if !dtype.is_variable_width() {
            return Err(Error::invalid_argument(format!(
                "{dtype} is fixed-width: use from_buffer"
            )));
        }
        let n = checked_num_elements(&shape)?;
        if offsets.len() != n + 1 {
            return Err(Error::invalid_argument(format!(
                "shape {shape:?} needs {} offsets, got {}",
                n + 1,
                offsets.len()
            )));
        }
        for (i, w) in offsets.windows(2).enumerate() {
            if w[0] < 0 || w[1] < w[0] || w[1] as usize > values.len() {
                return Err(Error::format(format!(
                    "offsets {}..{} of value {i} are out of order or beyond the {} value bytes",
                    w[0],
                    w[1],
                    values.len()
                )));
            }
            if dtype == DType::String
                && std::str::from_utf8(&values.as_slice()[w[0] as usize..w[1] as usize]).is_err()
            {
                return Err(Error::format(format!(
                    "string value {i} is not valid UTF-8"
                )));
            }
        }
        Ok(Tensor {
            dtype,
            shape,
            storage: Storage::Variable { offsets, values },
        })
    }

    /// A tensor of `shape` whose values are all zero (`false`, empty strings).
    pub fn zeros(dtype: DType, shape: impl Into<Vec<usize>>) -> Result<Self> {
        let shape = shape.into();
        let n = checked_num_elements(&shape)?;
        match dtype.item_size() {
            Some(item) => {
                let bytes = n.checked_mul(item).ok_or_else(|| {
                    Error::invalid_argument(format!("shape {shape:?} of {dtype} overflows"))
                })?;
                Ok(Tensor {
                    dtype,
                    shape,
                    storage: Storage::Fixed(MutableBuffer::from_len_zeroed(bytes).into()),
                })
            }
            None => Ok(Tensor {
                dtype,
                shape,
                storage: Storage::Variable {
                    offsets: ScalarBuffer::from(vec![0i64; n + 1]),
                    values: Buffer::from_vec(Vec::<u8>::new()),
                },
            }),
        }
    }

    /// A tensor of `shape` with every value equal to the single value of `value` (any shape with one
    /// element), as TensorFlow's `tf.fill`.
    pub fn full(shape: impl Into<Vec<usize>>, value: &Tensor) -> Result<Self> {
        let shape = shape.into();
        if value.num_elements() != 1 {
            return Err(Error::invalid_argument(format!(
                "a fill value has one element, got shape {:?}",
                value.shape
            )));
        }
        let n = checked_num_elements(&shape)?;
        let v = value.reshape(Vec::new())?;
        let index = vec![0usize; n];
        let mut t = v.gather_values(&index)?;
        t.shape = shape;
        Ok(t)
    }

    // ----- inspection -----------------------------------------------------------------------

    /// The dtype of the values.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// The shape (empty for a scalar).
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The rank (number of dimensions).
    pub fn rank(&self) -> usize {
        self.shape.len()
    }

    /// The number of values (the product of the shape).
    pub fn num_elements(&self) -> usize {
        self.shape.iter().product()
    }

    /// Bytes held by this tensor's values (and offsets, for strings): what it costs in a buffer.
    pub fn nbytes(&self) -> usize {
        match &self.storage {
            Storage::Fixed(b) => b.len(),
            Storage::Variable { offsets, .. } => {
                let first = offsets.first().copied().unwrap_or(0);
                let last = offsets.last().copied().unwrap_or(0);
                (last - first) as usize + offsets.len() * 8
            }
        }
    }

    /// The values buffer of a fixed-width tensor (its bytes, exactly); `None` for strings and bytes.
    pub fn buffer(&self) -> Option<&Buffer> {
        match &self.storage {
            Storage::Fixed(b) => Some(b),
            Storage::Variable { .. } => None,
        }
    }

    /// The offsets and values buffers of a `String` or `Bytes` tensor; `None` for fixed-width ones.
    pub fn var_parts(&self) -> Option<(&ScalarBuffer<i64>, &Buffer)> {
        match &self.storage {
            Storage::Fixed(_) => None,
            Storage::Variable { offsets, values } => Some((offsets, values)),
        }
    }

    /// A pointer to the first value byte: equal pointers mean shared memory (what zero-copy tests compare).
    pub fn data_ptr(&self) -> *const u8 {
        match &self.storage {
            Storage::Fixed(b) => b.as_ptr(),
            Storage::Variable { offsets, values } => {
                let first = offsets.first().copied().unwrap_or(0) as usize;
                values.as_slice()[first.min(values.len())..].as_ptr()
            }
        }
    }

    fn check_dtype(&self, expected: DType) -> Result<()> {
        if self.dtype != expected {
            return Err(Error::new(ErrorKind::DTypeMismatch {
                expected,
                found: self.dtype,
            }));
        }
        Ok(())
    }

    /// The values as a slice of `T`, borrowed (no copy). Errors when `T` is not the tensor's dtype.
    pub fn as_slice<T: TensorElement>(&self) -> Result<&[T]> {
        self.check_dtype(T::DTYPE)?;
        match &self.storage {
            Storage::Fixed(b) => cast_slice::<T>(b.as_slice())
                .ok_or_else(|| Error::format(format!("{} buffer is not aligned", self.dtype))),
            Storage::Variable { .. } => Err(Error::invalid_argument("not a fixed-width tensor")),
        }
    }

    /// The `i`-th value (row-major) of a `String` or `Bytes` tensor, as bytes.
    pub fn bytes_at(&self, i: usize) -> Result<&[u8]> {
        match &self.storage {
            Storage::Variable { offsets, values } => {
                if i + 1 >= offsets.len() {
                    return Err(Error::invalid_argument(format!(
                        "value index {i} out of range for {} values",
                        offsets.len() - 1
                    )));
                }
                Ok(&values.as_slice()[offsets[i] as usize..offsets[i + 1] as usize])
            }
            Storage::Fixed(_) => Err(Error::new(ErrorKind::DTypeMismatch {
                expected: DType::Bytes,
                found: self.dtype,
            })),
        }
    }

    /// The `i`-th value (row-major) of a `String` tensor.
    pub fn str_at(&self, i: usize) -> Result<&str> {
        self.check_dtype(DType::String)?;
        let b = self.bytes_at(i)?;
        std::str::from_utf8(b).map_err(|e| Error::format(format!("string value {i}: {e}")))
    }

    /// Every value of a `String` or `Bytes` tensor, as bytes, row-major.
    pub fn byte_values(&self) -> Result<Vec<&[u8]>> {
        (0..self.num_elements()).map(|i| self.bytes_at(i)).collect()
    }

    /// Every value of a `String` tensor, row-major.
    pub fn string_values(&self) -> Result<Vec<&str>> {
        (0..self.num_elements()).map(|i| self.str_at(i)).collect()
    }

    // ----- reshaping and slicing (no copy) --------------------------------------------------

    /// The same values with another shape of the same element count (no copy).
    pub fn reshape(&self, shape: impl Into<Vec<usize>>) -> Result<Tensor> {
        let shape = shape.into();
        let n = checked_num_elements(&shape)?;
        if n != self.num_elements() {
            return Err(Error::invalid_argument(format!(
                "cannot reshape {:?} ({} values) to {shape:?} ({n} values)",
                self.shape,
                self.num_elements()
            )));
        }
        Ok(Tensor {
            dtype: self.dtype,
            shape,
            storage: self.storage.clone(),
        })
    }

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

    /// A rank-1 tensor of the values at the given flat (row-major) positions.
    pub(crate) fn gather_values(&self, positions: &[usize]) -> Result<Tensor> {
        let flat = Tensor {
            dtype: self.dtype,
            shape: vec![self.num_elements()],
            storage: self.storage.clone(),
        };
        flat.gather_rows(positions)
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
            shape,
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
        let mut positions = vec![pad_position; n];
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
        out.shape = shape.to_vec();
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

/// Adapts `AsRef<str>` to `AsRef<[u8]>` for building string tensors.
struct OwnedOrRef<S>(S);

impl<S: AsRef<str>> AsRef<[u8]> for OwnedOrRef<S> {
    fn as_ref(&self) -> &[u8] {
        self.0.as_ref().as_bytes()
    }
}

impl PartialEq for Tensor {
    /// Equal dtype, shape and values (floats compared by value: `NaN != NaN`, `0.0 == -0.0`).
    fn eq(&self, other: &Self) -> bool {
        if self.dtype != other.dtype || self.shape != other.shape {
            return false;
        }
        macro_rules! cmp {
            ($t:ty) => {
                match (self.as_slice::<$t>(), other.as_slice::<$t>()) {
                    (Ok(a), Ok(b)) => a == b,
                    _ => false,
                }
            };
        }
        match self.dtype {
            DType::Bool => cmp!(bool),
            DType::U8 => cmp!(u8),
            DType::U16 => cmp!(u16),
            DType::U32 => cmp!(u32),
            DType::U64 => cmp!(u64),
            DType::I8 => cmp!(i8),
            DType::I16 => cmp!(i16),
            DType::I32 => cmp!(i32),
            DType::I64 => cmp!(i64),
            DType::F16 => cmp!(half::f16),
            DType::BF16 => cmp!(half::bf16),
            DType::F32 => cmp!(f32),
            DType::F64 => cmp!(f64),
            DType::String | DType::Bytes => match (self.byte_values(), other.byte_values()) {
                (Ok(a), Ok(b)) => a == b,
                _ => false,
            },
        }
    }
}

impl fmt::Debug for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOW: usize = 16;
        write!(f, "Tensor({}, {:?}, [", self.dtype, self.shape)?;
        let n = self.num_elements().min(SHOW);
        macro_rules! show {
            ($t:ty) => {
                if let Ok(v) = self.as_slice::<$t>() {
                    for (i, x) in v.iter().take(n).enumerate() {
                        if i > 0 {
                            write!(f, ", ")?;
                        }
                        write!(f, "{x:?}")?;
                    }
                }
            };
        }
        match self.dtype {
            DType::Bool => show!(bool),
            DType::U8 => show!(u8),
            DType::U16 => show!(u16),
            DType::U32 => show!(u32),
            DType::U64 => show!(u64),
            DType::I8 => show!(i8),
            DType::I16 => show!(i16),
            DType::I32 => show!(i32),
            DType::I64 => show!(i64),
            DType::F16 => show!(half::f16),
            DType::BF16 => show!(half::bf16),
            DType::F32 => show!(f32),
            DType::F64 => show!(f64),
            DType::String | DType::Bytes => {
                for i in 0..n {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    match self.bytes_at(i) {
                        Ok(b) => write!(f, "{:?}", String::from_utf8_lossy(b))?,
                        Err(_) => write!(f, "?")?,
                    }
                }
            }
        }
        if self.num_elements() > SHOW {
            write!(f, ", …")?;
        }
        write!(f, "])")
    }
}
