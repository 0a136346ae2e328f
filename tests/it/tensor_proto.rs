//! TensorProto against TensorFlow's own bytes (tests/fixtures/tensor_protos, made by TF 2.21) and
//! against bad inputs (tests/fixtures/bad/tensor_proto, made by tests/fixtures/bad/make_bad.py).

use std::path::{Path, PathBuf};

use half::{bf16, f16};
use serde_json::Value;
use slicestream::io::tensor_proto::{
    decode_tensor_proto, dtype_from_tf_data_type, encode_tensor_proto, tensor_from_proto,
    tensor_to_proto, tf_data_type, Dim, TensorProto, TensorShapeProto,
};
use slicestream::{DType, ErrorKind, Tensor};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn base64(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("bad base64 {c}"),
    };
    let digits: Vec<u8> = s.bytes().filter(|&c| c != b'=').map(val).collect();
    let mut out = Vec::new();
    for chunk in digits.chunks(4) {
        let mut n = 0u32;
        for (i, &d) in chunk.iter().enumerate() {
            n |= (d as u32) << (18 - 6 * i);
        }
        out.extend_from_slice(&n.to_be_bytes()[1..chunk.len()]);
    }
    out
}

fn flatten(v: &Value, out: &mut Vec<Value>) {
    match v {
        Value::Array(items) => items.iter().for_each(|x| flatten(x, out)),
        other => out.push(other.clone()),
    }
}

/// The tensor's values as JSON-comparable numbers / bools / bytes.
fn check_values(name: &str, t: &Tensor, expected: &[Value], base64_strings: bool) {
    assert_eq!(t.num_elements(), expected.len(), "{name}: value count");
    let floats: Option<Vec<f64>> = match t.dtype() {
        DType::F32 => Some(
            t.as_slice::<f32>()
                .unwrap()
                .iter()
                .map(|&x| x as f64)
                .collect(),
        ),
        DType::F64 => Some(t.as_slice::<f64>().unwrap().to_vec()),
        DType::F16 => Some(
            t.as_slice::<f16>()
                .unwrap()
                .iter()
                .map(|x| x.to_f64())
                .collect(),
        ),
        DType::BF16 => Some(
            t.as_slice::<bf16>()
                .unwrap()
                .iter()
                .map(|x| x.to_f64())
                .collect(),
        ),
        _ => None,
    };
    for (i, e) in expected.iter().enumerate() {
        match t.dtype() {
            DType::F32 | DType::F64 | DType::F16 | DType::BF16 => {
                // The sidecar gives the exact value of each float. serde_json's default float parsing
                // may be one f64 ULP off, so allow exactly that: far below the f32 / f16 / bf16
                // resolution, so this still proves exact equality for those dtypes.
                let (got, want) = (floats.as_ref().unwrap()[i], e.as_f64().unwrap());
                assert!(
                    (got - want).abs() <= want.abs() * f64::EPSILON,
                    "{name}[{i}]: {got} vs {want}"
                );
            }
            DType::I64 => assert_eq!(
                t.as_slice::<i64>().unwrap()[i],
                e.as_i64().unwrap(),
                "{name}[{i}]"
            ),
            DType::I32 => assert_eq!(
                t.as_slice::<i32>().unwrap()[i] as i64,
                e.as_i64().unwrap(),
                "{name}[{i}]"
            ),
            DType::Bool => assert_eq!(
                t.as_slice::<bool>().unwrap()[i],
                e.as_bool().unwrap(),
                "{name}[{i}]"
            ),
            DType::Bytes => {
                let want = if base64_strings {
                    base64(e.as_str().unwrap())
                } else {
                    e.as_str().unwrap().as_bytes().to_vec()
                };
                assert_eq!(t.bytes_at(i).unwrap(), want.as_slice(), "{name}[{i}]");
            }
            other => panic!("{name}: fixture dtype {other} not covered by this test"),
        }
    }
}

