//! `DatasetIter::stats()`: after an epoch every stage is listed by name, sources first, with the
//! elements it yielded and their bytes, and the table prints those names and the peak bytes in
//! flight. (Times are reported but never asserted: speed is for benchmarks.)

use ndarray::Array2;
use slicestream::runtime::{Options, PipelineStats, StageStats};
use slicestream::transform::MapOptions;
use slicestream::{Dataset, Element, Tensor};

const ROWS: usize = 100;
const WIDTH: usize = 4;
const BATCH: usize = 8;
/// Bytes of one element: four `f32`.
const ELEMENT_BYTES: u64 = (WIDTH * 4) as u64;

fn source() -> Dataset {
    let x = Array2::<f32>::from_shape_fn((ROWS, WIDTH), |(i, j)| (i * WIDTH + j) as f32);
    Dataset::from_tensor_slices(x).unwrap()
}

/// A map that keeps the element's size: doubles every value.
fn double(e: Element) -> slicestream::Result<Element> {
    let values: Vec<f32> = e
        .component(0)?
        .as_slice::<f32>()?
        .iter()
        .map(|v| v * 2.0)
        .collect();
    Ok(Element::single(Tensor::from_vec1(values)))
}

/// Runs one epoch to its end, checking every element, and returns the stats.
fn run_epoch(ds: &Dataset) -> (PipelineStats, usize) {
    let mut it = ds.iter();
    let mut rows = 0;
    for batch in it.by_ref() {
        rows += batch.unwrap().component(0).unwrap().shape()[0];
    }
    (it.stats(), rows)
}

fn stage<'a>(stats: &'a PipelineStats, name: &str) -> &'a StageStats {
    let found: Vec<&StageStats> = stats.stages.iter().filter(|s| s.name == name).collect();
    assert_eq!(found.len(), 1, "stage {name} in {stats:#?}");
    found[0]
}

fn names(stats: &PipelineStats) -> Vec<&str> {
    stats.stages.iter().map(|s| s.name.as_str()).collect()
}

#[test]
fn every_stage_is_listed_with_what_it_yielded() {
    let batches = ROWS.div_ceil(BATCH) as u64;
    let ds = source()
        .shuffle(16, Some(1), true)
        .unwrap()
        .map(double)
        .batch(BATCH, false)
        .unwrap()
        .prefetch(2);
    let (stats, rows) = run_epoch(&ds);
    assert_eq!(rows, ROWS);
    // Sources first, the consumer-facing stage last.
    assert_eq!(
        names(&stats),
        ["from_tensor_slices", "shuffle", "map", "batch", "prefetch"]
    );
    // The source and the shuffle move indices; the rest move elements.
    assert_eq!(stage(&stats, "from_tensor_slices").elements, ROWS as u64);
    assert_eq!(stage(&stats, "shuffle").elements, ROWS as u64);
    let map = stage(&stats, "map");
    assert_eq!(map.elements, ROWS as u64);
    assert_eq!(map.bytes, ROWS as u64 * ELEMENT_BYTES);
    for name in ["batch", "prefetch"] {
        let s = stage(&stats, name);
        assert_eq!(s.elements, batches, "{name}");
        assert_eq!(s.bytes, ROWS as u64 * ELEMENT_BYTES, "{name}");
    }
    assert_eq!(stats.memory_budget, None);
}

#[test]
fn a_stream_source_and_a_parallel_map_are_counted_too() {
    let ds = Dataset::from_generator(
        slicestream::ElementSpec::single(slicestream::TensorSpec::new(
            slicestream::DType::F32,
            &[WIDTH],
        )),
        || (0..ROWS).map(|i| Ok(Element::single(Tensor::from_vec1(vec![i as f32; WIDTH])))),
    )
    .prefetch(4)
    .shuffle(10, Some(2), false)
    .unwrap()
    .map_with(MapOptions::default().with_num_parallel_calls(4), double)
    .filter(|e| Ok(e.component(0)?.as_slice::<f32>()?[0] < 100.0))
    .batch(BATCH, true)
    .unwrap()
    .with_options(Options::default().with_memory_budget(1 << 20));
    let (stats, rows) = run_epoch(&ds);
    // Values doubled: those of rows 0..50 are below 100.
    let kept = 50;
    let batches = kept / BATCH;
    assert_eq!(rows, batches * BATCH);
    assert_eq!(
        names(&stats),
        [
            "from_generator",
            "prefetch",
            "shuffle",
            "map",
            "filter",
            "batch"
        ]
    );
    for (name, elements) in [
        ("from_generator", ROWS),
        ("prefetch", ROWS),
        ("shuffle", ROWS),
        ("map", ROWS),
        ("filter", kept),
    ] {
        let s = stage(&stats, name);
        assert_eq!(s.elements, elements as u64, "{name}");
        assert_eq!(s.bytes, elements as u64 * ELEMENT_BYTES, "{name}");
    }
    let batch = stage(&stats, "batch");
    assert_eq!(batch.elements, batches as u64);
    assert_eq!(batch.bytes, (batches * BATCH) as u64 * ELEMENT_BYTES);
    // Buffered elements were counted against the budget, and stayed within it.
    assert_eq!(stats.memory_budget, Some(1 << 20));
    assert!(stats.peak_bytes_in_flight > 0);
    assert!(stats.peak_bytes_in_flight <= 1 << 20);
}

#[test]
fn stats_part_way_count_what_was_yielded_so_far() {
    let ds = source().batch(BATCH, false).unwrap();
    let mut it = ds.iter();
    for _ in 0..3 {
        it.next().unwrap().unwrap();
    }
    let stats = it.stats();
    assert_eq!(stage(&stats, "batch").elements, 3);
    assert_eq!(
        stage(&stats, "batch").bytes,
        3 * BATCH as u64 * ELEMENT_BYTES
    );
    let (stats, rows) = run_epoch(&ds);
    assert_eq!(rows, ROWS);
    assert_eq!(
        stage(&stats, "batch").elements,
        ROWS.div_ceil(BATCH) as u64,
        "a new epoch starts its own stats"
    );
}

#[test]
fn the_table_prints_every_stage_and_the_peak_bytes_in_flight() {
    let ds = source()
        .shuffle(16, Some(1), true)
        .unwrap()
        .map(double)
        .batch(BATCH, false)
        .unwrap()
        .prefetch(2)
        .with_options(Options::default().with_memory_budget(1 << 20));
    let (stats, _) = run_epoch(&ds);
    let table = stats.to_string();
    for name in [
        "from_tensor_slices",
        "shuffle",
        "map",
        "batch",
        "prefetch",
        "peak bytes in flight",
        "budget",
    ] {
        assert!(table.contains(name), "{name} missing from:\n{table}");
    }
    // One line per stage, in the order of `stages`, after a header.
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines.len() >= stats.stages.len() + 2, "{table}");
    for (line, s) in lines[1..].iter().zip(&stats.stages) {
        assert!(line.starts_with(&s.name), "{line} / {}", s.name);
        assert!(
            line.contains(&s.elements.to_string()),
            "{line} / {}",
            s.elements
        );
    }
}
