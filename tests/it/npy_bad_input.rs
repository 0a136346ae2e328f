//! Bad NPY / NPZ input: golden files under tests/fixtures/bad/npy/, each with the error it must give
//! (catalog.json), and mutated files that must never panic.
//!
//! The golden files are committed bytes; `cargo test --test npy_bad_input -- --ignored` regenerates
//! them and the catalog from [`catalog`] (only needed when adding a case).

use std::io::Write;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use serde_json::{json, Value};
use slicestream::io::npy::{NpyFile, NpzArchive};
use slicestream::ErrorKind;

fn bad_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad/npy")
}

fn good(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/npy")
            .join(name),
    )
    .unwrap()
}

/// An NPY file with this header text and data, padded as numpy pads.
fn npy(version: (u8, u8), header: &[u8], data: &[u8]) -> Vec<u8> {
    let prefix = if version.0 == 1 { 10 } else { 12 };
    let mut text = header.to_vec();
    let pad = 64 - (prefix + text.len() + 1) % 64;
    text.resize(text.len() + pad, b' ');
    text.push(b'\n');
    let mut out = b"\x93NUMPY".to_vec();
    out.extend_from_slice(&[version.0, version.1]);
    if version.0 == 1 {
        out.extend_from_slice(&(text.len() as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&(text.len() as u32).to_le_bytes());
    }
    out.extend_from_slice(&text);
    out.extend_from_slice(data);
    out
}

fn h(descr: &str, shape: &str) -> Vec<u8> {
    format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}").into_bytes()
}

