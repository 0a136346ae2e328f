//! NPY / NPZ: numpy's own files decode to their sidecar JSON, what we write is byte-identical to
//! `np.save`, round trips, layouts (Fortran, big-endian, versions 2.0 / 3.0) and memory-mapped datasets.

use std::path::{Path, PathBuf};

use serde_json::Value;
use slicestream::io::npy::{
    read_npy, read_npz, to_npy_bytes, write_npy, ByteOrder, NpyFile, NpyWriter, NpzArchive,
};
use slicestream::{DType, ErrorKind, Tensor};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/npy")
}

fn json(name: &str) -> Value {
    let text = std::fs::read_to_string(fixtures().join(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Nested JSON values, flattened in order.
fn flatten(v: &Value, out: &mut Vec<Value>) {
    match v {
        Value::Array(items) => items.iter().for_each(|x| flatten(x, out)),
        other => out.push(other.clone()),
    }
}

fn flat(v: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    flatten(v, &mut out);
    out
}

/// A tensor's values, row-major, as JSON values (floats widened to f64 exactly).
fn values(t: &Tensor) -> Vec<Value> {
    macro_rules! vals {
        ($t:ty, $f:expr) => {
            t.as_slice::<$t>().unwrap().iter().map($f).collect()
        };
    }
    match t.dtype() {
        DType::Bool => vals!(bool, |&x| Value::from(x)),
        DType::U8 => vals!(u8, |&x| Value::from(x)),
        DType::U16 => vals!(u16, |&x| Value::from(x)),
        DType::U32 => vals!(u32, |&x| Value::from(x)),
        DType::U64 => vals!(u64, |&x| Value::from(x)),
        DType::I8 => vals!(i8, |&x| Value::from(x)),
        DType::I16 => vals!(i16, |&x| Value::from(x)),
        DType::I32 => vals!(i32, |&x| Value::from(x)),
        DType::I64 => vals!(i64, |&x| Value::from(x)),
        DType::F16 => vals!(half::f16, |&x| Value::from(f64::from(x))),
        DType::F32 => vals!(f32, |&x| Value::from(f64::from(x))),
        DType::F64 => vals!(f64, |&x| Value::from(x)),
        other => panic!("no NPY values for {other}"),
    }
}

fn shape_of(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect()
}

const NPY_FIXTURES: [&str; 6] = [
    "bool",
    "float32_c",
    "float32_fortran",
    "int64",
    "scalar_0d_float64",
    "uint8",
];

#[test]
fn every_npy_fixture_decodes_to_its_json() {
    for name in NPY_FIXTURES {
        let j = json(&format!("{name}.json"));
        let f = NpyFile::open(fixtures().join(j["file"].as_str().unwrap())).unwrap();
        let h = f.header();
        assert_eq!(h.descr(), j["dtype_descr"], "{name}");
        assert_eq!(h.shape(), shape_of(&j["shape"]), "{name}");
        assert_eq!(
            h.fortran_order(),
            j["fortran_order"].as_bool().unwrap(),
            "{name}"
        );
        let v = j["version"].as_array().unwrap();
        assert_eq!(
            h.version(),
            (v[0].as_u64().unwrap() as u8, v[1].as_u64().unwrap() as u8)
        );
        assert_eq!(
            h.data_offset() as u64,
            j["data_offset"].as_u64().unwrap(),
            "{name}"
        );
        assert_eq!(
            (h.data_offset() + h.data_len()) as u64,
            j["bytes"].as_u64().unwrap(),
            "{name}"
        );
        let t = f.tensor().unwrap();
        assert_eq!(t.shape(), shape_of(&j["shape"]).as_slice(), "{name}");
        assert_eq!(values(&t), flat(&j["values"]), "{name}");
        let sum: f64 = values(&t)
            .iter()
            .map(|x| x.as_f64().unwrap_or(x.as_bool().map_or(0.0, f64::from)))
            .sum();
        assert_eq!(sum, j["sum"].as_f64().unwrap(), "{name}");
    }
}

#[test]
fn c_order_is_a_view_of_the_map_and_fortran_is_transposed() {
    let c = NpyFile::open(fixtures().join("float32_c.npy")).unwrap();
    assert!(c.is_zero_copy());
    assert_eq!(c.tensor().unwrap().data_ptr(), c.raw_data().as_ptr());
    let rows = c.slice_rows(1, 3).unwrap();
    assert_eq!(rows.data_ptr(), c.raw_data().as_slice()[16..].as_ptr());

    let j = json("float32_fortran.json");
    let f = NpyFile::open(fixtures().join("float32_fortran.npy")).unwrap();
    assert!(f.fortran_order() && !f.is_zero_copy());
    let file_order: Vec<f32> = f
        .raw_data()
        .as_slice()
        .chunks(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    let expected: Vec<f32> = flat(&j["values_in_file_order"])
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect();
    assert_eq!(file_order, expected);
    assert_eq!(f.tensor().unwrap(), c.tensor().unwrap());
    assert_eq!(f.slice_rows(1, 3).unwrap(), c.slice_rows(1, 3).unwrap());
    assert_eq!(
        f.gather_rows(&[2, 0]).unwrap(),
        c.gather_rows(&[2, 0]).unwrap()
    );
    assert_eq!(f.row(1).unwrap(), c.row(1).unwrap());
}

#[test]
fn npz_fixtures_decode_to_their_json() {
    for name in ["two_arrays", "two_arrays_compressed"] {
        let j = json(&format!("{name}.json"));
        let archive = NpzArchive::open(fixtures().join(j["file"].as_str().unwrap())).unwrap();
        assert_eq!(archive.names(), ["a", "b"]);
        for (member, m) in j["members"].as_object().unwrap() {
            assert_eq!(
                archive.is_compressed(member).unwrap(),
                j["compressed"].as_bool().unwrap()
            );
            let f = archive.npy(member).unwrap();
            assert_eq!(f.header().descr(), m["dtype_descr"]);
            let t = archive.read(&format!("{member}.npy")).unwrap();
            assert_eq!(t.shape(), shape_of(&m["shape"]).as_slice());
            assert_eq!(values(&t), flat(&m["values"]), "{name}/{member}");
        }
        let all = read_npz(fixtures().join(j["file"].as_str().unwrap())).unwrap();
        assert_eq!(
            all.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        let err = archive.read("c").unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::NotFound(_)), "{err}");
    }
}

#[test]
fn stored_npz_members_are_slices_of_the_mapped_archive() {
    let archive = NpzArchive::open(fixtures().join("two_arrays.npz")).unwrap();
    let a = archive.npy("a").unwrap();
    let bytes = std::fs::read(fixtures().join("two_arrays.npz")).unwrap();
    let data = a.raw_data().as_slice();
    let at = bytes.windows(data.len()).position(|w| w == data).unwrap();
    assert!(at > 0);
    // The raw data is the archive's map itself: its address is inside the mapped archive.
    let b = archive.npy("b").unwrap();
    let gap = b.raw_data().as_ptr() as isize - a.raw_data().as_ptr() as isize;
    let file_gap = bytes
        .windows(b.raw_data().len())
        .position(|w| w == b.raw_data().as_slice())
        .unwrap() as isize
        - at as isize;
    assert_eq!(gap, file_gap);
}

#[test]
fn what_we_write_is_byte_identical_to_np_save() {
    let dir = tempfile::tempdir().unwrap();
    for name in NPY_FIXTURES {
        let t = read_npy(fixtures().join(format!("{name}.npy"))).unwrap();
        // np.save writes C order: the Fortran fixture's values are float32_c.npy's.
        let expected_file = if name == "float32_fortran" {
            "float32_c"
        } else {
            name
        };
        let expected = std::fs::read(fixtures().join(format!("{expected_file}.npy"))).unwrap();
        assert_eq!(to_npy_bytes(&t).unwrap(), expected, "{name}");
        let out = dir.path().join(format!("{name}.npy"));
        write_npy(&out, &t).unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), expected, "{name}");
        if t.rank() > 0 {
            // The same through the streaming writer, one row at a time.
            let streamed = dir.path().join(format!("{name}_streamed.npy"));
            let mut w = NpyWriter::create(&streamed, t.dtype(), t.shape()[1..].to_vec()).unwrap();
            for i in 0..t.shape()[0] {
                w.write_row(&t.row(i).unwrap()).unwrap();
            }
            assert_eq!(w.rows_written(), t.shape()[0] as u64);
            w.finish().unwrap();
            assert_eq!(
                std::fs::read(&streamed).unwrap(),
                expected,
                "{name} streamed"
            );
        }
    }
    // The digits arrays, written by numpy: 3-d uint8 and 1-d int64 with a 4-digit first dimension.
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    for name in ["digits_image.npy", "digits_label.npy"] {
        let expected = std::fs::read(data.join(name)).unwrap();
        let t = read_npy(data.join(name)).unwrap();
        assert_eq!(to_npy_bytes(&t).unwrap(), expected, "{name}");
        let streamed = dir.path().join(name);
        let mut w = NpyWriter::create(&streamed, t.dtype(), t.shape()[1..].to_vec()).unwrap();
        for start in (0..t.shape()[0]).step_by(500) {
            w.write_batch(
                &t.slice_rows(start, (start + 500).min(t.shape()[0]))
                    .unwrap(),
            )
            .unwrap();
        }
        w.finish().unwrap();
        assert_eq!(
            std::fs::read(&streamed).unwrap(),
            expected,
            "{name} streamed"
        );
    }
}

/// One tensor of each writable dtype, values chosen to exercise the extremes.
fn sample_tensors() -> Vec<Tensor> {
    vec![
        Tensor::from_vec([2, 2], vec![true, false, false, true]).unwrap(),
        Tensor::from_vec([3], vec![0u8, 128, 255]).unwrap(),
        Tensor::from_vec([3], vec![0u16, 1, u16::MAX]).unwrap(),
        Tensor::from_vec([2], vec![7u32, u32::MAX]).unwrap(),
        Tensor::from_vec([2], vec![1u64 << 40, u64::MAX]).unwrap(),
        Tensor::from_vec([3], vec![i8::MIN, 0, i8::MAX]).unwrap(),
        Tensor::from_vec([2, 1], vec![i16::MIN, i16::MAX]).unwrap(),
        Tensor::from_vec([1, 2, 1], vec![i32::MIN, -1]).unwrap(),
        Tensor::from_vec([2], vec![i64::MIN, i64::MAX]).unwrap(),
        Tensor::from_vec([2], vec![half::f16::from_f32(1.5), half::f16::MAX]).unwrap(),
        Tensor::from_vec(
            [2, 3],
            vec![0.1f32, -2.5, f32::MAX, f32::MIN_POSITIVE, 1e-40, 7.0],
        )
        .unwrap(),
        Tensor::from_vec([0, 4], Vec::<f64>::new()).unwrap(),
        Tensor::scalar(2.5f64),
        Tensor::scalar(-3i64),
        Tensor::from_vec([2, 0, 3], Vec::<i32>::new()).unwrap(),
    ]
}

#[test]
fn round_trips_every_dtype_and_odd_shapes() {
    let dir = tempfile::tempdir().unwrap();
    for (i, t) in sample_tensors().into_iter().enumerate() {
        let path = dir.path().join(format!("t{i}.npy"));
        write_npy(&path, &t).unwrap();
        let f = NpyFile::open(&path).unwrap();
        assert_eq!(f.dtype(), t.dtype());
        assert_eq!(f.header().byte_order(), ByteOrder::NATIVE);
        assert_eq!(f.tensor().unwrap(), t, "{t:?}");
        assert_eq!(
            std::fs::metadata(&path).unwrap().len() as usize,
            f.header().data_offset() + t.nbytes()
        );
        assert_eq!(f.header().data_offset() % 64, 0);
    }
    // A rank-32 array needs a header longer than 128 bytes: it grows in 64-byte steps.
    let t = Tensor::from_vec(vec![1usize; 32], vec![9u8]).unwrap();
    let bytes = to_npy_bytes(&t).unwrap();
    assert_eq!((bytes.len() - 1) % 64, 0);
    assert!(bytes.len() > 128);
    assert_eq!(
        NpyFile::from_buffer(arrow_buffer::Buffer::from_vec(bytes))
            .unwrap()
            .tensor()
            .unwrap(),
        t
    );
}

#[test]
fn unwritable_dtypes_are_invalid_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let bf = Tensor::from_vec([1], vec![half::bf16::ONE]).unwrap();
    let s = Tensor::from_strings([1], ["a"]).unwrap();
    for t in [bf, s] {
        let e = write_npy(dir.path().join("x.npy"), &t).unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::InvalidArgument(_)), "{e}");
        assert!(NpyWriter::create(dir.path().join("y.npy"), t.dtype(), []).is_err());
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no file left behind"
    );
}

