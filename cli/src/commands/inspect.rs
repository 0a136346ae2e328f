//! `slicestream inspect FILE…`: what a file holds.

use std::path::{Path, PathBuf};

use crate::pipeline_file::encoding::{element_to_json, spec_to_json};
use serde_json::{json, Value};
use slicestream::TensorSpec;

use super::formats::{self, Format, ReadOptions};
use super::summary::{self, short, Summary};
use super::CliResult;

/// Arguments of `inspect`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  slicestream inspect data/digits.npz\n  slicestream inspect data/digits.tfrecord --json --head 1"
)]
pub struct Args {
    /// Files to inspect (NPY, NPZ, TFRecord, CSV, Parquet, Arrow IPC, or a pipeline file .json),
    /// each on its own.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// One JSON object per file, on one line each.
    #[arg(long)]
    json: bool,
    /// How many first elements to show.
    #[arg(long, default_value_t = 3, value_name = "N")]
    head: usize,
    /// Read only the first N elements (the summary then covers those).
    #[arg(long, value_name = "N")]
    limit: Option<u64>,
    /// TFRecord: show the raw records instead of parsing tf.train.Examples.
    #[arg(long)]
    raw: bool,
    /// The format, instead of detecting it from the magic bytes and the extension.
    #[arg(long, value_enum, value_name = "FORMAT")]
    format: Option<Format>,
}

/// Runs `inspect`.
pub fn run(args: Args) -> CliResult {
    let options = ReadOptions {
        format: args.format,
        raw: args.raw,
    };
    for file in &args.files {
        let input = formats::open(std::slice::from_ref(file), &options)?;
        let spec = input.dataset.element_spec()?;
        let gather = summary::Options {
            head: args.head,
            all_classes: false,
            limit: args.limit,
        };
        let summary = summary::summarize(&input.dataset, &gather)?;
        if args.json {
            println!(
                "{}",
                to_json(file, input.format, &input.note, &input.dataset, &summary)?
            );
        } else {
            print_text(
                file,
                input.format,
                &input.note,
                &spec,
                &input.dataset,
                &summary,
            );
        }
    }
    Ok(())
}

fn to_json(
    file: &Path,
    format: Format,
    note: &str,
    ds: &slicestream::Dataset,
    s: &Summary,
) -> CliResult<Value> {
    let spec = ds.element_spec()?;
    Ok(json!({
        "file": file.to_string_lossy(),
        "format": format.name(),
        "note": note,
        "element_spec": spec_to_json(&spec),
        "element_spec_text": spec.to_string(),
        "cardinality": ds.cardinality().as_tf(),
        "elements": s.elements,
        "bytes": s.bytes,
        "components": s.components.iter().map(|c| c.to_json()).collect::<Vec<_>>(),
        "head": s.head.iter().map(element_to_json).collect::<Vec<_>>(),
    }))
}

/// `[8, 8]`, with `?` for unknown dimensions.
pub fn shape_text(s: &TensorSpec) -> String {
    let dims: Vec<String> = s
        .shape
        .iter()
        .map(|d| d.map_or("?".to_string(), |d| d.to_string()))
        .collect();
    format!("[{}]", dims.join(", "))
}

fn number(v: f64) -> String {
    if !v.is_finite() {
        "-".to_string()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.4}")
    }
}

fn print_text(
    file: &Path,
    format: Format,
    note: &str,
    spec: &slicestream::ElementSpec,
    ds: &slicestream::Dataset,
    s: &Summary,
) {
    let note = if note.is_empty() {
        String::new()
    } else {
        format!(": {note}")
    };
    println!("{} ({}{note})", file.display(), format.name());
    let text = spec.to_string();
    if text.chars().count() > 240 {
        let head: String = text.chars().take(200).collect();
        println!(
            "  element_spec  {head}… ({} components)",
            spec.components().len()
        );
    } else {
        println!("  element_spec  {text}");
    }
    println!(
        "  elements      {} ({:.1} MiB)",
        s.elements,
        s.bytes as f64 / (1 << 20) as f64
    );
    if ds.cardinality().finite() != Some(s.elements) {
        println!("  cardinality   {} (before reading)", ds.cardinality());
    }
    let width = s
        .components
        .iter()
        .map(|c| c.path.len())
        .max()
        .unwrap_or(0)
        .max(9);
    println!(
        "  {:<width$}  {:<8} {:<12} {:>12} {:>12} {:>12}",
        "component", "dtype", "shape", "min", "max", "mean"
    );
    for (c, cs) in s.components.iter().zip(spec.components()) {
        let len = if c.dtype.is_variable_width() {
            " (lengths)"
        } else {
            ""
        };
        println!(
            "  {:<width$}  {:<8} {:<12} {:>12} {:>12} {:>12}{len}",
            c.path,
            c.dtype.name(),
            shape_text(cs),
            number(c.min),
            number(c.max),
            c.mean().map_or("-".to_string(), number)
        );
        if c.nan > 0 {
            println!("  {:<width$}  {} NaN values", "", c.nan);
        }
    }
    // Class counts of the label-like components (few values), a few components at most.
    let labels: Vec<_> = s
        .components
        .iter()
        .filter_map(|c| Some((c, c.classes.as_ref().filter(|k| k.len() <= 20)?)))
        .collect();
    for (c, classes) in labels.iter().take(4) {
        let counts: Vec<String> = classes.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        println!("  classes of {}: {}", c.path, counts.join(", "));
    }
    if labels.len() > 4 {
        println!(
            "  (class counts of {} more components with --json)",
            labels.len() - 4
        );
    }
    if !s.head.is_empty() {
        println!("  first elements:");
    }
    for (i, e) in s.head.iter().enumerate() {
        let parts: Vec<String> = e
            .paths()
            .iter()
            .zip(e.components())
            .map(|(p, t)| format!("{p}: {}", short(t)))
            .collect();
        println!("    {i:<3} {}", parts.join("  "));
    }
}
