//! The `slicestream` binary, run as a user would: every subcommand on the digits data in data/.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};
use slicestream::io::npy::read_npy;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_slicestream"))
}

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../data")
        .join(name)
}

/// Runs the binary in `dir`; panics with its stderr unless it succeeds.
fn ok(dir: &Path, args: &[&str]) -> Output {
    let out = bin()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("the binary runs");
    assert!(
        out.status.success(),
        "slicestream {args:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn json_lines(out: &Output) -> Vec<Value> {
    stdout(out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

fn temp() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temp dir")
}

fn is_png(path: &Path) -> bool {
    std::fs::read(path).is_ok_and(|b| b.len() > 1000 && b.starts_with(b"\x89PNG\r\n\x1a\n"))
}

#[test]
fn every_subcommand_has_help() {
    let dir = temp();
    for sub in [
        &["--help"][..],
        &["demo", "--help"],
        &["inspect", "--help"],
        &["convert", "--help"],
        &["bench", "--help"],
        &["run", "--help"],
        &["plot", "--help"],
        &["plot", "counts", "--help"],
        &["plot", "hist", "--help"],
        &["plot", "values", "--help"],
        &["plot", "images", "--help"],
        &["plot", "bench", "--help"],
    ] {
        let text = stdout(&ok(dir.path(), sub));
        assert!(text.contains("Usage: slicestream"), "{sub:?}: {text}");
    }
    assert!(stdout(&ok(dir.path(), &["--version"])).starts_with("slicestream "));
}

#[test]
fn no_command_runs_the_digits_demo() {
    let dir = temp();
    let text = stdout(&ok(dir.path(), &[]));
    assert!(
        text.contains("class counts match digits.json (1797 digits)"),
        "{text}"
    );
    assert!(text.contains("per stage:"), "{text}");
    let demo = stdout(&ok(dir.path(), &["demo"]));
    assert!(
        demo.contains("class counts match digits.json (1797 digits)"),
        "{demo}"
    );
}

#[test]
fn inspect_reports_spec_counts_summary_and_first_elements() {
    let dir = temp();
    let npz = data("digits.npz");
    let out = ok(
        dir.path(),
        &["inspect", "--json", "--head", "2", npz.to_str().unwrap()],
    );
    let r = &json_lines(&out)[0];
    assert_eq!(r["format"], "NPZ");
    assert_eq!(r["elements"], 1797);
    assert_eq!(r["cardinality"], 1797);
    assert_eq!(
        r["element_spec"]["dict"]["image"]["shape"],
        serde_json::json!([8, 8])
    );
    let image = &r["components"][0];
    assert_eq!(
        (
            image["path"].as_str(),
            image["min"].as_f64(),
            image["max"].as_f64()
        ),
        (Some("image"), Some(0.0), Some(16.0))
    );
    let mean = image["mean"].as_f64().unwrap();
    assert!((mean - 561718.0 / (1797.0 * 64.0)).abs() < 1e-9, "{mean}");
    let label = &r["components"][1];
    assert_eq!(label["classes"]["0"], 178);
    assert_eq!(label["classes"]["9"], 180);
    assert!(
        image.get("classes").is_none(),
        "images are not class labels"
    );
    assert_eq!(r["head"].as_array().unwrap().len(), 2);
    assert_eq!(r["head"][1]["dict"]["label"]["values"], 1);

    let text = stdout(&ok(dir.path(), &["inspect", npz.to_str().unwrap()]));
    assert!(text.contains("elements      1797"), "{text}");
    assert!(text.contains("classes of label: 0: 178, 1: 182"), "{text}");
}

#[test]
fn inspect_parses_tfrecord_examples_or_shows_raw_records() {
    let dir = temp();
    let tfr = data("digits.tfrecord");
    let r = &json_lines(&ok(
        dir.path(),
        &["inspect", "--json", tfr.to_str().unwrap()],
    ))[0];
    assert_eq!(r["format"], "TFRecord");
    assert_eq!(r["elements"], 1797);
    assert_eq!(r["element_spec"]["dict"]["label"]["dtype"], "int64");
    assert_eq!(r["element_spec"]["dict"]["image"]["dtype"], "bytes");
    assert_eq!(r["components"][0]["min"], 64.0, "64 bytes per image");
    let raw = &json_lines(&ok(
        dir.path(),
        &[
            "inspect",
            "--json",
            "--raw",
            "--limit",
            "10",
            tfr.to_str().unwrap(),
        ],
    ))[0];
    assert_eq!(raw["element_spec"]["dtype"], "bytes");
    assert_eq!(raw["elements"], 10);
}

#[test]
fn convert_round_trips_npz_through_tfrecord_to_npy() {
    let dir = temp();
    ok(
        dir.path(),
        &[
            "convert",
            data("digits.npz").to_str().unwrap(),
            "d.tfrecord",
        ],
    );
    ok(dir.path(), &["convert", "d.tfrecord", "d_{}.npy"]);
    let image = read_npy(dir.path().join("d_image.npy")).unwrap();
    let label = read_npy(dir.path().join("d_label.npy")).unwrap();
    assert_eq!(
        image.shape(),
        [1797, 64],
        "an Example keeps values, not shapes"
    );
    assert_eq!(
        label.as_slice::<i64>().unwrap(),
        read_npy(data("digits_label.npy"))
            .unwrap()
            .as_slice::<i64>()
            .unwrap()
    );
    let pixels: i64 = image.as_slice::<i64>().unwrap().iter().sum();
    assert_eq!(pixels, 561718);
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| !n.starts_with('.')),
        "no temporary files left: {names:?}"
    );
}

