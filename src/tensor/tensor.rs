//! [`Tensor`]: a dtype, a shape and contiguous row-major values in Arrow buffers.

use std::fmt;

use arrow_buffer::{Buffer, ScalarBuffer};

use super::alloc;
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
    pub(super) dtype: DType,
    pub(super) shape: Shape,
    pub(super) storage: Storage,
}

/// A tensor's shape: up to four dimensions held inline (no allocation per slice or row).
pub(super) type Shape = smallvec::SmallVec<[usize; 4]>;

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
            shape: shape.into(),
            storage: Storage::Fixed(T::vec_into_buffer(values)),
        })
    }

    /// A rank-1 tensor that takes ownership of `values` without copying them.
    pub fn from_vec1<T: TensorElement>(values: Vec<T>) -> Self {
        let shape = vec![values.len()];
        Tensor {
            dtype: T::DTYPE,
            shape: shape.into(),
            storage: Storage::Fixed(T::vec_into_buffer(values)),
        }
    }

    /// A scalar (rank-0) tensor.
    pub fn scalar<T: TensorElement>(value: T) -> Self {
        Tensor {
            dtype: T::DTYPE,
            shape: Shape::new(),
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
            shape: shape.into(),
            storage: Storage::Fixed(buffer),
        })
    }

    /// A tensor of `T` from a buffer that holds exactly `shape`'s values of `T`, aligned for `T`,
    /// as a `Vec<T>` or a standard-layout array owns them (what `from_buffer` would check).
    pub(crate) fn from_owned_values<T: TensorElement>(shape: &[usize], buffer: Buffer) -> Tensor {
        debug_assert_eq!(
            shape.iter().product::<usize>() * std::mem::size_of::<T>(),
            buffer.len()
        );
        debug_assert!(aligned(&buffer, std::mem::align_of::<T>()));
        Tensor {
            dtype: T::DTYPE,
            shape: Shape::from_slice(shape),
            storage: Storage::Fixed(buffer),
        }
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
        // The shape is an argument: reserve by it only up to a bound, the values decide the rest.
        let mut offsets: Vec<i64> = Vec::with_capacity(n.min(1 << 16) + 1);
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
            shape: shape.into(),
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
            shape: shape.into(),
            storage: Storage::Variable { offsets, values },
        })
    }

    /// A tensor of `shape` whose values are all zero (`false`, empty strings).
    pub fn zeros(dtype: DType, shape: impl Into<Vec<usize>>) -> Result<Self> {
        let shape = shape.into();
        let n = checked_num_elements(&shape)?;
        let what = format!("a {dtype} tensor of shape {shape:?}");
        match dtype.item_size() {
            Some(item) => {
                let zero = [0u8; 8];
                Ok(Tensor {
                    dtype,
                    shape: shape.into(),
                    storage: Storage::Fixed(alloc::try_repeated(&zero[..item], n, &what)?),
                })
            }
            None => {
                let count = n
                    .checked_add(1)
                    .ok_or_else(|| alloc::too_large(&what, None))?;
                Ok(Tensor {
                    dtype,
                    shape: shape.into(),
                    storage: Storage::Variable {
                        offsets: ScalarBuffer::from(alloc::try_filled(count, 0i64, &what)?),
                        values: Buffer::from_vec(Vec::<u8>::new()),
                    },
                })
            }
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
        let what = format!("fill of shape {shape:?} with {} values", value.dtype);
        let storage = match &value.storage {
            Storage::Fixed(b) => {
                let one = &b.as_slice()[..value.dtype.item_size().unwrap_or(0)];
                Storage::Fixed(alloc::try_repeated(one, n, &what)?)
            }
            Storage::Variable { offsets, values } => {
                let one = &values.as_slice()[offsets[0] as usize..offsets[1] as usize];
                let bytes = alloc::bytes_for(n, one.len(), &what)?;
                let count = n
                    .checked_add(1)
                    .ok_or_else(|| alloc::too_large(&what, None))?;
                let mut new_offsets = alloc::try_vec::<i64>(count, &what)?;
                let mut out = alloc::try_vec::<u8>(bytes, &what)?;
                new_offsets.push(0);
                for _ in 0..n {
                    out.extend_from_slice(one);
                    new_offsets.push(out.len() as i64);
                }
                Storage::Variable {
                    offsets: ScalarBuffer::from(new_offsets),
                    values: Buffer::from_vec(out),
                }
            }
        };
        Ok(Tensor {
            dtype: value.dtype,
            shape: shape.into(),
            storage,
        })
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
            shape: shape.into(),
            storage: self.storage.clone(),
        })
    }
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
