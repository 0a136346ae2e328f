//! The data model's leaves: [`DType`], [`Tensor`] and the Rust types of their values.

pub mod alloc;
mod dtype;
mod element_type;
mod rows;
#[allow(clippy::module_inception)]
mod tensor;

pub use dtype::DType;
pub use element_type::TensorElement;
pub use tensor::Tensor;
