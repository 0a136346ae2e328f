//! `expr`: the element-function language of pipeline files alone: `parse_function` on the text
//! (max 4 KiB). A function that parses is then applied through the pipeline builder (the only
//! public way to evaluate one: `eval` is private) as `map` `fn` and as `filter` `predicate` on
//! small datasets of each element shape — an int64 scalar, a float32 vector, a
//! `(int64, float32)` tuple, a `{a: int32, b: string}` dict and a bool/uint8/float64 tuple — and
//! the results iterated (the op alone, followed by `batch(2)`, and after `batch(2)`). Only
//! `Ok`/`Err` may come out.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};
use slicestream_cli::pipeline_file::build;
use slicestream_cli::pipeline_file::expr::parse_function;

fn inputs() -> Vec<Value> {
    vec![
        json!({"source": "range", "args": [-3, 7], "dtype": "int64"}),
        json!({"source": "from_tensor_slices", "tensors": {"dtype": "float32", "shape": [3, 2], "values": [[1.5, -2.0], [0.0, 3.25], [1e30, -1e-30]]}}),
        json!({"source": "from_tensor_slices", "tensors": {"tuple": [
            {"dtype": "int64", "shape": [4], "values": [0, -1, 9223372036854775807i64, -9223372036854775807i64]},
            {"dtype": "float32", "shape": [4], "values": [0.5, -0.0, 2.0, 7.0]}]}}),
        json!({"source": "from_tensor_slices", "tensors": {"dict": {
            "a": {"dtype": "int32", "shape": [3, 2], "values": [[1, 2], [3, -2147483648i64], [5, 0]]},
            "b": {"dtype": "string", "shape": [3], "values": ["x", "", "zz"]}}}}),
        json!({"source": "from_tensor_slices", "tensors": {"tuple": [
            {"dtype": "bool", "shape": [2], "values": [true, false]},
            {"dtype": "uint8", "shape": [2], "values": [0, 255]},
            {"dtype": "float64", "shape": [2], "values": [1e308, -3.5]}]}}),
    ]
}

fuzz_target!(|data: &[u8]| {
    common::limit_allocations();
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if parse_function(text).is_err() {
        return;
    }
    for input in inputs() {
        for op in [
            json!({"op": "map", "fn": text}),
            json!({"op": "filter", "predicate": text}),
        ] {
            let batch = json!({"op": "batch", "batch_size": 2});
            for pipeline in [json!([op]), json!([op, batch]), json!([batch, op])] {
                let file = json!({"input": input.clone(), "pipeline": pipeline});
                if let Ok(ds) = build(&file) {
                    let _ = ds.element_spec();
                    common::drain(&ds, 1_000);
                }
            }
        }
    }
});
