//! The throughput cases, the same work as the peer benchmark (`tf_bench.py`): x: f32[N, 784] and
//! y: i64, batch 256, each case one full pass, timed over several runs.

use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::memory::PeakSampler;
use slicestream::error::{Error, Result};
use slicestream::runtime::PipelineStats;
use slicestream::transform::{MapOptions, ParallelCalls};
use slicestream::{Dataset, Element, Tensor};

/// Width of x's rows.
pub const D: usize = 784;
/// Batch size of every case.
pub const BATCH: usize = 256;

/// The benchmark's data: `x: f32[n, 784]` uniform in [0, 1) and `y: i64` in 0..10, seeded.
pub struct XY {
    /// Rows of features.
    pub x: Tensor,
    /// Labels.
    pub y: Tensor,
}

impl XY {
    /// `n` rows made from `seed`.
    pub fn synthetic(n: usize, seed: u64) -> Result<Self> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let x: Vec<f32> = (0..n * D).map(|_| rng.random::<f32>()).collect();
        let y: Vec<i64> = (0..n).map(|_| rng.random_range(0..10)).collect();
        Ok(XY {
            x: Tensor::from_vec(vec![n, D], x)?,
            y: Tensor::from_vec1(y),
        })
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.x.shape()[0]
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn dataset(&self) -> Result<Dataset> {
        Dataset::from_tensor_slices(Element::tuple(vec![self.x.clone(), self.y.clone()]))
    }
}

/// What one case measured (medians over the runs).
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// The case's name.
    pub case: String,
    /// What it runs.
    pub description: String,
    /// The form batches were handed over in.
    pub form: OutputForm,
    /// Elements per pass.
    pub elements: u64,
    /// Bytes of x per pass (what GB/s counts).
    pub bytes: u64,
    /// Median seconds per pass.
    pub seconds: f64,
    /// Every run's seconds.
    pub runs: Vec<f64>,
    /// Peak anonymous RSS during the runs above the level before them, in MiB.
    pub peak_anon_mib: f64,
    /// The last run's pipeline stats.
    pub stats: Option<PipelineStats>,
}

impl CaseResult {
    /// Elements per second (median).
    pub fn elements_per_s(&self) -> f64 {
        self.elements as f64 / self.seconds
    }

    /// GB (1e9 bytes) of x per second (median).
    pub fn gb_per_s(&self) -> f64 {
        self.bytes as f64 / self.seconds / 1e9
    }
}

/// The names of the cases, in order (those of [`CASE_DESCRIPTIONS`]).
pub const CASES: [&str; CASE_DESCRIPTIONS.len()] = {
    let mut names = [""; CASE_DESCRIPTIONS.len()];
    let mut i = 0;
    while i < names.len() {
        names[i] = CASE_DESCRIPTIONS[i].0;
        i += 1;
    }
    names
};

/// Each case's name and what it runs, in order.
pub const CASE_DESCRIPTIONS: &[(&str, &str)] = &[
    ("batch", "from_tensor_slices((x, y)).batch(256)"),
    ("shuffle_batch_prefetch", "from_tensor_slices((x, y)).shuffle(10000, seed 1).batch(256).prefetch(2)"),
    ("indexed_shuffle_batch", "from_tensor_slices((x, y)).global_shuffle(seed 1).batch(256)"),
    ("map_batch", "from_tensor_slices((x, y)).map(x*2, parallel autotune, deterministic).batch(256)"),
    ("map_batch_vectorized", "from_tensor_slices((x, y)).batch(256).map_batch(x*2)"),
    ("shuffle_map_batch_prefetch", "from_tensor_slices((x, y)).shuffle(10000, seed 1).map(x*2, autotune).batch(256).prefetch(2)"),
    ("per_element", "from_tensor_slices((x, y)) unbatched, views of both parts"),
    ("padded_batch", "100,000 int32 sequences (lengths 1..64) .padded_batch(64)"),
    ("stream_npy", "a 2 GiB f32[684784, 784] NPY file, memory-mapped, .shuffle(10000).batch(256)"),
    ("generator_shuffle_batch", "from_generator(2 GiB of (f32[784], i64)).shuffle(10000).batch(256)"),
    ("generator_big_shuffle_batch", "from_generator(2 GiB of (f32[784], i64)).shuffle(50000).batch(256): a 150 MiB buffer"),
    ("generator_big_shuffle_batch_budget64", "the same with Options::with_memory_budget(64 MiB): the buffer shrinks to fit"),
];

