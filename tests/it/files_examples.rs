//! Parsing `tf.train.Example`s straight from their bytes (`FeatureDescription::parse` and
//! `parse_batch`) gives what decoding the message gives, on TensorFlow's own records and on
//! protobuf's corner cases (unpacked lists, split runs, repeated keys, unknown fields).

use std::path::{Path, PathBuf};

use slicestream::io::tfrecord::{
    Compression, Example, Feature, FeatureDescription, FeatureSpec, TfRecordReader,
};
use slicestream::{DType, Dataset, ErrorKind, Tensor};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
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

fn records() -> Vec<Vec<u8>> {
    TfRecordReader::open(fixture("tfrecord/examples.tfrecord"), Compression::None)
        .unwrap()
        .map(|r| r.unwrap().data)
        .collect()
}

#[test]
fn direct_parsing_matches_decoding_on_tensorflows_records() {
    let d = description();
    let records = records();
    assert_eq!(records.len(), 1000);
    for r in &records {
        let fast = d.parse(r).unwrap();
        let slow = d.parse_example(&Example::from_bytes(r).unwrap()).unwrap();
        assert_eq!(fast, slow);
    }
}

#[test]
fn parse_batch_is_parse_then_batch() {
    let d = description();
    let ds = Dataset::from_tfrecord([fixture("tfrecord/examples.tfrecord")], Compression::None)
        .unwrap()
        .batch(64, false)
        .unwrap();
    let d2 = d.clone();
    let one_by_one = Dataset::from_tfrecord_examples(
        [fixture("tfrecord/examples.tfrecord")],
        Compression::None,
        d2,
    )
    .unwrap()
    .batch(64, false)
    .unwrap();
    let mut n = 0;
    for (records, want) in ds.iter().zip(one_by_one.iter()) {
        let got = d
            .parse_batch(records.unwrap().component(0).unwrap())
            .unwrap();
        assert_eq!(got, want.unwrap());
        n += 1;
    }
    assert_eq!(n, 1000usize.div_ceil(64));
}

#[test]
fn parse_batch_errors() {
    let var = FeatureDescription::new([("v", FeatureSpec::var_len(DType::I64))]).unwrap();
    let records = Tensor::from_byte_strings(
        [1],
        [Example::new([("v", Feature::int64s([1]))]).to_bytes()],
    )
    .unwrap();
    let err = var.parse_batch(&records).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::InvalidArgument(_)),
        "{err:?}"
    );
    let fixed = FeatureDescription::new([("v", FeatureSpec::fixed(DType::I64, [1]))]).unwrap();
    let good = Example::new([("v", Feature::int64s([1]))]).to_bytes();
    let bad = Example::new([("v", Feature::floats([1.0]))]).to_bytes();
    let batch = Tensor::from_byte_strings([3], [good.clone(), good, bad]).unwrap();
    let err = fixed.parse_batch(&batch).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Incompatible(_)), "{err:?}");
    assert_eq!(err.position().record, Some(2));
    assert_eq!(err.position().component.as_deref(), Some("v"));
    let err = fixed
        .parse_batch(&Tensor::from_vec1(vec![1u8]))
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::InvalidArgument(_)),
        "{err:?}"
    );
}

// ----- protobuf by hand ---------------------------------------------------------------------------

fn varint(mut v: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return out;
        }
        out.push(b | 0x80);
    }
}

fn ld(field: u64, data: &[u8]) -> Vec<u8> {
    let mut out = varint(field << 3 | 2);
    out.extend(varint(data.len() as u64));
    out.extend_from_slice(data);
    out
}

fn entry(key: &str, feature: &[u8]) -> Vec<u8> {
    ld(1, &[ld(1, key.as_bytes()), ld(2, feature)].concat())
}

