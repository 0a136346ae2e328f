//! The whole bad-input catalog: every golden file under tests/fixtures/bad/ (and a few nonexistent
//! paths) read by its format's reader, each a typed error of the kind and message its catalog entry
//! gives — none a panic, none a success, none a silently shorter read.
//!
//! Catalogs: tests/fixtures/bad/catalog.json (CSV, Parquet, TFRecord, TensorProto, missing paths;
//! see tests/fixtures/bad/README.md) and tests/fixtures/bad/npy/catalog.json (NPY / NPZ). A file
//! under tests/fixtures/bad/ that no catalog lists fails the test too.
//!
//! `cargo test --test bad_catalog -- --nocapture` prints every entry's error.

use std::collections::BTreeSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use serde_json::Value;
use slicestream::io::csv::CsvOptions;
use slicestream::io::npy::{NpyFile, NpzArchive};
use slicestream::io::tensor_proto::decode_tensor_proto;
use slicestream::io::tfrecord::{Compression, FeatureDescription, FeatureSpec};
use slicestream::{DType, Dataset, Error, ErrorKind};

fn bad_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad")
}

fn kind_name(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidArgument(_) => "InvalidArgument",
        ErrorKind::Incompatible(_) => "Incompatible",
        ErrorKind::DTypeMismatch { .. } => "DTypeMismatch",
        ErrorKind::NotFound(_) => "NotFound",
        ErrorKind::Panic(_) => "Panic",
        ErrorKind::User => "User",
        ErrorKind::ShapeMismatch { .. } => "ShapeMismatch",
        ErrorKind::StructureMismatch { .. } => "StructureMismatch",
        ErrorKind::Format(_) => "Format",
        ErrorKind::Io => "Io",
        ErrorKind::ExceedsMemoryBudget { .. } => "ExceedsMemoryBudget",
        ErrorKind::TooLarge { .. } => "TooLarge",
        ErrorKind::WorkerPanicked(_) => "WorkerPanicked",
        ErrorKind::ProducerGone => "ProducerGone",
        ErrorKind::Cancelled => "Cancelled",
        _ => "other",
    }
}