/// What case `name` runs, if it is a case.
pub fn describe(name: &str) -> Option<&'static str> {
    CASE_DESCRIPTIONS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, d)| *d)
}

/// Writes a 2 GiB `f32[rows, 784]` NPY file (made row block by row block, never whole in memory)
/// into the system's temp folder, once per process; the path.
fn stream_file() -> Result<std::path::PathBuf> {
    use std::sync::OnceLock;
    static PATH: OnceLock<std::result::Result<std::path::PathBuf, String>> = OnceLock::new();
    PATH.get_or_init(|| {
        let path =
            std::env::temp_dir().join(format!("slicestream-stream-{}.npy", std::process::id()));
        let write = || -> Result<()> {
            let mut w = slicestream::io::npy::NpyWriter::create(
                &path,
                slicestream::tensor::DType::F32,
                vec![D],
            )?;
            let block = 4096;
            let mut done = 0;
            while done < GENERATOR_ROWS {
                let n = block.min(GENERATOR_ROWS - done);
                let v: Vec<f32> = (0..n * D)
                    .map(|k| ((done * D + k) % 251) as f32 / 251.0)
                    .collect();
                w.write_batch(&Tensor::from_vec(vec![n, D], v)?)?;
                done += n;
            }
            w.finish()
        };
        write().map(|_| path.clone()).map_err(|e| e.to_string())
    })
    .clone()
    .map_err(Error::invalid_argument)
}

/// Removes the stream case's file (call at the end of a run).
pub fn remove_stream_file() {
    let path = std::env::temp_dir().join(format!("slicestream-stream-{}.npy", std::process::id()));
    let _ = std::fs::remove_file(path);
}

/// Rows of the 2 GiB generator cases.
const GENERATOR_ROWS: usize = (2usize << 30) / (D * 4);

/// 2 GiB of `(x: f32[784], y: i64)` elements made one by one by a generator (as a stream, never all
/// in memory).
fn generator_dataset() -> Result<Dataset> {
    use slicestream::element::{ElementSpec, Structure, TensorSpec};
    use slicestream::tensor::DType;
    let spec = ElementSpec::new(
        Structure::tuple_of_tensors(2),
        vec![
            TensorSpec::new(DType::F32, &[D]),
            TensorSpec::new(DType::I64, &[]),
        ],
    )?;
    Ok(Dataset::from_generator(spec, || {
        (0..GENERATOR_ROWS).map(|i| {
            let x: Vec<f32> = (0..D).map(|j| ((i + j) % 251) as f32 / 251.0).collect();
            Ok(Element::tuple(vec![
                Tensor::from_vec1(x),
                Tensor::scalar((i % 10) as i64),
            ]))
        })
    }))
}

/// x * 2 on one element `(x, y)`.
fn double_x(e: Element) -> Result<Element> {
    let parts = e.into_components();
    let x = parts[0].view::<f32>()?.mapv(|v| v * 2.0);
    Ok(Element::tuple(vec![Tensor::from(x), parts[1].clone()]))
}

/// The form each batch is handed to the consumer in (the CLI's `bench --form`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputForm {
    /// `ndarray` views of every component (`.numpy()` in TensorFlow).
    Ndarray,
    /// An Arrow `RecordBatch` ([`slicestream::frames::to_record_batch`]).
    Arrow,
    /// A Polars `DataFrame` ([`slicestream::frames::to_dataframe`]).
    Polars,
}

impl OutputForm {
    /// Every form, in order.
    pub const ALL: [OutputForm; 3] = [OutputForm::Ndarray, OutputForm::Arrow, OutputForm::Polars];

