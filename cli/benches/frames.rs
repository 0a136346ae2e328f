//! Frames (issue "Frames"): Batch → RecordBatch and Batch → DataFrame over batch sizes 32 … 65,536
//! (the cost is per column, not per row: the times should not grow with the batch size), and the
//! export of x: f32[200000, 784] + y: i64 to Parquet (uncompressed, zstd) and Arrow IPC.
//!
//! `cargo bench --bench frames` (or `-- convert` / `-- export` for one group). `ROWS` sets the
//! export's row count (200,000 by default). For the comparison with pyarrow and peak memory, see
//! `cli/examples/frames_export.rs`.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use slicestream::frames::{
    row_spec_of, to_record_batch, DataFrameConverter, FrameOptions, PolarsStrings,
    RecordBatchConverter,
};
use slicestream::io::ipc::IpcWriteOptions;
use slicestream::io::parquet::{ParquetCompression, ParquetWriteOptions};
use slicestream::{Dataset, Element};
use slicestream_cli::bench::XY;

const SIZES: [usize; 6] = [32, 256, 2048, 8192, 32768, 65536];

fn convert(c: &mut Criterion) {
    let data = XY::synthetic(65_536, 0).expect("synthetic data");
    let whole = Element::dict([("x", data.x.clone()), ("y", data.y.clone())]);
    let spec = row_spec_of(&whole).expect("spec");
    let to_rb = RecordBatchConverter::new(&spec, &FrameOptions::default()).expect("converter");
    let to_df = DataFrameConverter::new(&spec, &FrameOptions::default()).expect("converter");
    let mut group = c.benchmark_group("convert");
    group
        .sample_size(50)
        .measurement_time(Duration::from_secs(3));
    for n in SIZES {
        let batch = whole
            .try_map_components(|_, t| t.slice_rows(0, n))
            .expect("slice");
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("record_batch", n), &batch, |b, batch| {
            b.iter(|| to_rb.convert(batch).expect("convert"))
        });
        group.bench_with_input(BenchmarkId::new("dataframe", n), &batch, |b, batch| {
            b.iter(|| to_df.convert(batch).expect("convert"))
        });
    }
    group.finish();

    // Strings to polars: views over the tensor's values (the default) against LargeUtf8, which
    // polars copies into its view layout.
    let words: Vec<String> = (0..65_536)
        .map(|i| format!("value number {i:>8} of the column"))
        .collect();
    let strings = Element::dict([(
        "s",
        slicestream::Tensor::from_strings([words.len()], &words).expect("strings"),
    )]);
    let spec = row_spec_of(&strings).expect("spec");
    let views = DataFrameConverter::new(&spec, &FrameOptions::default()).expect("converter");
    let large = DataFrameConverter::new(
        &spec,
        &FrameOptions::default().with_polars_strings(PolarsStrings::Large),
    )
    .expect("converter");
    let mut group = c.benchmark_group("strings");
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(3));
    for n in [256usize, 65_536] {
        let batch = strings
            .try_map_components(|_, t| t.slice_rows(0, n))
            .expect("slice");
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("polars_view", n), &batch, |b, batch| {
            b.iter(|| views.convert(batch).expect("convert"))
        });
        group.bench_with_input(
            BenchmarkId::new("polars_large_utf8", n),
            &batch,
            |b, batch| b.iter(|| large.convert(batch).expect("convert")),
        );
        group.bench_with_input(BenchmarkId::new("record_batch", n), &batch, |b, batch| {
            b.iter(|| to_record_batch(batch).expect("convert"))
        });
    }
    group.finish();
}

fn export(c: &mut Criterion) {
    let rows = std::env::var("ROWS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(200_000);
    let data = XY::synthetic(rows, 0).expect("synthetic data");
    let ds = Dataset::from_tensor_slices(Element::dict([("x", data.x), ("y", data.y)]))
        .expect("dataset");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("out");
    let mut group = c.benchmark_group("export");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20))
        .throughput(Throughput::Bytes((rows * 784 * 4) as u64));
    let parquet = |c| ParquetWriteOptions::default().with_compression(c);
    group.bench_function("parquet-none", |b| {
        b.iter(|| {
            ds.write_parquet(&path, parquet(ParquetCompression::Uncompressed))
                .expect("write")
        })
    });
    group.bench_function("parquet-zstd", |b| {
        b.iter(|| {
            ds.write_parquet(&path, parquet(ParquetCompression::Zstd(1)))
                .expect("write")
        })
    });
    group.bench_function("ipc-file", |b| {
        b.iter(|| {
            ds.write_ipc(&path, IpcWriteOptions::default())
                .expect("write")
        })
    });
    group.finish();
}

criterion_group!(benches, convert, export);
criterion_main!(benches);