#[test]
fn writer_leaves_nothing_without_finish_and_checks_batches() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.npy");
    {
        let mut w = NpyWriter::create(&path, DType::F32, [2]).unwrap();
        w.write_batch(&Tensor::from_vec([1, 2], vec![1.0f32, 2.0]).unwrap())
            .unwrap();
        let e = w
            .write_batch(&Tensor::from_vec([1, 2], vec![1i64, 2]).unwrap())
            .unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::DTypeMismatch { .. }), "{e}");
        let e = w
            .write_batch(&Tensor::from_vec([1, 3], vec![1.0f32, 2.0, 3.0]).unwrap())
            .unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::Incompatible(_)), "{e}");
        let e = w.write_row(&Tensor::scalar(1.0f32)).unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::Incompatible(_)), "{e}");
        assert_eq!(w.rows_written(), 1);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "only the temporary file"
        );
        assert!(!path.exists());
    } // dropped without finish
    assert!(!path.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "the temporary file is removed"
    );

    // An empty stream is a valid (0, 2) array.
    let w = NpyWriter::create(&path, DType::F32, [2]).unwrap();
    w.finish().unwrap();
    let t = read_npy(&path).unwrap();
    assert_eq!(t.shape(), &[0, 2]);
    assert_eq!(std::fs::read(&path).unwrap(), to_npy_bytes(&t).unwrap());
    // Overwriting an existing file replaces it whole.
    write_npy(&path, &Tensor::from_vec1(vec![1u8, 2, 3])).unwrap();
    assert_eq!(read_npy(&path).unwrap(), Tensor::from_vec1(vec![1u8, 2, 3]));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

