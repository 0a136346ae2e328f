//! # slicestream
//!
//! tf.data for Rust: a [`Dataset`] built with [`Dataset::from_tensor_slices`] (or from files) flows
//! through tf.data's transformations — batch, shuffle, map, filter, take, repeat, padded_batch,
//! prefetch, … — and every batch is available as an ndarray view without a copy.
//!
//! ```
//! use ndarray::Array2;
//! use slicestream::Dataset;
//!
//! let x = Array2::<f32>::from_shape_fn((10, 3), |(i, j)| (i * 3 + j) as f32);
//! let y: Vec<i64> = (0..10).collect();
//! let ds = Dataset::from_tensor_slices((x, y))?.batch(4, false)?;
//! for batch in &ds {
//!     let batch = batch?;
//!     let images = batch.view::<f32>("0")?; // borrows the batch: no copy
//!     let labels = batch.view::<i64>("1")?;
//!     assert_eq!(images.shape()[0], labels.len());
//! }
//! # Ok::<(), slicestream::Error>(())
//! ```
//!
//! The layout follows the pipeline: [`tensor`] and [`element`] (the data model), [`sources`],
//! transformations (methods of [`Dataset`], in [`transform`]), the [`runtime`] that runs them,
//! [`convert`] (ndarray), [`frames`] (Arrow and Polars) and [`io`] (files). The command-line tool,
//! pipeline files and the benchmark live in the `slicestream-cli` member of the workspace.
//!
//! # Features
//!
//! All on by default; `default-features = false` leaves the core (tensors, elements, every
//! transformation, the runtime, ndarray and Arrow `RecordBatch` conversion, NPY/NPZ files):
//! `polars` (DataFrames), `parquet`, `ipc` (Arrow IPC files and streams), `csv`, `tfrecord`
//! (TFRecord, `tf.train.Example`, `TensorProto`).
#![deny(missing_docs)]

pub mod convert;
pub mod dataset;
pub mod element;
pub mod error;
pub mod frames;
pub mod io;
pub mod runtime;
pub mod sources;
pub mod tensor;
pub mod transform;

pub use dataset::{Cardinality, Dataset, DatasetIter, RandomAccess};
pub use element::{Batch, Element, ElementSpec, Structure, TensorSpec};
pub use error::{Error, ErrorKind, Position, Result};
pub use sources::{IntoElement, IntoTensor};
pub use tensor::{DType, Tensor, TensorElement};
pub use transform::Windows;

/// The README's examples run as doctests, so they cannot go stale.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
