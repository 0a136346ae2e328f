//! The CSV source and sink: digits.csv against digits.json, options, inference, errors, round trips.

use std::path::{Path, PathBuf};

use slicestream::io::csv::{CsvGroup, CsvOptions, CsvSchema};
use slicestream::io::sink::CsvSink;
use slicestream::io::sink::Sink;
use slicestream::{DType, Dataset, Element, Error, ErrorKind, Structure, Tensor};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(name)
}

fn digits_options() -> CsvOptions {
    CsvOptions::default()
        .with_column_type("label", DType::I64)
        .with_group(
            CsvGroup::new("image", (0..64).map(|i| format!("p{i}")))
                .with_dtype(DType::U8)
                .with_shape([8, 8]),
        )
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn all(ds: &Dataset) -> Vec<Element> {
    ds.iter().collect::<slicestream::Result<Vec<_>>>().unwrap()
}

fn first_error(ds: &Dataset) -> (usize, Error) {
    let mut ok = 0;
    for e in ds {
        match e {
            Ok(_) => ok += 1,
            Err(e) => return (ok, e),
        }
    }
    panic!("no error after {ok} elements");
}

#[test]
fn digits_csv_gives_the_1797_digits() {
    let ds = Dataset::from_csv(data("digits.csv"), digits_options()).unwrap();
    let spec = ds.element_spec().unwrap();
    assert_eq!(spec.paths(), ["label", "image"]);
    assert_eq!(spec.get("image").unwrap().dtype, DType::U8);
    assert_eq!(spec.get("image").unwrap().shape, [Some(8), Some(8)]);
    let rows = all(&ds);
    assert_eq!(rows.len(), 1797);
    let sum: u64 = rows
        .iter()
        .flat_map(|e| e.get("image").unwrap().as_slice::<u8>().unwrap().to_vec())
        .map(u64::from)
        .sum();
    assert_eq!(sum, 561_718);
    let labels: i64 = rows
        .iter()
        .map(|e| e.get("label").unwrap().as_slice::<i64>().unwrap()[0])
        .sum();
    assert_eq!(labels, 8070);
    assert_eq!(
        &rows[0].get("image").unwrap().as_slice::<u8>().unwrap()[..8],
        [0, 0, 5, 13, 9, 1, 0, 0]
    );
}

#[test]
fn inference_follows_tf_and_batches_are_built_directly() {
    let ds = Dataset::from_csv(
        data("digits.csv"),
        CsvOptions::default().with_batch_size(Some(500)),
    )
    .unwrap();
    let spec = ds.element_spec().unwrap();
    assert_eq!(spec.components().len(), 65);
    assert!(spec.components().iter().all(|s| s.dtype == DType::I32));
    assert_eq!(spec.components()[0].shape, [None]);
    let sizes: Vec<usize> = all(&ds).iter().map(|b| b.batch_size().unwrap()).collect();
    assert_eq!(sizes, [500, 500, 500, 297]);
}

#[test]
fn label_select_and_chunking() {
    let options = digits_options()
        .with_label("label")
        .with_select_columns(["label", "image"])
        .with_chunk_rows(7);
    let ds = Dataset::from_csv(data("digits.csv"), options).unwrap();
    let e = ds.iter().next().unwrap().unwrap();
    assert_eq!(
        *e.structure(),
        Structure::Tuple(vec![
            Structure::dict_of_tensors(["image"]),
            Structure::Tensor
        ])
    );
    assert_eq!(all(&ds).len(), 1797);
    let only = Dataset::from_csv(
        data("digits.csv"),
        CsvOptions::default().with_select_columns(["p3", "label"]),
    )
    .unwrap();
    assert_eq!(only.element_spec().unwrap().paths(), ["label", "p3"]);
}

#[test]
fn quotes_strings_defaults_and_na_values() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "mixed.csv",
        "name,score,flag,count\n\"a, b\",1.5,true,3\n\"say \"\"hi\"\"\",NA,0,\n plain ,2,FALSE,7\n",
    );
    let options = CsvOptions::default()
        .with_na_value("NA")
        .with_column_type("flag", DType::Bool)
        .with_column_type("count", DType::I64)
        .with_default("count", "-1");
    let ds = Dataset::from_csv(&p, options).unwrap();
    let spec = ds.element_spec().unwrap();
    assert_eq!(spec.get("name").unwrap().dtype, DType::String);
    assert_eq!(spec.get("score").unwrap().dtype, DType::F32);
    let rows = all(&ds);
    assert_eq!(rows[0].get("name").unwrap().str_at(0).unwrap(), "a, b");
    assert_eq!(
        rows[1].get("name").unwrap().str_at(0).unwrap(),
        "say \"hi\""
    );
    // Inferred column: a missing value is 0 (tf.data's rule); typed column: its default.
    assert_eq!(
        rows[1].get("score").unwrap().as_slice::<f32>().unwrap(),
        [0.0]
    );
    assert_eq!(
        rows[1].get("count").unwrap().as_slice::<i64>().unwrap(),
        [-1]
    );
    let flags: Vec<bool> = rows
        .iter()
        .map(|r| r.get("flag").unwrap().as_slice::<bool>().unwrap()[0])
        .collect();
    assert_eq!(flags, [true, false, false]);
}

