//! Soak runs (issue 14, item 4): many epochs of a training pipeline with the anonymous memory
//! sampled after each epoch, the live worker threads counted after each epoch's iterator is
//! dropped, and thousands of iterators opened and dropped mid-epoch. `slicestream stress` reports
//! the readings and the least-squares slope of memory over the epochs.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use slicestream::io::tfrecord::{
    Compression, Example, Feature, FeatureDescription, FeatureSpec, TfRecordWriter,
};
use slicestream::runtime::live_workers;
use slicestream::transform::{MapOptions, ParallelCalls};
use slicestream::{DType, Dataset, Element, Result, Tensor};

use super::memory::rss_anon_bytes;

/// The soak cases: (name, description).
pub const SOAK_CASES: &[(&str, &str)] = &[
    (
        "soak_tensor_slices",
        "from_tensor_slices(x: f32[200000, 784], y) .shuffle(10000) .map(x/255, AUTOTUNE) .batch(256) .prefetch(2), per epoch",
    ),
    (
        "soak_tfrecord",
        "a TFRecord file of 50,000 Examples (image f32[784], label) parsed, .batch(256) .prefetch(2), per epoch",
    ),
    (
        "soak_iterators",
        "10,000 iterators of the soak_tensor_slices pipeline (20,000 rows), each dropped after 3 batches",
    ),
];

/// What a soak run saw.
pub struct SoakReading {
    /// `RssAnon` in bytes after each epoch (or each 1,000 iterators), its iterator dropped.
    pub rss_after: Vec<u64>,
    /// `RssAnon` before the first epoch, with the data built.
    pub rss_before: u64,
    /// The most live worker threads seen after an iterator was dropped and had 1 s to end them.
    pub max_live_workers_after_drop: usize,
    /// Elements (batches) taken in all.
    pub batches: u64,
    /// Wall time of the whole run.
    pub seconds: f64,
}

impl SoakReading {
    /// The least-squares slope of `rss_after` over its index, in bytes per step, skipping the first
    /// `warm_up` readings (allocator caches and pools fill in the first epochs).
    pub fn slope(&self, warm_up: usize) -> f64 {
        let ys: Vec<f64> = self
            .rss_after
            .iter()
            .skip(warm_up)
            .map(|&y| y as f64)
            .collect();
        let n = ys.len() as f64;
        if ys.len() < 2 {
            return 0.0;
        }
        let mean_x = (n - 1.0) / 2.0;
        let mean_y = ys.iter().sum::<f64>() / n;
        let (mut num, mut den) = (0.0, 0.0);
        for (i, y) in ys.iter().enumerate() {
            let dx = i as f64 - mean_x;
            num += dx * (y - mean_y);
            den += dx * dx;
        }
        num / den
    }
}

/// Waits up to 1 s for every worker thread to end; the count left.
fn workers_after_drop() -> usize {
    let deadline = Instant::now() + Duration::from_secs(1);
    while live_workers() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    live_workers()
}

/// `x: f32[rows, 784]`, `y: i64[rows]` with values that differ by row.
fn xy(rows: usize) -> Result<Element> {
    let x: Vec<f32> = (0..rows * 784).map(|i| (i % 251) as f32).collect();
    let y: Vec<i64> = (0..rows as i64).map(|i| i % 10).collect();
    Ok(Element::dict([
        ("x", Tensor::from_vec(vec![rows, 784], x)?),
        ("y", Tensor::from_vec(vec![rows], y)?),
    ]))
}

/// The training pipeline of the soak over `rows` rows.
fn training_pipeline(rows: usize) -> Result<Dataset> {
    Ok(Dataset::from_tensor_slices(xy(rows)?)?
        .shuffle(10_000, Some(1), true)?
        .map_with(
            MapOptions::default().with_num_parallel_calls(ParallelCalls::Autotune),
            |e: Element| {
                let x = e.get("x")?;
                let scaled: Vec<f32> = x.as_slice::<f32>()?.iter().map(|v| v / 255.0).collect();
                Ok(Element::dict([
                    ("x", Tensor::from_vec(x.shape().to_vec(), scaled)?),
                    ("y", e.get("y")?.clone()),
                ]))
            },
        )
        .batch(256, false)?
        .prefetch(2))
}

/// Runs `epochs` epochs of `ds`, reading memory and threads after each.
fn epochs_of(ds: &Dataset, epochs: usize) -> Result<SoakReading> {
    let start = Instant::now();
    let rss_before = rss_anon_bytes();
    let (mut rss_after, mut max_live, mut batches) = (Vec::new(), 0, 0u64);
    for _ in 0..epochs {
        let mut it = ds.iter();
        for b in it.by_ref() {
            b?;
            batches += 1;
        }
        drop(it);
        max_live = max_live.max(workers_after_drop());
        rss_after.push(rss_anon_bytes());
    }
    Ok(SoakReading {
        rss_after,
        rss_before,
        max_live_workers_after_drop: max_live,
        batches,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// Writes the soak's TFRecord file of `n` Examples under `dir`.
fn write_examples(dir: &Path, n: usize) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).map_err(|e| slicestream::Error::io(e, dir))?;
    let path = dir.join("soak.tfrecord");
    let mut w = TfRecordWriter::create(&path, Compression::None)?;
    for i in 0..n {
        let image: Vec<f32> = (0..784).map(|j| ((i + j) % 256) as f32).collect();
        w.write_example(&Example::new([
            ("image", Feature::floats(image)),
            ("label", Feature::int64s([(i % 10) as i64])),
        ]))?;
    }
    w.finish()?;
    Ok(path)
}

/// Runs soak case `name` for `epochs` epochs (`soak_iterators`: `epochs * 100` iterators), writing
/// files under `scratch`.
pub fn soak_case(name: &str, epochs: usize, scratch: &Path) -> Result<SoakReading> {
    match name {
        "soak_tensor_slices" => epochs_of(&training_pipeline(200_000)?, epochs),
        "soak_tfrecord" => {
            let dir = scratch.join("soak_tfrecord");
            let path = write_examples(&dir, 50_000)?;
            let features = FeatureDescription::new([
                ("image", FeatureSpec::fixed(DType::F32, vec![784])),
                ("label", FeatureSpec::fixed(DType::I64, vec![])),
            ])?;
            let ds = Dataset::from_tfrecord_examples([&path], Compression::None, features)?
                .batch(256, false)?
                .prefetch(2);
            let reading = epochs_of(&ds, epochs);
            let _ = std::fs::remove_dir_all(&dir);
            reading
        }
        "soak_iterators" => {
            let ds = training_pipeline(20_000)?;
            let start = Instant::now();
            let rss_before = rss_anon_bytes();
            let (mut rss_after, mut max_live, mut batches) = (Vec::new(), 0, 0u64);
            for i in 0..epochs * 100 {
                let mut it = ds.iter();
                for b in it.by_ref().take(3) {
                    b?;
                    batches += 1;
                }
                drop(it);
                if (i + 1) % 1000 == 0 {
                    max_live = max_live.max(workers_after_drop());
                    rss_after.push(rss_anon_bytes());
                }
            }
            max_live = max_live.max(workers_after_drop());
            Ok(SoakReading {
                rss_after,
                rss_before,
                max_live_workers_after_drop: max_live,
                batches,
                seconds: start.elapsed().as_secs_f64(),
            })
        }
        _ => Err(slicestream::Error::invalid_argument(format!(
            "unknown soak case {name:?}"
        ))),
    }
}