    /// The form's name: `ndarray`, `arrow`, `polars`.
    pub fn name(self) -> &'static str {
        match self {
            OutputForm::Ndarray => "ndarray",
            OutputForm::Arrow => "arrow",
            OutputForm::Polars => "polars",
        }
    }

    /// The form named `name`.
    pub fn from_name(name: &str) -> Result<Self> {
        OutputForm::ALL
            .into_iter()
            .find(|f| f.name() == name)
            .ok_or_else(|| {
                Error::invalid_argument(format!(
                    "unknown output form {name:?}; the forms are ndarray, arrow, polars"
                ))
            })
    }
}

/// Consumes a batch as a user would: views of both parts (`.numpy()`), or the batch as a record
/// batch or a data frame; returns its number of rows.
fn consume(batch: &Element, form: OutputForm) -> Result<usize> {
    match form {
        OutputForm::Arrow => return Ok(slicestream::frames::to_record_batch(batch)?.num_rows()),
        OutputForm::Polars => return Ok(slicestream::frames::to_dataframe(batch)?.height()),
        OutputForm::Ndarray => {}
    }
    let mut rows = None;
    for t in batch.components() {
        let n = view_len(t)?;
        if rows.is_some_and(|r| r != n) {
            return Err(Error::incompatible("batch components differ in size"));
        }
        rows = Some(n);
    }
    Ok(rows.unwrap_or(0))
}

/// The leading dimension of an ndarray view of `t` (1 for a scalar), for the dtypes of the cases.
fn view_len(t: &Tensor) -> Result<usize> {
    use slicestream::tensor::DType;
    // The view is made, as `.numpy()` would make it; its length is read without copying its shape.
    let first = |shape: &[usize]| shape.first().copied().unwrap_or(1);
    Ok(match t.dtype() {
        DType::F32 => first(t.view::<f32>()?.shape()),
        DType::I64 => first(t.view::<i64>()?.shape()),
        DType::I32 => first(t.view::<i32>()?.shape()),
        _ => first(t.shape()),
    })
}

/// One pass over `ds`, counting elements (rows of batches when `batched`, else elements, each
/// still consumed); returns the count and the stats.
fn pass(ds: &Dataset, batched: bool, form: OutputForm) -> Result<(u64, PipelineStats)> {
    let mut it = ds.iter();
    let mut n = 0u64;
    for b in it.by_ref() {
        let b = b?;
        let rows = match form {
            OutputForm::Ndarray if !batched => {
                for t in b.components() {
                    view_len(t)?;
                }
                1
            }
            _ => consume(&b, form)?,
        };
        n += if batched { rows as u64 } else { 1 };
    }
    Ok((n, it.stats()))
}

/// 100,000 int32 sequences of lengths uniform in 1..=64, seeded.
pub fn sequences(seed: u64) -> Result<Vec<Element>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..100_000)
        .map(|_| {
            let len = rng.random_range(1..=64usize);
            let v: Vec<i32> = (0..len).map(|_| rng.random_range(0..1000)).collect();
            Ok(Element::single(Tensor::from_vec1(v)))
        })
        .collect()
}

/// Runs case `name` `reps` times (after one warm-up run), batches as ndarray views, and reports
/// the medians.
pub fn run_case(name: &str, data: &XY, reps: usize) -> Result<CaseResult> {
    run_case_as(name, data, reps, OutputForm::Ndarray)
}

