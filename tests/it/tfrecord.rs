//! TFRecord and tf.train.Example against TensorFlow's own files (tests/fixtures/tfrecord, made by
//! TF 2.21) and against bad inputs (tests/fixtures/bad/tfrecord, made by
//! tests/fixtures/bad/make_bad.py).

use std::path::{Path, PathBuf};

use serde_json::Value;
use slicestream::io::tfrecord::{
    example_from_element, Compression, Example, Feature, FeatureDescription, FeatureSpec,
    TfRecordReader, TfRecordWriter,
};
use slicestream::{DType, Dataset, Element, ErrorKind, Tensor};

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

fn check_record(e: &Element, want: &Value) {
    let image: Vec<u8> = want["image"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as u8)
        .collect();
    assert_eq!(
        e.get("image").unwrap().bytes_at(0).unwrap(),
        image.as_slice()
    );
    assert_eq!(
        e.get("label").unwrap().as_slice::<i64>().unwrap(),
        [want["label"].as_i64().unwrap()]
    );
    let score: Vec<f32> = want["score"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect();
    assert_eq!(
        e.get("score").unwrap().as_slice::<f32>().unwrap(),
        score.as_slice()
    );
    assert_eq!(
        e.get("name").unwrap().str_at(0).unwrap(),
        want["name"].as_str().unwrap()
    );
}

fn check_examples_file(path: &Path, compression: Compression) {
    let facts = facts();
    let ds = Dataset::from_tfrecord_examples([path], compression, description()).unwrap();
    assert_eq!(
        ds.element_spec().unwrap().paths(),
        ["image", "label", "score", "name"]
    );
    let elements: Vec<Element> = ds.iter().collect::<slicestream::Result<_>>().unwrap();
    assert_eq!(
        elements.len() as u64,
        facts["num_records"].as_u64().unwrap()
    );
    for want in facts["first_5"].as_array().unwrap() {
        check_record(&elements[want["index"].as_u64().unwrap() as usize], want);
    }
    check_record(&elements[999], &facts["last"]);

    let sums = &facts["sums"];
    let label_sum: i64 = elements
        .iter()
        .map(|e| e.get("label").unwrap().as_slice::<i64>().unwrap()[0])
        .sum();
    assert_eq!(label_sum, sums["label_sum"].as_i64().unwrap());
    let mut columns = [0f64; 3];
    for e in &elements {
        for (c, v) in columns
            .iter_mut()
            .zip(e.get("score").unwrap().as_slice::<f32>().unwrap())
        {
            *c += *v as f64;
        }
    }
    for (c, want) in columns
        .iter()
        .zip(sums["score_sum_per_column_float64"].as_array().unwrap())
    {
        assert!((c - want.as_f64().unwrap()).abs() < 1e-9, "{c} vs {want}");
    }
    let total: f64 = columns.iter().sum();
    assert!((total - sums["score_sum_float64"].as_f64().unwrap()).abs() < 1e-9);
    let image_sum: u64 = elements
        .iter()
        .map(|e| {
            e.get("image")
                .unwrap()
                .bytes_at(0)
                .unwrap()
                .iter()
                .map(|&b| b as u64)
                .sum::<u64>()
        })
        .sum();
    assert_eq!(image_sum, sums["image_byte_sum"].as_u64().unwrap());
    let name_bytes: usize = elements
        .iter()
        .map(|e| e.get("name").unwrap().str_at(0).unwrap().len())
        .sum();
    assert_eq!(
        name_bytes as u64,
        sums["name_bytes_total"].as_u64().unwrap()
    );
}

#[test]
fn tensorflow_examples_parse_uncompressed() {
    check_examples_file(&fixture("tfrecord/examples.tfrecord"), Compression::None);
}

#[test]
fn tensorflow_examples_parse_gzip() {
    check_examples_file(&fixture("tfrecord/examples.tfrecord.gz"), Compression::Gzip);
}

#[test]
fn reader_streams_records_with_their_offsets() {
    let reader =
        TfRecordReader::open(fixture("tfrecord/examples.tfrecord"), Compression::None).unwrap();
    let mut n = 0;
    for (i, r) in reader.enumerate() {
        let r = r.unwrap();
        assert_eq!(
            (r.index, r.offset, r.data.len()),
            (i as u64, 163 * i as u64, 147)
        );
        n += 1;
    }
    assert_eq!(n, 1000);
    // The raw-record source yields one bytes scalar per record.
    let ds =
        Dataset::from_tfrecord([fixture("tfrecord/examples.tfrecord")], Compression::None).unwrap();
    let first = ds.iter().next().unwrap().unwrap();
    let t = first.component(0).unwrap();
    assert_eq!((t.dtype(), t.shape()), (DType::Bytes, &[][..]));
    assert_eq!(t.bytes_at(0).unwrap().len(), 147);
}

#[test]
fn writing_the_same_examples_back_is_byte_identical() {
    let original = std::fs::read(fixture("tfrecord/examples.tfrecord")).unwrap();
    let dir = tempfile::tempdir().unwrap();

    // Records -> Example -> bytes: TF's deterministic serialization, byte for byte.
    let out = dir.path().join("via_examples.tfrecord");
    let mut w = TfRecordWriter::create(&out, Compression::None).unwrap();
    for r in TfRecordReader::open(fixture("tfrecord/examples.tfrecord"), Compression::None).unwrap()
    {
        let r = r.unwrap();
        let ex = Example::from_bytes(&r.data).unwrap();
        assert_eq!(ex.to_bytes(), r.data);
        w.write_example(&ex).unwrap();
    }
    assert_eq!(w.records_written(), 1000);
    w.finish().unwrap();
    assert!(
        std::fs::read(&out).unwrap() == original,
        "uncompressed output differs from TensorFlow's"
    );

    // Parsed elements -> example_from_element -> file: byte-identical as well.
    let out = dir.path().join("via_elements.tfrecord");
    let mut w = TfRecordWriter::create(&out, Compression::None).unwrap();
    let ds = Dataset::from_tfrecord_examples(
        [fixture("tfrecord/examples.tfrecord")],
        Compression::None,
        description(),
    )
    .unwrap();
    for e in &ds {
        w.write_example(&example_from_element(&e.unwrap())).unwrap();
    }
    w.finish().unwrap();
    assert!(
        std::fs::read(&out).unwrap() == original,
        "example_from_element output differs from TensorFlow's"
    );

    // GZIP output decompresses to the same records.
    let gz = dir.path().join("out.tfrecord.gz");
    let mut w = TfRecordWriter::create(&gz, Compression::Gzip).unwrap();
    for r in TfRecordReader::open(fixture("tfrecord/examples.tfrecord"), Compression::None).unwrap()
    {
        w.write_record(&r.unwrap().data).unwrap();
    }
    w.finish().unwrap();
    let mut decoded = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(std::fs::File::open(&gz).unwrap()),
        &mut decoded,
    )
    .unwrap();
    assert!(decoded == original);
}