#[test]
fn convert_applies_the_pipeline_flags() {
    let dir = temp();
    let npz = data("digits.npz");
    let npz = npz.to_str().unwrap();
    ok(
        dir.path(),
        &[
            "convert",
            npz,
            "--select",
            "label",
            "--shard",
            "2/1",
            "--skip",
            "1",
            "--take",
            "5",
            "labels.npy",
        ],
    );
    assert_eq!(
        read_npy(dir.path().join("labels.npy"))
            .unwrap()
            .as_slice::<i64>()
            .unwrap(),
        [3, 5, 7, 9, 1]
    );
    ok(
        dir.path(),
        &[
            "convert",
            npz,
            "--select",
            "image",
            "--batch",
            "100",
            "--drop-remainder",
            "b.npy",
        ],
    );
    assert_eq!(
        read_npy(dir.path().join("b.npy")).unwrap().shape(),
        [17, 100, 8, 8]
    );
    ok(
        dir.path(),
        &[
            "convert",
            npz,
            "--select",
            "label",
            "--shuffle",
            "1797",
            "--seed",
            "7",
            "s.npy",
        ],
    );
    let mut shuffled = read_npy(dir.path().join("s.npy"))
        .unwrap()
        .as_slice::<i64>()
        .unwrap()
        .to_vec();
    let original = read_npy(data("digits_label.npy"))
        .unwrap()
        .as_slice::<i64>()
        .unwrap()
        .to_vec();
    assert_ne!(shuffled, original);
    shuffled.sort_unstable();
    let mut sorted = original;
    sorted.sort_unstable();
    assert_eq!(shuffled, sorted);
    ok(
        dir.path(),
        &[
            "convert",
            npz,
            "--select",
            "image",
            "--take",
            "0",
            "empty.npy",
        ],
    );
    assert_eq!(
        read_npy(dir.path().join("empty.npy")).unwrap().shape(),
        [0, 8, 8]
    );
    let p = stdout(&ok(
        dir.path(),
        &[
            "convert",
            npz,
            "--take",
            "3",
            "--batch",
            "2",
            "--print-pipeline",
            "x.tfrecord",
        ],
    ));
    let p: Value = serde_json::from_str(&p).unwrap();
    assert_eq!(p["pipeline"][0]["op"], "take");
    assert_eq!(p["pipeline"][1]["op"], "batch");
    assert!(!dir.path().join("x.tfrecord").exists());
}

