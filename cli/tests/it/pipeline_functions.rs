//! The functions of pipeline files that issue 13 added, refused with errors that say what is
//! wrong: dataset functions (flat_map, interleave), key and length functions, string_to_number.

use serde_json::{json, Value};
use slicestream_cli::pipeline_file::build;
use slicestream_cli::pipeline_file::dataset_fn::parse_dataset_fn;

fn construction_error(pipeline: Value) -> String {
    let file = json!({"input": {"source": "range", "args": [1, 5]}, "pipeline": pipeline});
    match build(&file) {
        Ok(_) => panic!("{pipeline} built"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn bad_dataset_functions_are_refused_when_parsed() {
    for (text, says) in [
        ("range(x)", "expected PARAMS->DATASET"),
        ("x->range(x", "unbalanced brackets"),
        ("x->frobnicate(x)", "unknown source frobnicate"),
        ("x->range(x).shuffle(2)", "unknown method shuffle"),
        ("x->range(x) batch(2)", "expected '.'"),
        ("x->range(x).batch(2))", "expected '.' before"),
        (
            "x->range(1, 2, 3, 4)",
            "unknown source range with 4 arguments",
        ),
    ] {
        let err = parse_dataset_fn(text).expect_err(text).to_string();
        assert!(err.contains(says), "{text}: {err}");
    }
}

#[test]
fn dataset_functions_are_checked_against_the_spec() {
    let err = construction_error(json!([{"op": "map", "fn": "x->cast_float32"},
                                        {"op": "flat_map", "fn": "x->range(x)"}]));
    assert!(err.contains("must give an integer scalar"), "{err}");
    let err = construction_error(json!([{"op": "interleave", "fn": "x->range(x)",
                                         "cycle_length": -3, "block_length": 1}]));
    assert!(err.contains("cycle_length"), "{err}");
}

#[test]
fn key_and_length_functions_must_return_integer_scalars() {
    let err =
        construction_error(json!([{"op": "group_by_window", "key_fn": "x*1.5", "window_size": 2}]));
    assert!(err.contains("key_fn") || err.contains("float"), "{err}");
    let err = construction_error(json!([{"op": "map", "fn": "x->cast_int32"},
                                        {"op": "group_by_window", "key_fn": "x%3", "window_size": 2}]));
    assert!(err.contains("must return an int64 scalar"), "{err}");
    let err = construction_error(
        json!([{"op": "bucket_by_sequence_length", "element_length_fn": "len(x)",
                                         "bucket_boundaries": [3], "bucket_batch_sizes": [2, 2]}]),
    );
    assert!(err.contains("len of a scalar"), "{err}");
    let err = construction_error(json!([{"op": "map", "fn": "x->fill([x],x)"},
                                        {"op": "bucket_by_sequence_length", "element_length_fn": "len(x)",
                                         "bucket_boundaries": [3], "bucket_batch_sizes": [2]}]));
    assert!(
        err.contains("`len(bucket_batch_sizes)` must equal"),
        "{err}"
    );
}

#[test]
fn string_to_number_takes_strings_and_refuses_other_text_at_iteration() {
    let err = construction_error(json!([{"op": "map", "fn": "x->string_to_number"}]));
    assert!(
        err.contains("string_to_number takes a string tensor"),
        "{err}"
    );
    let file = json!({"input": {"source": "from_tensor_slices",
                                "tensors": {"dtype": "string", "shape": [3], "values": [" 1.5", "0x10", "12abc"]}},
                      "pipeline": [{"op": "map", "fn": "x->string_to_number"}]});
    let ds = build(&file).unwrap();
    let got: Vec<_> = ds.iter().collect();
    assert_eq!(got.len(), 3);
    let v = |i: usize| {
        got[i]
            .as_ref()
            .unwrap()
            .component(0)
            .unwrap()
            .as_slice::<f32>()
            .unwrap()[0]
    };
    assert_eq!((v(0), v(1)), (1.5, 16.0));
    let err = got[2].as_ref().unwrap_err().to_string();
    assert!(
        err.contains("StringToNumberOp could not correctly convert string: 12abc"),
        "{err}"
    );
}
