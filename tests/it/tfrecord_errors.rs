//! TFRecord error paths: TensorFlow's corrupted / truncated files (tests/fixtures/tfrecord) and the
//! bad-input golden files (tests/fixtures/bad/tfrecord, made by tests/fixtures/bad/make_bad.py). Each
//! asserts the error kind and what the message and position name.

use std::path::{Path, PathBuf};

use serde_json::Value;
use slicestream::io::tfrecord::{
    Compression, Example, FeatureDescription, FeatureSpec, TfRecordReader,
};
use slicestream::{DType, Dataset, ErrorKind};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

fn facts() -> Value {
    serde_json::from_slice(&std::fs::read(fixture("tfrecord/examples.json")).unwrap()).unwrap()
}

fn description() -> FeatureDescription {
    FeatureDescription::new([
        ("image", FeatureSpec::fixed(DType::Bytes, [])),
        ("label", FeatureSpec::fixed(DType::I64, [])),
        ("score", FeatureSpec::fixed(DType::F32, [3])),
        ("name", FeatureSpec::fixed(DType::String, [])),
    ])
    .unwrap()
}

/// The elements before the first error, and that error; panics when there is none (a silently
/// shorter epoch).
fn first_error(ds: &Dataset) -> (usize, slicestream::Error) {
    let mut ok = 0;
    for e in ds {
        match e {
            Ok(_) => ok += 1,
            Err(e) => return (ok, e),
        }
    }
    panic!("no error after {ok} elements: a silently shorter epoch");
}

#[test]
fn corrupted_record_errors_at_record_10_with_file_and_offset() {
    let path = fixture("tfrecord/examples_corrupted.tfrecord");
    let facts = facts();
    let ds = Dataset::from_tfrecord([&path], Compression::None).unwrap();
    let (ok, e) = first_error(&ds);
    assert_eq!(
        ok as u64,
        facts["corrupted"]["records_read_before_error"]
            .as_u64()
            .unwrap()
    );
    assert!(matches!(e.kind(), ErrorKind::Format(_)), "{e:?}");
    let p = e.position();
    assert_eq!(p.file.as_deref(), Some(path.as_path()));
    assert_eq!(p.record, Some(10));
    assert_eq!(p.byte_offset, Some(1630));
    assert_eq!(p.element, Some(10));
    assert_eq!(p.stage.as_deref(), Some("from_tfrecord"));
    let msg = e.to_string();
    // TF says "corrupted record at 1642" (the data's offset): we name both.
    assert!(
        msg.contains("corrupted record 10 at byte offset 1630"),
        "{msg}"
    );
    assert!(
        msg.contains("data CRC-32C") && msg.contains("1642"),
        "{msg}"
    );
    assert!(msg.contains("examples_corrupted.tfrecord"), "{msg}");
}

#[test]
fn truncated_file_is_an_error_not_a_shorter_epoch() {
    let path = fixture("tfrecord/examples_truncated.tfrecord");
    let ds = Dataset::from_tfrecord_examples([&path], Compression::None, description()).unwrap();
    let (ok, e) = first_error(&ds);
    assert_eq!(ok, 999);
    assert!(matches!(e.kind(), ErrorKind::Format(_)), "{e:?}");
    assert_eq!(e.position().record, Some(999));
    assert_eq!(e.position().byte_offset, Some(162837)); // TF: "truncated record at 162837"
    assert!(e.to_string().contains("truncated"), "{e}");

    // A GZIP stream cut short is an error too.
    let gz = std::fs::read(fixture("tfrecord/examples.tfrecord.gz")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for cut in [gz.len() - 4, gz.len() / 2, 30] {
        let p = dir.path().join(format!("cut{cut}.tfrecord.gz"));
        std::fs::write(&p, &gz[..cut]).unwrap();
        let ds = Dataset::from_tfrecord([&p], Compression::Gzip).unwrap();
        let (_, e) = first_error(&ds);
        assert!(
            matches!(e.kind(), ErrorKind::Format(_)),
            "cut at {cut}: {e:?}"
        );
    }
}

#[test]
fn wrong_compression_is_an_error() {
    // GZIP file read as uncompressed: the first length CRC fails, and we say why.
    let ds = Dataset::from_tfrecord(
        [fixture("tfrecord/examples.tfrecord.gz")],
        Compression::None,
    )
    .unwrap();
    let (ok, e) = first_error(&ds);
    assert_eq!(ok, 0);
    assert!(matches!(e.kind(), ErrorKind::Format(_)), "{e:?}");
    assert_eq!(
        (e.position().record, e.position().byte_offset),
        (Some(0), Some(0))
    );
    assert!(e.to_string().contains("Compression::Gzip"), "{e}");
    // Uncompressed file read as GZIP or ZLIB: the stream does not decompress.
    for (c, needle) in [(Compression::Gzip, "GZIP"), (Compression::Zlib, "ZLIB")] {
        let ds = Dataset::from_tfrecord([fixture("tfrecord/examples.tfrecord")], c).unwrap();
        let (ok, e) = first_error(&ds);
        assert_eq!(ok, 0);
        assert!(matches!(e.kind(), ErrorKind::Format(_)), "{e:?}");
        assert!(
            e.to_string().contains(needle) && e.to_string().contains("Compression::None"),
            "{e}"
        );
    }
}

fn bad(name: &str) -> PathBuf {
    fixture("bad/tfrecord").join(name)
}

fn read_error(path: &Path, compression: Compression) -> slicestream::Error {
    let mut reader = TfRecordReader::open(path, compression).unwrap();
    loop {
        match reader.next_record() {
            Ok(Some(_)) => {}
            Ok(None) => panic!("{} read without error", path.display()),
            Err(e) => return e,
        }
    }
}

#[test]
fn bad_framing_golden_files() {
    // A length field claiming a terabyte: refused from the file size, before any allocation.
    let e = read_error(&bad("huge_length.tfrecord"), Compression::None);
    assert!(matches!(e.kind(), ErrorKind::Format(_)), "{e:?}");
    assert!(
        e.to_string().contains("claims 1099511627776 data bytes"),
        "{e}"
    );
    assert_eq!(
        (e.position().record, e.position().byte_offset),
        (Some(0), Some(0))
    );
    // The same inside GZIP (size unknown): the buffer only grows as bytes arrive; the stream ends.
    let e = read_error(&bad("huge_length.tfrecord.gz"), Compression::Gzip);
    assert!(matches!(e.kind(), ErrorKind::Format(_)), "{e:?}");
    assert!(
        e.to_string()
            .contains("after 16 of its 1099511627776 data bytes"),
        "{e}"
    );

    // An empty file is a TFRecord file with no records (as in TensorFlow).
    let reader = TfRecordReader::open(bad("empty.tfrecord"), Compression::None).unwrap();
    assert_eq!(reader.count(), 0);

    let e = read_error(&bad("garbage.tfrecord"), Compression::None);
    assert!(matches!(e.kind(), ErrorKind::Format(_)), "{e:?}");
    assert!(
        e.to_string()
            .contains("corrupted record 0 at byte offset 0: the length CRC-32C"),
        "{e}"
    );
    assert!(
        e.to_string().contains("is this even a TFRecord file?"),
        "{e}"
    );

    let one = 16
        + Example::from_bytes(
            &TfRecordReader::open(bad("short_header.tfrecord"), Compression::None)
                .unwrap()
                .next()
                .unwrap()
                .unwrap()
                .data,
        )
        .unwrap()
        .to_bytes()
        .len() as u64;
    let e = read_error(&bad("short_header.tfrecord"), Compression::None);
    assert!(
        e.to_string()
            .contains("ends 7 bytes into its 12-byte header"),
        "{e}"
    );
    assert_eq!(
        (e.position().record, e.position().byte_offset),
        (Some(1), Some(one))
    );

    let e = read_error(&bad("cut_in_data_crc.tfrecord"), Compression::None);
    assert!(matches!(e.kind(), ErrorKind::Format(_)), "{e:?}");
    assert_eq!(
        (e.position().record, e.position().byte_offset),
        (Some(1), Some(one))
    );

    let e = TfRecordReader::open("/nonexistent/x.tfrecord", Compression::None).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::NotFound(_)), "{e:?}");
}

