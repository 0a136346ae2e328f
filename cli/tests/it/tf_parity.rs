//! Parity with TensorFlow 2.21: every tf.data pipeline in `tests/fixtures/tfdata/pipelines.json`
//! (made by real TensorFlow, see tests/fixtures/README.md) is run through slicestream and must give
//! the same values, dtypes, shapes, element_spec and cardinality — and the error cases must fail at the
//! same stage (construction or iteration).
//!
//! `extra_pipelines*.json` are more cases made the same way by `make_extra_cases.py`.
//! Set `SLICESTREAM_PIPELINES=path.json` to run another file of cases in the same format.

use serde_json::Value;
use slicestream::{Dataset, Element};
use slicestream_cli::pipeline_file::{build, encoding};

fn cases_of(path: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    let file: Value = serde_json::from_str(&text).expect("pipelines file is JSON");
    file["cases"].as_array().expect("a \"cases\" list").clone()
}

fn expected_elements(list: &Value) -> Vec<Element> {
    list.as_array()
        .expect("a list of elements")
        .iter()
        .map(|v| encoding::element_from_json(v).expect("expected element decodes"))
        .collect()
}

/// Runs one case; returns a description of the first mismatch.
fn run_case(case: &Value) -> Result<(), String> {
    let error = case.get("error");
    let built: Result<Dataset, _> = build(case);
    let ds = match (built, error) {
        (Err(e), Some(err)) if err["stage"] == "construct" => {
            // The message says what went wrong; TensorFlow's core message is a reference, not a contract.
            let _ = e.to_string();
            return Ok(());
        }
        (Err(e), _) => return Err(format!("construction failed: {e}")),
        (Ok(_), Some(err)) if err["stage"] == "construct" => {
            return Err(format!(
                "construction succeeded but TensorFlow failed: {}",
                err["core_message"]
            ))
        }
        (Ok(ds), _) => ds,
    };

    if let Some(spec) = case.get("element_spec").filter(|s| !s.is_null()) {
        let want = encoding::spec_from_json(spec).map_err(|e| format!("bad expected spec: {e}"))?;
        let got = ds
            .element_spec()
            .map_err(|e| format!("element_spec failed: {e}"))?;
        if got != want {
            return Err(format!("element_spec: got {got}, TensorFlow {want}"));
        }
    }
    if let Some(card) = case.get("cardinality").and_then(Value::as_i64) {
        if ds.cardinality().as_tf() != card {
            return Err(format!(
                "cardinality: got {}, TensorFlow {card}",
                ds.cardinality().as_tf()
            ));
        }
    }

    // An infinite dataset: its first elements.
    let prefix = case.get("output_prefix").map(expected_elements);
    let limit = prefix.as_ref().map_or(10_000, Vec::len);
    let mut got = Vec::new();
    let mut failure = None;
    for item in ds.iter().take(limit) {
        match item {
            Ok(e) => got.push(e),
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    match (error, failure) {
        (Some(err), Some(_)) => {
            let before = expected_elements(&case["elements_before_error"]);
            if got != before {
                return Err(format!(
                    "elements before the error: got {got:?}, TensorFlow {before:?}"
                ));
            }
            let _ = err;
            Ok(())
        }
        (Some(err), None) => Err(format!(
            "iteration succeeded but TensorFlow failed: {}",
            err["core_message"]
        )),
        (None, Some(e)) => Err(format!("iteration failed: {e}")),
        (None, None) => {
            let want = prefix.unwrap_or_else(|| expected_elements(&case["output"]));
            if got != want {
                return Err(format!("output: got {got:?}\nTensorFlow {want:?}"));
            }
            Ok(())
        }
    }
}

/// Runs every case of `file` (under tests/fixtures/tfdata unless absolute); returns the names of the
/// failing cases with the reason.
fn run_file(file: &str) -> (usize, Vec<(String, String)>) {
    let path = if file.starts_with('/') {
        file.to_string()
    } else {
        format!(
            "{}/../tests/fixtures/tfdata/{file}",
            env!("CARGO_MANIFEST_DIR")
        )
    };
    let cases = cases_of(&path);
    assert!(!cases.is_empty(), "{path} has no cases");
    let failures: Vec<(String, String)> = cases
        .iter()
        .filter_map(|case| {
            let name = case["name"].as_str().unwrap_or("?").to_string();
            run_case(case).err().map(|why| (name, why))
        })
        .collect();
    let errors = cases.iter().filter(|c| c.get("error").is_some()).count();
    println!(
        "tf_parity: {} cases from {path} ({errors} error cases): {} passed, {} failed",
        cases.len(),
        cases.len() - failures.len(),
        failures.len()
    );
    (cases.len(), failures)
}

#[test]
fn every_tf_data_case_matches_tensorflow() {
    let file = std::env::var("SLICESTREAM_PIPELINES").unwrap_or_else(|_| "pipelines.json".into());
    let (n, failures) = run_file(&file);
    let report: Vec<String> = failures.iter().map(|(n, w)| format!("{n}: {w}")).collect();
    assert!(
        failures.is_empty(),
        "{} of {n} cases differ from TensorFlow:\n{}",
        failures.len(),
        report.join("\n")
    );
}

/// Cases where slicestream knowingly differs from TensorFlow 2.21 (see docs/coming-from-tf-data.md):
/// - `x_take_minus3`: TF reports the cardinality of `take(-3)` as -3 (only -1 means "all" in its
///   cardinality code, though every negative count takes all); slicestream says 4.
/// - `x_concat_ranks_differ`: TF concatenates elements of different ranks into an unknown-rank spec;
///   slicestream has no unknown-rank spec and refuses at construction.
const KNOWN_DIFFERENCES: &[&str] = &["x_take_minus3", "x_concat_ranks_differ"];

/// Cases where slicestream knowingly differs from TensorFlow 2.21 on issue 13's operations:
/// - `scan_state_shape_changes`: TF relaxes a scan state whose shape changes to an unknown-rank
///   shape; slicestream has no unknown-rank spec and refuses at construction.
const KNOWN_SCAN_DIFFERENCES: &[&str] = &["scan_state_shape_changes"];

/// The cases of issue 13's operations (unique, scan, reduce, counter), made by real TensorFlow 2.21
/// with `make_more_ops_cases.py`.
#[test]
fn more_ops_cases_match_tensorflow() {
    let (_, failures) = run_file("more_ops_pipelines.json");
    let unexpected: Vec<String> = failures
        .iter()
        .filter(|(n, _)| !KNOWN_SCAN_DIFFERENCES.contains(&n.as_str()))
        .map(|(n, w)| format!("{n}: {w}"))
        .collect();
    assert!(
        unexpected.is_empty(),
        "cases differ from TensorFlow:\n{}",
        unexpected.join("\n")
    );
    for name in KNOWN_SCAN_DIFFERENCES {
        assert!(
            failures.iter().any(|(n, _)| n == name),
            "{name} now matches TensorFlow: remove it from KNOWN_SCAN_DIFFERENCES"
        );
    }
}

/// More cases made by real TensorFlow 2.21 with `make_extra_cases.py` (see that script).
#[test]
fn extra_tf_data_cases_match_tensorflow() {
    let mut unexpected = Vec::new();
    let mut still_different = Vec::new();
    for file in ["extra_pipelines.json", "extra_pipelines_nonfinite.json"] {
        let (_, failures) = run_file(file);
        for (name, why) in failures {
            if KNOWN_DIFFERENCES.contains(&name.as_str()) {
                still_different.push(name);
            } else {
                unexpected.push(format!("{name}: {why}"));
            }
        }
    }
    assert!(
        unexpected.is_empty(),
        "cases differ from TensorFlow:\n{}",
        unexpected.join("\n")
    );
    // A known difference that now matches should leave the list.
    for name in KNOWN_DIFFERENCES {
        assert!(
            still_different.iter().any(|n| n == name),
            "{name} now matches TensorFlow: remove it from KNOWN_DIFFERENCES"
        );
    }
}

/// The cases of issue 13's other operations (group_by_window, bucket_by_sequence_length,
/// ignore_errors, interleave and flat_map over dataset functions, cache, the new map functions),
/// made by real TensorFlow 2.21 with `make_rest_ops_cases.py`.
#[test]
fn rest_ops_cases_match_tensorflow() {
    let (n, failures) = run_file("rest_ops_pipelines.json");
    let report: Vec<String> = failures.iter().map(|(n, w)| format!("{n}: {w}")).collect();
    assert!(
        failures.is_empty(),
        "{} of {n} cases differ from TensorFlow:\n{}",
        failures.len(),
        report.join("\n")
    );
}
