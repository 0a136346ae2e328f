//! Cross-checks with numpy itself, when `python3 -c 'import numpy'` works: numpy loads what we
//! write (and re-saves it byte-identically), and we read what numpy writes in layouts the fixtures
//! do not cover (Fortran 3-d, big-endian, versions 2.0 and 3.0, savez_compressed).
//!
//! Without numpy the test prints a loud SKIPPED line and passes.

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use slicestream::io::npy::{read_npz, write_npy, NpyFile, NpyWriter};
use slicestream::{DType, Tensor};

fn numpy_available() -> bool {
    Command::new("python3")
        .args(["-c", "import numpy"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A tensor's values, row-major, as JSON (floats widened to f64 exactly).
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

/// Equal values; floats within one part in 1e15 (serde_json's float parsing is not exact to the
/// last bit without its `float_roundtrip` feature).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            x == y || (x - y).abs() <= 1e-15 * x.abs().max(y.abs())
        }
        _ => a == b,
    }
}

fn ours() -> Vec<(&'static str, Tensor)> {
    vec![
        (
            "bool",
            Tensor::from_vec([2, 3], vec![true, false, true, true, false, false]).unwrap(),
        ),
        ("u8", Tensor::from_vec([3], vec![0u8, 128, 255]).unwrap()),
        (
            "u16",
            Tensor::from_vec([3], vec![0u16, 1, u16::MAX]).unwrap(),
        ),
        ("u32", Tensor::from_vec([2], vec![7u32, u32::MAX]).unwrap()),
        (
            "u64",
            Tensor::from_vec([2], vec![1u64 << 40, u64::MAX]).unwrap(),
        ),
        (
            "i8",
            Tensor::from_vec([3], vec![i8::MIN, 0, i8::MAX]).unwrap(),
        ),
        (
            "i16",
            Tensor::from_vec([2, 1], vec![i16::MIN, i16::MAX]).unwrap(),
        ),
        (
            "i32",
            Tensor::from_vec([1, 2, 1], vec![i32::MIN, -1]).unwrap(),
        ),
        (
            "i64",
            Tensor::from_vec([2], vec![i64::MIN, i64::MAX]).unwrap(),
        ),
        (
            "f16",
            Tensor::from_vec([2], vec![half::f16::from_f32(1.5), half::f16::MAX]).unwrap(),
        ),
        (
            "f32",
            Tensor::from_vec(
                [2, 3],
                vec![0.1f32, -2.5, f32::MAX, f32::MIN_POSITIVE, 1e-40, 7.0],
            )
            .unwrap(),
        ),
        (
            "f64_empty",
            Tensor::from_vec([0, 4], Vec::<f64>::new()).unwrap(),
        ),
        ("f64_scalar", Tensor::scalar(2.5f64)),
        (
            "i32_zero_dim",
            Tensor::from_vec([2, 0, 3], Vec::<i32>::new()).unwrap(),
        ),
        (
            "u8_rank32",
            Tensor::from_vec(vec![1usize; 32], vec![9u8]).unwrap(),
        ),
        (
            "f32_long_dims",
            Tensor::zeros(DType::F32, [1, 123456789, 0, 98765]).unwrap(),
        ),
    ]
}

const SCRIPT: &str = r#"
import json, sys, numpy as np
d = sys.argv[1]
out = {}
for name in sys.argv[2:]:
    a = np.load(f"{d}/{name}.npy")
    np.save(f"{d}/{name}.numpy.npy", a)
    out[name] = {"dtype": a.dtype.str, "shape": list(a.shape), "values": a.reshape(-1).tolist()}
# Layouts for us to read.
c = np.arange(24, dtype=np.float64).reshape(2, 3, 4) * 1.5 - 7
np.save(f"{d}/fortran3d.npy", np.asfortranarray(c))
np.save(f"{d}/big_i4.npy", np.arange(-6, 6, dtype=">i4").reshape(3, 4))
np.save(f"{d}/big_f8_fortran.npy", np.asfortranarray(c.astype(">f8")))
np.save(f"{d}/bool_fortran.npy", np.asfortranarray(np.arange(12).reshape(3, 4) % 3 == 0))
with open(f"{d}/v2.npy", "wb") as f:
    np.lib.format.write_array(f, c.astype(np.float32), version=(2, 0))
with open(f"{d}/v3.npy", "wb") as f:
    np.lib.format.write_array(f, c.astype(np.int16), version=(3, 0))
np.savez_compressed(f"{d}/many.npz", x=c, y=np.arange(5, dtype=np.uint16), z=np.array(True))
np.savez(f"{d}/many_stored.npz", x=c, y=np.arange(5, dtype=np.uint16), z=np.array(True))
out["_c"] = c.reshape(-1).tolist()
out["_streamed_ok"] = bool((np.load(f"{d}/streamed.npy") == np.arange(10 * 3, dtype=np.int32).reshape(10, 3)).all())
print(json.dumps(out))
"#;

