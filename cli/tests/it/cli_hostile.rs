//! Hostile pipeline files (tests/fixtures/bad/pipeline, issue 14): functions nested 10^5 levels,
//! fills, paddings and one-hots of terabytes, a JSON document nested 10^5 levels. Each must be one
//! typed error on stderr and exit code 1, never a panic, an abort or a hang, and no run takes 1 GiB.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn catalog_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/bad/pipeline")
}

/// Runs `slicestream run FILE` in `dir`: its exit code, its stderr, and its peak resident memory
/// in bytes (its own `ru_maxrss`, from `wait4`, not that of other tests' children).
// The child is reaped by `wait4` (for its own rusage), not by `Child::wait`.
#[allow(clippy::zombie_processes)]
fn run_measured(dir: &Path, file: &str) -> (Option<i32>, String, u64) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_slicestream"))
        .current_dir(dir)
        .args(["run", file])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("stderr text");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: a zeroed `rusage` is a valid value for `wait4` to overwrite.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our unwaited child; `status` and `usage` are valid for writes.
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(rc, pid, "wait4");
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    (code, err, usage.ru_maxrss.max(0) as u64 * 1024)
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
        let (code, err, rss) = run_measured(&dir, file);
        assert_eq!(code, Some(1), "{file}: {err}");
        assert!(rss < 1 << 30, "{file}: a peak of {rss} bytes of memory");
        println!("{file}: exit code 1, peak RSS {} MiB", rss >> 20);
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
