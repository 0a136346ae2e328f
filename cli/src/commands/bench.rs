//! `slicestream bench [INPUT]`: the throughput benchmark, each case in a child process of this binary
//! so that its peak memory is its own.
//!
//! Without INPUT: the digits data of data/ repeated to `--rows` elements (`digits_*` cases) and the
//! synthetic `x: f32[rows, 784]`, `y: i64` work of `crate::bench` (the cases of the peer
//! benchmark `tf_bench.py`). With INPUT: the `input_*` cases over that file.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use crate::bench::memory::{rss_anon_bytes, PeakSampler};
use crate::bench::OutputForm;
use serde_json::{json, Value};
use slicestream::runtime::PipelineStats;
use slicestream::{DType, Dataset, Element, Tensor};

use super::formats::{self, ReadOptions};
use super::{data_dir, fail, interrupted, CliResult, Failure};

/// The cases over the digits data (no INPUT).
const DIGITS_CASES: &[(&str, &str)] = &[
    (
        "digits_batch",
        "digits (uint8[8, 8], int64) repeated, .batch(256)",
    ),
    (
        "digits_shuffle_batch_prefetch",
        "digits repeated, .shuffle(10000).batch(256).prefetch(2)",
    ),
    (
        "digits_map_batch",
        "digits repeated, .batch(256).map_batch(image / 16 as float32)",
    ),
];

/// The cases over an INPUT file.
const INPUT_CASES: &[(&str, &str)] = &[
    ("input_read", "INPUT element by element"),
    ("input_batch", "INPUT .batch(256)"),
    (
        "input_shuffle_batch_prefetch",
        "INPUT .shuffle(10000).batch(256).prefetch(2)",
    ),
];

/// Arguments of `bench`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Each case runs in a child process (peak anonymous memory per case). The synthetic cases \
mirror the peer benchmark tf_bench.py (tf.data, numpy) on x: f32[N, 784], y: i64, batch 256.\n\nExamples:\n  \
slicestream bench --list\n  slicestream bench --case batch --rows 20000 --json\n  slicestream bench --case batch --form arrow --form polars\n  \
slicestream bench data/digits.tfrecord"
)]
pub struct Args {
    /// A data file to benchmark reading (NPY, NPZ, TFRecord, CSV, Parquet, Arrow IPC, or a pipeline
    /// file); default: the digits data and the synthetic work.
    #[arg(value_name = "INPUT")]
    input: Option<PathBuf>,
    /// Run only these cases (repeat the flag for several).
    #[arg(long = "case", value_name = "NAME")]
    cases: Vec<String>,
    /// Hand each batch over as `ndarray` views, an Arrow `arrow` RecordBatch or a Polars `polars`
    /// DataFrame (repeat the flag for several); default: all three (cases that yield single
    /// elements have only the ndarray form).
    #[arg(long = "form", value_name = "FORM", value_parser = ["ndarray", "arrow", "polars"])]
    forms: Vec<String>,
    /// Name the cases and stop.
    #[arg(long)]
    list: bool,
    /// One JSON object per case on stdout.
    #[arg(long)]
    json: bool,
    /// Rows of the synthetic data and of the repeated digits.
    #[arg(long, default_value_t = 200_000, value_name = "N")]
    rows: usize,
    /// Timed runs per case (after one warm-up run); the median is reported.
    #[arg(long, default_value_t = 5, value_name = "N")]
    reps: usize,
    /// Run in this process (internal: what each child does).
    #[arg(long, hide = true)]
    child: bool,
}

/// The cases these arguments can run, with descriptions where known.
fn available(args: &Args) -> Vec<(String, String)> {
    let own = |cases: &[(&str, &str)]| -> Vec<(String, String)> {
        cases
            .iter()
            .map(|(n, d)| (n.to_string(), d.to_string()))
            .collect()
    };
    match &args.input {
        Some(_) => own(INPUT_CASES),
        None => {
            let mut all = own(DIGITS_CASES);
            all.extend(own(crate::bench::CASE_DESCRIPTIONS));
            all
        }
    }
}