/// A ZIP of `.npy` members, stored or deflated, written with the zip crate.
fn npz(members: &[(&str, Vec<u8>)], deflate: bool) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let method = if deflate {
        zip::CompressionMethod::Deflated
    } else {
        zip::CompressionMethod::Stored
    };
    let options = zip::write::SimpleFileOptions::default().compression_method(method);
    for (name, bytes) in members {
        w.start_file(format!("{name}.npy"), options).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// Every case: file name, bytes, and what reading it must give:
/// `{"open": "npy"|"npz", "member"?, "kind", "byte_offset"?, "contains": [...]}`.
fn catalog() -> Vec<(&'static str, Vec<u8>, Value)> {
    let f32_data: Vec<u8> = (0..12).flat_map(|i| (i as f32).to_le_bytes()).collect();
    let fmt = |offset: Option<u64>, contains: &[&str]| json!({"open": "npy", "kind": "Format", "byte_offset": offset, "contains": contains});
    let mut deep = String::from("{'descr': '<f4', 'fortran_order': False, 'shape': ");
    deep.push_str(&"(".repeat(100));
    deep.push_str(&")".repeat(100));
    deep.push_str(", }");
    let mut truncated = good("float32_c.npy");
    truncated.truncate(truncated.len() - 8);
    let mut bad_utf8 = h("<f4", "(3, 4)");
    bad_utf8.insert(1, 0xff);
    let mut flipped_stored = good("two_arrays.npz");
    let a_data = flipped_stored
        .windows(4)
        .position(|w| w == 5.0f32.to_le_bytes())
        .unwrap();
    flipped_stored[a_data] ^= 0x01;
    let mut corrupt_deflate = good("two_arrays_compressed.npz");
    for b in &mut corrupt_deflate[40..60] {
        *b ^= 0x5a;
    }
    vec![
        ("empty.npy", vec![], fmt(Some(0), &["empty file"])),
        (
            "magic_prefix_only.npy",
            b"\x93NUM".to_vec(),
            fmt(Some(4), &["before the NPY version"]),
        ),
        (
            "bad_magic.npy",
            [b"\x93NUMPZ".as_slice(), &good("float32_c.npy")[6..]].concat(),
            fmt(Some(0), &["bad magic"]),
        ),
        (
            "text_file.npy",
            b"label,p0,p1\n0,0,5\n".to_vec(),
            fmt(Some(0), &["bad magic"]),
        ),
        (
            "bad_version.npy",
            [b"\x93NUMPY\x04\x00".as_slice(), &good("float32_c.npy")[8..]].concat(),
            fmt(Some(6), &["version 4.0", "1.0, 2.0, 3.0"]),
        ),
        (
            "no_header_length.npy",
            b"\x93NUMPY\x02\x00\x10".to_vec(),
            fmt(Some(9), &["header length"]),
        ),
        (
            "header_beyond_eof.npy",
            [
                b"\x93NUMPY\x01\x00\xff\xff".as_slice(),
                &good("float32_c.npy")[10..],
            ]
            .concat(),
            fmt(Some(8), &["65535 bytes long", "ends at byte 176"]),
        ),
        (
            "header_not_dict.npy",
            npy((1, 0), b"[1, 2, 3]", &[]),
            fmt(Some(10), &["expected a dict"]),
        ),
        (
            "header_unterminated_string.npy",
            npy(
                (1, 0),
                b"{'descr': '<f4, 'fortran_order': False, 'shape': (3, 4), }",
                &f32_data,
            ),
            fmt(None, &["bad NPY header"]),
        ),
        (
            "header_missing_shape.npy",
            npy(
                (1, 0),
                b"{'descr': '<f4', 'fortran_order': False, }",
                &f32_data,
            ),
            fmt(Some(10), &["no \"shape\" key"]),
        ),
        (
            "header_extra_key.npy",
            npy(
                (1, 0),
                b"{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), 'x': 1, }",
                &f32_data,
            ),
            fmt(Some(68), &["unexpected key \"x\""]),
        ),
        (
            "header_trailing_text.npy",
            npy(
                (1, 0),
                b"{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), } x",
                &f32_data,
            ),
            fmt(Some(70), &["unexpected text after"]),
        ),
        (
            "header_duplicate_key.npy",
            npy(
                (1, 0),
                b"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }",
                &f32_data,
            ),
            fmt(Some(27), &["appears twice"]),
        ),
        (
            "header_unknown_name.npy",
            npy(
                (1, 0),
                b"{'descr': '<f4', 'fortran_order': false, 'shape': (3, 4), }",
                &f32_data,
            ),
            fmt(Some(44), &["unknown name \"false\""]),
        ),
        (
            "fortran_order_not_bool.npy",
            npy(
                (1, 0),
                b"{'descr': '<f4', 'fortran_order': 0, 'shape': (3, 4), }",
                &f32_data,
            ),
            fmt(Some(27), &["True or False"]),
        ),
        (
            "shape_not_tuple.npy",
            npy(
                (1, 0),
                b"{'descr': '<f4', 'fortran_order': False, 'shape': [3, 4], }",
                &f32_data,
            ),
            fmt(Some(51), &["must be a tuple"]),
        ),
        (
            "shape_parenthesized_int.npy",
            npy((1, 0), &h("<f4", "(12)"), &f32_data),
            fmt(Some(51), &["must be a tuple", "not 12"]),
        ),
        (
            "shape_negative.npy",
            npy((1, 0), &h("<f4", "(-1, 4)"), &f32_data),
            fmt(Some(51), &["-1", "not a size"]),
        ),
        (
            "shape_float.npy",
            npy((1, 0), &h("<f4", "(3.0, 4)"), &f32_data),
            fmt(Some(62), &["expected an integer"]),
        ),
        (
            "shape_integer_too_large.npy",
            npy(
                (1, 0),
                &h("<f4", &format!("({},)", "9".repeat(60))),
                &f32_data,
            ),
            fmt(Some(61), &["integer too large"]),
        ),
        (
            "shape_overflow.npy",
            npy((1, 0), &h("<f8", "(4294967296, 4294967296, 16)"), &f32_data),
            fmt(Some(51), &["overflows"]),
        ),
        (
            "shape_overflow_with_zero.npy",
            npy((1, 0), &h("<u2", "(0, 4294967296, 4294967296)"), &[]),
            fmt(Some(51), &["overflows"]),
        ),
        (
            "shape_nested_too_deep.npy",
            npy((1, 0), deep.as_bytes(), &[]),
            fmt(None, &["nested deeper than 16"]),
        ),
        (
            "data_truncated.npy",
            truncated,
            fmt(
                Some(128),
                &[
                    "shorter than its header says",
                    "needs 48 data bytes",
                    "ends at byte 168",
                ],
            ),
        ),
        (
            "huge_shape_small_file.npy",
            npy((1, 0), &h("<f8", "(1000000000000,)"), &f32_data),
            fmt(Some(128), &["needs 8000000000000 data bytes"]),
        ),
        (
            "bool_byte_2.npy",
            npy((1, 0), &h("|b1", "(4,)"), &[0, 1, 2, 1]),
            fmt(Some(130), &["bool value 2 is byte 2"]),
        ),
        (
            "v3_header_not_utf8.npy",
            npy((3, 0), &bad_utf8, &f32_data),
            fmt(Some(13), &["UTF-8"]),
        ),
        (
            "unsupported_complex64.npy",
            npy((1, 0), &h("<c8", "(2,)"), &[0; 16]),
            fmt(Some(11), &["\"<c8\"", "(complex)", "supported: |b1"]),
        ),
        (
            "unsupported_object.npy",
            npy((1, 0), &h("|O", "(2,)"), &[0; 16]),
            fmt(Some(11), &["\"|O\"", "(Python objects)", "<f8"]),
        ),
        (
            "unsupported_unicode.npy",
            npy((1, 0), &h("<U5", "(2,)"), &[0; 40]),
            fmt(Some(11), &["\"<U5\"", "(unicode text)"]),
        ),
        (
            "unsupported_bytes.npy",
            npy((1, 0), &h("|S3", "(2,)"), &[0; 6]),
            fmt(Some(11), &["\"|S3\"", "(byte strings)"]),
        ),
        (
            "unsupported_datetime.npy",
            npy((1, 0), &h("<M8[ns]", "(2,)"), &[0; 16]),
            fmt(Some(11), &["\"<M8[ns]\"", "(datetime)"]),
        ),
        (
            "unsupported_longdouble.npy",
            npy((1, 0), &h("<f16", "(1,)"), &[0; 16]),
            fmt(Some(11), &["\"<f16\"", "unsupported width"]),
        ),
        (
            "unsupported_structured.npy",
            npy(
                (1, 0),
                b"{'descr': [('a', '<f4'), ('b', '<i8')], 'fortran_order': False, 'shape': (2,), }",
                &[0; 24],
            ),
            fmt(Some(11), &["[('a', '<f4'), ('b', '<i8')]", "(structured)"]),
        ),
        (
            "empty.npz",
            vec![],
            json!({"open": "npz", "kind": "Format", "byte_offset": 0, "contains": ["empty file", "NPZ"]}),
        ),
        (
            "not_a_zip.npz",
            good("float32_c.npy"),
            json!({"open": "npz", "kind": "Format", "contains": ["bad NPZ archive"]}),
        ),
        (
            "stored_crc_mismatch.npz",
            flipped_stored,
            json!({"open": "npz", "member": "a", "kind": "Format", "contains": ["checksum"]}),
        ),
        (
            "deflate_corrupt.npz",
            corrupt_deflate,
            json!({"open": "npz", "member": "a", "kind": "Format", "contains": ["a.npy"]}),
        ),
        (
            "member_bad_magic.npz",
            npz(&[("a", b"not numpy at all".to_vec())], false),
            json!({"open": "npz", "member": "a", "kind": "Format", "byte_offset": 0, "contains": ["bad magic"]}),
        ),
        (
            "member_data_truncated.npz",
            npz(&[("a", npy((1, 0), &h("<f4", "(1000,)"), &f32_data))], true),
            json!({"open": "npz", "member": "a", "kind": "Format", "byte_offset": 128, "contains": ["shorter than its header says", "needs 4000 data bytes"]}),
        ),
        (
            "member_missing.npz",
            npz(&[("a", good("uint8.npy"))], false),
            json!({"open": "npz", "member": "b", "kind": "NotFound", "contains": ["no array \"b\"", "[\"a\"]"]}),
        ),
    ]
}

#[test]
#[ignore = "regenerates the committed golden files"]
fn regenerate_bad_npy_fixtures() {
    std::fs::create_dir_all(bad_dir()).unwrap();
    let mut index = serde_json::Map::new();
    for (name, bytes, expect) in catalog() {
        std::fs::write(bad_dir().join(name), bytes).unwrap();
        index.insert(name.to_string(), expect);
    }
    let text = serde_json::to_string_pretty(&Value::Object(index)).unwrap();
    std::fs::write(bad_dir().join("catalog.json"), text + "\n").unwrap();
}

fn kind_name(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Format(_) => "Format",
        ErrorKind::NotFound(_) => "NotFound",
        ErrorKind::InvalidArgument(_) => "InvalidArgument",
        ErrorKind::Io => "Io",
        _ => "other",
    }
}