#[test]
fn numpy_reads_what_we_write_and_we_read_what_numpy_writes() {
    if !numpy_available() {
        println!("\n=== SKIPPED: numpy not installed (python3 -c 'import numpy' failed); npy_numpy cross-checks did not run ===\n");
        eprintln!("SKIPPED: numpy not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let tensors = ours();
    for (name, t) in &tensors {
        write_npy(d.join(format!("{name}.npy")), t).unwrap();
    }
    let mut w = NpyWriter::create(d.join("streamed.npy"), DType::I32, [3]).unwrap();
    for (start, end) in [(0, 4), (4, 7), (7, 10)] {
        let rows: Vec<i32> = (start * 3..end * 3).map(|v| v as i32).collect();
        w.write_batch(&Tensor::from_vec([end - start, 3], rows).unwrap())
            .unwrap();
    }
    w.finish().unwrap();

    let mut cmd = Command::new("python3");
    cmd.args(["-c", SCRIPT]).arg(d);
    cmd.args(tensors.iter().map(|(n, _)| *n));
    let output = cmd.output().unwrap();
    assert!(
        output.status.success(),
        "python: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();

    // numpy loads ours with the same dtype, shape and values, and re-saves the same bytes.
    for (name, t) in &tensors {
        let r = &report[*name];
        let ours_path = d.join(format!("{name}.npy"));
        let f = NpyFile::open(&ours_path).unwrap();
        assert_eq!(r["dtype"], f.header().descr(), "{name}");
        let shape: Vec<usize> = r["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(shape, t.shape(), "{name}");
        let got = r["values"].as_array().unwrap();
        assert_eq!(got.len(), t.num_elements(), "{name}");
        for (a, b) in got.iter().zip(values(t)) {
            assert!(same(a, &b), "{name}: numpy has {a}, we wrote {b}");
        }
        let theirs = std::fs::read(d.join(format!("{name}.numpy.npy"))).unwrap();
        assert_eq!(
            std::fs::read(&ours_path).unwrap(),
            theirs,
            "{name}: np.save bytes differ"
        );
    }
    assert_eq!(report["_streamed_ok"], true);

    // We read numpy's layouts.
    let c: Vec<f64> = report["_c"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let c = Tensor::from_vec([2, 3, 4], c).unwrap();
    let read = |name: &str| NpyFile::open(d.join(name)).unwrap();
    let f = read("fortran3d.npy");
    assert!(f.fortran_order());
    assert_eq!(f.tensor().unwrap(), c);
    assert_eq!(
        f.gather_rows(&[1, 0]).unwrap(),
        c.gather_rows(&[1, 0]).unwrap()
    );
    assert_eq!(read("big_f8_fortran.npy").tensor().unwrap(), c);
    let big = read("big_i4.npy");
    assert_eq!(big.header().descr(), ">i4");
    assert_eq!(
        big.tensor().unwrap(),
        Tensor::from_vec([3, 4], (-6..6).collect::<Vec<i32>>()).unwrap()
    );
    let bools: Vec<bool> = (0..12).map(|i| i % 3 == 0).collect();
    assert_eq!(
        read("bool_fortran.npy").tensor().unwrap(),
        Tensor::from_vec([3, 4], bools).unwrap()
    );
    let v2 = read("v2.npy");
    assert_eq!(v2.header().version(), (2, 0));
    let c32: Vec<f32> = c
        .as_slice::<f64>()
        .unwrap()
        .iter()
        .map(|&x| x as f32)
        .collect();
    assert_eq!(
        v2.tensor().unwrap(),
        Tensor::from_vec([2, 3, 4], c32).unwrap()
    );
    let v3 = read("v3.npy");
    assert_eq!(v3.header().version(), (3, 0));
    let c16: Vec<i16> = c
        .as_slice::<f64>()
        .unwrap()
        .iter()
        .map(|&x| x as i16)
        .collect();
    assert_eq!(
        v3.tensor().unwrap(),
        Tensor::from_vec([2, 3, 4], c16).unwrap()
    );
    for npz in ["many.npz", "many_stored.npz"] {
        let all = read_npz(d.join(npz)).unwrap();
        let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["x", "y", "z"], "{npz}");
        assert_eq!(all[0].1, c, "{npz}");
        assert_eq!(
            all[1].1,
            Tensor::from_vec1((0..5).collect::<Vec<u16>>()),
            "{npz}"
        );
        assert_eq!(all[2].1, Tensor::scalar(true), "{npz}");
    }
    assert!(Path::new(d).join("streamed.npy").exists());
}
