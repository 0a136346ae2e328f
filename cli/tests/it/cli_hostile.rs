//! Hostile pipeline files (tests/fixtures/bad/pipeline, issue 14): functions nested 10^5 levels,
//! fills, paddings and one-hots of terabytes, a JSON document nested 10^5 levels. Each must be one
//! typed error on stderr and exit code 1, never a panic, an abort or a hang.

use std::path::{Path, PathBuf};
use std::process::Command;

fn catalog_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/bad/pipeline")
}

#[test]
fn every_hostile_pipeline_file_is_a_typed_error() {
    let dir = catalog_dir();
    let text = std::fs::read_to_string(dir.join("catalog.json")).expect("the catalog");
    let catalog: serde_json::Value = serde_json::from_str(&text).expect("catalog JSON");
    let entries = catalog["entries"].as_array().expect("entries");
    let mut listed = Vec::new();
    for entry in entries {
        let file = entry["file"].as_str().expect("file");
        listed.push(file.to_string());
        let out = Command::new(env!("CARGO_BIN_EXE_slicestream"))
            .current_dir(&dir)
            .args(["run", file])
            .output()
            .expect("the binary runs");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{file}: {err}");
        assert!(!err.contains("panicked"), "{file}: {err}");
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 1, "{file}: one line on stderr, got {err:?}");
        assert!(lines[0].starts_with("error: "), "{file}: {err}");
        assert!(
            lines[0].len() < 1000,
            "{file}: a short message, got {} bytes",
            lines[0].len()
        );
        for needle in entry["contains"].as_array().expect("contains") {
            let needle = needle.as_str().expect("a string");
            assert!(lines[0].contains(needle), "{file}: {needle:?} in {err}");
        }
    }
    // Every pipeline file of the directory is in the catalog.
    for f in std::fs::read_dir(&dir).expect("the directory") {
        let name = f
            .expect("an entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if name.ends_with(".json") && name != "catalog.json" {
            assert!(listed.contains(&name), "{name} is in no catalog entry");
        }
    }
}
