//! Streaming sinks: NPY (byte-identical to numpy's files), TFRecord of Examples (plain and GZIP),
//! CSV; and the promise that a failing dataset leaves nothing under the final name.

use std::path::{Path, PathBuf};

use slicestream::io::npy::read_npy;
use slicestream::io::sink::{CsvSink, NpySink, Sink, TfRecordSink};
use slicestream::io::tfrecord::{Compression, FeatureDescription, FeatureSpec};
use slicestream::{DType, Dataset, Element, ElementSpec, Error, ErrorKind, Tensor, TensorSpec};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(name)
}

fn digits() -> Dataset {
    Dataset::from_npy_dict([
        ("image", data("digits_image.npy")),
        ("label", data("digits_label.npy")),
    ])
    .unwrap()
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A dataset of `n` digits that fails at element `n`.
fn failing_digits(n: u64) -> Dataset {
    digits().take(n + 10).enumerate(0).map(move |e| {
        let (i, rest) = (e.component(0)?.as_slice::<i64>()?[0], e.unpack());
        if i as u64 == n {
            return Err(Error::invalid_argument(format!("element {i} is bad")));
        }
        Ok(rest[1].1.clone())
    })
}

#[test]
fn npy_sink_rewrites_numpys_files_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let rows = digits().write_to(NpySink::in_dir(dir.path())).unwrap();
    assert_eq!(rows, 1797);
    assert_eq!(files_in(dir.path()), ["image.npy", "label.npy"]);
    for (ours, numpys) in [
        ("image.npy", "digits_image.npy"),
        ("label.npy", "digits_label.npy"),
    ] {
        assert_eq!(
            std::fs::read(dir.path().join(ours)).unwrap(),
            std::fs::read(data(numpys)).unwrap(),
            "{ours}"
        );
    }
    // Batches are written a buffer at a time, to the same bytes.
    let dir2 = tempfile::tempdir().unwrap();
    let batched = digits().shuffle(100, Some(1), false).unwrap();
    let sorted_back = batched.batch(100, false).unwrap();
    let n = sorted_back
        .write_batches_to(NpySink::with_files([
            ("image", dir2.path().join("x.npy")),
            ("label", dir2.path().join("y.npy")),
        ]))
        .unwrap();
    assert_eq!(n, 1797);
    assert_eq!(
        read_npy(dir2.path().join("x.npy")).unwrap().shape(),
        [1797, 8, 8]
    );
}

#[test]
fn npy_sink_takes_unknown_shapes_from_the_first_row() {
    let dir = tempfile::tempdir().unwrap();
    // map without a declared spec: dimensions unknown.
    let ds = Dataset::range(0, 5, 1).unwrap().map(|e| {
        let x = e.component(0)?.as_slice::<i64>()?[0] as f32;
        Ok(Element::single(Tensor::from_vec1(vec![x, x + 0.5])))
    });
    assert_eq!(ds.element_spec().unwrap().components()[0].shape, [None]);
    ds.write_to(NpySink::in_dir(dir.path())).unwrap();
    let t = read_npy(dir.path().join("0.npy")).unwrap();
    assert_eq!(t.shape(), [5, 2]);
    assert_eq!(t.as_slice::<f32>().unwrap()[..4], [0.0, 0.5, 1.0, 1.5]);
    // A later row of another shape is an error, and nothing is left.
    let dir = tempfile::tempdir().unwrap();
    let ragged = Dataset::range(1, 4, 1).unwrap().map(|e| {
        let n = e.component(0)?.as_slice::<i64>()?[0] as usize;
        Ok(Element::single(Tensor::from_vec1(vec![1u8; n])))
    });
    let err = ragged.write_to(NpySink::in_dir(dir.path())).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Incompatible(_)), "{err:?}");
    assert!(
        files_in(dir.path()).is_empty(),
        "{:?}",
        files_in(dir.path())
    );
}

#[test]
fn npy_sink_refuses_what_npy_cannot_hold_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    let ds = Dataset::from_tensor_slices(Tensor::from_strings([2], ["a", "b"]).unwrap()).unwrap();
    let err = ds.write_to(NpySink::in_dir(dir.path())).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::InvalidArgument(_)),
        "{err:?}"
    );
    assert!(files_in(dir.path()).is_empty());
    let mut sink = NpySink::with_files([("image", dir.path().join("i.npy"))]);
    let spec = digits().element_spec().unwrap();
    let err = sink.begin(&spec).unwrap_err();
    assert!(err.to_string().contains("label"), "{err}");
}