#[test]
fn protobuf_corner_cases_decode_as_prost_does() {
    // float_list with unpacked values and two packed runs; int64_list unpacked; an unknown field
    // in the Example and in the Feature; key "x" given twice (the last wins); features split over
    // two occurrences of Example.features (they merge).
    let unpacked_floats: Vec<u8> = [1.5f32, 2.5]
        .iter()
        .flat_map(|f| [varint(1 << 3 | 5), f.to_le_bytes().to_vec()].concat())
        .collect();
    let packed_run = ld(1, &3.5f32.to_le_bytes());
    let float_list = ld(2, &[unpacked_floats, packed_run].concat());
    let int64_list = ld(
        3,
        &[varint(1 << 3), varint(7), varint(1 << 3), varint(u64::MAX)].concat(),
    );
    let unknown = [varint(9 << 3), varint(42)].concat();
    let old_x = ld(2, &ld(1, &9.0f32.to_le_bytes()));
    let features_a = [
        entry("x", &old_x),
        entry("y", &[int64_list, unknown.clone()].concat()),
    ]
    .concat();
    let features_b = entry("x", &float_list);
    let example = [ld(1, &features_a), unknown, ld(1, &features_b)].concat();
    let d = FeatureDescription::new([
        ("x", FeatureSpec::fixed(DType::F32, [3])),
        ("y", FeatureSpec::var_len(DType::I64)),
    ])
    .unwrap();
    let fast = d.parse(&example).unwrap();
    let slow = d
        .parse_example(&Example::from_bytes(&example).unwrap())
        .unwrap();
    assert_eq!(fast, slow);
    assert_eq!(
        fast.get("x").unwrap().as_slice::<f32>().unwrap(),
        [1.5, 2.5, 3.5]
    );
    assert_eq!(fast.get("y").unwrap().as_slice::<i64>().unwrap(), [7, -1]);
    // Truncated bytes are a format error, never a panic.
    for cut in 0..example.len() {
        let _ = d.parse(&example[..cut]);
    }
    let err = d.parse(&example[..example.len() - 1]).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Format(_)), "{err:?}");
    assert!(
        err.to_string().contains("not a valid tf.train.Example"),
        "{err}"
    );
}

#[test]
fn defaults_and_missing_features() {
    let d = FeatureDescription::new([
        (
            "a",
            FeatureSpec::fixed_with_default(DType::F32, [2], Tensor::from_vec1(vec![0.5f32, 1.5])),
        ),
        (
            "s",
            FeatureSpec::fixed_with_default(
                DType::String,
                [],
                Tensor::from_strings([], ["none"]).unwrap(),
            ),
        ),
        ("v", FeatureSpec::var_len(DType::Bytes)),
    ])
    .unwrap();
    let e = d
        .parse(&Example::new([("other", Feature::int64s([1]))]).to_bytes())
        .unwrap();
    assert_eq!(e.get("a").unwrap().as_slice::<f32>().unwrap(), [0.5, 1.5]);
    assert_eq!(e.get("s").unwrap().str_at(0).unwrap(), "none");
    assert_eq!(e.get("v").unwrap().shape(), [0]);
    let batch = Tensor::from_byte_strings([2], [Vec::new(), Vec::new()]).unwrap();
    let fixed = FeatureDescription::new([(
        "a",
        FeatureSpec::fixed_with_default(DType::I64, [], Tensor::scalar(3i64)),
    )])
    .unwrap();
    let b = fixed.parse_batch(&batch).unwrap();
    assert_eq!(b.get("a").unwrap().as_slice::<i64>().unwrap(), [3, 3]);
}

// ----- from_tfrecord_example_batches ----------------------------------------------------------------

fn batches_of(ds: &Dataset) -> Vec<slicestream::Element> {
    ds.iter().collect::<slicestream::Result<Vec<_>>>().unwrap()
}