/// [`run_case`] with each batch handed over in `form`. The unbatched `per_element` case has only
/// the ndarray form.
pub fn run_case_as(name: &str, data: &XY, reps: usize, form: OutputForm) -> Result<CaseResult> {
    let n = data.len();
    let row_bytes = (D * 4) as u64;
    let parallel = MapOptions::default().with_num_parallel_calls(ParallelCalls::Autotune);
    let (ds, batched, elements): (Dataset, bool, u64) = match name {
        "batch" => (data.dataset()?.batch(BATCH, false)?, true, n as u64),
        "shuffle_batch_prefetch" => (
            data.dataset()?
                .shuffle(10_000, Some(1), true)?
                .batch(BATCH, false)?
                .prefetch(2),
            true,
            n as u64,
        ),
        "indexed_shuffle_batch" => (
            data.dataset()?
                .global_shuffle(Some(1), true)?
                .batch(BATCH, false)?,
            true,
            n as u64,
        ),
        "map_batch" => (
            data.dataset()?
                .map_with(parallel.clone(), double_x)
                .batch(BATCH, false)?,
            true,
            n as u64,
        ),
        "map_batch_vectorized" => (
            data.dataset()?.batch(BATCH, false)?.map_batch(double_x),
            true,
            n as u64,
        ),
        "shuffle_map_batch_prefetch" => (
            data.dataset()?
                .shuffle(10_000, Some(1), true)?
                .map_with(parallel.clone(), double_x)
                .batch(BATCH, false)?
                .prefetch(2),
            true,
            n as u64,
        ),
        "per_element" => {
            let m = n.min(100_000);
            (data.dataset()?.take(m as u64), false, m as u64)
        }
        "padded_batch" => (
            Dataset::from_elements(sequences(2)?)?.padded_batch(64, None, None, false)?,
            false,
            1563,
        ),
        "stream_npy" => (
            Dataset::from_npy(stream_file()?)?
                .shuffle(10_000, Some(1), true)?
                .batch(BATCH, false)?,
            false,
            0,
        ),
        "generator_shuffle_batch" => (
            generator_dataset()?
                .shuffle(10_000, Some(1), true)?
                .batch(BATCH, false)?,
            true,
            GENERATOR_ROWS as u64,
        ),
        "generator_big_shuffle_batch" => (
            generator_dataset()?
                .shuffle(50_000, Some(1), true)?
                .batch(BATCH, false)?,
            true,
            GENERATOR_ROWS as u64,
        ),
        "generator_big_shuffle_batch_budget64" => (
            generator_dataset()?
                .shuffle(50_000, Some(1), true)?
                .batch(BATCH, false)?
                .with_options(
                    slicestream::runtime::Options::default().with_memory_budget(64 << 20),
                ),
            true,
            GENERATOR_ROWS as u64,
        ),
        other => {
            return Err(Error::invalid_argument(format!(
                "unknown case {other:?}; the cases are {}",
                CASES.join(", ")
            )))
        }
    };
    let per_element_bytes = if name == "padded_batch" { 0 } else { row_bytes };
    let base = super::memory::rss_anon_bytes();
    let sampler = PeakSampler::start();
    let elements = if name == "stream_npy" {
        GENERATOR_ROWS as u64
    } else {
        elements
    };
    let batched = batched || name == "stream_npy";
    if name == "per_element" && form != OutputForm::Ndarray {
        return Err(Error::invalid_argument(format!(
            "case {name} yields single elements, not batches: it has only the ndarray form"
        )));
    }
    pass(&ds, batched, form)?; // warm-up
    let mut runs = Vec::with_capacity(reps);
    for _ in 0..reps.max(1) {
        let start = Instant::now();
        let (count, _) = pass(&ds, batched, form)?;
        runs.push(start.elapsed().as_secs_f64());
        if count != elements {
            return Err(Error::incompatible(format!(
                "case {name}: {count} elements, expected {elements}"
            )));
        }
    }
    let peak = sampler.finish();
    // The per-stage stats come from one more pass with stage timing on (not among the timed runs:
    // timing costs two clock reads per element and stage).
    let timed = ds.with_options(ds.options().clone().with_stage_timing(true));
    let stats = Some(pass(&timed, batched, form)?.1);
    let mut sorted = runs.clone();
    sorted.sort_by(f64::total_cmp);
    let (elements, bytes) = if name == "padded_batch" {
        (100_000, 0)
    } else {
        (elements, elements * per_element_bytes)
    };
    Ok(CaseResult {
        case: name.to_string(),
        description: describe(name).unwrap_or_default().to_string(),
        form,
        elements,
        bytes,
        seconds: sorted[sorted.len() / 2],
        runs,
        peak_anon_mib: peak.saturating_sub(base) as f64 / (1 << 20) as f64,
        stats,
    })
}