/// An NPY file with this header text, padded the way numpy pads (version 1.0: 2-byte length,
/// others 4-byte).
fn npy_bytes(version: (u8, u8), header: &str, data: &[u8]) -> Vec<u8> {
    let prefix = if version.0 == 1 { 10 } else { 12 };
    let mut text = header.as_bytes().to_vec();
    let pad = 64 - (prefix + text.len() + 1) % 64;
    text.resize(text.len() + pad, b' ');
    text.push(b'\n');
    let mut out = b"\x93NUMPY".to_vec();
    out.extend_from_slice(&[version.0, version.1]);
    if version.0 == 1 {
        out.extend_from_slice(&(text.len() as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&(text.len() as u32).to_le_bytes());
    }
    out.extend_from_slice(&text);
    out.extend_from_slice(data);
    out
}

fn from_bytes(bytes: Vec<u8>) -> slicestream::Result<NpyFile> {
    NpyFile::from_buffer(arrow_buffer::Buffer::from_vec(bytes))
}

#[test]
fn versions_2_and_3_and_header_spellings_parse() {
    let expected = Tensor::from_vec([2, 2], vec![1.0f32, 2.0, 3.0, 4.0]).unwrap();
    let data: Vec<u8> = [1.0f32, 2.0, 3.0, 4.0]
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    let headers = [
        (
            (1, 0),
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }",
        ),
        (
            (2, 0),
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }",
        ),
        (
            (3, 0),
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }",
        ),
        (
            (1, 0),
            "{\"shape\": (2L, 2L), \"descr\": \"<f4\", \"fortran_order\": False}",
        ),
        (
            (1, 0),
            "{ 'fortran_order' : False ,\n 'shape' : ( 2 , 2 ) , 'descr' : '<f4' }",
        ),
    ];
    for (version, header) in headers {
        let f = from_bytes(npy_bytes(version, header, &data))
            .unwrap_or_else(|e| panic!("{header}: {e}"));
        assert_eq!(f.header().version(), version);
        assert_eq!(f.tensor().unwrap(), expected, "{header}");
    }
}

