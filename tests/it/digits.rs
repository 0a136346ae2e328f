//! The digits data set in data/ (written by numpy) against the facts in data/digits.json.

use std::path::{Path, PathBuf};

use serde_json::Value;
use slicestream::io::npy::{NpyFile, NpzArchive};
use slicestream::{DType, Dataset, Tensor};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data")
}

fn facts() -> Value {
    serde_json::from_str(&std::fs::read_to_string(data().join("digits.json")).unwrap()).unwrap()
}

/// Checks an image tensor and a label tensor against digits.json.
fn check(image: &Tensor, label: &Tensor, facts: &Value) {
    let n = facts["n"].as_u64().unwrap() as usize;
    assert_eq!(
        image.dtype(),
        facts["image"]["dtype"]
            .as_str()
            .unwrap()
            .parse::<DType>()
            .unwrap()
    );
    assert_eq!(
        label.dtype(),
        facts["label"]["dtype"]
            .as_str()
            .unwrap()
            .parse::<DType>()
            .unwrap()
    );
    assert_eq!(image.shape(), [n, 8, 8]);
    assert_eq!(label.shape(), [n]);
    let pixels = image.as_slice::<u8>().unwrap();
    let labels = label.as_slice::<i64>().unwrap();
    let sum_image: u64 = pixels.iter().map(|&p| u64::from(p)).sum();
    assert_eq!(sum_image, facts["sum_image"].as_u64().unwrap());
    assert_eq!(
        labels.iter().sum::<i64>(),
        facts["sum_label"].as_i64().unwrap()
    );
    assert_eq!(labels[0], facts["first_label"].as_i64().unwrap());
    assert_eq!(labels[n - 1], facts["last_label"].as_i64().unwrap());
    let first: Vec<u8> = facts["first_image"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| {
            row.as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as u8)
        })
        .collect();
    assert_eq!(&pixels[..64], first.as_slice());
    let mut counts = [0u64; 10];
    for &l in labels {
        counts[l as usize] += 1;
    }
    for (class, count) in facts["label_counts"].as_object().unwrap() {
        assert_eq!(
            counts[class.parse::<usize>().unwrap()],
            count.as_u64().unwrap(),
            "class {class}"
        );
    }
}

#[test]
fn npy_files_match_digits_json() {
    let facts = facts();
    let image = NpyFile::open(data().join("digits_image.npy")).unwrap();
    let label = NpyFile::open(data().join("digits_label.npy")).unwrap();
    assert!(image.is_zero_copy() && label.is_zero_copy());
    check(&image.tensor().unwrap(), &label.tensor().unwrap(), &facts);
}

#[test]
fn npz_matches_digits_json_and_the_npy_files() {
    let facts = facts();
    let archive = NpzArchive::open(data().join("digits.npz")).unwrap();
    assert_eq!(archive.names(), ["image", "label"]);
    let image = archive.read("image").unwrap();
    let label = archive.read("label").unwrap();
    check(&image, &label, &facts);
    assert_eq!(
        image,
        NpyFile::open(data().join("digits_image.npy"))
            .unwrap()
            .tensor()
            .unwrap()
    );
}

#[test]
fn mapped_dataset_sees_every_digit_once() {
    let facts = facts();
    let ds = Dataset::from_npy_dict([
        ("image", data().join("digits_image.npy")),
        ("label", data().join("digits_label.npy")),
    ])
    .unwrap();
    assert_eq!(ds.cardinality().as_tf(), facts["n"].as_i64().unwrap());
    let ds = ds
        .shuffle(1797, Some(42), true)
        .unwrap()
        .batch(64, false)
        .unwrap();
    let (mut images, mut labels) = (Vec::new(), Vec::new());
    for batch in &ds {
        let batch = batch.unwrap();
        images.push(batch.get("image").unwrap().clone());
        labels.push(batch.get("label").unwrap().clone());
    }
    assert_eq!(images.len(), 1797usize.div_ceil(64));
    let image = Tensor::concat_rows(&images).unwrap();
    let label = Tensor::concat_rows(&labels).unwrap();
    // Shuffled, so only order-free facts hold: sums and class counts (check skips first/last).
    let sum_image: u64 = image
        .as_slice::<u8>()
        .unwrap()
        .iter()
        .map(|&p| u64::from(p))
        .sum();
    assert_eq!(sum_image, facts["sum_image"].as_u64().unwrap());
    let mut counts = [0u64; 10];
    for &l in label.as_slice::<i64>().unwrap() {
        counts[l as usize] += 1;
    }
    for (class, count) in facts["label_counts"].as_object().unwrap() {
        assert_eq!(
            counts[class.parse::<usize>().unwrap()],
            count.as_u64().unwrap()
        );
    }
}