#[test]
fn run_writes_fixture_json_lines_and_files() {
    let dir = temp();
    std::fs::write(
        dir.path().join("p.json"),
        r#"{"input": {"source": "range", "args": [7], "dtype": "int64"},
            "pipeline": [{"op": "filter", "predicate": "x % 2 == 0"}, {"op": "batch", "batch_size": 3}]}"#,
    )
    .unwrap();
    let lines = json_lines(&ok(dir.path(), &["run", "p.json"]));
    assert_eq!(
        lines,
        [
            serde_json::json!({"dtype": "int64", "shape": [3], "values": [0, 2, 4]}),
            serde_json::json!({"dtype": "int64", "shape": [1], "values": [6]}),
        ]
    );
    let spec = &json_lines(&ok(dir.path(), &["run", "--spec", "p.json"]))[0];
    assert_eq!(
        spec,
        &serde_json::json!({"dtype": "int64", "shape": [null]})
    );
    ok(dir.path(), &["run", "p.json", "--output", "out.tfrecord"]);
    let r = &json_lines(&ok(dir.path(), &["inspect", "--json", "out.tfrecord"]))[0];
    assert_eq!(r["elements"], 2);
}

#[test]
fn run_reads_files_with_the_element_ops() {
    let dir = temp();
    let tfr = data("digits.tfrecord");
    std::fs::write(
        dir.path().join("digits.json"),
        serde_json::json!({
            "input": {"source": "tfrecord", "path": tfr, "features": {"image": "bytes", "label": "int64"}},
            "pipeline": [
                {"op": "decode_raw", "component": "image", "dtype": "uint8", "shape": [8, 8]},
                {"op": "cast", "dtype": "float32", "components": ["image"]},
                {"op": "scale", "a": 0.0625},
                {"op": "one_hot", "component": "label", "depth": 10},
                {"op": "rename", "names": {"image": "x", "label": "y"}},
                {"op": "select", "components": ["y", "x"]},
                {"op": "take", "count": 3}
            ]
        })
        .to_string(),
    )
    .unwrap();
    let lines = json_lines(&ok(dir.path(), &["run", "digits.json"]));
    assert_eq!(lines.len(), 3);
    let y = &lines[2]["dict"]["y"];
    assert_eq!(
        y["values"],
        serde_json::json!([0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    );
    let x = &lines[0]["dict"]["x"];
    assert_eq!(x["shape"], serde_json::json!([8, 8]));
    assert_eq!(x["values"][0][2], 5.0 / 16.0);
    let keys: Vec<&String> = lines[0]["dict"].as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 2);
    // The same from the npy files, relative to the pipeline file's folder.
    std::fs::copy(data("digits_label.npy"), dir.path().join("label.npy")).unwrap();
    std::fs::write(
        dir.path().join("npy.json"),
        r#"{"input": {"source": "npy", "path": "label.npy"}, "pipeline": [{"op": "take", "count": 2}]}"#,
    )
    .unwrap();
    let other = temp();
    let pipeline = dir.path().join("npy.json");
    let lines = json_lines(&ok(other.path(), &["run", pipeline.to_str().unwrap()]));
    assert_eq!(
        lines[1],
        serde_json::json!({"dtype": "int64", "shape": [], "values": 1})
    );
}

#[test]
fn bench_lists_runs_in_children_and_prints_json() {
    let dir = temp();
    let list = stdout(&ok(dir.path(), &["bench", "--list"]));
    for case in [
        "digits_batch",
        "batch",
        "shuffle_batch_prefetch",
        "per_element",
        "padded_batch",
    ] {
        assert!(
            list.lines()
                .any(|l| l.split_whitespace().next() == Some(case)),
            "{case} in {list}"
        );
    }
    let out = ok(
        dir.path(),
        &[
            "bench",
            "--case",
            "digits_batch",
            "--case",
            "batch",
            "--rows",
            "3000",
            "--reps",
            "1",
            "--json",
            "--form",
            "ndarray",
        ],
    );
    let results = json_lines(&out);
    assert_eq!(results.len(), 2);
    for r in &results {
        for key in [
            "case",
            "elements_per_s",
            "gb_per_s",
            "seconds",
            "peak_anon_mib",
            "stages",
        ] {
            assert!(r.get(key).is_some(), "{key} in {r}");
        }
        assert_eq!(r["elements"], 3000, "{r}");
        assert!(r["elements_per_s"].as_f64().unwrap() > 0.0);
    }
    assert_eq!(results[1]["case"], "batch");
    // Without --form: each batched case in each output form; per_element in the ndarray form only.
    let forms = json_lines(&ok(
        dir.path(),
        &[
            "bench",
            "--case",
            "batch",
            "--case",
            "per_element",
            "--rows",
            "3000",
            "--reps",
            "1",
            "--json",
        ],
    ));
    let got: Vec<(String, String)> = forms
        .iter()
        .map(|r| {
            (
                r["case"].as_str().unwrap().to_string(),
                r["form"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want = [
        ("batch", "ndarray"),
        ("batch", "arrow"),
        ("batch", "polars"),
        ("per_element", "ndarray"),
    ];
    assert_eq!(
        got,
        want.map(|(c, f)| (c.to_string(), f.to_string())).to_vec()
    );
    for r in &forms {
        assert_eq!(r["elements"], 3000, "{r}");
    }
    let text = stdout(&ok(
        dir.path(),
        &[
            "bench",
            "--case",
            "digits_map_batch",
            "--rows",
            "2000",
            "--reps",
            "1",
        ],
    ));
    assert!(
        text.contains("el/s") && text.contains("map_batch"),
        "{text}"
    );
    let input = data("digits_label.npy");
    let r = &json_lines(&ok(
        dir.path(),
        &[
            "bench",
            input.to_str().unwrap(),
            "--case",
            "input_batch",
            "--reps",
            "1",
            "--json",
        ],
    ))[0];
    assert_eq!(r["elements"], 1797);
    std::fs::write(dir.path().join("r.jsonl"), stdout(&out)).unwrap();
    ok(dir.path(), &["plot", "bench", "r.jsonl", "-o", "t.png"]);
    assert!(is_png(&dir.path().join("t.png")));
}

#[test]
fn plot_draws_every_chart() {
    let dir = temp();
    let npz = data("digits.npz");
    let npz = npz.to_str().unwrap();
    ok(
        dir.path(),
        &[
            "plot",
            "counts",
            npz,
            "--component",
            "label",
            "-o",
            "counts.png",
        ],
    );
    ok(
        dir.path(),
        &[
            "plot", "hist", npz, "-c", "image", "--bins", "17", "-o", "hist.png",
        ],
    );
    ok(
        dir.path(),
        &[
            "plot",
            "images",
            npz,
            "--count",
            "10",
            "--columns",
            "5",
            "-o",
            "grid.png",
        ],
    );
    ok(
        dir.path(),
        &[
            "plot",
            "values",
            data("digits_image.npy").to_str().unwrap(),
            "--element",
            "3",
            "-o",
            "values.png",
        ],
    );
    for png in ["counts.png", "hist.png", "grid.png", "values.png"] {
        assert!(is_png(&dir.path().join(png)), "{png}");
    }
}

#[test]
fn every_format_converts_and_inspects() {
    let dir = temp();
    let npz = data("digits.npz");
    ok(dir.path(), &["convert", npz.to_str().unwrap(), "d.parquet"]);
    ok(dir.path(), &["convert", "d.parquet", "d.arrow"]);
    ok(
        dir.path(),
        &["convert", "d.arrow", "--select", "label", "d.csv"],
    );
    ok(dir.path(), &["convert", "d.csv", "d.tfrecord"]);
    for (file, format, image) in [
        ("d.parquet", "Parquet", true),
        ("d.arrow", "Arrow IPC", true),
        ("d.csv", "CSV", false),
        ("d.tfrecord", "TFRecord", false),
    ] {
        let r = &json_lines(&ok(dir.path(), &["inspect", "--json", file]))[0];
        assert_eq!(r["format"], format, "{file}");
        assert_eq!(r["elements"], 1797, "{file}");
        let label = r["components"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["path"] == "label")
            .unwrap();
        assert_eq!(label["classes"]["8"], 174, "{file}");
        if image {
            assert_eq!(
                r["element_spec"]["dict"]["image"]["shape"],
                serde_json::json!([8, 8])
            );
        }
    }
    // The digits CSV, its pixel columns grouped into an image by a pipeline file.
    let csv = data("digits.csv");
    let columns: Vec<String> = (0..64).map(|i| format!("p{i}")).collect();
    std::fs::write(
        dir.path().join("csv.json"),
        serde_json::json!({
            "input": {"source": "csv", "path": csv, "column_types": {"label": "int64"},
                      "groups": {"image": {"columns": columns, "dtype": "uint8", "shape": [8, 8]}}},
            "pipeline": [{"op": "batch", "batch_size": 1000}]
        })
        .to_string(),
    )
    .unwrap();
    let lines = json_lines(&ok(dir.path(), &["run", "csv.json"]));
    assert_eq!(lines.len(), 2);
    assert_eq!(
        lines[1]["dict"]["image"]["shape"],
        serde_json::json!([797, 8, 8])
    );
    let unbatched = std::fs::read_to_string(dir.path().join("csv.json"))
        .unwrap()
        .replace(
            r#"{"batch_size":1000,"op":"batch"}"#,
            r#"{"op":"take","count":3}"#,
        );
    assert!(unbatched.contains("take"), "{unbatched}");
    std::fs::write(dir.path().join("three.json"), unbatched).unwrap();
    ok(
        dir.path(),
        &["plot", "images", "three.json", "-o", "three.png"],
    );
    assert!(is_png(&dir.path().join("three.png")));
    // Batches of images are drawn image by image.
    ok(
        dir.path(),
        &[
            "plot", "images", "csv.json", "-c", "image", "--count", "4", "-o", "b.png",
        ],
    );
    assert!(is_png(&dir.path().join("b.png")));
}

/// Batches whose last one is short (a dimension the spec leaves unknown) go to Parquet and Arrow
/// IPC as list columns, and read back with their own lengths.
#[test]
fn ragged_batches_write_to_parquet_and_ipc_as_lists() {
    let dir = temp();
    std::fs::write(
        dir.path().join("p.json"),
        r#"{"input": {"source": "range", "args": [10], "dtype": "int64"},
            "pipeline": [{"op": "filter", "predicate": "x % 2 == 0"}, {"op": "batch", "batch_size": 2}]}"#,
    )
    .unwrap();
    for out in ["out.parquet", "out.arrow"] {
        ok(dir.path(), &["run", "p.json", "--output", out]);
        let back = &json_lines(&ok(dir.path(), &["inspect", out, "--json"]))[0];
        assert_eq!(back["elements"], 3, "{out}: {back}");
        let lengths: Vec<Value> = back["head"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["shape"].clone())
            .collect();
        assert_eq!(
            lengths,
            [json!([2]), json!([2]), json!([1])],
            "{out}: {back}"
        );
        assert_eq!(back["head"][2]["values"], json!([8]), "{out}: {back}");
    }
    ok(
        dir.path(),
        &[
            "convert",
            data("digits.npz").to_str().unwrap(),
            "b.parquet",
            "--batch",
            "64",
        ],
    );
    let back = &json_lines(&ok(dir.path(), &["inspect", "b.parquet", "--json"]))[0];
    assert_eq!(back["elements"], 29, "{back}");
}
