//! Throughput benchmarks: the cases of the peer benchmark (tf.data, numpy) run on slicestream, with
//! peak anonymous memory. Used by `cargo bench` and the CLI's `bench`.

mod cases;
pub mod memory;

pub use cases::{remove_stream_file, run_case, sequences, CaseResult, BATCH, CASES, D, XY};
