//! `slicestream stress`: the memory budget under hostile pipelines and the soak runs (issue 14,
//! items 3 and 4), each case in a child process of this binary so that its memory is its own.
//!
//! A hostile case runs twice, with `--budget-mib` and without a budget: the peak anonymous memory
//! above the baseline (taken once the case's data is built) against the budget. A soak case runs
//! `--epochs` epochs and reports memory after each epoch, its slope, and the worker threads left
//! after each iterator is dropped.

use std::process::Command;
use std::time::Instant;

use serde_json::{json, Value};
use slicestream::runtime::Options;

use super::{fail, interrupted, CliResult, Failure};
use crate::bench::hostile::{hostile_case, HOSTILE_CASES};
use crate::bench::memory::{rss_anon_bytes, PeakSampler};
use crate::bench::soak::{soak_case, SOAK_CASES};

/// Readings skipped at the start of a soak before its slope is fitted (pools and allocator caches
/// fill during the first epochs).
const WARM_UP_READINGS: usize = 5;

/// Arguments of `stress`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  slicestream stress --list\n  \
slicestream stress --case shuffle_1e6_3kib --budget-mib 64\n  slicestream stress --case soak_tensor_slices --epochs 100 --json")]
pub struct Args {
    /// Run only these cases (repeat the flag for several); default: all.
    #[arg(long = "case", value_name = "NAME")]
    cases: Vec<String>,
    /// Name the cases and stop.
    #[arg(long)]
    list: bool,
    /// The memory budget of the hostile cases, in MiB.
    #[arg(long, default_value_t = 64, value_name = "MIB")]
    budget_mib: usize,
    /// Epochs of the soak cases (soak_iterators opens 100 iterators per epoch).
    #[arg(long, default_value_t = 100, value_name = "N")]
    epochs: usize,
    /// One JSON object per run on stdout.
    #[arg(long)]
    json: bool,
    /// Run in this process without a budget (internal: what a child does).
    #[arg(long, hide = true)]
    unbudgeted: bool,
    /// Run in this process (internal: what each child does).
    #[arg(long, hide = true)]
    child: bool,
}

fn all_cases() -> impl Iterator<Item = &'static (&'static str, &'static str)> {
    HOSTILE_CASES.iter().chain(SOAK_CASES)
}

fn is_soak(case: &str) -> bool {
    SOAK_CASES.iter().any(|(n, _)| *n == case)
}

