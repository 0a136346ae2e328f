//! tf.data pipelines written as JSON — the format of TensorFlow's golden fixtures and of
//! `slicestream run`:
//!
//! ```json
//! {"input": {"source": "range", "args": [10], "dtype": "int64"},
//!  "pipeline": [{"op": "map", "fn": "x*2"}, {"op": "batch", "batch_size": 3, "drop_remainder": false}]}
//! ```
//!
//! [`build`] makes the [`slicestream::Dataset`]; [`encoding`] reads and writes tensors, elements and specs
//! as JSON; element functions (`map`'s `fn`, `filter`'s `predicate`) are a small language described in
//! [`expr`].

mod build;
pub mod dataset_fn;
pub mod encoding;
mod eval;
pub mod expr;
mod tensor_ops;

pub use build::{build, source};
pub use tensor_ops::cast;
