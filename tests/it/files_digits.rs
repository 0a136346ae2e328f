//! The digits data in data/ in every format slicestream reads — NPY, NPZ, CSV, TFRecord, Parquet,
//! Arrow IPC — each read back to the same 1,797 elements, which match data/digits.json.

use std::path::{Path, PathBuf};

use serde_json::Value;
use slicestream::io::csv::{CsvGroup, CsvOptions};
use slicestream::io::tfrecord::{Compression, FeatureDescription, FeatureSpec};
use slicestream::{DType, Dataset, Element, Tensor};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(name)
}

/// One digit: its 64 pixels and its label.
type Digit = (Vec<u8>, i64);

/// The digits of a dataset whose elements have an `image` (u8 [8, 8]) and a `label` (i64 scalar),
/// whatever their order and structure; checks dtypes and shapes on the way.
fn digits_of(ds: &Dataset) -> Vec<Digit> {
    let spec = ds.element_spec().unwrap();
    assert_eq!(spec.get("image").unwrap().dtype, DType::U8, "{spec:?}");
    assert_eq!(spec.get("label").unwrap().dtype, DType::I64, "{spec:?}");
    ds.iter()
        .map(|e| {
            let e = e.unwrap();
            let image = e.get("image").unwrap();
            assert_eq!(image.shape(), [8, 8]);
            (
                image.as_slice::<u8>().unwrap().to_vec(),
                e.get("label").unwrap().as_slice::<i64>().unwrap()[0],
            )
        })
        .collect()
}

/// Checks the digits against digits.json.
fn check_facts(digits: &[Digit]) {
    let facts: Value =
        serde_json::from_slice(&std::fs::read(data("digits.json")).unwrap()).unwrap();
    assert_eq!(digits.len() as u64, facts["n"].as_u64().unwrap());
    let sum_image: u64 = digits
        .iter()
        .flat_map(|(i, _)| i.iter().map(|&p| u64::from(p)))
        .sum();
    assert_eq!(sum_image, facts["sum_image"].as_u64().unwrap());
    let sum_label: i64 = digits.iter().map(|(_, l)| l).sum();
    assert_eq!(sum_label, facts["sum_label"].as_i64().unwrap());
    assert_eq!(digits[0].1, facts["first_label"].as_i64().unwrap());
    assert_eq!(
        digits.last().unwrap().1,
        facts["last_label"].as_i64().unwrap()
    );
    let first: Vec<u8> = facts["first_image"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as u8)
        })
        .collect();
    assert_eq!(digits[0].0, first);
    let mut counts = [0u64; 10];
    for (_, l) in digits {
        counts[*l as usize] += 1;
    }
    for (class, count) in facts["label_counts"].as_object().unwrap() {
        assert_eq!(
            counts[class.parse::<usize>().unwrap()],
            count.as_u64().unwrap()
        );
    }
}

fn reference() -> Vec<Digit> {
    let ds = Dataset::from_npy_dict([
        ("image", data("digits_image.npy")),
        ("label", data("digits_label.npy")),
    ])
    .unwrap();
    let digits = digits_of(&ds);
    check_facts(&digits);
    digits
}

#[test]
fn npy_and_npz() {
    let want = reference();
    assert_eq!(
        digits_of(&Dataset::from_npz(data("digits.npz")).unwrap()),
        want
    );
}

#[test]
fn csv_with_the_pixels_gathered_into_an_image() {
    let options = CsvOptions::default()
        .with_column_type("label", DType::I64)
        .with_group(
            CsvGroup::new("image", (0..64).map(|i| format!("p{i}")))
                .with_dtype(DType::U8)
                .with_shape([8, 8]),
        );
    let ds = Dataset::from_csv(data("digits.csv"), options.clone()).unwrap();
    assert_eq!(digits_of(&ds), reference());
    // Batches straight from the parser: the same rows.
    let batched = Dataset::from_csv(data("digits.csv"), options.with_batch_size(Some(256)))
        .unwrap()
        .unbatch()
        .unwrap();
    assert_eq!(digits_of(&batched), reference());
}

#[test]
fn tfrecord_written_by_tensorflow() {
    let features = FeatureDescription::new([
        ("image", FeatureSpec::fixed(DType::Bytes, [])),
        ("label", FeatureSpec::fixed(DType::I64, [])),
    ])
    .unwrap();
    // tf.io.decode_raw of the 64 image bytes, as a TensorFlow pipeline would.
    let ds =
        Dataset::from_tfrecord_examples([data("digits.tfrecord")], Compression::None, features)
            .unwrap()
            .map(|e| {
                let raw = e.get("image")?.bytes_at(0)?.to_vec();
                let label = e.get("label")?.clone();
                Ok(Element::dict([
                    ("image", Tensor::from_vec([8, 8], raw)?),
                    ("label", label),
                ]))
            });
    assert_eq!(digits_of(&ds), reference());
}

#[test]
fn parquet_and_arrow_ipc_written_by_pyarrow() {
    let parquet = Dataset::from_parquet([data("digits.parquet")], None).unwrap();
    assert_eq!(digits_of(&parquet), reference());
    let ipc = Dataset::from_ipc(data("digits.arrow")).unwrap();
    assert_eq!(digits_of(&ipc), reference());
}