#[test]
fn no_header_needs_column_names() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "nohead.csv", "1;2\n3;4\n");
    let err = Dataset::from_csv(&p, CsvOptions::default().with_header(false)).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::InvalidArgument(_)),
        "{err:?}"
    );
    let ds = Dataset::from_csv(
        &p,
        CsvOptions::default()
            .with_header(false)
            .with_delimiter(b';')
            .with_column_names(["a", "b"]),
    )
    .unwrap();
    let rows = all(&ds);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1].get("b").unwrap().as_slice::<i32>().unwrap(), [4]);
}

#[test]
fn ragged_row_names_row_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "ragged.csv", "a,b,c\n1,2,3\n4,5\n6,7,8\n");
    let ds = Dataset::from_csv(&p, CsvOptions::default().with_rows_for_inference(1)).unwrap();
    let (ok, err) = first_error(&ds);
    assert_eq!(ok, 1);
    assert!(matches!(err.kind(), ErrorKind::Format(_)), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("ragged CSV: row 1 (line 3) has 2 fields, the header has 3"),
        "{msg}"
    );
    assert_eq!(err.position().record, Some(1));
    assert_eq!(err.position().file.as_deref(), Some(p.as_path()));
    assert_eq!(err.position().stage.as_deref(), Some("from_csv"));
    // Within the inference sample, the same error comes at construction.
    let err = Dataset::from_csv(&p, CsvOptions::default()).unwrap_err();
    assert!(err.to_string().contains("ragged CSV"), "{err}");
}

#[test]
fn unparseable_cell_names_row_and_column() {
    let ds = Dataset::from_csv(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad/csv/bad_cell.csv"),
        CsvOptions::default()
            .with_column_type("label", DType::I64)
            .with_column_type("x", DType::U8),
    )
    .unwrap();
    let (ok, err) = first_error(&ds);
    assert_eq!(ok, 2);
    assert!(matches!(err.kind(), ErrorKind::Format(_)), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("row 2 (line 4), column \"x\" (field 1)"),
        "{msg}"
    );
    assert!(msg.contains("cannot parse \"3.5\" as uint8"), "{msg}");
    assert_eq!(err.position().component.as_deref(), Some("x"));
    assert_eq!(err.position().record, Some(2));
}

#[test]
fn missing_value_without_default() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "missing.csv", "a,b\n1,2\n3,\n");
    let ds =
        Dataset::from_csv(&p, CsvOptions::default().with_column_type("b", DType::I64)).unwrap();
    let (ok, err) = first_error(&ds);
    assert_eq!(ok, 1);
    assert!(err.to_string().contains("missing"), "{err}");
    assert_eq!(err.position().component.as_deref(), Some("b"));
}

#[test]
fn empty_and_nonexistent_files() {
    let dir = tempfile::tempdir().unwrap();
    let empty = write(dir.path(), "empty.csv", "");
    let err = Dataset::from_csv(&empty, CsvOptions::default()).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Format(_)), "{err:?}");
    assert!(err.to_string().contains("empty CSV file"), "{err}");
    let err = Dataset::from_csv(dir.path().join("nope.csv"), CsvOptions::default()).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::NotFound(_)), "{err:?}");
    // Only a header: no rows, no error.
    let header_only = write(dir.path(), "header.csv", "a,b\n");
    let ds = Dataset::from_csv(&header_only, CsvOptions::default()).unwrap();
    assert_eq!(ds.iter().count(), 0);
}

#[test]
fn options_that_do_not_fit_the_file() {
    let p = data("digits.csv");
    let cases = [
        CsvOptions::default().with_column_type("nope", DType::I64),
        CsvOptions::default().with_group(CsvGroup::new("g", ["p0", "zz"])),
        CsvOptions::default().with_label("nope"),
    ];
    for o in cases {
        let err = Dataset::from_csv(&p, o).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::NotFound(_)), "{err:?}");
    }
    let invalid = [
        CsvOptions::default().with_group(CsvGroup::new("g", ["p0", "p1"]).with_shape([3])),
        CsvOptions::default()
            .with_group(CsvGroup::new("g", ["p0", "p1"]))
            .with_group(CsvGroup::new("h", ["p1", "p2"])),
        CsvOptions::default()
            .with_column_type("p0", DType::U8)
            .with_default("p0", "-3"),
    ];
    for o in invalid {
        let err = Dataset::from_csv(&p, o).unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::InvalidArgument(_)),
            "{err:?}"
        );
    }
}

