//! Throughput benchmarks: the cases of the peer benchmark (tf.data, numpy) run on slicestream, with
//! peak anonymous memory. Used by `cargo bench` and the CLI's `bench`.

mod cases;
pub mod hostile;
pub mod memory;
pub mod soak;

pub use cases::{
    describe, remove_stream_file, run_case, run_case_as, sequences, CaseResult, OutputForm, BATCH,
    CASES, CASE_DESCRIPTIONS, D, XY,
};
