//! The `slicestream` command line and what only it needs: the commands ([`main`]), tf.data
//! pipelines written as JSON ([`pipeline_file`]), the throughput benchmark ([`bench`]) and charts
//! ([`plot`]). The library `slicestream` carries none of this.
#![deny(missing_docs)]

pub mod bench;
mod commands;
pub mod pipeline_file;
pub mod plot;

pub use commands::main;

/// The guide for tf.data users (docs/coming-from-tf-data.md): every Rust snippet in it runs as a
/// doctest, here where both the library and the command line's modules are at hand.
#[cfg(doctest)]
#[doc = include_str!("../../docs/coming-from-tf-data.md")]
struct ComingFromTfDataDoctests;
