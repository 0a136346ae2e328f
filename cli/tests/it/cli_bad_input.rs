//! Bad input to the `slicestream` binary: each case is one clear line on stderr and a non-zero exit
//! code, and nothing is left under an output's name.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_slicestream"))
}

fn data(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../data")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn temp() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temp dir")
}

/// Runs the binary in `dir`, expects exit code `code` and one line on stderr containing each of
/// `needles`; returns that line.
fn fails(dir: &Path, args: &[&str], code: i32, needles: &[&str]) -> String {
    let out: Output = bin()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("the binary runs");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "slicestream {args:?}: {err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "one line on stderr for {args:?}, got {err:?}"
    );
    assert!(lines[0].starts_with("error: "), "{err}");
    for n in needles {
        assert!(lines[0].contains(n), "{n:?} in {err:?}");
    }
    lines[0].to_string()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn unknown_subcommand_and_flags_are_usage_errors() {
    let dir = temp();
    fails(
        dir.path(),
        &["frobnicate"],
        2,
        &["unrecognized subcommand 'frobnicate'", "--help"],
    );
    fails(
        dir.path(),
        &["inspect", "--frob", "x.npy"],
        2,
        &["unexpected argument '--frob'", "inspect --help"],
    );
    fails(
        dir.path(),
        &["convert", "--shuffle", "ten", "a.npy", "b.npy"],
        2,
        &["invalid value 'ten'"],
    );
    fails(
        dir.path(),
        &["convert", "--shard", "2/5", "a.npy", "b.npy"],
        2,
        &["shard index"],
    );
    fails(
        dir.path(),
        &["inspect"],
        2,
        &["required arguments", "<FILE>"],
    );
    fails(
        dir.path(),
        &["plot", "pie", "-o", "x.png"],
        2,
        &["unrecognized subcommand 'pie'"],
    );
}

#[test]
fn missing_files_are_named() {
    let dir = temp();
    fails(
        dir.path(),
        &["inspect", "nope.npy"],
        1,
        &["no such file: nope.npy"],
    );
    fails(
        dir.path(),
        &["convert", "nope.tfrecord", "out.npy"],
        1,
        &["no such file: nope.tfrecord"],
    );
    fails(
        dir.path(),
        &["run", "nope.json"],
        1,
        &["no such file: nope.json"],
    );
    write(
        dir.path(),
        "p.json",
        r#"{"input": {"source": "npy", "path": "gone.npy"}}"#,
    );
    fails(
        dir.path(),
        &["run", "p.json"],
        1,
        &["no such file", "gone.npy"],
    );
    fails(
        dir.path(),
        &["bench", "nope.npy", "--case", "input_read"],
        1,
        &["no such file: nope.npy"],
    );
}

#[test]
fn unknown_formats_are_refused() {
    let dir = temp();
    write(dir.path(), "notes.txt", "hello");
    fails(
        dir.path(),
        &["inspect", "notes.txt"],
        1,
        &["notes.txt: unknown format", ".npy"],
    );
    fails(
        dir.path(),
        &["convert", &data("digits.npz"), "out.xyz"],
        1,
        &["cannot tell the output format from out.xyz"],
    );
    fails(
        dir.path(),
        &[
            "convert",
            &data("digits.npz"),
            &data("digits.tfrecord"),
            "out.npy",
        ],
        1,
        &["must share a format"],
    );
    fails(
        dir.path(),
        &[
            "plot",
            "counts",
            &data("digits.npz"),
            "-c",
            "label",
            "-o",
            "c.jpg",
        ],
        1,
        &["must end in .png"],
    );
    write(dir.path(), "bad.json", "{not json");
    fails(dir.path(), &["run", "bad.json"], 1, &["bad.json: not JSON"]);
}

