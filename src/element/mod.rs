//! Elements and their specs: how tensors nest into one item of a dataset.

#[allow(clippy::module_inception)]
mod element;
mod spec;
mod structure;

pub use element::{Batch, Element};
pub use spec::{ElementSpec, TensorSpec};
pub use structure::Structure;
