//! Conversions of tensors and batches to other libraries' types.

mod ndarray;
