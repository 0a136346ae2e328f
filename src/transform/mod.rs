//! tf.data's transformations, one file each. Each adds a method to [`crate::Dataset`] and a node to
//! the plan; this module holds their option types.

pub(crate) mod batch;
pub(crate) mod batcher;
mod bucket;
mod cache;
mod choose;
mod concatenate;
mod enumerate;
mod filter;
mod flat_map;
mod global_shuffle;
mod group_by_window;
mod ignore_errors;
pub(crate) mod interleave;
mod map;
mod map_work;
mod padded_batch;
mod parallel_gather;
mod parallel_map;
mod prefetch;
pub(crate) use prefetch::MAX_EXTRA_SLOTS;
mod rebatch;
mod repeat;
mod scan;
mod shard;
mod shuffle;
mod skip;
mod take;
mod take_while;
mod unbatch;
mod unique;
mod window;
mod zip;

pub use bucket::BucketOptions;
pub use ignore_errors::IgnoreErrorsOptions;
pub use interleave::InterleaveOptions;
pub use map::{MapOptions, ParallelCalls};
pub use map_work::ElementContext;
pub use window::Windows;

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::{panic_message, Error, ErrorKind, Result};

/// The spec a stage infers from a sample of its input (tf.data's tracing): `infer` applied to one
/// element of the input's spec ([`crate::dataset::Node::sample`]: read through no buffer), with
/// every dimension unknown. An empty input is an error naming `stage`, followed by `hint` (how to
/// declare the spec instead).
pub(crate) fn sampled_spec(
    input: &dyn crate::dataset::Node,
    stage: &str,
    hint: &str,
    infer: impl FnOnce(crate::Element) -> Result<crate::ElementSpec>,
) -> Result<crate::ElementSpec> {
    match input.sample(&crate::dataset::Context::detached(0))? {
        Some(e) => flat_map::loosen(&infer(e)?),
        None => Err(Error::invalid_argument(format!(
            "{stage}: the output spec cannot be inferred from an empty input{hint}"
        ))
        .with_stage(stage.to_string())),
    }
}

/// Runs user code, turning a panic into an error; either way the error names the stage and element.
pub(crate) fn call_user<R>(stage: &str, index: u64, f: impl FnOnce() -> Result<R>) -> Result<R> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r.map_err(|e| e.with_stage(stage).with_element(index)),
        Err(payload) => Err(
            Error::new(ErrorKind::Panic(panic_message(payload.as_ref())))
                .with_stage(stage)
                .with_element(index),
        ),
    }
}
