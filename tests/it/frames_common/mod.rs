//! Helpers shared by the frames, Parquet, IPC and interop tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use serde_json::Value;
use slicestream::{Dataset, Element, Result, Tensor};

/// The project's data/ folder.
pub fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data")
}

/// data/digits.json.
pub fn facts() -> Value {
    serde_json::from_str(&std::fs::read_to_string(data().join("digits.json")).unwrap()).unwrap()
}

/// Every element of one epoch.
pub fn collect(ds: &Dataset) -> Vec<Element> {
    ds.iter()
        .collect::<Result<Vec<_>>>()
        .expect("iteration failed")
}

/// Checks a batch of all digits (image u8 [n, 8, 8], label i64 [n]) against digits.json.
pub fn check_digits(image: &Tensor, label: &Tensor) {
    let facts = facts();
    let n = facts["n"].as_u64().unwrap() as usize;
    assert_eq!(image.shape(), [n, 8, 8]);
    assert_eq!(label.shape(), [n]);
    let pixels = image.as_slice::<u8>().unwrap();
    let labels = label.as_slice::<i64>().unwrap();
    let sum: u64 = pixels.iter().map(|&p| u64::from(p)).sum();
    assert_eq!(sum, facts["sum_image"].as_u64().unwrap());
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
        .flat_map(|r| {
            r.as_array()
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
    for (digit, count) in counts.iter().enumerate() {
        assert_eq!(
            *count,
            facts["label_counts"][digit.to_string()].as_u64().unwrap()
        );
    }
}

/// The digits as one batch, from the NPY files (numpy's).
pub fn digits_batch() -> Element {
    let image = slicestream::io::npy::read_npy(data().join("digits_image.npy")).unwrap();
    let label = slicestream::io::npy::read_npy(data().join("digits_label.npy")).unwrap();
    Element::dict([("image", image), ("label", label)])
}

/// A dataset of tensors of several dtypes and shapes: `x` f32 [3, 4], `y` i64, `s` string, `b` bool [2].
pub fn tensor_dataset(n: usize) -> Dataset {
    let x: Vec<f32> = (0..n * 12).map(|i| i as f32 * 0.5).collect();
    let y: Vec<i64> = (0..n as i64).map(|i| i * 7 - 3).collect();
    let s: Vec<String> = (0..n)
        .map(|i| format!("row {i} {}", "z".repeat(i % 17)))
        .collect();
    let b: Vec<bool> = (0..n * 2).map(|i| i % 3 == 0).collect();
    Dataset::from_tensor_slices(Element::dict([
        ("x", Tensor::from_vec([n, 3, 4], x).unwrap()),
        ("y", Tensor::from_vec1(y)),
        ("s", Tensor::from_strings([n], s).unwrap()),
        ("b", Tensor::from_vec([n, 2], b).unwrap()),
    ]))
    .unwrap()
}