#[test]
fn pipeline_errors_name_the_op_and_its_index() {
    let dir = temp();
    write(
        dir.path(),
        "op.json",
        r#"{"input": {"source": "range", "args": [5]}, "pipeline": [{"op": "batch", "batch_size": 2}, {"op": "frobnicate"}]}"#,
    );
    fails(
        dir.path(),
        &["run", "op.json"],
        1,
        &["unknown op \"frobnicate\"", "pipeline op 1 (frobnicate)"],
    );
    write(
        dir.path(),
        "arg.json",
        r#"{"input": {"source": "range", "args": [5]}, "pipeline": [{"op": "take", "count": 2}, {"op": "batch", "batch_size": 0}]}"#,
    );
    fails(
        dir.path(),
        &["run", "arg.json"],
        1,
        &[
            "Batch size must be greater than zero",
            "pipeline op 1 (batch)",
        ],
    );
    write(
        dir.path(),
        "hot.json",
        r#"{"input": {"source": "range", "args": [5]}, "pipeline": [{"op": "one_hot", "depth": "ten"}]}"#,
    );
    fails(
        dir.path(),
        &["run", "hot.json"],
        1,
        &["\"depth\" must be an integer", "pipeline op 0 (one_hot)"],
    );
    write(
        dir.path(),
        "scale.json",
        r#"{"input": {"source": "range", "args": [5]}, "pipeline": [{"op": "scale", "a": 2}]}"#,
    );
    fails(
        dir.path(),
        &["run", "scale.json"],
        1,
        &["scale works on float components", "pipeline op 0 (scale)"],
    );
    // An error while iterating names the op too.
    write(
        dir.path(),
        "raw.json",
        &format!(
            r#"{{"input": {{"source": "tfrecord", "path": "{}", "features": {{"image": "bytes"}}}},
               "pipeline": [{{"op": "decode_raw", "component": "image", "dtype": "float32", "shape": [3]}}]}}"#,
            data("digits.tfrecord")
        ),
    );
    fails(
        dir.path(),
        &["run", "raw.json"],
        1,
        &[
            "64 bytes do not make float32 values of shape [3]",
            "pipeline op 0 (decode_raw)",
        ],
    );
}

#[test]
fn existing_outputs_are_refused_unless_forced() {
    let dir = temp();
    let out = write(dir.path(), "out.tfrecord", "precious");
    fails(
        dir.path(),
        &["convert", &data("digits.npz"), "out.tfrecord"],
        1,
        &["out.tfrecord exists", "--force"],
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "precious");
    write(
        dir.path(),
        "p.json",
        r#"{"input": {"source": "range", "args": [3]}}"#,
    );
    fails(
        dir.path(),
        &["run", "p.json", "-o", "out.tfrecord"],
        1,
        &["exists"],
    );
    write(dir.path(), "c.png", "precious");
    fails(
        dir.path(),
        &[
            "plot",
            "counts",
            &data("digits.npz"),
            "-c",
            "label",
            "-o",
            "c.png",
        ],
        1,
        &["c.png exists"],
    );
    let ok = bin()
        .current_dir(dir.path())
        .args(["convert", &data("digits.npz"), "out.tfrecord", "--force"])
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(std::fs::metadata(&out).unwrap().len() > 100_000);
    fails(
        dir.path(),
        &[
            "convert",
            &data("digits.npz"),
            "--select",
            "label",
            "no/such/dir/x.npy",
        ],
        1,
        &["does not exist"],
    );
    fails(
        dir.path(),
        &["convert", &data("digits.npz"), "both.npy"],
        1,
        &["put {} in the output name"],
    );
}

/// Writes an NPY header for `f32[rows, cols]` and extends the file to its full size (sparse: instant).
fn big_npy(path: &Path, rows: usize, cols: usize) {
    let dict = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {cols}), }}");
    let total = (10 + dict.len() + 1).div_ceil(64) * 64;
    let header = format!("{dict:<width$}\n", width = total - 10 - 1);
    let mut f = std::fs::File::create(path).unwrap();
    f.write_all(b"\x93NUMPY\x01\x00").unwrap();
    f.write_all(&((header.len()) as u16).to_le_bytes()).unwrap();
    f.write_all(header.as_bytes()).unwrap();
    f.set_len((total + rows * cols * 4) as u64).unwrap();
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn ctrl_c_during_convert_leaves_no_output() {
    let dir = temp();
    big_npy(&dir.path().join("big.npy"), 2_000_000, 256);
    let mut child = bin()
        .current_dir(dir.path())
        .args(["convert", "big.npy", "out.tfrecord"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the conversion is writing (its temporary file exists), then press Ctrl-C.
    let start = Instant::now();
    while !names(dir.path())
        .iter()
        .any(|n| n.starts_with(".out.tfrecord"))
    {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the conversion never started: {:?}",
            names(dir.path())
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the conversion ended before Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted"), "{err}");
    assert_eq!(
        names(dir.path()),
        ["big.npy"],
        "no output and no temporary file"
    );
}
