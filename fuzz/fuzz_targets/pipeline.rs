//! `pipeline`: the input as the UTF-8 text of a pipeline file (`{"input": …, "pipeline": […]}`),
//! through what `slicestream run` does (cli/src/commands/run.rs): parse the JSON, require an
//! object, make file paths relative to the repository root, `pipeline_file::build`, `element_spec`,
//! then iterate, writing each element as JSON (`element_to_json`), at most 10,000 elements (so an
//! infinite `repeat` ends). Only `Ok`/`Err` may come out.
//!
//! To keep the fuzzer off inputs that are slow by design (not bugs), a pipeline in which an element
//! dropping op (`filter`, `skip`, `shard`, `unbatch`, `rebatch`, `window`) follows a source has its
//! `repeat` counts capped at 20 (an endless repeat followed by a filter that drops everything never
//! yields, in tf.data too) and its `range` arguments clamped to ±100,000. Paths that are absolute or
//! contain `..` are skipped (no reads of `/dev/zero` and the like).
#![no_main]

#[path = "common.rs"]
mod common;

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};
use slicestream_cli::pipeline_file::build;
use slicestream_cli::pipeline_file::encoding::{element_to_json, spec_to_json};

const DROPPING: &[&str] = &["filter", "skip", "shard", "unbatch", "rebatch", "window"];

/// Makes relative `path` / `paths` of file sources relative to `root` (as `read_pipeline` does with
/// the pipeline file's folder); `false` when a path is absolute or climbs out with `..`.
fn resolve_paths(value: &mut Value, root: &Path) -> bool {
    let fix = |v: &mut Value| -> bool {
        if let Some(s) = v.as_str() {
            let p = Path::new(s);
            if p.is_absolute() || s.contains("..") || s.starts_with('~') {
                return false;
            }
            *v = json!(root.join(p).to_string_lossy());
        }
        true
    };
    match value {
        Value::Object(map) => {
            if map.get("source").and_then(Value::as_str).is_some() {
                if let Some(p) = map.get_mut("path") {
                    if !fix(p) {
                        return false;
                    }
                }
                match map.get_mut("paths") {
                    Some(Value::Array(items)) => {
                        if !items.iter_mut().all(fix) {
                            return false;
                        }
                    }
                    Some(Value::Object(items)) => {
                        if !items.values_mut().all(fix) {
                            return false;
                        }
                    }
                    _ => {}
                }
            }
            map.values_mut().all(|v| resolve_paths(v, root))
        }
        Value::Array(items) => items.iter_mut().all(|v| resolve_paths(v, root)),
        _ => true,
    }
}

fn has_dropping_op(file: &Value) -> bool {
    let ops = file.get("pipeline").and_then(Value::as_array);
    let here = ops.is_some_and(|ops| {
        ops.iter().any(|op| {
            op.get("op")
                .and_then(Value::as_str)
                .is_some_and(|n| DROPPING.contains(&n))
        })
    });
    here || ops.is_some_and(|ops| {
        ops.iter()
            .any(|op| op.get("dataset").is_some_and(has_dropping_op))
    })
}

/// Caps `repeat` counts and `range` arguments everywhere below `value` (see the module docs).
fn tame(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.get("op").and_then(Value::as_str) == Some("repeat") {
                let c = map.get("count").and_then(Value::as_i64).unwrap_or(-1);
                map.insert("count".into(), json!(if c < 0 { 20 } else { c.min(20) }));
            }
            if map.get("source").and_then(Value::as_str) == Some("range") {
                if let Some(Value::Array(args)) = map.get_mut("args") {
                    for a in args.iter_mut() {
                        if let Some(x) = a.as_i64() {
                            *a = json!(x.clamp(-100_000, 100_000));
                        }
                    }
                }
            }
            map.values_mut().for_each(tame);
        }
        Value::Array(items) => items.iter_mut().for_each(tame),
        _ => {}
    }
}

fn walk_dropping(value: &Value) -> bool {
    match value {
        Value::Object(map) => has_dropping_op(value) || map.values().any(walk_dropping),
        Value::Array(items) => items.iter().any(walk_dropping),
        _ => false,
    }
}

fuzz_target!(|data: &[u8]| {
    common::limit_allocations();
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(mut file) = serde_json::from_str::<Value>(text) else {
        return;
    };
    if !file.is_object() {
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    if !resolve_paths(&mut file, &root) {
        return;
    }
    if walk_dropping(&file) {
        tame(&mut file);
    }
    let Ok(ds) = build(&file) else { return };
    let Ok(spec) = ds.element_spec() else { return };
    let _ = spec_to_json(&spec).to_string();
    let _ = ds.cardinality();
    let mut n = 0;
    for element in ds.iter() {
        match element {
            Ok(e) => {
                common::touch_element(&e);
                std::hint::black_box(element_to_json(&e).to_string());
            }
            Err(_) => break,
        }
        n += 1;
        if n >= 10_000 {
            break;
        }
    }
});
