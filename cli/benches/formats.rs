//! File formats (issue 5): the same work as the peer script's cases, measured with slicestream.
//!
//! * `npy_stream`: a 2 GiB `f32[684784, 784]` NPY file (written by this bench into a temporary
//!   directory, removed at the end), memory-mapped, through `shuffle(10000).batch(256)`; compare
//!   with `benches/peers/tf_bench.py --stream --only stream_gen_chunks`. Peak anonymous memory
//!   (`RssAnon`) above the baseline taken before the first pass is reported too.
//! * `tfrecord_parse`: a 1 GiB TFRecord file of `tf.train.Example {x: float_list[784],
//!   y: int64_list[1]}` read and parsed into `{x: f32[784], y: i64}` batches of 256; compare with
//!   `tf_bench.py --only tfrecord_parse_example tfrecord_parse_single`. The file is
//!   `$TMPDIR/slicestream_examples_1GiB.tfrecord`, written by this bench when missing and kept, so
//!   that the peer script reads the very same file (delete it when done).
//!
//! ```sh
//! cargo bench --bench formats                 # every case: a JSON line each, then criterion
//! cargo bench --bench formats -- npy_stream   # one case
//! ```
//!
//! Each case runs one warm-up pass and `PASSES` timed passes and prints the median, min and max
//! (GB = 1e9 bytes), then criterion times the same pass.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use slicestream::io::npy::NpyWriter;
use slicestream::io::tfrecord::{
    Compression, Example, Feature, FeatureDescription, FeatureSpec, TfRecordWriter,
};
use slicestream::{DType, Dataset, Result, Tensor};
use slicestream_cli::bench::memory::{rss_anon_bytes, PeakSampler};

const D: usize = 784;
const BATCH: usize = 256;
const NPY_ROWS: usize = (2usize << 30) / (D * 4);
const TFRECORD_BYTES: u64 = 1 << 30;
const PASSES: usize = 5;

/// Writes the 2 GiB NPY file block by block (never whole in memory).
fn write_npy(path: &Path) -> Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let mut w = NpyWriter::create(path, DType::F32, vec![D])?;
    let block = 16_384;
    let mut done = 0;
    while done < NPY_ROWS {
        let n = block.min(NPY_ROWS - done);
        let v: Vec<f32> = (0..n * D).map(|_| rng.random::<f32>()).collect();
        w.write_batch(&Tensor::from_vec(vec![n, D], v)?)?;
        done += n;
    }
    w.finish()
}

fn tfrecord_path() -> PathBuf {
    std::env::temp_dir().join("slicestream_examples_1GiB.tfrecord")
}

/// Writes the 1 GiB TFRecord file unless a complete one is there.
fn ensure_tfrecord(path: &Path) -> Result<()> {
    if std::fs::metadata(path).is_ok_and(|m| m.len() >= TFRECORD_BYTES) {
        return Ok(());
    }
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut w = TfRecordWriter::create(path, Compression::None)?;
    let mut written = 0u64;
    let mut i = 0i64;
    while written < TFRECORD_BYTES {
        let x: Vec<f32> = (0..D).map(|_| rng.random::<f32>()).collect();
        let bytes =
            Example::new([("x", Feature::floats(x)), ("y", Feature::int64s([i % 10]))]).to_bytes();
        w.write_record(&bytes)?;
        written += bytes.len() as u64 + 16;
        i += 1;
    }
    w.finish()
}

fn features() -> FeatureDescription {
    FeatureDescription::new([
        ("x", FeatureSpec::fixed(DType::F32, [D])),
        ("y", FeatureSpec::fixed(DType::I64, [])),
    ])
    .expect("a valid description")
}

/// One pass: the number of rows received (each batch's `x` viewed, as `.numpy()` would).
fn consume(ds: &Dataset) -> Result<u64> {
    let mut rows = 0u64;
    for batch in ds {
        let batch = batch?;
        rows += batch.component(0)?.shape()[0] as u64;
    }
    Ok(rows)
}