/// Runs `bench`.
pub fn run(args: Args) -> CliResult {
    if args.rows == 0 || args.reps == 0 {
        return Err(fail("--rows and --reps must be at least 1"));
    }
    let cases = available(&args);
    if args.list {
        for (name, description) in &cases {
            println!("{name:<40} {description}");
        }
        return Ok(());
    }
    for c in &args.cases {
        if !cases.iter().any(|(n, _)| n == c) {
            let names: Vec<&str> = cases.iter().map(|(n, _)| n.as_str()).collect();
            return Err(fail(format!(
                "unknown case {c:?}; the cases are {}",
                names.join(", ")
            )));
        }
    }
    if let (Some(input), false) = (&args.input, args.child) {
        // Fail here, once, rather than in every child.
        formats::open(std::slice::from_ref(input), &ReadOptions::default())?;
    }
    let forms: Vec<OutputForm> = if args.forms.is_empty() {
        OutputForm::ALL.to_vec()
    } else {
        args.forms
            .iter()
            .map(|f| OutputForm::from_name(f))
            .collect::<slicestream::Result<_>>()?
    };
    if args.child {
        let ([case], [form]) = (args.cases.as_slice(), forms.as_slice()) else {
            return Err(fail("--child runs exactly one --case in one --form"));
        };
        println!("{}", measure(&args, case, *form)?);
        return Ok(());
    }
    let selected: Vec<String> = if args.cases.is_empty() {
        cases.into_iter().map(|(n, _)| n).collect()
    } else {
        args.cases.clone()
    };
    let runs: Vec<(String, OutputForm)> = selected
        .iter()
        .flat_map(|case| {
            let single = unbatched(case);
            forms
                .iter()
                .filter(move |f| !single || **f == OutputForm::Ndarray)
                .map(move |f| (case.clone(), *f))
        })
        .collect();
    if runs.is_empty() {
        return Err(fail(
            "these cases yield single elements: they have only the ndarray form",
        ));
    }
    let mut failed = Vec::new();
    for (case, form) in &runs {
        if interrupted() {
            return Err(Failure::Interrupted);
        }
        match in_child(&args, case, *form) {
            Ok(result) if args.json => println!("{result}"),
            Ok(result) => print_text(&result),
            Err(e) => {
                eprintln!("error: case {case} ({}): {e}", form.name());
                failed.push(format!("{case} ({})", form.name()));
            }
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(fail(format!(
            "{} of {} runs failed: {}",
            failed.len(),
            runs.len(),
            failed.join(", ")
        )))
    }
}

/// Whether `case` yields single elements (not batches): it runs in the ndarray form only.
fn unbatched(case: &str) -> bool {
    matches!(case, "per_element" | "input_read")
}

/// Runs one case in a child process of this binary; its JSON line.
fn in_child(args: &Args, case: &str, form: OutputForm) -> Result<Value, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let mut cmd = Command::new(exe);
    cmd.arg("bench").arg("--child").arg("--case").arg(case);
    cmd.arg("--form").arg(form.name());
    cmd.arg("--rows")
        .arg(args.rows.to_string())
        .arg("--reps")
        .arg(args.reps.to_string());
    if let Some(input) = &args.input {
        cmd.arg(input);
    }
    let out = cmd
        .output()
        .map_err(|e| format!("cannot start the child process: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err
            .lines()
            .last()
            .unwrap_or("")
            .trim_start_matches("error: ")
            .to_string();
        return Err(if last.is_empty() {
            format!("child process {}", out.status)
        } else {
            last
        });
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().last().unwrap_or("");
    serde_json::from_str(line)
        .map_err(|e| format!("bad output from the child process ({e}): {line}"))
}

/// The digits data repeated to at least `rows` elements, as a dict dataset.
fn digits(rows: usize) -> CliResult<Dataset> {
    let dir = data_dir();
    let image = slicestream::io::npy::read_npy(dir.join("digits_image.npy"))?;
    let label = slicestream::io::npy::read_npy(dir.join("digits_label.npy"))?;
    let copies = rows.div_ceil(image.shape()[0].max(1)).max(1);
    let image = Tensor::concat_rows(&vec![image; copies])?.slice_rows(0, rows)?;
    let label = Tensor::concat_rows(&vec![label; copies])?.slice_rows(0, rows)?;
    Ok(Dataset::from_tensor_slices(Element::dict([
        ("image", image),
        ("label", label),
    ]))?)
}

/// The dataset of one of the CLI's own cases.
fn own_case(args: &Args, case: &str) -> CliResult<Dataset> {
    let ds = match &args.input {
        Some(path) => formats::open(std::slice::from_ref(path), &ReadOptions::default())?.dataset,
        None => digits(args.rows)?,
    };
    Ok(match case.split_once('_').map_or("", |(_, rest)| rest) {
        "read" => ds,
        "batch" => ds.batch(256, false)?,
        "shuffle_batch_prefetch" => ds
            .shuffle(10_000, Some(1), true)?
            .batch(256, false)?
            .prefetch(2),
        "map_batch" => ds.batch(256, false)?.map_batch(super::demo::scale),
        _ => return Err(fail(format!("unknown case {case:?}"))),
    })
}

/// One pass: (elements, bytes, stats); batches count their rows and are handed over in `form`.
fn pass(ds: &Dataset, batched: bool, form: OutputForm) -> CliResult<(u64, u64, PipelineStats)> {
    let (mut elements, mut bytes) = (0u64, 0u64);
    let mut it = ds.iter();
    for e in it.by_ref() {
        if interrupted() {
            return Err(Failure::Interrupted);
        }
        let e = e?;
        bytes += e.nbytes() as u64;
        elements += if batched {
            handed_over(&e, form)? as u64
        } else {
            1
        };
    }
    Ok((elements, bytes, it.stats()))
}

/// A batch as the user takes it in `form`: ndarray views of its components, a RecordBatch or a
/// DataFrame; its number of rows.
fn handed_over(batch: &Element, form: OutputForm) -> CliResult<usize> {
    Ok(match form {
        OutputForm::Ndarray => {
            for t in batch.components() {
                match t.dtype() {
                    DType::U8 => drop(t.view::<u8>()?),
                    DType::F32 => drop(t.view::<f32>()?),
                    DType::I64 => drop(t.view::<i64>()?),
                    _ => {}
                }
            }
            batch.batch_size().unwrap_or(1)
        }
        OutputForm::Arrow => slicestream::frames::to_record_batch(batch)?.num_rows(),
        OutputForm::Polars => slicestream::frames::to_dataframe(batch)?.height(),
    })
}

/// Runs one case here (the child's work) and returns its JSON.
fn measure(args: &Args, case: &str, form: OutputForm) -> CliResult<Value> {
    if args.input.is_none() && crate::bench::describe(case).is_some() {
        // A case of crate::bench.
        let data = crate::bench::XY::synthetic(args.rows, 0)?;
        let r = crate::bench::run_case_as(case, &data, args.reps, form);
        crate::bench::remove_stream_file(); // the stream case's file, if it made one
        let r = r?;
        return Ok(result_json(
            &r.case,
            form,
            &r.description,
            args.rows,
            r.elements,
            r.bytes,
            &r.runs,
            r.seconds,
            r.peak_anon_mib,
            r.stats.as_ref(),
        ));
    }
    let description = available(args)
        .into_iter()
        .find(|(n, _)| n == case)
        .map(|(_, d)| d);
    let ds = own_case(args, case)?;
    let batched = !unbatched(case);
    let base = rss_anon_bytes();
    let sampler = PeakSampler::start();
    pass(&ds, batched, form)?; // warm-up
    let mut runs = Vec::with_capacity(args.reps);
    let mut last = (0, 0, None);
    for _ in 0..args.reps {
        let start = Instant::now();
        let (elements, bytes, _) = pass(&ds, batched, form)?;
        runs.push(start.elapsed().as_secs_f64());
        last = (elements, bytes, None);
    }
    let peak = sampler.finish().saturating_sub(base) as f64 / (1 << 20) as f64;
    // Per-stage stats from one more pass with stage timing on (not among the timed runs).
    let timed = ds.with_options(ds.options().clone().with_stage_timing(true));
    last.2 = Some(pass(&timed, batched, form)?.2);
    let mut sorted = runs.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    let description = description.unwrap_or_default();
    Ok(result_json(
        case,
        form,
        &description,
        args.rows,
        last.0,
        last.1,
        &runs,
        median,
        peak,
        last.2.as_ref(),
    ))
}

/// One case's result as the JSON line `bench --json` prints.
#[allow(clippy::too_many_arguments)]
fn result_json(
    case: &str,
    form: OutputForm,
    description: &str,
    rows: usize,
    elements: u64,
    bytes: u64,
    runs: &[f64],
    seconds: f64,
    peak_anon_mib: f64,
    stats: Option<&PipelineStats>,
) -> Value {
    let per_s = |x: f64| if seconds > 0.0 { x / seconds } else { 0.0 };
    let batches = stats.and_then(|s| {
        s.stages
            .iter()
            .find(|st| st.name.contains("batch"))
            .map(|st| st.elements)
    });
    let stages: Vec<Value> = stats
        .map(|s| {
            s.stages
                .iter()
                .map(|st| {
                    json!({"name": st.name, "elements": st.elements, "bytes": st.bytes,
                           "busy_s": st.busy.as_secs_f64(), "waiting_s": st.waiting.as_secs_f64()})
                })
                .collect()
        })
        .unwrap_or_default();
    json!({
        "case": case,
        "form": form.name(),
        "description": description,
        "rows": rows,
        "elements": elements,
        "bytes": bytes,
        "seconds": seconds,
        "runs": runs,
        "elements_per_s": per_s(elements as f64),
        "gb_per_s": per_s(bytes as f64) / 1e9,
        "batches_per_s": batches.map(|b| per_s(b as f64)),
        "peak_anon_mib": peak_anon_mib,
        "peak_bytes_in_flight_mib": stats.map(|s| s.peak_bytes_in_flight as f64 / (1 << 20) as f64),
        "stages": stages,
    })
}

fn print_text(r: &Value) {
    let f = |k: &str| r[k].as_f64().unwrap_or(0.0);
    println!(
        "{:<48} {:>10} el/s {:>8.3} GB/s {:>9.4} s  peak anon +{:.0} MiB",
        format!(
            "{} [{}]",
            r["case"].as_str().unwrap_or("?"),
            r["form"].as_str().unwrap_or("?")
        ),
        crate::plot::human(f("elements_per_s")),
        f("gb_per_s"),
        f("seconds"),
        f("peak_anon_mib")
    );
    if let Some(d) = r["description"].as_str().filter(|d| !d.is_empty()) {
        println!("    {d}");
    }
    if let Some(stages) = r["stages"].as_array().filter(|s| !s.is_empty()) {
        println!(
            "    {:<24} {:>12} {:>10} {:>10} {:>10}",
            "stage", "elements", "MiB", "busy s", "waiting s"
        );
        for s in stages {
            println!(
                "    {:<24} {:>12} {:>10.1} {:>10.3} {:>10.3}",
                s["name"].as_str().unwrap_or("?"),
                s["elements"].as_u64().unwrap_or(0),
                s["bytes"].as_f64().unwrap_or(0.0) / (1 << 20) as f64,
                s["busy_s"].as_f64().unwrap_or(0.0),
                s["waiting_s"].as_f64().unwrap_or(0.0)
            );
        }
    }
}
