//! Parquet: data/digits.parquet (written by pyarrow) reads back as digits.json says; what the writer
//! writes reads back equal with every compression, row groups are flushed as they fill, columns can
//! be projected, and a failed export leaves no file.

use std::fs::File;

use crate::frames_common::{check_digits, collect, data, digits_batch, tensor_dataset};
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};
use slicestream::frames::row_spec_of;
use slicestream::io::parquet::{ParquetCompression, ParquetWriteOptions, ParquetWriter};
use slicestream::{
    DType, Dataset, Element, ElementSpec, Error, ErrorKind, Structure, Tensor, TensorSpec,
};

fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn digits_parquet_from_pyarrow_reads_back_as_digits_json_says() {
    let ds = Dataset::from_parquet([data().join("digits.parquet")], None).unwrap();
    let spec = ds.element_spec().unwrap();
    assert_eq!(spec.paths(), ["image", "label"]);
    assert_eq!(
        spec.get("image").unwrap(),
        &TensorSpec::new(DType::U8, &[8, 8])
    );
    assert_eq!(
        spec.get("label").unwrap(),
        &TensorSpec::new(DType::I64, &[])
    );
    assert_eq!(ds.cardinality().as_tf(), 1797);
    let batch = collect(&ds.batch(2000, false).unwrap()).remove(0);
    check_digits(batch.get("image").unwrap(), batch.get("label").unwrap());
    // A second epoch reads the file again.
    assert_eq!(ds.iter().count(), 1797);
}

#[test]
fn what_the_writer_writes_reads_back_equal_with_every_compression() {
    let dir = tempfile::tempdir().unwrap();
    let ds = tensor_dataset(1000);
    let expected = collect(&ds);
    for (name, c) in [
        ("none", ParquetCompression::Uncompressed),
        ("zstd", ParquetCompression::Zstd(1)),
        ("zstd9", ParquetCompression::Zstd(9)),
        ("snappy", ParquetCompression::Snappy),
    ] {
        let path = dir.path().join(format!("{name}.parquet"));
        let opts = ParquetWriteOptions::default()
            .with_compression(c)
            .with_batch_rows(300);
        let summary = ds.write_parquet(&path, opts).unwrap();
        assert_eq!(summary.rows, 1000);
        assert_eq!(summary.bytes, std::fs::metadata(&path).unwrap().len());
        let back = Dataset::from_parquet([&path], None).unwrap();
        assert_eq!(
            back.element_spec().unwrap(),
            ds.element_spec().unwrap(),
            "{name}"
        );
        assert_eq!(collect(&back), expected, "{name}");
        // The column chunks carry the compression asked for.
        let meta =
            ArrowReaderMetadata::load(&File::open(&path).unwrap(), ArrowReaderOptions::new())
                .unwrap();
        let codec = meta.metadata().row_group(0).column(0).compression();
        assert_eq!(
            format!("{codec:?}").split('(').next().unwrap(),
            match c {
                ParquetCompression::Uncompressed => "UNCOMPRESSED",
                ParquetCompression::Snappy => "SNAPPY",
                _ => "ZSTD",
            }
        );
        // arrow-rs restores the tensor extension from the file's ARROW:schema.
        let field = meta.schema().field_with_name("x").unwrap().clone();
        assert_eq!(
            field.metadata()["ARROW:extension:name"],
            "arrow.fixed_shape_tensor"
        );
        assert_eq!(
            field.metadata()["ARROW:extension:metadata"],
            r#"{"shape":[3,4]}"#
        );
    }
    assert_eq!(files_in(dir.path()).len(), 4, "no temporary files left");
}