#[test]
fn every_golden_bad_file_gives_its_error() {
    let text = std::fs::read_to_string(bad_dir().join("catalog.json")).unwrap();
    let index: serde_json::Map<String, Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(
        index.len(),
        catalog().len(),
        "catalog.json is out of date: regenerate it"
    );
    let mut failures = Vec::new();
    for (name, expect) in &index {
        let path = bad_dir().join(name);
        let err = match (expect["open"].as_str().unwrap(), expect["member"].as_str()) {
            ("npy", _) => NpyFile::open(&path).unwrap_err(),
            (_, None) => NpzArchive::open(&path).unwrap_err(),
            (_, Some(member)) => NpzArchive::open(&path).unwrap().npy(member).unwrap_err(),
        };
        let msg = err.to_string();
        let mut check = |ok: bool, what: &str| {
            if !ok {
                failures.push(format!("{name}: {what}: {msg}"));
            }
        };
        check(kind_name(err.kind()) == expect["kind"], "kind");
        check(
            err.position().file.as_deref() == Some(path.as_path()),
            "file",
        );
        if let Some(offset) = expect["byte_offset"].as_u64() {
            check(
                err.position().byte_offset == Some(offset),
                &format!("byte offset {offset}"),
            );
        }
        if let Some(member) = expect["member"]
            .as_str()
            .filter(|_| expect["kind"] == "Format")
        {
            check(
                err.position().component.as_deref() == Some(format!("{member}.npy").as_str()),
                "member",
            );
        }
        for part in expect["contains"].as_array().unwrap() {
            check(
                msg.contains(part.as_str().unwrap()),
                &format!("lacks {part}"),
            );
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn missing_and_unreadable_paths() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.npy");
    let e = NpyFile::open(&missing).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::NotFound(_)), "{e}");
    assert_eq!(e.position().file.as_deref(), Some(missing.as_path()));
    assert!(std::error::Error::source(&e).is_some());
    let e = NpzArchive::open(dir.path().join("nope.npz")).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::NotFound(_)), "{e}");
    // A directory is not a file: an I/O error, not a panic.
    let e = NpyFile::open(dir.path()).unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::Io | ErrorKind::Format(_)),
        "{e}"
    );
}