#[test]
fn big_endian_values_are_swapped_on_read() {
    let values = [1.5f32, -2.0, 1e-3, 6.25e10, 0.0, -0.5];
    let data: Vec<u8> = values.iter().flat_map(|x| x.to_be_bytes()).collect();
    let f = from_bytes(npy_bytes(
        (1, 0),
        "{'descr': '>f4', 'fortran_order': False, 'shape': (3, 2), }",
        &data,
    ))
    .unwrap();
    assert_eq!(f.header().byte_order(), ByteOrder::Big);
    assert!(!f.is_zero_copy());
    let expected = Tensor::from_vec([3, 2], values.to_vec()).unwrap();
    assert_eq!(f.tensor().unwrap(), expected);
    assert_eq!(
        f.gather_rows(&[2, 0]).unwrap(),
        expected.gather_rows(&[2, 0]).unwrap()
    );
    assert_eq!(f.row(1).unwrap(), expected.row(1).unwrap());
    // Big-endian and Fortran order together; and a 0-d big-endian int.
    let ints: Vec<i64> = (0..6).map(|i| i * 1000 - 2500).collect();
    // C values [[a, b, c], [d, e, f]] stored column-major: a d b e c f.
    let file_order = [ints[0], ints[3], ints[1], ints[4], ints[2], ints[5]];
    let data: Vec<u8> = file_order.iter().flat_map(|x| x.to_be_bytes()).collect();
    let f = from_bytes(npy_bytes(
        (1, 0),
        "{'descr': '>i8', 'fortran_order': True, 'shape': (2, 3), }",
        &data,
    ))
    .unwrap();
    assert_eq!(f.tensor().unwrap(), Tensor::from_vec([2, 3], ints).unwrap());
    let f = from_bytes(npy_bytes(
        (1, 0),
        "{'descr': '>i2', 'fortran_order': False, 'shape': (), }",
        &(-2i16).to_be_bytes(),
    ))
    .unwrap();
    assert_eq!(f.tensor().unwrap(), Tensor::scalar(-2i16));
    // One-byte dtypes have no byte order: '>u1' is read without a copy.
    let f = from_bytes(npy_bytes(
        (1, 0),
        "{'descr': '>u1', 'fortran_order': False, 'shape': (3,), }",
        &[1, 2, 3],
    ))
    .unwrap();
    assert!(f.is_zero_copy());
}