#[test]
fn compression_names_follow_tensorflow() {
    assert_eq!("".parse::<Compression>().unwrap(), Compression::None);
    assert_eq!("GZIP".parse::<Compression>().unwrap(), Compression::Gzip);
    assert_eq!("zlib".parse::<Compression>().unwrap(), Compression::Zlib);
    assert!("LZ4".parse::<Compression>().is_err());
    assert_eq!(Compression::Gzip.tf_name(), "GZIP");
}

#[test]
fn writer_publishes_only_finished_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.tfrecord");
    let mut w = TfRecordWriter::create(&path, Compression::None).unwrap();
    w.write_record(b"abc").unwrap();
    assert!(
        !path.exists(),
        "the final name must not appear before finish()"
    );
    drop(w);
    assert!(!path.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "the temporary file is removed on drop"
    );

    for compression in [Compression::None, Compression::Gzip, Compression::Zlib] {
        let mut w = TfRecordWriter::create(&path, compression).unwrap();
        for r in [&b""[..], b"x", &[7u8; 100_000]] {
            w.write_record(r).unwrap();
        }
        w.finish().unwrap();
        let back: Vec<Vec<u8>> = TfRecordReader::open(&path, compression)
            .unwrap()
            .map(|r| r.unwrap().data)
            .collect();
        assert_eq!(
            back,
            [vec![], b"x".to_vec(), vec![7u8; 100_000]],
            "{compression}"
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}

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
fn defaults_var_len_and_description_checks() {
    let ex = Example::new([
        ("a", Feature::int64s([1, 2, 3])),
        ("empty", Feature::default()),
    ]);
    let d = FeatureDescription::new([
        ("a", FeatureSpec::var_len(DType::I64)),
        ("b", FeatureSpec::var_len(DType::String)),
        (
            "c",
            FeatureSpec::fixed_with_default(DType::F32, [2], Tensor::from_vec1(vec![0.5f32, 1.5])),
        ),
        (
            "empty",
            FeatureSpec::fixed_with_default(DType::I64, [], Tensor::scalar(9i64)),
        ),
    ])
    .unwrap();
    let e = d.parse(&ex.to_bytes()).unwrap();
    assert_eq!(e.paths(), ["a", "b", "c", "empty"]);
    assert_eq!(e.get("a").unwrap().as_slice::<i64>().unwrap(), [1, 2, 3]);
    assert_eq!(
        (e.get("b").unwrap().dtype(), e.get("b").unwrap().shape()),
        (DType::String, &[0][..])
    );
    assert_eq!(e.get("c").unwrap().as_slice::<f32>().unwrap(), [0.5, 1.5]);
    assert_eq!(e.get("empty").unwrap().as_slice::<i64>().unwrap(), [9]); // kind not set = missing
    assert_eq!(d.element_spec().get("a").unwrap().shape, [None]);

    let invalid = |r: slicestream::Result<FeatureDescription>| {
        let e = r.unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::InvalidArgument(_)), "{e:?}");
    };
    invalid(FeatureDescription::new([(
        "a",
        FeatureSpec::var_len(DType::U8),
    )]));
    invalid(FeatureDescription::new([
        ("a", FeatureSpec::var_len(DType::I64)),
        ("a", FeatureSpec::var_len(DType::I64)),
    ]));
    invalid(FeatureDescription::new([(
        "a",
        FeatureSpec::fixed_with_default(DType::I64, [2], Tensor::scalar(1i64)),
    )]));
    invalid(FeatureDescription::new([(
        "a",
        FeatureSpec::fixed_with_default(DType::I64, [], Tensor::scalar(1i32)),
    )]));
}