fn check_never_panics(bytes: Vec<u8>) {
    if let Ok(f) = NpyFile::from_buffer(arrow_buffer::Buffer::from_vec(bytes)) {
        let _ = f.tensor();
        if let Some(n) = f.num_rows() {
            let _ = f.slice_rows(0, n);
            let _ = f.gather_rows(&[n.saturating_sub(1)]);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn mutated_files_never_panic(
        which in 0usize..4,
        truncate in any::<bool>(),
        cut in any::<prop::sample::Index>(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
    ) {
        let name = ["float32_c.npy", "float32_fortran.npy", "bool.npy", "scalar_0d_float64.npy"][which];
        let mut bytes = good(name);
        for (at, x) in flips {
            let i = at.index(bytes.len());
            bytes[i] ^= x;
        }
        if truncate {
            let len = cut.index(bytes.len() + 1);
            bytes.truncate(len);
        }
        check_never_panics(bytes);
    }

    #[test]
    fn random_headers_never_panic(text in "[{}()\\[\\]',: 0-9a-zA-Z<>|_-]{0,90}", data in prop::collection::vec(any::<u8>(), 0..64)) {
        check_never_panics(npy((1, 0), text.as_bytes(), &data));
        check_never_panics(npy((3, 0), text.as_bytes(), &data));
    }
}