#[test]
fn fortran_order_3d_rows_are_transposed() {
    let shape = [3usize, 2, 4];
    let c: Vec<u16> = (0..24).collect();
    // Fortran position of (i, j, k) is i + 3 * (j + 2 * k).
    let mut fortran = [0u16; 24];
    for i in 0..3 {
        for j in 0..2 {
            for k in 0..4 {
                fortran[i + 3 * (j + 2 * k)] = c[(i * 2 + j) * 4 + k];
            }
        }
    }
    let data: Vec<u8> = fortran.iter().flat_map(|x| x.to_le_bytes()).collect();
    let f = from_bytes(npy_bytes(
        (1, 0),
        "{'descr': '<u2', 'fortran_order': True, 'shape': (3, 2, 4), }",
        &data,
    ))
    .unwrap();
    let expected = Tensor::from_vec(shape, c).unwrap();
    assert_eq!(f.tensor().unwrap(), expected);
    assert_eq!(
        f.slice_rows(1, 3).unwrap(),
        expected.slice_rows(1, 3).unwrap()
    );
    assert_eq!(
        f.gather_rows(&[2, 2, 0]).unwrap(),
        expected.gather_rows(&[2, 2, 0]).unwrap()
    );
    // Fortran order with one dimension > 1 is the same bytes as C order: no copy.
    let f = from_bytes(npy_bytes(
        (1, 0),
        "{'descr': '<u2', 'fortran_order': True, 'shape': (1, 4, 1), }",
        &data[..8],
    ))
    .unwrap();
    assert!(f.is_zero_copy());
}