/// Runs `stress`.
pub fn run(args: Args) -> CliResult {
    if args.list {
        for (name, description) in all_cases() {
            println!("{name:<24} {description}");
        }
        return Ok(());
    }
    if args.budget_mib == 0 || args.epochs == 0 {
        return Err(fail("--budget-mib and --epochs must be at least 1"));
    }
    for c in &args.cases {
        if !all_cases().any(|(n, _)| n == c) {
            let names: Vec<&str> = all_cases().map(|(n, _)| *n).collect();
            return Err(fail(format!(
                "unknown case {c:?}; the cases are {}",
                names.join(", ")
            )));
        }
    }
    if args.child {
        let [case] = args.cases.as_slice() else {
            return Err(fail("--child runs exactly one --case"));
        };
        println!("{}", measure(&args, case)?);
        return Ok(());
    }
    let selected: Vec<&str> = if args.cases.is_empty() {
        all_cases().map(|(n, _)| *n).collect()
    } else {
        args.cases.iter().map(String::as_str).collect()
    };
    let mut failed = Vec::new();
    for case in selected {
        let budgets: &[bool] = if is_soak(case) {
            &[false]
        } else {
            &[false, true]
        };
        for &unbudgeted in budgets {
            if interrupted() {
                return Err(Failure::Interrupted);
            }
            match in_child(&args, case, unbudgeted) {
                Ok(r) if args.json => println!("{r}"),
                Ok(r) => print_text(&r),
                Err(e) => {
                    eprintln!("error: case {case}: {e}");
                    failed.push(case.to_string());
                }
            }
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(fail(format!("failed: {}", failed.join(", "))))
    }
}

fn in_child(args: &Args, case: &str, unbudgeted: bool) -> Result<Value, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let mut cmd = Command::new(exe);
    cmd.args(["stress", "--child", "--case", case]);
    cmd.args(["--budget-mib", &args.budget_mib.to_string()]);
    cmd.args(["--epochs", &args.epochs.to_string()]);
    if unbudgeted {
        cmd.arg("--unbudgeted");
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
            .trim_start_matches("error: ");
        return Err(if last.is_empty() {
            format!("child process {}", out.status)
        } else {
            last.to_string()
        });
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().last().unwrap_or("");
    serde_json::from_str(line).map_err(|e| format!("bad output from the child ({e}): {line}"))
}

/// A child's work: one case, here.
fn measure(args: &Args, case: &str) -> CliResult<Value> {
    let scratch = std::env::temp_dir().join(format!("slicestream-stress-{}", std::process::id()));
    let description = all_cases()
        .find(|(n, _)| *n == case)
        .map_or("", |(_, d)| *d);
    if is_soak(case) {
        let r = soak_case(case, args.epochs, &scratch)?;
        let _ = std::fs::remove_dir_all(&scratch);
        let last = r.rss_after.last().copied().unwrap_or(0);
        let settled = r
            .rss_after
            .get(WARM_UP_READINGS.min(r.rss_after.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0);
        return Ok(json!({
            "case": case,
            "description": description,
            "epochs": args.epochs,
            "rss_anon_before": r.rss_before,
            "rss_anon_after_each": r.rss_after,
            "slope_bytes_per_reading": r.slope(WARM_UP_READINGS),
            "growth_after_warm_up_bytes": last as i64 - settled as i64,
            "max_live_workers_after_drop": r.max_live_workers_after_drop,
            "batches": r.batches,
            "seconds": r.seconds,
        }));
    }
    let case_data = hostile_case(case, &scratch)?;
    let budget = (!args.unbudgeted).then_some(args.budget_mib << 20);
    let ds = match budget {
        Some(b) => case_data
            .dataset
            .with_options(Options::default().with_memory_budget(b)),
        None => case_data.dataset.clone(),
    };
    let baseline = rss_anon_bytes();
    let sampler = PeakSampler::start();
    let start = Instant::now();
    let (mut elements, mut bytes) = (0u64, 0u64);
    let mut it = ds.iter();
    let result = (|| -> CliResult<()> {
        for e in it.by_ref() {
            let e = e?;
            elements += 1;
            bytes += e.nbytes() as u64;
            drop(e);
            if let Some(d) = case_data.consumer_delay {
                std::thread::sleep(d);
            }
        }
        Ok(())
    })();
    let seconds = start.elapsed().as_secs_f64();
    let stats = it.stats();
    drop(it);
    let peak = sampler.finish();
    case_data.cleanup();
    let _ = std::fs::remove_dir_all(&scratch);
    result?;
    let above = peak.saturating_sub(baseline);
    Ok(json!({
        "case": case,
        "description": description,
        "budget_bytes": budget,
        "baseline_anon_bytes": baseline,
        "peak_anon_bytes": peak,
        "peak_above_baseline_bytes": above,
        "peak_above_baseline_over_budget": budget.map(|b| above as f64 / b as f64),
        "pipeline_peak_bytes_in_flight": stats.peak_bytes_in_flight,
        "elements": elements,
        "bytes": bytes,
        "seconds": seconds,
    }))
}

fn print_text(r: &Value) {
    let mib = |k: &str| r[k].as_f64().unwrap_or(0.0) / (1u64 << 20) as f64;
    let case = r["case"].as_str().unwrap_or("?");
    if r.get("epochs").is_some() {
        println!(
            "{case:<24} {} readings, anon {:.0} MiB before, {:.0} MiB at the end, slope {:+.3} MiB/reading, \
most workers left after a drop {}, {:.1} s",
            r["rss_anon_after_each"].as_array().map_or(0, |a| a.len()),
            mib("rss_anon_before"),
            r["rss_anon_after_each"]
                .as_array()
                .and_then(|a| a.last())
                .and_then(Value::as_f64)
                .unwrap_or(0.0)
                / (1u64 << 20) as f64,
            mib("slope_bytes_per_reading"),
            r["max_live_workers_after_drop"],
            r["seconds"].as_f64().unwrap_or(0.0),
        );
        return;
    }
    let budget = match r["budget_bytes"].as_f64() {
        Some(b) => format!("budget {:.0} MiB", b / (1u64 << 20) as f64),
        None => "no budget".to_string(),
    };
    println!(
        "{case:<24} {budget:<16} peak anon +{:.1} MiB above baseline (pipeline's own count {:.1} MiB), {} elements, {:.2} s",
        mib("peak_above_baseline_bytes"),
        mib("pipeline_peak_bytes_in_flight"),
        r["elements"],
        r["seconds"].as_f64().unwrap_or(0.0),
    );
}
