//! I/O faults (issue 14, item 5), injected with `slicestream::io::faults`: every read of a small
//! TFRecord (plain and GZIP), Parquet, CSV, Arrow IPC and NPY source fails in turn, and every write
//! of each writer. A failed read must reach the consumer as an `Io` error naming the file (and, for
//! streamed formats, the byte offset), after a prefix of the clean output, with every thread
//! ended within 1 s of dropping the iterator; a failed write must leave nothing under the final
//! name and no temporary file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use slicestream::io::csv::CsvOptions;
use slicestream::io::faults::{inject, FaultOp, FaultPlan};
use slicestream::io::sink::{CsvSink, IpcSink, NpySink, ParquetSink, TfRecordSink};
use slicestream::io::tfrecord::Compression;
use slicestream::{Dataset, Element, ErrorKind, Tensor};

use super::{run_alone, wait_for_no_workers};

/// The marker in every path these tests fault.
const MARKER: &str = "faulty-io";

fn dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(MARKER)
        .tempdir()
        .expect("a temp dir")
}

/// 3,000 rows of `x: f32`, `y: i64` (files of several buffered reads).
fn rows() -> Dataset {
    let x: Vec<f32> = (0..3000).map(|i| i as f32 * 0.5).collect();
    let y: Vec<i64> = (0..3000).collect();
    Dataset::from_tensor_slices(Element::dict([
        ("x", Tensor::from_vec(vec![3000], x).unwrap()),
        ("y", Tensor::from_vec(vec![3000], y).unwrap()),
    ]))
    .unwrap()
}

