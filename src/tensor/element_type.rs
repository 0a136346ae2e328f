//! [`TensorElement`]: the Rust types that a tensor's fixed-width values can be read and written as.

use arrow_buffer::Buffer;
use half::{bf16, f16};

use super::DType;

mod sealed {
    pub trait Sealed {}
}

/// A Rust type that is the in-memory form of one fixed-width [`DType`]
/// (`bool`, `u8`…`u64`, `i8`…`i64`, `f16`, `bf16`, `f32`, `f64`).
///
/// Sealed: the set is the one the dtypes name.
pub trait TensorElement:
    Copy + Send + Sync + std::fmt::Debug + PartialEq + Default + 'static + sealed::Sealed
{
    /// The dtype whose values are this type.
    const DTYPE: DType;

    /// Moves a vector into an Arrow buffer without copying.
    #[doc(hidden)]
    fn vec_into_buffer(values: Vec<Self>) -> Buffer;

    /// Takes the vector back out of a buffer when the buffer is its only owner, unsliced.
    #[doc(hidden)]
    fn buffer_into_vec(buffer: Buffer) -> Result<Vec<Self>, Buffer>;
}

macro_rules! native_element {
    ($t:ty, $d:expr) => {
        impl sealed::Sealed for $t {}
        impl TensorElement for $t {
            const DTYPE: DType = $d;
            fn vec_into_buffer(values: Vec<Self>) -> Buffer {
                Buffer::from_vec(values)
            }
            fn buffer_into_vec(buffer: Buffer) -> Result<Vec<Self>, Buffer> {
                buffer.into_vec::<$t>()
            }
        }
    };
}

native_element!(u8, DType::U8);
native_element!(u16, DType::U16);
native_element!(u32, DType::U32);
native_element!(u64, DType::U64);
native_element!(i8, DType::I8);
native_element!(i16, DType::I16);
native_element!(i32, DType::I32);
native_element!(i64, DType::I64);
native_element!(f16, DType::F16);
native_element!(f32, DType::F32);
native_element!(f64, DType::F64);

impl sealed::Sealed for bf16 {}
impl TensorElement for bf16 {
    const DTYPE: DType = DType::BF16;
    fn vec_into_buffer(values: Vec<Self>) -> Buffer {
        // bf16 is `#[repr(transparent)]` over u16: same size, alignment and validity.
        let mut values = std::mem::ManuallyDrop::new(values);
        let (ptr, len, cap) = (values.as_mut_ptr(), values.len(), values.capacity());
        // SAFETY: bf16 and u16 have identical layout and every bit pattern is valid for both.
        Buffer::from_vec(unsafe { Vec::from_raw_parts(ptr as *mut u16, len, cap) })
    }
    fn buffer_into_vec(buffer: Buffer) -> Result<Vec<Self>, Buffer> {
        let v = buffer.into_vec::<u16>()?;
        let mut v = std::mem::ManuallyDrop::new(v);
        let (ptr, len, cap) = (v.as_mut_ptr(), v.len(), v.capacity());
        // SAFETY: as above, u16 to bf16.
        Ok(unsafe { Vec::from_raw_parts(ptr as *mut bf16, len, cap) })
    }
}

impl sealed::Sealed for bool {}
impl TensorElement for bool {
    const DTYPE: DType = DType::Bool;
    fn vec_into_buffer(values: Vec<Self>) -> Buffer {
        let mut values = std::mem::ManuallyDrop::new(values);
        let (ptr, len, cap) = (values.as_mut_ptr(), values.len(), values.capacity());
        // SAFETY: bool is one byte holding 0 or 1, a valid u8 with the same layout.
        Buffer::from_vec(unsafe { Vec::from_raw_parts(ptr as *mut u8, len, cap) })
    }
    fn buffer_into_vec(buffer: Buffer) -> Result<Vec<Self>, Buffer> {
        let v = buffer.into_vec::<u8>()?;
        let mut v = std::mem::ManuallyDrop::new(v);
        let (ptr, len, cap) = (v.as_mut_ptr(), v.len(), v.capacity());
        // SAFETY: bool tensors only ever hold bytes 0 or 1 (checked where raw bytes enter a
        // tensor, in `Tensor::from_buffer`), so every byte is a valid bool.
        Ok(unsafe { Vec::from_raw_parts(ptr as *mut bool, len, cap) })
    }
}

/// Reinterprets a tensor's bytes as values of `T`; `None` when the bytes are not aligned for `T`.
///
/// Callers guarantee that `bytes` hold values of `T`'s dtype (for `bool`: only 0 or 1).
pub(crate) fn cast_slice<T: TensorElement>(bytes: &[u8]) -> Option<&[T]> {
    let size = std::mem::size_of::<T>();
    if !(bytes.as_ptr() as usize).is_multiple_of(std::mem::align_of::<T>())
        || !bytes.len().is_multiple_of(size)
    {
        return None;
    }
    // SAFETY: aligned, in bounds, and every value of the tensor's bytes is a valid `T` (integers and
    // floats accept any bit pattern; bool tensors hold only 0 or 1 by construction).
    Some(unsafe { std::slice::from_raw_parts(bytes.as_ptr() as *const T, bytes.len() / size) })
}
