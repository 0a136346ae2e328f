//! ndarray, the `.numpy()` of slicestream: tensors as `ArrayViewD` (borrowed, no copy) and `ArrayD`
//! (owned, no copy when the tensor holds the only reference), and owned arrays moved into tensors.

use arrow_buffer::Buffer;
use ndarray::{Array, ArrayD, ArrayViewD, Dimension, IxDyn};

use crate::element::Element;
use crate::error::{Error, Result};
use crate::tensor::{Tensor, TensorElement};

impl<T: TensorElement, D: Dimension> From<Array<T, D>> for Tensor {
    /// Moves the array's values into a tensor: no copy for a standard-layout (row-major) array,
    /// one copy into row-major order otherwise.
    fn from(array: Array<T, D>) -> Tensor {
        let shape = array.shape().to_vec();
        let n = array.len();
        let array = if array.is_standard_layout() {
            array
        } else {
            array.as_standard_layout().into_owned()
        };
        let (values, offset) = array.into_raw_vec_and_offset();
        let offset = offset.unwrap_or(0);
        let size = std::mem::size_of::<T>();
        // A standard-layout array's `n` values start at `offset` of its vector, which is aligned
        // for `T`: exactly the tensor's values, so nothing is left to check (or to fail).
        let buffer = T::vec_into_buffer(values).slice_with_length(offset * size, n * size);
        Tensor::from_owned_values::<T>(&shape, buffer)
    }
}

impl Tensor {
    /// The values as an n-dimensional view of the tensor's buffer (no copy).
    /// Errors when `T` is not the tensor's dtype.
    pub fn view<T: TensorElement>(&self) -> Result<ArrayViewD<'_, T>> {
        let values = self.as_slice::<T>()?;
        let shape = self.shape();
        if shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d)) != Some(values.len()) {
            return Err(Error::incompatible(format!(
                "cannot view {shape:?} as an array of {} values",
                values.len()
            )));
        }
        // ndarray's checked constructor recomputes what was just checked (and every batch is
        // viewed: it was a third of an unsliced batch's cost).
        // SAFETY: `values` is one live, aligned slice of exactly `shape`'s product of `T`s, and
        // row-major (C) strides over that shape address only values inside it; the view borrows
        // `self`, which owns the buffer, for its lifetime.
        Ok(unsafe { ArrayViewD::from_shape_ptr(IxDyn(shape), values.as_ptr()) })
    }

    /// The values as an owned array: no copy when this tensor is the only owner of an unsliced
    /// buffer (e.g. a gathered batch), one copy otherwise.
    pub fn into_array<T: TensorElement>(self) -> Result<ArrayD<T>> {
        self.as_slice::<T>()?;
        let shape = self.shape().to_vec();
        let buffer: Buffer = match self.buffer() {
            Some(b) => b.clone(),
            None => return Err(Error::invalid_argument("not a fixed-width tensor")),
        };
        drop(self);
        let values = match T::buffer_into_vec(buffer) {
            Ok(v) => v,
            Err(shared) => {
                let t = Tensor::from_buffer(T::DTYPE, shape.clone(), shared)?;
                t.as_slice::<T>()?.to_vec()
            }
        };
        ArrayD::from_shape_vec(IxDyn(&shape), values)
            .map_err(|e| Error::incompatible(format!("cannot shape {shape:?}: {e}")))
    }

    /// The values copied into a new owned array.
    pub fn to_array<T: TensorElement>(&self) -> Result<ArrayD<T>> {
        Ok(self.view::<T>()?.to_owned())
    }

    /// A `String` tensor's values as an array of owned strings (a copy).
    pub fn to_string_array(&self) -> Result<ArrayD<String>> {
        let values: Vec<String> = self
            .string_values()?
            .into_iter()
            .map(str::to_owned)
            .collect();
        ArrayD::from_shape_vec(IxDyn(self.shape()), values)
            .map_err(|e| Error::incompatible(format!("cannot shape {:?}: {e}", self.shape())))
    }
}

impl<T: TensorElement> TryFrom<Tensor> for ArrayD<T> {
    type Error = Error;

    /// As [`Tensor::into_array`].
    fn try_from(tensor: Tensor) -> Result<Self> {
        tensor.into_array()
    }
}

impl<'a, T: TensorElement> TryFrom<&'a Tensor> for ArrayViewD<'a, T> {
    type Error = Error;

    /// As [`Tensor::view`].
    fn try_from(tensor: &'a Tensor) -> Result<Self> {
        tensor.view()
    }
}

impl Element {
    /// The component at `path` as an array view borrowing this element (no copy).
    pub fn view<T: TensorElement>(&self, path: &str) -> Result<ArrayViewD<'_, T>> {
        self.get(path)?
            .view::<T>()
            .map_err(|e| e.with_component(path))
    }

    /// The component at `path` as an owned array: no copy when the element holds the only
    /// reference to its buffer (drop other clones first).
    pub fn into_array<T: TensorElement>(self, path: &str) -> Result<ArrayD<T>> {
        let i = self.structure().leaf_index(path)?;
        let tensor = self.into_components().swap_remove(i);
        tensor.into_array::<T>().map_err(|e| e.with_component(path))
    }
}