#[test]
fn example_batches_equal_parsing_then_batching() {
    let plain = fixture("tfrecord/examples.tfrecord");
    let gz = fixture("tfrecord/examples.tfrecord.gz");
    for (paths, compression) in [
        (vec![plain.clone()], Compression::None),
        (vec![plain.clone(), plain.clone()], Compression::None),
        (vec![gz.clone(), gz], Compression::Gzip),
    ] {
        for (batch, drop) in [(64, false), (100, true), (1, false), (5000, false)] {
            let want = Dataset::from_tfrecord_examples(paths.clone(), compression, description())
                .unwrap()
                .batch(batch, drop)
                .unwrap();
            for threads in [1, 3] {
                let got = Dataset::from_tfrecord_example_batches(
                    paths.clone(),
                    compression,
                    description(),
                    batch,
                    drop,
                )
                .unwrap()
                .with_options(slicestream::runtime::Options::default().with_num_threads(threads));
                assert_eq!(
                    got.element_spec().unwrap(),
                    want.element_spec().unwrap(),
                    "{batch} {drop}"
                );
                assert_eq!(
                    batches_of(&got),
                    batches_of(&want),
                    "{batch} {drop} {threads}"
                );
            }
        }
    }
}

#[test]
fn example_batches_report_bad_records_after_the_good_ones() {
    let corrupted = fixture("tfrecord/examples_corrupted.tfrecord");
    let ds = Dataset::from_tfrecord_example_batches(
        [&corrupted],
        Compression::None,
        description(),
        4,
        false,
    )
    .unwrap();
    let items: Vec<_> = ds.iter().collect();
    // Records 0..10 are good: batches of 4, 4 and a partial 2, then the error.
    let sizes: Vec<usize> = items
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|b| b.batch_size().unwrap())
        .collect();
    assert_eq!(sizes, [4, 4, 2]);
    let err = items.last().unwrap().as_ref().unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Format(_)), "{err:?}");
    assert!(
        err.to_string()
            .contains("corrupted record 10 at byte offset 1630"),
        "{err}"
    );
    assert!(err.to_string().contains("data CRC-32C"), "{err}");
    assert_eq!(err.position().record, Some(10));
    assert_eq!(err.position().byte_offset, Some(1630));
    assert_eq!(err.position().file.as_deref(), Some(corrupted.as_path()));
    assert_eq!(items.len(), 4);

    let truncated = fixture("tfrecord/examples_truncated.tfrecord");
    let ds = Dataset::from_tfrecord_example_batches(
        [&truncated],
        Compression::None,
        description(),
        64,
        false,
    )
    .unwrap();
    let err = ds.iter().find_map(|r| r.err()).unwrap();
    assert!(err.to_string().contains("truncated"), "{err}");
    let missing = fixture("tfrecord/nope.tfrecord");
    let ds = Dataset::from_tfrecord_example_batches(
        [&missing],
        Compression::None,
        description(),
        8,
        false,
    )
    .unwrap();
    let err = ds.iter().next().unwrap().unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::NotFound(_)), "{err:?}");
    let bad = fixture("bad/tfrecord/wrong_type.tfrecord");
    let ds =
        Dataset::from_tfrecord_example_batches([&bad], Compression::None, description(), 8, false)
            .unwrap();
    let err = ds.iter().find_map(|r| r.err()).unwrap();
    assert!(matches!(err.kind(), ErrorKind::Incompatible(_)), "{err:?}");
    assert_eq!(err.position().record, Some(2));
    assert_eq!(err.position().component.as_deref(), Some("label"));
}

#[test]
fn example_batches_arguments() {
    let p = fixture("tfrecord/examples.tfrecord");
    let err =
        Dataset::from_tfrecord_example_batches([&p], Compression::None, description(), 0, false)
            .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::InvalidArgument(_)),
        "{err:?}"
    );
    let var = FeatureDescription::new([("v", FeatureSpec::var_len(DType::I64))]).unwrap();
    let err =
        Dataset::from_tfrecord_example_batches([&p], Compression::None, var, 8, false).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::InvalidArgument(_)),
        "{err:?}"
    );
    // An empty file gives no batches.
    let empty = fixture("bad/tfrecord/empty.tfrecord");
    let ds = Dataset::from_tfrecord_example_batches(
        [&empty, &p],
        Compression::None,
        description(),
        1000,
        false,
    )
    .unwrap();
    assert_eq!(ds.iter().count(), 1);
}