#[test]
fn every_tensorflow_fixture_decodes_to_its_sidecar_and_encodes_back_byte_identical() {
    let dir = fixtures().join("tensor_protos");
    let index: Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    let names: Vec<String> = index
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    assert!(
        names.len() >= 17,
        "expected the whole fixture set, got {}",
        names.len()
    );
    let mut reencoded = 0;
    for name in &names {
        let json: Value =
            serde_json::from_slice(&std::fs::read(dir.join(format!("{name}.json"))).unwrap())
                .unwrap();
        let pb = std::fs::read(dir.join(format!("{name}.pb"))).unwrap();
        assert_eq!(
            pb.len() as u64,
            json["serialized_bytes"].as_u64().unwrap(),
            "{name}"
        );
        let t = decode_tensor_proto(&pb).unwrap_or_else(|e| panic!("{name}: {e}"));

        let dtype = match json["dtype"].as_str().unwrap() {
            "string" => DType::Bytes, // TensorFlow strings are bytes
            other => other.parse().unwrap(),
        };
        assert_eq!(t.dtype(), dtype, "{name}");
        let shape: Vec<usize> = json["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(t.shape(), shape.as_slice(), "{name}");
        let mut values = Vec::new();
        flatten(&json["values"], &mut values);
        let b64 = json["values_encoding"].as_str() == Some("base64");
        check_values(name, &t, &values, b64);

        // Which fields TF set, and whether it used tensor_content: we must build the same proto.
        let proto = tensor_to_proto(&t);
        let uses_content = json["uses_tensor_content"].as_bool().unwrap();
        if !name.starts_with("handmade") {
            assert_eq!(
                !proto.tensor_content.is_empty(),
                uses_content,
                "{name}: tensor_content"
            );
            let fields: Vec<&str> = json["proto_fields_set"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f.as_str().unwrap())
                .collect();
            let ours = fields_set(&proto);
            assert_eq!(ours, fields, "{name}: fields set");
            assert_eq!(
                encode_tensor_proto(&t),
                pb,
                "{name}: re-encoded bytes differ from TensorFlow's"
            );
            reencoded += 1;
        }
    }
    assert!(reencoded >= 15);
}

fn fields_set(p: &TensorProto) -> Vec<&'static str> {
    let mut f = vec!["dtype", "tensor_shape"];
    let checks: [(&str, bool); 11] = [
        ("tensor_content", !p.tensor_content.is_empty()),
        ("float_val", !p.float_val.is_empty()),
        ("double_val", !p.double_val.is_empty()),
        ("int_val", !p.int_val.is_empty()),
        ("string_val", !p.string_val.is_empty()),
        ("int64_val", !p.int64_val.is_empty()),
        ("bool_val", !p.bool_val.is_empty()),
        ("half_val", !p.half_val.is_empty()),
        ("uint32_val", !p.uint32_val.is_empty()),
        ("uint64_val", !p.uint64_val.is_empty()),
        ("float8_val", !p.float8_val.is_empty()),
    ];
    f.extend(checks.iter().filter(|(_, set)| *set).map(|(n, _)| *n));
    f
}

fn example_tensor(dtype: DType, shape: &[usize]) -> Tensor {
    let n: usize = shape.iter().product();
    let shape = shape.to_vec();
    match dtype {
        DType::Bool => Tensor::from_vec(shape, (0..n).map(|i| i % 3 == 0).collect::<Vec<_>>()),
        DType::U8 => Tensor::from_vec(shape, (0..n).map(|i| (250 + i) as u8).collect::<Vec<_>>()),
        DType::U16 => Tensor::from_vec(shape, (0..n).map(|i| 65535 - i as u16).collect::<Vec<_>>()),
        DType::U32 => Tensor::from_vec(
            shape,
            (0..n).map(|i| u32::MAX - i as u32).collect::<Vec<_>>(),
        ),
        DType::U64 => Tensor::from_vec(
            shape,
            (0..n).map(|i| u64::MAX - i as u64).collect::<Vec<_>>(),
        ),
        DType::I8 => Tensor::from_vec(shape, (0..n).map(|i| -128 + i as i8).collect::<Vec<_>>()),
        DType::I16 => {
            Tensor::from_vec(shape, (0..n).map(|i| -32768 + i as i16).collect::<Vec<_>>())
        }
        DType::I32 => Tensor::from_vec(
            shape,
            (0..n).map(|i| i32::MIN + i as i32).collect::<Vec<_>>(),
        ),
        DType::I64 => Tensor::from_vec(
            shape,
            (0..n).map(|i| i64::MIN + i as i64).collect::<Vec<_>>(),
        ),
        DType::F16 => Tensor::from_vec(
            shape,
            (0..n)
                .map(|i| f16::from_f32(-1.5 * i as f32))
                .collect::<Vec<_>>(),
        ),
        DType::BF16 => Tensor::from_vec(
            shape,
            (0..n)
                .map(|i| bf16::from_f32(-1.5 * i as f32))
                .collect::<Vec<_>>(),
        ),
        DType::F32 => Tensor::from_vec(shape, (0..n).map(|i| 0.1 * i as f32).collect::<Vec<_>>()),
        DType::F64 => Tensor::from_vec(shape, (0..n).map(|i| -0.1 * i as f64).collect::<Vec<_>>()),
        DType::String => Tensor::from_strings(shape, (0..n).map(|i| format!("s{i}é"))),
        DType::Bytes => Tensor::from_byte_strings(shape, (0..n).map(|i| vec![0xff, i as u8])),
    }
    .unwrap()
}

