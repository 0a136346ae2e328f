//! Where elements come from: tensors in memory, ranges, generators, and any random-access source.

mod generator;
mod into_element;
mod random;
mod range;
pub(crate) mod tensor_slices;

pub(crate) use generator::check_against_spec;
pub use into_element::{IntoElement, IntoTensor};
