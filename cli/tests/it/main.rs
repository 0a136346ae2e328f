//! The command line's tests, in one binary: the `slicestream` binary run as a user would, its bad
//! input, and TensorFlow parity of pipeline files.

mod cli;
mod cli_bad_input;
mod cli_hostile;
mod pipeline_functions;
mod tf_parity;