#[test]
fn row_groups_are_flushed_as_they_fill() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("groups.parquet");
    let x = Tensor::from_vec(
        [4096, 256],
        (0..4096 * 256).map(|i| i as f32).collect::<Vec<_>>(),
    )
    .unwrap();
    let ds = Dataset::from_tensor_slices(Element::dict([("x", x)])).unwrap();
    // 4 MiB of floats in batches of 64 KiB, row groups of at most ~256 KiB: many groups, none
    // larger than the limit plus one batch.
    let opts = ParquetWriteOptions::default()
        .with_compression(ParquetCompression::Uncompressed)
        .with_max_row_group_bytes(256 << 10)
        .with_batch_rows(64);
    let summary = ds.write_parquet(&path, opts).unwrap();
    let meta =
        ArrowReaderMetadata::load(&File::open(&path).unwrap(), ArrowReaderOptions::new()).unwrap();
    let groups = meta.metadata().num_row_groups();
    assert_eq!(summary.chunks as usize, groups);
    assert!(groups >= 16, "{groups} row groups");
    for g in meta.metadata().row_groups() {
        assert!(
            g.total_byte_size() <= (256 << 10) + (64 << 10),
            "{}",
            g.total_byte_size()
        );
    }
    // A row cap works too.
    let path2 = dir.path().join("rows.parquet");
    let summary = ds
        .write_parquet(
            &path2,
            ParquetWriteOptions::default().with_max_row_group_rows(1000),
        )
        .unwrap();
    assert_eq!(summary.chunks, 5);
    let back = collect(
        &Dataset::from_parquet([&path2], None)
            .unwrap()
            .batch(4096, false)
            .unwrap(),
    );
    assert_eq!(
        back[0].get("x").unwrap().as_slice::<f32>().unwrap()[4095 * 256 + 255],
        (4096 * 256 - 1) as f32
    );
}

#[test]
fn columns_can_be_projected_and_a_missing_one_is_named() {
    let path = data().join("digits.parquet");
    let ds = Dataset::from_parquet([&path], Some(&["label"])).unwrap();
    assert_eq!(ds.element_spec().unwrap().paths(), ["label"]);
    let labels = collect(&ds.batch(1797, false).unwrap()).remove(0);
    assert_eq!(
        labels
            .get("label")
            .unwrap()
            .as_slice::<i64>()
            .unwrap()
            .iter()
            .sum::<i64>(),
        8070
    );
    let err = Dataset::from_parquet([&path], Some(&["label", "pixels"])).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::NotFound(_)), "{err}");
    assert_eq!(err.position().component.as_deref(), Some("pixels"));
    assert!(
        err.to_string().contains("image"),
        "lists the file's columns: {err}"
    );
}

#[test]
fn several_files_are_one_dataset_and_files_that_differ_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.parquet"), dir.path().join("b.parquet"));
    tensor_dataset(10)
        .write_parquet(&a, ParquetWriteOptions::default())
        .unwrap();
    tensor_dataset(7)
        .write_parquet(&b, ParquetWriteOptions::default())
        .unwrap();
    let ds = Dataset::from_parquet([&a, &b], None).unwrap();
    assert_eq!(ds.cardinality().as_tf(), 17);
    let rows = collect(&ds);
    assert_eq!(rows[10].get("y").unwrap().as_slice::<i64>().unwrap(), &[-3]);
    let err = Dataset::from_parquet([&a, &data().join("digits.parquet")], None).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Incompatible(_)), "{err}");
    assert!(err
        .position()
        .file
        .as_ref()
        .unwrap()
        .ends_with("digits.parquet"));
}

#[test]
fn missing_and_bad_files_are_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let err = Dataset::from_parquet([dir.path().join("nope.parquet")], None).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::NotFound(_)), "{err}");
    let junk = dir.path().join("junk.parquet");
    std::fs::write(&junk, b"this is not a parquet file at all").unwrap();
    let err = Dataset::from_parquet([&junk], None).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Format(_)), "{err}");
    assert_eq!(err.position().file.as_deref(), Some(junk.as_path()));
    // A truncated file.
    let good = dir.path().join("good.parquet");
    tensor_dataset(50)
        .write_parquet(&good, ParquetWriteOptions::default())
        .unwrap();
    let bytes = std::fs::read(&good).unwrap();
    let cut = dir.path().join("cut.parquet");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    assert!(matches!(
        Dataset::from_parquet([&cut], None).unwrap_err().kind(),
        ErrorKind::Format(_)
    ));
    let empty: [&str; 0] = [];
    assert!(Dataset::from_parquet(empty, None).is_err());
}