#[test]
fn example_from_element_flattens_every_dtype() {
    let e = Element::dict([
        (
            "u8",
            Tensor::from_vec(vec![2, 2], vec![1u8, 2, 3, 4]).unwrap(),
        ),
        ("u64", Tensor::scalar(u64::MAX)),
        ("b", Tensor::from_vec1(vec![true, false])),
        ("f64", Tensor::scalar(0.1f64)),
        ("h", Tensor::scalar(half::f16::from_f32(1.5))),
        ("s", Tensor::from_strings(vec![2], ["x", "yz"]).unwrap()),
    ]);
    let ex = example_from_element(&e);
    assert_eq!(ex.get("u8"), Some(&Feature::int64s([1, 2, 3, 4])));
    assert_eq!(ex.get("u64"), Some(&Feature::int64s([-1])));
    assert_eq!(ex.get("b"), Some(&Feature::int64s([1, 0])));
    assert_eq!(ex.get("f64"), Some(&Feature::floats([0.1f32])));
    assert_eq!(ex.get("h"), Some(&Feature::floats([1.5])));
    assert_eq!(ex.get("s"), Some(&Feature::bytes([&b"x"[..], b"yz"])));
    // Deterministic: keys sorted, so the same element always gives the same bytes.
    assert_eq!(ex.to_bytes(), example_from_element(&e).to_bytes());
}

#[test]
fn dataset_reads_files_in_order_and_reports_the_failing_file() {
    let good = fixture("tfrecord/examples.tfrecord");
    let ds = Dataset::from_tfrecord([&good, &good], Compression::None).unwrap();
    assert_eq!(ds.iter().count(), 2000);
    // An epoch can be repeated: the files are reopened.
    assert_eq!(ds.iter().count(), 2000);
    let missing = good.with_file_name("missing.tfrecord");
    let ds = Dataset::from_tfrecord([&good, &missing], Compression::None).unwrap();
    let (ok, e) = first_error(&ds);
    assert_eq!(ok, 1000);
    assert!(matches!(e.kind(), ErrorKind::NotFound(_)), "{e:?}");
    assert_eq!(e.position().file.as_deref(), Some(missing.as_path()));
    assert_eq!(e.position().element, Some(1000));
    assert!(Dataset::from_tfrecord([""], Compression::None).is_err());
}

#[test]
fn tensorflow_reads_what_we_write() {
    let has_tf = std::process::Command::new("python3")
        .args(["-c", "import tensorflow"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !has_tf {
        eprintln!("\n**************************************************************");
        eprintln!("SKIPPED: tensorflow not installed (tensorflow_reads_what_we_write)");
        eprintln!("**************************************************************\n");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut expected = Vec::new();
    for compression in [Compression::None, Compression::Gzip] {
        let path = dir
            .path()
            .join(format!("ours{}.tfrecord", compression.tf_name()));
        let mut w = TfRecordWriter::create(&path, compression).unwrap();
        for i in 0..5i64 {
            let e = Element::dict([
                ("label", Tensor::scalar(i)),
                ("score", Tensor::from_vec1(vec![i as f32 * 0.5, 1.0])),
                (
                    "name",
                    Tensor::from_strings(Vec::<usize>::new(), [format!("r{i}")]).unwrap(),
                ),
            ]);
            w.write_example(&example_from_element(&e)).unwrap();
        }
        w.finish().unwrap();
        expected.push((path, compression.tf_name()));
    }
    for (path, ctype) in expected {
        let script = format!(
            r#"
import tensorflow as tf
ds = tf.data.TFRecordDataset([{path:?}], compression_type={ctype:?})
spec = {{"label": tf.io.FixedLenFeature([], tf.int64), "score": tf.io.FixedLenFeature([2], tf.float32),
        "name": tf.io.FixedLenFeature([], tf.string)}}
out = [tf.io.parse_single_example(r, spec) for r in ds]
print(len(out), sum(int(o["label"]) for o in out), float(sum(float(o["score"][0]) for o in out)),
      out[4]["name"].numpy().decode())
"#,
            path = path.to_str().unwrap()
        );
        let o = std::process::Command::new("python3")
            .args(["-c", &script])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert_eq!(stdout.lines().last().unwrap().trim(), "5 10 5.0 r4");
    }
}
