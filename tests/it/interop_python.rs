//! Interop with real readers: IPC and Parquet files written here (the digits, and a dataset of
//! tensors, strings and bools) opened by Python's pyarrow (the image column a
//! `FixedShapeTensorArray` of shape (8, 8)), polars (an `Array` column under the tensor extension)
//! and numpy (values equal).
//!
//! Uses `python3` on PATH with numpy, pyarrow and polars (`.ci/run` installs them); when any is
//! missing the test prints a loud `SKIPPED: <why>` line and passes.

use std::path::Path;
use std::process::Command;

use crate::frames_common::{data, digits_batch, tensor_dataset};
use slicestream::io::ipc::{IpcFormat, IpcWriteOptions};
use slicestream::io::parquet::{ParquetCompression, ParquetWriteOptions};
use slicestream::Dataset;

/// Checks the files; argv: data dir, then (kind, format, path) triples. Prints one line per check.
const SCRIPT: &str = r#"
import sys
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import polars as pl

data = sys.argv[1]
args = sys.argv[2:]
image = np.load(f"{data}/digits_image.npy")
label = np.load(f"{data}/digits_label.npy")

def read_arrow(fmt, path):
    if fmt == "parquet":
        return pq.read_table(path)
    if fmt == "ipc-file":
        return pa.ipc.open_file(path).read_all()
    return pa.ipc.open_stream(path).read_all()

def read_polars(fmt, path):
    if fmt == "parquet":
        return pl.read_parquet(path)
    if fmt == "ipc-file":
        return pl.read_ipc(path)
    return pl.read_ipc_stream(path)

def tensor(table, name, shape):
    col = table.column(name).combine_chunks()
    assert isinstance(col.type, pa.FixedShapeTensorType), f"{name}: {col.type}"
    assert list(col.type.shape) == list(shape), f"{name}: shape {col.type.shape}"
    return col

def polars_array(df, name, width):
    s = df[name]
    if isinstance(s.dtype, pl.Extension):
        assert s.dtype.ext_name() == "arrow.fixed_shape_tensor", s.dtype
        s = s.ext.storage()
    assert s.dtype == pl.Array(s.dtype.inner, width), f"{name}: {s.dtype}"
    return s

for kind, fmt, path in zip(args[0::3], args[1::3], args[2::3]):
    t = read_arrow(fmt, path)
    df = read_polars(fmt, path)
    if kind == "digits":
        img = tensor(t, "image", [8, 8])
        assert img.type.value_type == pa.uint8()
        arr = img.to_numpy_ndarray()
        assert arr.shape == (1797, 8, 8), arr.shape
        assert np.array_equal(arr, image)
        assert int(arr.sum()) == 561718
        assert np.array_equal(t.column("label").to_numpy(), label)
        s = polars_array(df, "image", 64)
        assert s.dtype.inner == pl.UInt8
        assert np.array_equal(s.to_numpy().reshape(-1, 8, 8), image)
        assert np.array_equal(df["label"].to_numpy(), label)
    else:
        n = t.num_rows
        x = (np.arange(n * 12, dtype=np.float32) * 0.5).reshape(n, 3, 4)
        y = np.arange(n, dtype=np.int64) * 7 - 3
        strings = [f"row {i} " + "z" * (i % 17) for i in range(n)]
        b = (np.arange(n * 2) % 3 == 0).reshape(n, 2)
        assert np.array_equal(tensor(t, "x", [3, 4]).to_numpy_ndarray(), x)
        assert np.array_equal(t.column("y").to_numpy(), y)
        assert t.column("s").to_pylist() == strings
        bt = tensor(t, "b", [2])
        assert np.array_equal(bt.storage.flatten().to_numpy(zero_copy_only=False).reshape(n, 2), b)
        assert np.array_equal(polars_array(df, "x", 12).to_numpy().reshape(n, 3, 4), x)
        assert np.array_equal(df["y"].to_numpy(), y)
        assert df["s"].to_list() == strings
        if "seq" in t.column_names:
            seq = t.column("seq").to_pylist()
            assert seq == [list(range(i % 5)) for i in range(n)], seq[:6]
            assert df["seq"].dtype == pl.List(pl.Int32), df["seq"].dtype
    print(f"ok {kind} {fmt}: pyarrow {t.schema.field(0).type}; polars {df.schema}")