/// The elements of `ds` as text (comparable), up to the first error, and that error.
fn drain(ds: &Dataset) -> (Vec<String>, Option<slicestream::Error>) {
    let mut out = Vec::new();
    let mut it = ds.iter();
    let mut error = None;
    for e in it.by_ref() {
        match e {
            Ok(e) => out.push(format!("{e:?}")),
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    drop(it);
    (out, error)
}

/// Reads `path` with `open` (through a prefetch thread) with each read failing in turn.
fn check_reads(
    what: &str,
    path: &Path,
    streamed: bool,
    open: impl Fn(&Path) -> slicestream::Result<Dataset>,
) {
    let clean = {
        let guard = inject(FaultPlan {
            path_contains: MARKER.into(),
            op: FaultOp::Read,
            at: u64::MAX,
        });
        let (out, err) = drain(&open(path).unwrap().prefetch(4));
        assert!(err.is_none(), "{what}: a clean read failed: {err:?}");
        assert!(
            guard.calls() > 0,
            "{what}: no read went through the fault plan"
        );
        (out, guard.calls())
    };
    let (expected, reads) = clean;
    println!("{what}: {reads} reads, each failed in turn");
    for at in 0..reads {
        let guard = inject(FaultPlan {
            path_contains: MARKER.into(),
            op: FaultOp::Read,
            at,
        });
        let error = match open(path) {
            Err(e) => e,
            Ok(ds) => {
                let (got, error) = drain(&ds.prefetch(4));
                assert!(
                    expected.starts_with(&got),
                    "{what}, read {at}: the elements before the error are not the clean ones"
                );
                error.unwrap_or_else(|| {
                    panic!(
                        "{what}, read {at}: the epoch ended without an error ({} elements)",
                        got.len()
                    )
                })
            }
        };
        assert!(
            guard.fired() > 0,
            "{what}, read {at}: the fault did not fire"
        );
        let text = chain(&error);
        assert!(
            matches!(error.kind(), ErrorKind::Io),
            "{what}, read {at}: not an Io error: {text}"
        );
        assert_eq!(
            error.position().file.as_deref(),
            Some(path),
            "{what}, read {at}: the error does not name the file: {text}"
        );
        if streamed {
            assert!(
                error.position().byte_offset.is_some(),
                "{what}, read {at}: no byte offset: {text}"
            );
        }
        assert!(text.contains("injected I/O fault"), "{what}: {text}");
        drop(guard);
        wait_for_no_workers(Duration::from_secs(1), &format!("after {what}, read {at}"));
    }
}

/// An error's text with its sources, as the command line prints it.
fn chain(e: &slicestream::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

fn write_clean(path: &Path, write: &dyn Fn(&Path) -> slicestream::Result<()>) {
    write(path).unwrap();
}

#[test]
fn every_failed_read_is_an_io_error_naming_the_file() {
    run_alone(|| {
        let d = dir();
        let p = |name: &str| d.path().join(name);
        write_clean(&p("plain.tfrecord"), &|path| {
            rows()
                .write_to(TfRecordSink::create(path, Compression::None))
                .map(drop)
        });
        write_clean(&p("zipped.tfrecord.gz"), &|path| {
            rows()
                .write_to(TfRecordSink::create(path, Compression::Gzip))
                .map(drop)
        });
        write_clean(&p("rows.csv"), &|path| {
            rows().write_to(CsvSink::create(path)).map(drop)
        });
        write_clean(&p("rows.parquet"), &|path| {
            rows()
                .write_to(ParquetSink::new(path, Default::default()))
                .map(drop)
        });
        write_clean(&p("rows.arrow"), &|path| {
            rows()
                .write_to(IpcSink::new(path, Default::default()))
                .map(drop)
        });
        let npy_dir = d.path().join("npy");
        std::fs::create_dir(&npy_dir).unwrap();
        rows().write_to(NpySink::in_dir(&npy_dir)).unwrap();

        check_reads("TFRecord", &p("plain.tfrecord"), true, |path| {
            Dataset::from_tfrecord([path], Compression::None)
        });
        check_reads("GZIP TFRecord", &p("zipped.tfrecord.gz"), true, |path| {
            Dataset::from_tfrecord([path], Compression::Gzip)
        });
        check_reads("CSV", &p("rows.csv"), false, |path| {
            Dataset::from_csv(path, CsvOptions::default())
        });
        check_reads("Parquet", &p("rows.parquet"), false, |path| {
            Dataset::from_parquet([path], None)
        });
        check_reads("Arrow IPC", &p("rows.arrow"), false, |path| {
            Dataset::from_ipc(path)
        });
        check_reads(
            "NPY (memory-mapped: the map is its read)",
            &npy_dir.join("x.npy"),
            false,
            |path| Dataset::from_npy(path),
        );
    });
}

/// Writes with `write` while each write fails in turn: an error each time, nothing left behind.
fn check_writes(what: &str, write: impl Fn(&Path) -> slicestream::Result<()>) {
    let d = dir();
    let target = d.path().join("out");
    let writes = {
        let guard = inject(FaultPlan {
            path_contains: MARKER.into(),
            op: FaultOp::Write,
            at: u64::MAX,
        });
        write(&target).unwrap_or_else(|e| panic!("{what}: a clean write failed: {e}"));
        assert!(
            guard.calls() > 0,
            "{what}: no write went through the fault plan"
        );
        guard.calls()
    };
    println!("{what}: {writes} writes, each failed in turn");
    std::fs::remove_dir_all(&target)
        .or_else(|_| std::fs::remove_file(&target))
        .unwrap();
    for at in 0..writes {
        let guard = inject(FaultPlan {
            path_contains: MARKER.into(),
            op: FaultOp::Write,
            at,
        });
        let result = write(&target);
        assert!(
            guard.fired() > 0,
            "{what}, write {at}: the fault did not fire"
        );
        let e = result.expect_err(&format!("{what}, write {at}: the write succeeded"));
        assert!(
            chain(&e).contains("injected I/O fault"),
            "{what}, write {at}: {}",
            chain(&e)
        );
        drop(guard);
        let left: Vec<PathBuf> = walk(d.path());
        assert!(
            left.is_empty(),
            "{what}, write {at}: files left behind: {left:?}"
        );
    }
}

/// Every file under `dir` (directories themselves are not counted).
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn every_failed_write_leaves_nothing_under_the_final_name() {
    run_alone(|| {
        check_writes("TFRecord", |p| {
            rows()
                .write_to(TfRecordSink::create(p, Compression::None))
                .map(drop)
        });
        check_writes("GZIP TFRecord", |p| {
            rows()
                .write_to(TfRecordSink::create(p, Compression::Gzip))
                .map(drop)
        });
        check_writes("CSV", |p| rows().write_to(CsvSink::create(p)).map(drop));
        check_writes("Parquet", |p| {
            rows()
                .write_to(ParquetSink::new(p, Default::default()))
                .map(drop)
        });
        check_writes("Arrow IPC", |p| {
            rows()
                .write_to(IpcSink::new(p, Default::default()))
                .map(drop)
        });
        check_writes("NPY", |p| {
            std::fs::create_dir_all(p).map_err(|e| slicestream::Error::io(e, p))?;
            let r = rows().write_to(NpySink::in_dir(p)).map(drop);
            if r.is_err() {
                let _ = std::fs::remove_dir(p);
            }
            r
        });
    });
}