#[test]
fn tfrecord_sink_round_trips_digits_plain_and_gzip() {
    let features = FeatureDescription::new([
        ("image", FeatureSpec::fixed(DType::I64, [8, 8])),
        ("label", FeatureSpec::fixed(DType::I64, [])),
    ])
    .unwrap();
    let reference: Vec<(Vec<i64>, i64)> = digits()
        .iter()
        .map(|e| {
            let e = e.unwrap();
            let image = e.get("image").unwrap().as_slice::<u8>().unwrap();
            let label = e.get("label").unwrap().as_slice::<i64>().unwrap()[0];
            (image.iter().map(|&p| p as i64).collect(), label)
        })
        .collect();
    for compression in [Compression::None, Compression::Gzip, Compression::Zlib] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("digits.tfrecord");
        let n = digits()
            .batch(64, false)
            .unwrap()
            .write_batches_to(TfRecordSink::create(&path, compression))
            .unwrap();
        assert_eq!(n, 1797);
        let back: Vec<(Vec<i64>, i64)> =
            Dataset::from_tfrecord_examples([&path], compression, features.clone())
                .unwrap()
                .iter()
                .map(|e| {
                    let e = e.unwrap();
                    (
                        e.get("image").unwrap().as_slice::<i64>().unwrap().to_vec(),
                        e.get("label").unwrap().as_slice::<i64>().unwrap()[0],
                    )
                })
                .collect();
        assert_eq!(back, reference, "{compression}");
    }
}

#[test]
fn a_failing_dataset_leaves_no_file_in_any_sink() {
    // Each case writes `ds` (batches for the last) with a new sink in `dir`.
    type Write = fn(&Dataset, &Path) -> slicestream::Result<u64>;
    let sinks: [(&str, Write); 5] = [
        ("npy", |ds, d| ds.write_to(NpySink::in_dir(d))),
        ("csv", |ds, d| {
            ds.write_to(CsvSink::create(d.join("out.csv")))
        }),
        ("tfrecord", |ds, d| {
            ds.write_to(TfRecordSink::create(
                d.join("out.tfrecord"),
                Compression::None,
            ))
        }),
        ("tfrecord.gz", |ds, d| {
            ds.write_to(TfRecordSink::create(
                d.join("out.tfrecord.gz"),
                Compression::Gzip,
            ))
        }),
        ("npy, batches", |ds, d| {
            ds.batch(100, false)?.write_batches_to(NpySink::in_dir(d))
        }),
    ];
    for (name, write) in sinks {
        let dir = tempfile::tempdir().unwrap();
        // Enough rows that buffers have been flushed to the temporary file before the failure.
        let ds = failing_digits(1500);
        let result = write(&ds, dir.path());
        let err = result.unwrap_err();
        assert!(
            err.to_string().contains("element 1500 is bad"),
            "{name}: {err}"
        );
        assert!(
            files_in(dir.path()).is_empty(),
            "{name}: left {:?}",
            files_in(dir.path())
        );
    }
}

#[test]
fn an_unfinished_sink_removes_its_temporary_files() {
    let dir = tempfile::tempdir().unwrap();
    let spec = ElementSpec::single(TensorSpec::new(DType::F32, &[3]));
    let mut sink = NpySink::in_dir(dir.path());
    sink.begin(&spec).unwrap();
    sink.write_row(&Element::single(Tensor::from_vec1(vec![1.0f32, 2.0, 3.0])))
        .unwrap();
    assert_eq!(sink.rows_written(), 1);
    assert_eq!(
        files_in(dir.path()).len(),
        1,
        "a temporary file while writing"
    );
    assert!(files_in(dir.path())[0].ends_with(".tmp"));
    drop(sink);
    assert!(files_in(dir.path()).is_empty());
    let mut sink = TfRecordSink::create(dir.path().join("t.tfrecord"), Compression::None);
    sink.begin(&spec).unwrap();
    // (A second `finish` does not compile: the sink is consumed, a doctest of `Sink::finish`.)
    assert_eq!(sink.finish().unwrap(), 0);
    assert_eq!(files_in(dir.path()), ["t.tfrecord"]);
}