#[test]
fn several_files_share_the_first_ones_schema() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.csv", "x,y\n1,2\n3,4\n");
    let b = write(dir.path(), "b.csv", "x,y\n5,6\n");
    let c = write(dir.path(), "c.csv", "x,z\n7,8\n");
    let ds =
        Dataset::from_csv_files([&a, &b], CsvOptions::default().with_batch_size(Some(2))).unwrap();
    let batches = all(&ds);
    // Batches span files.
    assert_eq!(
        batches[0].get("x").unwrap().as_slice::<i32>().unwrap(),
        [1, 3]
    );
    assert_eq!(batches[1].get("x").unwrap().as_slice::<i32>().unwrap(), [5]);
    let ds = Dataset::from_csv_files([&a, &c], CsvOptions::default()).unwrap();
    let (ok, err) = first_error(&ds);
    assert_eq!(ok, 2);
    assert!(matches!(err.kind(), ErrorKind::Incompatible(_)), "{err:?}");
    assert_eq!(err.position().file.as_deref(), Some(c.as_path()));
}

#[test]
fn csv_sink_round_trips_tensors_as_columns() {
    let dir = tempfile::tempdir().unwrap();
    let source = Dataset::from_csv(data("digits.csv"), digits_options()).unwrap();
    let out = dir.path().join("digits_out.csv");
    let n = source.write_to(CsvSink::create(&out)).unwrap();
    assert_eq!(n, 1797);
    let text = std::fs::read_to_string(&out).unwrap();
    let header = text.lines().next().unwrap();
    assert!(header.starts_with("label,image_0_0,image_0_1"), "{header}");
    assert!(header.ends_with("image_7_7"), "{header}");
    let back = Dataset::from_csv(
        &out,
        CsvOptions::default()
            .with_column_type("label", DType::I64)
            .with_group(
                CsvGroup::new(
                    "image",
                    (0..8).flat_map(|i| (0..8).map(move |j| format!("image_{i}_{j}"))),
                )
                .with_dtype(DType::U8)
                .with_shape([8, 8]),
            ),
    )
    .unwrap();
    assert_eq!(all(&back), all(&source));
    // Byte-identical values to the original file (same header names aside).
    let original = std::fs::read_to_string(data("digits.csv")).unwrap();
    assert_eq!(
        text.lines().skip(1).collect::<Vec<_>>(),
        original.lines().skip(1).collect::<Vec<_>>()
    );
}

#[test]
fn csv_sink_writes_floats_strings_and_bytes_that_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let x = Tensor::from_vec([3, 2], vec![0.1f32, -2.5, 1e-8, f32::NAN, 3.0, 1e30]).unwrap();
    let s = Tensor::from_strings([3], ["plain", "with, comma", "quote \" and\nnewline"]).unwrap();
    let ds = Dataset::from_tensor_slices(Element::dict([("x", x), ("s", s)])).unwrap();
    let out = dir.path().join("mixed.csv");
    ds.write_to(CsvSink::create(&out).with_delimiter(b';'))
        .unwrap();
    let back = Dataset::from_csv(
        &out,
        CsvOptions::default()
            .with_delimiter(b';')
            .with_group(CsvGroup::new("x", ["x_0", "x_1"]).with_dtype(DType::F32)),
    )
    .unwrap();
    let rows = all(&back);
    let orig = all(&ds);
    for (a, b) in rows.iter().zip(&orig) {
        let (xa, xb) = (a.get("x").unwrap(), b.get("x").unwrap());
        for (u, v) in xa
            .as_slice::<f32>()
            .unwrap()
            .iter()
            .zip(xb.as_slice::<f32>().unwrap())
        {
            assert!(u == v || (u.is_nan() && v.is_nan()), "{u} vs {v}");
        }
        assert_eq!(a.get("s").unwrap(), b.get("s").unwrap());
    }
}

#[test]
fn csv_sink_failure_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("never.csv");
    let ds = Dataset::range(0, 100, 1).unwrap().map(|e| {
        if e.component(0)?.as_slice::<i64>()?[0] == 50 {
            return Err(Error::invalid_argument("element 50 is bad"));
        }
        Ok(e)
    });
    let err = ds.write_to(CsvSink::create(&out)).unwrap_err();
    assert!(err.to_string().contains("element 50 is bad"), "{err}");
    assert!(!out.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "temp file left"
    );
    // The protocol is enforced.
    let mut sink = CsvSink::create(dir.path().join("x.csv"));
    assert!(sink
        .write_row(&Element::single(Tensor::scalar(1i64)))
        .is_err());
    assert!(sink.finish().is_err());
}

#[test]
fn schema_is_inspectable() {
    let schema = CsvSchema::infer(data("digits.csv"), &digits_options()).unwrap();
    assert_eq!(schema.columns().len(), 65);
    let specs = schema.component_specs();
    assert_eq!(specs[1].0, "image");
    assert_eq!(schema.row_spec().paths(), ["label", "image"]);
}