#[test]
fn every_dtype_round_trips_in_every_layout() {
    for dtype in DType::ALL {
        for shape in [&[][..], &[1], &[3], &[2, 3], &[0], &[2, 0, 4]] {
            let t = example_tensor(dtype, shape);
            let back = decode_tensor_proto(&encode_tensor_proto(&t)).unwrap();
            // DT_STRING comes back as bytes.
            let expected_dtype = if dtype == DType::String {
                DType::Bytes
            } else {
                dtype
            };
            assert_eq!(back.dtype(), expected_dtype, "{dtype} {shape:?}");
            assert_eq!(back.shape(), shape, "{dtype} {shape:?}");
            if dtype == DType::String {
                assert_eq!(back.byte_values().unwrap(), t.byte_values().unwrap());
            } else {
                assert_eq!(back, t, "{dtype} {shape:?}");
            }
            let p = tensor_to_proto(&t);
            assert_eq!(p.dtype, tf_data_type(dtype));
            let n = t.num_elements();
            let content = !matches!(
                dtype,
                DType::Bool | DType::U16 | DType::String | DType::Bytes
            ) && n > 1;
            assert_eq!(!p.tensor_content.is_empty(), content, "{dtype} {shape:?}");
            if n == 0 {
                assert_eq!(
                    fields_set(&p),
                    ["dtype", "tensor_shape"],
                    "{dtype} {shape:?}"
                );
            }
        }
    }
}

#[test]
fn typed_fields_follow_make_tensor_proto() {
    let field = |t: Tensor| fields_set(&tensor_to_proto(&t))[2];
    assert_eq!(field(Tensor::scalar(1.5f32)), "float_val");
    assert_eq!(field(Tensor::scalar(1.5f64)), "double_val");
    assert_eq!(field(Tensor::scalar(7u8)), "int_val");
    assert_eq!(field(Tensor::scalar(-7i8)), "int_val");
    assert_eq!(field(Tensor::scalar(-7i16)), "int_val");
    assert_eq!(field(Tensor::from_vec1(vec![1u16, 2, 3])), "int_val"); // uint16 is not a tensor_content type
    assert_eq!(field(Tensor::scalar(7u32)), "uint32_val");
    assert_eq!(field(Tensor::scalar(7u64)), "uint64_val");
    assert_eq!(field(Tensor::scalar(7i64)), "int64_val");
    assert_eq!(field(Tensor::scalar(f16::from_f32(2.0))), "half_val");
    assert_eq!(field(Tensor::scalar(bf16::from_f32(2.0))), "half_val");
    assert_eq!(field(Tensor::from_vec1(vec![true, false])), "bool_val");
    let p = tensor_to_proto(&Tensor::scalar(f16::from_f32(-2.0)));
    assert_eq!(p.half_val, [0xc000]); // raw bits, not sign-extended
    assert_eq!(dtype_from_tf_data_type(7).unwrap(), DType::Bytes);
}

fn proto(dtype: i32, dims: &[i64]) -> TensorProto {
    TensorProto {
        dtype,
        tensor_shape: Some(TensorShapeProto {
            dim: dims
                .iter()
                .map(|&size| Dim {
                    size,
                    name: String::new(),
                })
                .collect(),
            unknown_rank: false,
        }),
        ..Default::default()
    }
}

