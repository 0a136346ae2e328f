//! Hostile pipelines for the memory budget (issue 14, item 3): each would hold far more than the
//! budget if nothing held it back — a map that grows each element 10x, a consumer 100x slower
//! than the producer, an interleave over 1,000 files, `shuffle(10^6)` of 3 KiB elements, padded
//! batches of long-tailed lengths, a parallel map with 64 calls. `slicestream stress` runs each
//! with and without `Options::with_memory_budget` and reports the peak anonymous memory above the
//! baseline taken after the data is built.

use std::path::{Path, PathBuf};
use std::time::Duration;

use slicestream::io::files::{open_tfrecord, Files, FilesOptions};
use slicestream::io::tfrecord::{Compression, TfRecordWriter};
use slicestream::transform::{MapOptions, ParallelCalls};
use slicestream::{Dataset, Element, Result, Tensor};

/// The hostile cases: (name, description).
pub const HOSTILE_CASES: &[(&str, &str)] = &[
    (
        "map_grows_10x",
        "f32[4000, 2560] slices (10 KiB) .map(tile 10x to 100 KiB, 8 calls) .prefetch(4096)",
    ),
    (
        "slow_consumer",
        "range(1000) .map(256 KiB, AUTOTUNE) .prefetch(10000), the consumer sleeping 100x the producer's time",
    ),
    (
        "interleave_1000_files",
        "1,000 TFRecord files of 50 x 4 KiB records, interleave(cycle_length 64, read-ahead 1000 per file)",
    ),
    (
        "shuffle_1e6_3kib",
        "range(10^6) .map(3 KiB) .shuffle(10^6)",
    ),
    (
        "padded_batch_long_tail",
        "range(20000) .map(f32 sequence, length 16/u^2 up to 10^5) .padded_batch(64) .prefetch(64)",
    ),
    (
        "parallel_map_64",
        "range(5000) .map(512 KiB, 64 calls) .prefetch(64)",
    ),
];

/// One hostile case ready to run: the dataset and how slowly the consumer takes each element.
pub struct Hostile {
    /// The pipeline (no options yet).
    pub dataset: Dataset,
    /// Sleep after each element (the slow consumer), if any.
    pub consumer_delay: Option<Duration>,
    /// Files the case wrote (removed by [`Hostile::cleanup`]).
    pub dir: Option<PathBuf>,
}

impl Hostile {
    /// Removes the files the case wrote.
    pub fn cleanup(&self) {
        if let Some(d) = &self.dir {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

/// A float32 vector of `n` values, `v` each.
fn filled(n: usize, v: f32) -> Result<Element> {
    Ok(Element::single(Tensor::from_vec(vec![n], vec![v; n])?))
}

/// The index of a `range` element.
fn index(e: &Element) -> Result<i64> {
    Ok(e.component(0)?.as_slice::<i64>()?[0])
}

/// A uniform number in (0, 1] from an index (a fixed hash, so the lengths are the same each run).
fn uniform(i: i64) -> f64 {
    let mut x = (i as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    ((x >> 11) as f64 + 1.0) / (1u64 << 53) as f64
}

fn parallel(calls: impl Into<ParallelCalls>) -> MapOptions {
    MapOptions::default().with_num_parallel_calls(calls)
}

/// Builds case `name` (its data too: files are written under `scratch`).
pub fn hostile_case(name: &str, scratch: &Path) -> Result<Hostile> {
    let plain = |dataset| Hostile {
        dataset,
        consumer_delay: None,
        dir: None,
    };
    Ok(match name {
        "map_grows_10x" => {
            let x = Tensor::from_vec(vec![4000, 2560], vec![1.0f32; 4000 * 2560])?;
            let ds = Dataset::from_tensor_slices(Element::single(x))?
                .map_with(parallel(8), |e: Element| {
                    let t = e.component(0)?;
                    let v = t.as_slice::<f32>()?;
                    let grown: Vec<f32> = v.iter().copied().cycle().take(v.len() * 10).collect();
                    Ok(Element::single(Tensor::from_vec(vec![grown.len()], grown)?))
                })
                .prefetch(4096);
            plain(ds)
        }
        "slow_consumer" => Hostile {
            dataset: Dataset::range(0, 1000, 1)?
                .map_with(parallel(ParallelCalls::Autotune), |_| filled(65_536, 1.0))
                .prefetch(10_000),
            // Making a 256 KiB element takes about 30 µs here: the consumer takes 100 times as long.
            consumer_delay: Some(Duration::from_millis(3)),
            dir: None,
        },
        "interleave_1000_files" => {
            let dir = scratch.join("interleave_1000_files");
            std::fs::create_dir_all(&dir).map_err(|e| slicestream::Error::io(e, &dir))?;
            let record = vec![7u8; 4096];
            let mut paths = Vec::new();
            for f in 0..1000 {
                let path = dir.join(format!("part-{f:04}.tfrecord"));
                let mut w = TfRecordWriter::create(&path, Compression::None)?;
                for _ in 0..50 {
                    w.write_record(&record)?;
                }
                w.finish()?;
                paths.push(path);
            }
            let options = FilesOptions::default()
                .with_cycle_length(64)
                .with_read_ahead(1000);
            let ds = Dataset::from_files(
                &Files::new(paths),
                options,
                open_tfrecord(Compression::None),
            )?;
            Hostile {
                dataset: ds,
                consumer_delay: None,
                dir: Some(dir),
            }
        }
        "shuffle_1e6_3kib" => plain(
            Dataset::range(0, 1_000_000, 1)?
                .map(|_| filled(768, 2.0))
                .shuffle(1_000_000, Some(1), true)?,
        ),
        "padded_batch_long_tail" => plain(
            Dataset::range(0, 20_000, 1)?
                .map(|e: Element| {
                    let u = uniform(index(&e)?);
                    let len = (16.0 / (u * u)).min(100_000.0) as usize;
                    filled(len.max(1), 3.0)
                })
                .padded_batch(64, None, None, false)?
                .prefetch(64),
        ),
        "parallel_map_64" => plain(
            Dataset::range(0, 5000, 1)?
                .map_with(parallel(64), |_| filled(131_072, 4.0))
                .prefetch(64),
        ),
        _ => {
            return Err(slicestream::Error::invalid_argument(format!(
                "unknown hostile case {name:?}"
            )))
        }
    })
}
