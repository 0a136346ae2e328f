"""File sources through the Python API, checked against the digits facts and files written by
numpy, pyarrow and TensorFlow (data/)."""

import os

import numpy as np

import slicestream as ss


def check_digits(images, labels, digits):
    assert len(labels) == digits["n"]
    assert int(np.sum(labels)) == digits["sum_label"]
    assert int(np.sum(images)) == digits["sum_image"]
    np.testing.assert_array_equal(images[0], np.array(digits["first_image"]))


def test_npy_npz(data_dir, digits):
    labels = np.concatenate(list(ss.Dataset.from_npy(os.path.join(data_dir, "digits_label.npy")).batch(500)))
    images = np.concatenate(list(ss.Dataset.from_npy(os.path.join(data_dir, "digits_image.npy")).batch(500)))
    check_digits(images, labels, digits)
    batch = next(iter(ss.Dataset.from_npz(os.path.join(data_dir, "digits.npz")).batch(2000)))
    check_digits(batch["image"], batch["label"], digits)


def test_parquet_ipc(data_dir, digits):
    for ds in (
        ss.Dataset.from_parquet(os.path.join(data_dir, "digits.parquet")),
        ss.Dataset.from_ipc(os.path.join(data_dir, "digits.arrow")),
    ):
        b = next(iter(ds.batch(2000)))
        check_digits(b["image"], b["label"], digits)


def test_csv(data_dir, digits):
    ds = ss.Dataset.from_csv(os.path.join(data_dir, "digits.csv"), batch_size=2000)
    b = next(iter(ds))
    assert int(np.sum(b["label"])) == digits["sum_label"]
    pixels = sum(int(np.sum(b[f"p{i}"])) for i in range(64))
    assert pixels == digits["sum_image"]


def test_tfrecord_examples(data_dir, digits):
    path = os.path.join(data_dir, "digits.tfrecord")
    records = list(ss.TFRecordDataset(path))
    assert len(records) == digits["n"] and isinstance(records[0], bytes)
    features = {"image": ss.FixedLenFeature([], "string"), "label": ss.FixedLenFeature([], "int64")}
    ds = ss.Dataset.from_tfrecord_examples(path, features).batch(2000)
    b = next(iter(ds))
    images = np.stack([np.frombuffer(r, np.uint8).reshape(8, 8) for r in b["image"]])
    check_digits(images, b["label"], digits)
    fast = ss.Dataset.from_tfrecord_example_batches(path, features, 2000)
    f = next(iter(fast))
    np.testing.assert_array_equal(f["label"], b["label"])