#[test]
fn short_value_lists_repeat_their_last_value_and_empty_lists_are_zeros() {
    // tf.make_tensor_proto(7, shape=[3]) -> [7, 7, 7]
    let mut p = proto(9, &[3]);
    p.int64_val = vec![7];
    assert_eq!(
        tensor_from_proto(&p).unwrap().as_slice::<i64>().unwrap(),
        [7, 7, 7]
    );
    let mut p = proto(1, &[2, 3]);
    p.float_val = vec![1.0, 2.5];
    assert_eq!(
        tensor_from_proto(&p).unwrap().as_slice::<f32>().unwrap(),
        [1.0, 2.5, 2.5, 2.5, 2.5, 2.5]
    );
    let mut p = proto(7, &[3]);
    p.string_val = vec![b"a".to_vec(), b"bc".to_vec()];
    assert_eq!(
        tensor_from_proto(&p).unwrap().byte_values().unwrap(),
        [&b"a"[..], b"bc", b"bc"]
    );
    let p = proto(7, &[2]);
    assert_eq!(
        tensor_from_proto(&p).unwrap().byte_values().unwrap(),
        [&b""[..], b""]
    );
    let p = proto(19, &[2]);
    assert_eq!(
        tensor_from_proto(&p).unwrap().as_slice::<f16>().unwrap(),
        [f16::ZERO, f16::ZERO]
    );
    // int_val holds uint8 (and int8/16, uint16); half_val holds bfloat16 bits.
    let mut p = proto(4, &[2]);
    p.int_val = vec![255, 3];
    assert_eq!(
        tensor_from_proto(&p).unwrap().as_slice::<u8>().unwrap(),
        [255, 3]
    );
    let mut p = proto(14, &[]);
    p.half_val = vec![0x3f80];
    assert_eq!(
        tensor_from_proto(&p).unwrap().as_slice::<bf16>().unwrap(),
        [bf16::ONE]
    );
    // No shape at all: a scalar.
    let p = TensorProto {
        dtype: 3,
        int_val: vec![5],
        ..Default::default()
    };
    let t = tensor_from_proto(&p).unwrap();
    assert_eq!(
        (t.shape(), t.as_slice::<i32>().unwrap()),
        (&[][..], &[5][..])
    );
    // tensor_content wins over typed values; DT_STRING tensor_content uses EncodeStringList.
    let mut p = proto(7, &[2]);
    p.tensor_content = b"\x02\x03hiabc".to_vec();
    assert_eq!(
        tensor_from_proto(&p).unwrap().byte_values().unwrap(),
        [&b"hi"[..], b"abc"]
    );
}

fn bad(name: &str) -> slicestream::Error {
    let bytes = std::fs::read(fixtures().join("bad/tensor_proto").join(name)).unwrap();
    match decode_tensor_proto(&bytes) {
        Ok(t) => panic!("{name} decoded to {t:?}"),
        Err(e) => e,
    }
}

fn assert_format(e: &slicestream::Error, needles: &[&str]) {
    assert!(matches!(e.kind(), ErrorKind::Format(_)), "{e:?}");
    for n in needles {
        assert!(e.to_string().contains(n), "{n:?} not in {e}");
    }
}

#[test]
fn bad_protos_are_typed_errors() {
    assert_format(&bad("empty.pb"), &["DT_INVALID"]);
    assert_format(&bad("garbage.pb"), &["not a valid TensorProto"]);
    assert_format(
        &bad("truncated.pb"),
        &["1000 bytes are not a valid TensorProto"],
    );
    assert_format(
        &bad("unknown_dtype.pb"),
        &["99", "not a TensorFlow DataType"],
    );
    assert_format(
        &bad("complex64.pb"),
        &["DT_COMPLEX64", "no slicestream dtype"],
    );
    assert_format(
        &bad("content_length_mismatch.pb"),
        &["tensor_content has 20 bytes", "needs 24"],
    );
    assert_format(
        &bad("too_many_values.pb"),
        &["float_val holds 3 values", "[2]"],
    );
    assert_format(&bad("negative_dim.pb"), &["dimension 1", "-1"]);
    assert_format(&bad("overflow_shape.pb"), &["overflows"]);
    assert_format(&bad("unknown_rank.pb"), &["unknown rank"]);
    assert_format(&bad("bool_content_not_0_or_1.pb"), &["not 0 or 1"]);
    assert_format(
        &bad("string_content_short.pb"),
        &["lengths add up to more than the 7 bytes"],
    );
    // 2^47 int64 zeros splatted from one value: refused, not an abort.
    let e = bad("huge_splat.pb");
    assert!(matches!(e.kind(), ErrorKind::TooLarge { .. }), "{e:?}");
    assert!(e.to_string().contains("140737488355328"), "{e}");
}

#[test]
fn random_bytes_never_panic() {
    // A cheap fuzz: every prefix and many single-byte corruptions of real protos.
    let dir = fixtures().join("tensor_protos");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("pb") {
            continue;
        }
        let pb = std::fs::read(&path).unwrap();
        for cut in 0..pb.len().min(64) {
            let _ = decode_tensor_proto(&pb[..cut]);
        }
        for i in 0..pb.len().min(48) {
            for x in [0x01u8, 0x80, 0xff] {
                let mut b = pb.clone();
                b[i] ^= x;
                let _ = decode_tensor_proto(&b);
            }
        }
    }
}