fn parse_error(name: &str, description: FeatureDescription) -> (usize, slicestream::Error) {
    let ds = Dataset::from_tfrecord_examples([bad(name)], Compression::None, description).unwrap();
    first_error(&ds)
}

#[test]
fn bad_example_golden_files() {
    let (ok, e) = parse_error("missing_feature.tfrecord", description());
    assert_eq!(ok, 1);
    assert!(matches!(e.kind(), ErrorKind::NotFound(_)), "{e:?}");
    assert_eq!(
        (e.position().record, e.position().component.as_deref()),
        (Some(1), Some("label"))
    );
    assert!(
        e.to_string().contains("feature \"label\"") && e.to_string().contains("record 1"),
        "{e}"
    );
    assert!(e
        .position()
        .file
        .as_ref()
        .unwrap()
        .ends_with("missing_feature.tfrecord"));

    let (ok, e) = parse_error("wrong_type.tfrecord", description());
    assert_eq!(ok, 2);
    assert!(matches!(e.kind(), ErrorKind::Incompatible(_)), "{e:?}");
    assert_eq!(e.position().record, Some(2));
    assert!(
        e.to_string().contains("\"label\" holds a float_list")
            && e.to_string().contains("int64_list"),
        "{e}"
    );

    let (ok, e) = parse_error("wrong_count.tfrecord", description());
    assert_eq!(ok, 0);
    assert!(matches!(e.kind(), ErrorKind::Incompatible(_)), "{e:?}");
    assert_eq!(
        (e.position().record, e.position().byte_offset),
        (Some(0), Some(0))
    );
    assert!(
        e.to_string().contains("\"score\" has 2 values") && e.to_string().contains("[3]"),
        "{e}"
    );

    let (ok, e) = parse_error("not_an_example.tfrecord", description());
    assert_eq!(ok, 1);
    assert!(matches!(e.kind(), ErrorKind::Format(_)), "{e:?}");
    assert!(
        e.to_string().contains("not a valid tf.train.Example")
            && e.to_string().contains("record 1"),
        "{e}"
    );

    let (ok, e) = parse_error("bad_utf8_name.tfrecord", description());
    assert_eq!(ok, 1);
    assert!(matches!(e.kind(), ErrorKind::Format(_)), "{e:?}");
    assert!(
        e.to_string().contains("\"name\"") && e.to_string().contains("UTF-8"),
        "{e}"
    );
    // ...and asking for bytes keeps them.
    let as_bytes =
        FeatureDescription::new([("name", FeatureSpec::fixed(DType::Bytes, []))]).unwrap();
    let ds = Dataset::from_tfrecord_examples(
        [bad("bad_utf8_name.tfrecord")],
        Compression::None,
        as_bytes,
    )
    .unwrap();
    let last = ds.iter().last().unwrap().unwrap();
    assert_eq!(
        last.get("name").unwrap().bytes_at(0).unwrap(),
        b"rec-\xff\xfe"
    );
}