/// The pipelines measured, by case name.
fn pipeline(case: &str, npy: &Path) -> Result<Dataset> {
    match case {
        "npy_stream" => Dataset::from_npy(npy)?
            .shuffle(10_000, Some(1), true)?
            .batch(BATCH, false),
        // Records read on the consumer's thread and parsed as they come.
        "tfrecord_parse" => {
            Dataset::from_tfrecord_examples([tfrecord_path()], Compression::None, features())?
                .batch(BATCH, false)
        }
        // Batches of records framed on the consumer's thread (the file memory-mapped) and parsed
        // on the pipeline's pool, in order.
        "tfrecord_parse_batches" => Dataset::from_tfrecord_example_batches(
            [tfrecord_path()],
            Compression::None,
            features(),
            BATCH,
            false,
        ),
        other => panic!("no case {other}"),
    }
}

/// CPU seconds (user + system) this process has used, from `/proc/self/stat` (0 where missing).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which ends with ')'): utime and stime are the 12th and 13th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (tick(11) + tick(12)) / 100.0
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    s[s.len() / 2]
}

/// Warm-up + timed passes; prints the JSON line.
fn measure(case: &str, npy: &Path, bytes: u64) -> Result<()> {
    let ds = pipeline(case, npy)?;
    let rows = consume(&ds)?;
    let baseline = rss_anon_bytes();
    let sampler = PeakSampler::start();
    let mut times = Vec::with_capacity(PASSES);
    let cpu_start = cpu_seconds();
    for _ in 0..PASSES {
        let start = Instant::now();
        let n = consume(&ds)?;
        times.push(start.elapsed().as_secs_f64());
        assert_eq!(n, rows, "every pass reads every row");
    }
    let cpu_per_pass = (cpu_seconds() - cpu_start) / PASSES as f64;
    let peak = sampler.finish();
    let gbs: Vec<f64> = times.iter().map(|t| bytes as f64 / t / 1e9).collect();
    let line = serde_json::json!({
        "case": case,
        "rows": rows,
        "bytes_per_pass": bytes,
        "passes_s": times,
        "gb_per_s": {"median": median(&gbs), "min": gbs.iter().cloned().fold(f64::MAX, f64::min),
                     "max": gbs.iter().cloned().fold(0.0, f64::max)},
        "rows_per_s_median": rows as f64 / median(&times),
        "cpu_s_per_pass": cpu_per_pass,
        "loadavg": std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim(),
        "rss_anon_baseline_mib": baseline as f64 / (1 << 20) as f64,
        "peak_rss_anon_above_baseline_mib": peak.saturating_sub(baseline) as f64 / (1 << 20) as f64,
    });
    println!("{line}");
    Ok(())
}

fn main() {
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let wanted = |case: &str| filter.is_empty() || filter.iter().any(|f| case.contains(f.as_str()));
    let dir = tempfile::tempdir().expect("a temporary directory");
    let npy = dir.path().join("stream_2GiB.npy");
    let mut cases: Vec<(&str, u64)> = Vec::new();
    if wanted("npy_stream") {
        write_npy(&npy).expect("the NPY file is written");
        cases.push(("npy_stream", (NPY_ROWS * D * 4) as u64));
    }
    let tfr = tfrecord_path();
    for case in ["tfrecord_parse", "tfrecord_parse_batches"] {
        if wanted(case) {
            ensure_tfrecord(&tfr).expect("the TFRecord file is written");
            let size = std::fs::metadata(&tfr).map(|m| m.len()).unwrap_or(0);
            cases.push((case, size));
        }
    }
    for &(case, bytes) in &cases {
        if let Err(e) = measure(case, &npy, bytes) {
            eprintln!("{case}: {e}");
        }
    }
    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(20));
    let mut group = c.benchmark_group("formats");
    for &(case, bytes) in &cases {
        let ds = pipeline(case, &npy).expect("the pipeline builds");
        group.throughput(Throughput::Bytes(bytes));
        group.bench_function(case, |b| b.iter(|| consume(&ds).expect("a pass")));
    }
    group.finish();
    c.final_summary();
}
