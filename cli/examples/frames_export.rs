//! Times the export of the peer benchmark's table (x: f32[200000, 784], y: i64) to Parquet and Arrow
//! IPC, with peak anonymous memory, for comparison with pyarrow writing the same table.
//!
//! ```sh
//! cargo run --release --example frames_export                       # every case
//! cargo run --release --example frames_export -- parquet-zstd ipc-file
//! cargo run --release --example frames_export -- --peer-script > /tmp/peer_export.py
//! python3 /tmp/peer_export.py                                       # pyarrow, same cases
//! ```
//!
//! Each case writes the table from `Dataset::from_tensor_slices((x, y))` (batches of 4,096 rows are
//! slices of x: no copy) into a temporary directory (`$TMPDIR`), three runs, and prints the median
//! seconds, GB/s of x, the file size and the peak `RssAnon` above the level before the run (the data
//! itself, 627 MB, is already resident). Set `ROWS` to change the row count.

use std::time::Instant;

use slicestream::io::ipc::{IpcFormat, IpcWriteOptions};
use slicestream::io::parquet::{ParquetCompression, ParquetWriteOptions};
use slicestream::{Dataset, Element};
use slicestream_cli::bench::memory::{rss_anon_bytes, PeakSampler};
use slicestream_cli::bench::XY;

const CASES: [&str; 5] = [
    "parquet-none",
    "parquet-zstd",
    "parquet-snappy",
    "ipc-file",
    "ipc-stream",
];

/// pyarrow writing the same table: the same cases, the same columns (x a fixed_shape_tensor [784]
/// over FixedSizeList<float32, 784>, y int64), pyarrow's default row groups and options.
const PEER_SCRIPT: &str = r#"import os, sys, time, tempfile, threading, statistics, json
import numpy as np, pyarrow as pa, pyarrow.parquet as pq

N, D = int(os.environ.get("ROWS", 200000)), 784
rng = np.random.default_rng(0)
x = rng.random((N, D), dtype=np.float32)
y = rng.integers(0, 10, N, dtype=np.int64)
storage = pa.FixedSizeListArray.from_arrays(pa.array(x.reshape(-1)), D)
xt = pa.ExtensionArray.from_storage(pa.fixed_shape_tensor(pa.float32(), [D]), storage)
table = pa.table({"x": xt, "y": y})

def anon():
    for line in open("/proc/self/status"):
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) * 1024
    return 0

def peak_of(fn):
    base, peak, stop = anon(), [anon()], [False]
    def sample():
        while not stop[0]:
            peak[0] = max(peak[0], anon()); time.sleep(0.005)
    t = threading.Thread(target=sample); t.start()
    t0 = time.perf_counter(); fn(); dt = time.perf_counter() - t0
    stop[0] = True; t.join()
    return dt, (max(peak[0], anon()) - base) / 2**20

def write(case, path):
    if case == "parquet-none": pq.write_table(table, path, compression="none")
    elif case == "parquet-zstd": pq.write_table(table, path, compression="zstd")
    elif case == "parquet-snappy": pq.write_table(table, path, compression="snappy")
    elif case == "ipc-file":
        with pa.ipc.new_file(path, table.schema) as w: w.write_table(table, max_chunksize=4096)
    elif case == "ipc-stream":
        with pa.ipc.new_stream(path, table.schema) as w: w.write_table(table, max_chunksize=4096)

cases = sys.argv[1:] or ["parquet-none", "parquet-zstd", "parquet-snappy", "ipc-file", "ipc-stream"]
with tempfile.TemporaryDirectory() as d:
    for case in cases:
        path = os.path.join(d, case)
        runs = [peak_of(lambda: write(case, path)) for _ in range(3)]
        secs = statistics.median(r[0] for r in runs)
        print(f"pyarrow {case:<16} {secs:8.3f} s {N * D * 4 / secs / 1e9:6.2f} GB/s "
              f"{os.path.getsize(path) / 2**20:8.1f} MiB file  peak anon +{max(r[1] for r in runs):.0f} MiB")
        os.remove(path)
"#;

fn write(ds: &Dataset, case: &str, path: &std::path::Path) -> slicestream::Result<u64> {
    let parquet = |c| ParquetWriteOptions::default().with_compression(c);
    let ipc = |f| IpcWriteOptions::default().with_format(f);
    let summary = match case {
        "parquet-none" => ds.write_parquet(path, parquet(ParquetCompression::Uncompressed))?,
        "parquet-zstd" => ds.write_parquet(path, parquet(ParquetCompression::Zstd(1)))?,
        "parquet-snappy" => ds.write_parquet(path, parquet(ParquetCompression::Snappy))?,
        "ipc-file" => ds.write_ipc(path, ipc(IpcFormat::File))?,
        "ipc-stream" => ds.write_ipc(path, ipc(IpcFormat::Stream))?,
        other => {
            return Err(slicestream::Error::invalid_argument(format!(
                "unknown case {other:?}; cases: {CASES:?}"
            )))
        }
    };
    Ok(summary.bytes)
}

fn main() -> slicestream::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--peer-script") {
        print!("{PEER_SCRIPT}");
        return Ok(());
    }
    let rows: usize = std::env::var("ROWS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(200_000);
    let data = XY::synthetic(rows, 0)?;
    let ds = Dataset::from_tensor_slices(Element::dict([
        ("x", data.x.clone()),
        ("y", data.y.clone()),
    ]))?;
    let dir = std::env::temp_dir().join(format!("slicestream-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| slicestream::Error::io(e, &dir))?;
    let cases: Vec<&str> = if args.is_empty() {
        CASES.to_vec()
    } else {
        args.iter().map(String::as_str).collect()
    };
    for case in cases {
        let path = dir.join(case);
        let mut runs = Vec::new();
        let mut peak = 0u64;
        let mut bytes = 0;
        for _ in 0..3 {
            let base = rss_anon_bytes();
            let sampler = PeakSampler::start();
            let t0 = Instant::now();
            bytes = write(&ds, case, &path)?;
            runs.push(t0.elapsed().as_secs_f64());
            peak = peak.max(sampler.finish().saturating_sub(base));
            std::fs::remove_file(&path).map_err(|e| slicestream::Error::io(e, &path))?;
        }
        runs.sort_by(f64::total_cmp);
        let secs = runs[1];
        println!(
            "slicestream {case:<16} {secs:8.3} s {:6.2} GB/s {:8.1} MiB file  peak anon +{:.0} MiB",
            (rows * 784 * 4) as f64 / secs / 1e9,
            bytes as f64 / (1u64 << 20) as f64,
            peak as f64 / (1u64 << 20) as f64
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