#[test]
fn a_failed_export_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.parquet");
    let spec = ElementSpec::new(
        Structure::dict_of_tensors(["v"]),
        vec![TensorSpec::new(DType::F64, &[2])],
    )
    .unwrap();
    let ds = Dataset::from_generator(spec, || {
        (0..10_000).map(|i| {
            if i == 9000 {
                Err(Error::invalid_argument("the source broke"))
            } else {
                Ok(Element::dict([(
                    "v",
                    Tensor::from_vec1(vec![i as f64, 0.0]),
                )]))
            }
        })
    });
    let err = ds
        .write_parquet(&path, ParquetWriteOptions::default().with_batch_rows(1000))
        .unwrap_err();
    assert!(err.to_string().contains("the source broke"), "{err}");
    assert!(
        files_in(dir.path()).is_empty(),
        "{:?}",
        files_in(dir.path())
    );

    // A writer dropped unfinished, or fed a batch that does not fit, leaves nothing either.
    let d = digits_batch();
    let mut w = ParquetWriter::create(
        &path,
        &row_spec_of(&d).unwrap(),
        ParquetWriteOptions::default(),
    )
    .unwrap();
    w.write_batch(&d).unwrap();
    let bad = Element::dict([
        ("image", Tensor::from_vec1(vec![1u8])),
        ("label", Tensor::from_vec1(vec![1i64])),
    ]);
    let err = w.write_batch(&bad).unwrap_err();
    assert_eq!(err.position().component.as_deref(), Some("image"), "{err}");
    drop(w);
    assert!(files_in(dir.path()).is_empty());
}

#[test]
fn rows_of_unknown_length_are_list_columns() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seq.parquet");
    let spec = ElementSpec::new(
        Structure::dict_of_tensors(["seq", "id"]),
        vec![
            TensorSpec::with_unknown(DType::I32, vec![None]),
            TensorSpec::new(DType::I64, &[]),
        ],
    )
    .unwrap();
    let make = || {
        (0..50).map(|i: usize| {
            Ok(Element::dict([
                (
                    "seq",
                    Tensor::from_vec1((0..(i % 7) as i32).collect::<Vec<_>>()),
                ),
                ("id", Tensor::scalar(i as i64)),
            ]))
        })
    };
    let ds = Dataset::from_generator(spec.clone(), make);
    ds.write_parquet(&path, ParquetWriteOptions::default().with_batch_rows(16))
        .unwrap();
    let back = Dataset::from_parquet([&path], None).unwrap();
    assert_eq!(back.element_spec().unwrap(), spec);
    assert_eq!(collect(&back), collect(&ds));
}

#[test]
fn pyarrow_written_digits_and_ours_agree() {
    // The digits written here read back the same as pyarrow's file.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("digits.parquet");
    let ours = Dataset::from_tensor_slices(digits_batch()).unwrap();
    ours.write_parquet(&path, ParquetWriteOptions::default())
        .unwrap();
    let a = collect(&Dataset::from_parquet([&path], None).unwrap());
    let b = collect(&Dataset::from_parquet([data().join("digits.parquet")], None).unwrap());
    assert_eq!(a, b);
}

#[test]
fn the_sink_takes_rows_or_batches_and_leaves_nothing_when_the_dataset_fails() {
    use slicestream::io::sink::ParquetSink;
    let dir = tempfile::tempdir().unwrap();
    let ds = tensor_dataset(250);
    let expected = collect(&ds);
    let rows = dir.path().join("rows.parquet");
    let n = ds
        .write_to(ParquetSink::new(
            &rows,
            ParquetWriteOptions::default().with_batch_rows(64),
        ))
        .unwrap();
    assert_eq!(n, 250);
    assert_eq!(
        collect(&Dataset::from_parquet([&rows], None).unwrap()),
        expected
    );
    let batches = dir.path().join("batches.parquet");
    let n = ds
        .batch(100, false)
        .unwrap()
        .write_batches_to(ParquetSink::new(&batches, ParquetWriteOptions::default()))
        .unwrap();
    assert_eq!(n, 250);
    assert_eq!(
        collect(&Dataset::from_parquet([&batches], None).unwrap()),
        expected
    );

    let spec = ElementSpec::new(
        Structure::dict_of_tensors(["v"]),
        vec![TensorSpec::new(DType::I64, &[])],
    )
    .unwrap();
    let failing = Dataset::from_generator(spec, || {
        (0..10).map(|i| {
            if i == 7 {
                Err(Error::invalid_argument("no"))
            } else {
                Ok(Element::dict([("v", Tensor::scalar(i as i64))]))
            }
        })
    });
    let out = dir.path().join("failed.parquet");
    assert!(failing
        .write_to(ParquetSink::new(
            &out,
            ParquetWriteOptions::default().with_batch_rows(2)
        ))
        .is_err());
    assert_eq!(files_in(dir.path()), ["batches.parquet", "rows.parquet"]);
}
