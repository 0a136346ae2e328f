//! The runtime's throughput figures (issue "Runtime"), as criterion benches over the same work as the
//! peer benchmark: x: f32[200000, 784], y: i64, batch 256. Each iteration is one full epoch.
//!
//! `cargo bench --bench pipeline` (or `-- CASE` for one). The CLI's `slicestream bench --json` runs
//! the same cases with peak memory, for comparison with `benches/peers/tf_bench.py`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use slicestream_cli::bench::{run_case, CASES, XY};

fn pipeline(c: &mut Criterion) {
    let data = XY::synthetic(200_000, 0).expect("synthetic data");
    let mut group = c.benchmark_group("pipeline");
    group.sample_size(10);
    for &case in CASES.iter().filter(|c| !c.starts_with("generator")) {
        // One run to learn the work per epoch (elements) for the throughput unit.
        let probe = run_case(case, &data, 1).expect("case runs");
        group.throughput(Throughput::Elements(probe.elements));
        group.bench_function(case, |b| {
            b.iter_custom(|iters| {
                let mut total = std::time::Duration::ZERO;
                for _ in 0..iters {
                    let r = run_case(case, &data, 1).expect("case runs");
                    total += std::time::Duration::from_secs_f64(r.seconds);
                }
                total
            })
        });
    }
    group.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