/// The error's text with its sources: what `contains` is matched against.
fn full_text(e: &Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(" | ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// The first error of a dataset: at construction or while iterating (after how many elements).
fn first_error(ds: slicestream::Result<Dataset>) -> Result<(u64, Error), String> {
    let ds = ds.map_err(|e| (0, e));
    let ds = match ds {
        Ok(ds) => ds,
        Err((n, e)) => return Ok((n, e)),
    };
    let mut ok = 0;
    for item in &ds {
        match item {
            Ok(_) => ok += 1,
            Err(e) => return Ok((ok, e)),
        }
    }
    Err(format!("no error: {ok} elements read"))
}

fn examples_description() -> FeatureDescription {
    FeatureDescription::new([
        ("image", FeatureSpec::fixed(DType::Bytes, [])),
        ("label", FeatureSpec::fixed(DType::I64, [])),
        ("score", FeatureSpec::fixed(DType::F32, [3])),
        ("name", FeatureSpec::fixed(DType::String, [])),
    ])
    .unwrap()
}

fn csv_options(entry: &Value) -> CsvOptions {
    let mut o = CsvOptions::default();
    if let Some(types) = entry["types"].as_object() {
        for (c, t) in types {
            o = o.with_column_type(c, t.as_str().unwrap().parse::<DType>().unwrap());
        }
    }
    if let Some(n) = entry["rows_for_inference"].as_u64() {
        o = o.with_rows_for_inference(n as usize);
    }
    o
}

/// Reads `path` as `entry` says; the error (and elements before it), or why there was none.
fn read(path: &Path, entry: &Value) -> Result<(u64, Error), String> {
    let compression = match entry["compression"].as_str() {
        Some(c) => c.parse::<Compression>().unwrap(),
        None => Compression::None,
    };
    match entry["open"].as_str().unwrap() {
        "npy" => match NpyFile::open(path).and_then(|f| f.tensor()) {
            Ok(t) => Err(format!("no error: a tensor of shape {:?}", t.shape())),
            Err(e) => Ok((0, e)),
        },
        "npz" => {
            let member = entry["member"].as_str();
            let r = NpzArchive::open(path).and_then(|a| match member {
                Some(m) => a.read(m).map(|_| ()),
                None => a.names().iter().try_for_each(|n| a.read(n).map(|_| ())),
            });
            match r {
                Ok(()) => Err("no error".into()),
                Err(e) => Ok((0, e)),
            }
        }
        "tensor_proto" => {
            let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
            match decode_tensor_proto(&bytes) {
                Ok(t) => Err(format!("no error: a tensor of shape {:?}", t.shape())),
                Err(e) => Ok((0, e)),
            }
        }
        "tfrecord" => first_error(Dataset::from_tfrecord([path], compression)),
        "tfrecord_examples" => first_error(Dataset::from_tfrecord_examples(
            [path],
            compression,
            examples_description(),
        )),
        "csv" => first_error(Dataset::from_csv(path, csv_options(entry))),
        "parquet" => first_error(Dataset::from_parquet([path], None)),
        "ipc" => first_error(Dataset::from_ipc(path)),
        "ipc_indexed" => first_error(Dataset::from_ipc_indexed(path)),
        "example" => {
            // One serialized Example (no TFRecord framing): both parsers must refuse it alike.
            let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
            let description = examples_description();
            let fast = description.parse(&bytes);
            let decoded = slicestream::io::tfrecord::Example::from_bytes(&bytes)
                .and_then(|ex| description.parse_example(&ex));
            match (fast, decoded) {
                (Err(e), Err(_)) => Ok((0, e)),
                (fast, decoded) => Err(format!(
                    "the parsers disagree or accept: fast {:?}, prost {:?}",
                    fast.map(|_| ()),
                    decoded.map(|_| ())
                )),
            }
        }
        other => panic!("unknown open {other:?} in the catalog"),
    }
}

struct Checked {
    name: String,
    text: String,
}

/// Runs one entry under `catch_unwind`; `Err` says what is wrong with it.
fn check(name: &str, path: &Path, entry: &Value) -> Result<Checked, String> {
    let outcome =
        catch_unwind(AssertUnwindSafe(|| read(path, entry))).map_err(|_| "PANICKED".to_string())?;
    if let Some(n) = entry["ok_elements"].as_u64() {
        // A documented non-error (an empty TFRecord file has no records, as in TensorFlow).
        return match outcome {
            Err(why) if why == format!("no error: {n} elements read") => Ok(Checked {
                name: name.to_string(),
                text: why,
            }),
            Err(why) => Err(why),
            Ok((_, e)) => Err(format!("expected {n} elements and no error, got {e}")),
        };
    }
    let (before, err) = outcome?;
    let text = full_text(&err);
    let kind = kind_name(err.kind());
    if Some(kind) != entry["kind"].as_str() {
        return Err(format!("kind {kind}, expected {}: {text}", entry["kind"]));
    }
    for needle in entry["contains"].as_array().into_iter().flatten() {
        let needle = needle.as_str().unwrap();
        if !text.contains(needle) {
            return Err(format!("message lacks {needle:?}: {text}"));
        }
    }
    let p = err.position();
    for (key, got) in [
        ("record", p.record),
        ("byte_offset", p.byte_offset),
        ("elements_before", Some(before)),
    ] {
        if let Some(want) = entry[key].as_u64() {
            if got != Some(want) {
                return Err(format!("{key} {got:?}, expected {want}: {text}"));
            }
        }
    }
    if let Some(want) = entry["component"].as_str() {
        if p.component.as_deref() != Some(want) {
            return Err(format!(
                "component {:?}, expected {want:?}: {text}",
                p.component
            ));
        }
    }
    if entry["exists"].as_bool() != Some(false)
        && p.file.is_none()
        && entry["open"] != "tensor_proto"
        && entry["open"] != "example"
        && entry["open"] != "npy"
        && entry["open"] != "npz"
    {
        return Err(format!("the error does not name the file: {text}"));
    }
    Ok(Checked {
        name: name.to_string(),
        text,
    })
}

/// Every catalog entry as (name, path, entry).
fn entries() -> Vec<(String, PathBuf, Value)> {
    let dir = bad_dir();
    let main: Value =
        serde_json::from_slice(&std::fs::read(dir.join("catalog.json")).unwrap()).unwrap();
    let mut out = Vec::new();
    for e in main["entries"].as_array().unwrap() {
        let file = e["file"].as_str().unwrap();
        out.push((file.to_string(), dir.join(file), e.clone()));
    }
    let npy: Value =
        serde_json::from_slice(&std::fs::read(dir.join("npy/catalog.json")).unwrap()).unwrap();
    for (file, e) in npy.as_object().unwrap() {
        out.push((format!("npy/{file}"), dir.join("npy").join(file), e.clone()));
    }
    out
}

#[test]
fn every_bad_input_is_a_typed_error() {
    let entries = entries();
    assert!(entries.len() >= 80, "{} entries", entries.len());
    let mut failures = Vec::new();
    for (name, path, entry) in &entries {
        let exists = entry["exists"].as_bool() != Some(false);
        assert_eq!(path.exists(), exists, "{name}: exists should be {exists}");
        match check(name, path, entry) {
            Ok(c) => println!("ok   {:<45} {}", c.name, c.text),
            Err(why) => failures.push(format!("{name}: {why}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} entries failed:\n{}",
        failures.len(),
        entries.len(),
        failures.join("\n")
    );
}

#[test]
fn every_golden_file_is_in_a_catalog() {
    let listed: BTreeSet<PathBuf> = entries().into_iter().map(|(_, p, _)| p).collect();
    let mut unlisted = Vec::new();
    let mut stack = vec![bad_dir()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if p.is_dir() {
                // pipeline/: files for the command line, whose own test reads their catalog.
                if name != "pipeline" {
                    stack.push(p);
                }
            } else if !name.ends_with(".md")
                && !name.ends_with(".py")
                && name != "catalog.json"
                && !listed.contains(&p)
            {
                unlisted.push(p);
            }
        }
    }
    assert!(unlisted.is_empty(), "not in any catalog: {unlisted:?}");
}