print("versions", pa.__version__, pl.__version__, np.__version__)
"#;

/// `None` when python3 with numpy, pyarrow and polars can run; otherwise why not.
fn python_missing() -> Option<String> {
    let out = Command::new("python3")
        .args(["-c", "import numpy, pyarrow, polars"])
        .output();
    match out {
        Err(e) => Some(format!("python3 cannot run: {e}")),
        Ok(o) if !o.status.success() => Some(format!(
            "python3 lacks numpy/pyarrow/polars ({})",
            String::from_utf8_lossy(&o.stderr)
                .trim()
                .lines()
                .last()
                .unwrap_or("")
        )),
        Ok(_) => None,
    }
}

fn run_python(args: &[String]) {
    let out = Command::new("python3")
        .arg("-c")
        .arg(SCRIPT)
        .arg(data())
        .args(args)
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    print!("{stdout}");
    assert!(
        out.status.success(),
        "Python's readers failed:\n{stdout}\n{stderr}"
    );
}

fn sequences(n: usize) -> Dataset {
    // The tensor dataset plus a variable-length column: a List column for Python.
    use slicestream::{DType, Element, ElementSpec, Structure, Tensor, TensorSpec};
    let base: Vec<Element> = tensor_dataset(n).iter().map(|e| e.unwrap()).collect();
    let mut specs = tensor_dataset(n)
        .element_spec()
        .unwrap()
        .components()
        .to_vec();
    specs.push(TensorSpec::with_unknown(DType::I32, vec![None]));
    let spec = ElementSpec::new(
        Structure::dict_of_tensors(["x", "y", "s", "b", "seq"]),
        specs,
    )
    .unwrap();
    Dataset::from_generator(spec, move || {
        base.clone().into_iter().enumerate().map(|(i, e)| {
            let mut items: Vec<(String, Tensor)> =
                e.paths().into_iter().zip(e.into_components()).collect();
            items.push((
                "seq".into(),
                Tensor::from_vec1((0..(i % 5) as i32).collect::<Vec<_>>()),
            ));
            Ok(Element::dict(items))
        })
    })
}

#[test]
fn pyarrow_polars_and_numpy_read_what_we_write() {
    if let Some(why) = python_missing() {
        println!("SKIPPED: interop_python: {why}");
        eprintln!("SKIPPED: interop_python: {why}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);
    let digits = Dataset::from_tensor_slices(digits_batch()).unwrap();
    let tensors = tensor_dataset(300);
    let mut args: Vec<String> = Vec::new();
    let mut add = |kind: &str, fmt: &str, p: &Path| {
        args.extend([kind.to_string(), fmt.to_string(), p.display().to_string()]);
    };
    for (name, ds) in [("digits", &digits), ("tensors", &tensors)] {
        let file = path(&format!("{name}.arrow"));
        ds.write_ipc(&file, IpcWriteOptions::default().with_batch_rows(128))
            .unwrap();
        add(name, "ipc-file", &file);
        let stream = path(&format!("{name}.arrows"));
        ds.write_ipc(
            &stream,
            IpcWriteOptions::default().with_format(IpcFormat::Stream),
        )
        .unwrap();
        add(name, "ipc-stream", &stream);
        for (c, label) in [
            (ParquetCompression::Uncompressed, "none"),
            (ParquetCompression::Zstd(1), "zstd"),
            (ParquetCompression::Snappy, "snappy"),
        ] {
            let file = path(&format!("{name}-{label}.parquet"));
            ds.write_parquet(&file, ParquetWriteOptions::default().with_compression(c))
                .unwrap();
            add(name, "parquet", &file);
        }
    }
    let seq = sequences(40);
    let file = path("seq.arrow");
    seq.write_ipc(&file, IpcWriteOptions::default().with_batch_rows(16))
        .unwrap();
    add("tensors", "ipc-file", &file);
    let file = path("seq.parquet");
    seq.write_parquet(&file, ParquetWriteOptions::default().with_batch_rows(16))
        .unwrap();
    add("tensors", "parquet", &file);
    run_python(&args);
}
