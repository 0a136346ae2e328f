//! `slicestream convert INPUT… OUTPUT`: stream files into another format through a pipeline.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use slicestream::runtime::Options;
use slicestream::Dataset;

use super::formats::{self, Format, Output, ReadOptions};
use super::progress::{bytes_text, Progress};
use super::{catch_interrupts, check_output, fail, interrupted, CliResult, Failure};

/// Arguments of `convert`.
#[derive(Debug, clap::Args)]
#[command(override_usage = "slicestream convert [OPTIONS] INPUT... OUTPUT")]
#[command(
    after_help = "The pipeline flags apply in this order: shard, skip, take, select, shuffle, batch \
(see --print-pipeline). Outputs: .npy (one array; put {} in the name for one file per component), \
.tfrecord (one tf.train.Example per element; .gz for GZIP), .csv, .parquet, .arrow (one row per element). The output appears only when complete: \
an error or Ctrl-C leaves nothing under its name.\n\nExamples:\n  slicestream convert data/digits.npz digits.tfrecord\n  \
slicestream convert data/digits.tfrecord 'digits_{}.npy' --shuffle 1797 --seed 7\n  \
slicestream convert data/digits.parquet digits.csv --select label --take 100"
)]
pub struct Args {
    /// Input files (one format), then the output file.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// The output format, instead of the output's extension.
    #[arg(long, value_enum, value_name = "FORMAT")]
    to: Option<Format>,
    /// The input format, instead of detecting it.
    #[arg(long, value_enum, value_name = "FORMAT")]
    from: Option<Format>,
    /// Keep shard I of N (`--shard 4/0`): every N-th element from the I-th.
    #[arg(long, value_name = "N/I", value_parser = parse_shard)]
    shard: Option<(u64, u64)>,
    /// Skip the first N elements.
    #[arg(long, value_name = "N")]
    skip: Option<u64>,
    /// Keep at most N elements.
    #[arg(long, value_name = "N")]
    take: Option<u64>,
    /// Keep only these components (comma-separated paths).
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    select: Vec<String>,
    /// Shuffle with a buffer of N elements.
    #[arg(long, value_name = "N")]
    shuffle: Option<u64>,
    /// The shuffle seed (default: random).
    #[arg(long, value_name = "S", requires = "shuffle")]
    seed: Option<u64>,
    /// Batch N elements into one.
    #[arg(long, value_name = "N")]
    batch: Option<u64>,
    /// Drop the last batch when it is short.
    #[arg(long, requires = "batch")]
    drop_remainder: bool,
    /// Cap the bytes in flight in the pipeline (MiB).
    #[arg(long, value_name = "MIB")]
    memory_budget: Option<usize>,
    /// TFRecord input: the raw records, not parsed tf.train.Examples.
    #[arg(long)]
    raw: bool,
    /// Replace an existing output.
    #[arg(long)]
    force: bool,
    /// Print the pipeline file these flags make, and stop.
    #[arg(long)]
    print_pipeline: bool,
}

/// `N/I` → (N, I).
fn parse_shard(s: &str) -> Result<(u64, u64), String> {
    let (n, i) = s
        .split_once('/')
        .ok_or_else(|| format!("expected N/I (e.g. 4/0), got {s:?}"))?;
    let n: u64 = n
        .trim()
        .parse()
        .map_err(|_| format!("bad shard count {n:?}"))?;
    let i: u64 = i
        .trim()
        .parse()
        .map_err(|_| format!("bad shard index {i:?}"))?;
    if n == 0 || i >= n {
        return Err(format!(
            "shard index must be below the count, got {i} of {n}"
        ));
    }
    Ok((n, i))
}

/// The pipeline-file ops the flags ask for.
fn ops(args: &Args) -> Vec<Value> {
    let mut ops = Vec::new();
    if let Some((n, i)) = args.shard {
        ops.push(json!({"op": "shard", "num_shards": n, "index": i}));
    }
    if let Some(n) = args.skip {
        ops.push(json!({"op": "skip", "count": n}));
    }
    if let Some(n) = args.take {
        ops.push(json!({"op": "take", "count": n}));
    }
    if !args.select.is_empty() {
        ops.push(json!({"op": "select", "components": args.select}));
    }
    if let Some(n) = args.shuffle {
        ops.push(json!({"op": "shuffle", "buffer_size": n, "seed": args.seed}));
    }
    if let Some(n) = args.batch {
        ops.push(json!({"op": "batch", "batch_size": n, "drop_remainder": args.drop_remainder}));
    }
    ops
}

/// Runs `convert`.
pub fn run(args: Args) -> CliResult {
    let (output, inputs) = match args.paths.split_last() {
        Some((output, inputs)) if !inputs.is_empty() => (output, inputs),
        _ => return Err(fail("convert needs at least one INPUT and the OUTPUT")),
    };
    let input = formats::open(
        inputs,
        &ReadOptions {
            format: args.from,
            raw: args.raw,
        },
    )?;
    let ops = ops(&args);
    if args.print_pipeline {
        let mut file = input.pipeline.clone();
        if let Some(Value::Array(existing)) = file.get_mut("pipeline") {
            existing.extend(ops);
        }
        println!(
            "{}",
            serde_json::to_string_pretty(&file).unwrap_or_default()
        );
        return Ok(());
    }
    let format = formats::output_format(args.to, output)?;
    let mut ds = input.with_ops(ops)?;
    if let Some(mib) = args.memory_budget {
        ds = ds.with_options(Options::default().with_memory_budget(mib << 20));
    }
    let spec = ds.element_spec()?;
    let files = formats::output_files(format, output, &spec)?;
    for (_, file) in &files {
        refuse_input(file, inputs)?;
        check_output(file, args.force)?;
    }
    catch_interrupts();
    let out = formats::create_output(format, output, &spec)?;
    let progress = write_all(&ds, out)?;
    let names: Vec<String> = files.iter().map(|(_, f)| f.display().to_string()).collect();
    eprintln!(
        "wrote {} elements ({}) to {} in {:.2} s",
        progress.elements(),
        bytes_text(progress.bytes() as f64),
        names.join(", "),
        progress.seconds()
    );
    Ok(())
}

/// Writes every element of `ds` to `out` with a progress bar; on an error or Ctrl-C, `out` is dropped
/// unfinished, which removes its temporary files.
pub fn write_all(ds: &Dataset, mut out: Box<dyn Output>) -> CliResult<Progress> {
    let mut progress = Progress::new(ds.cardinality().finite());
    for element in ds.iter() {
        if interrupted() {
            drop(out);
            return Err(Failure::Interrupted);
        }
        let element = element?;
        out.write(&element)?;
        progress.add(1, element.nbytes() as u64);
    }
    if interrupted() {
        drop(out);
        return Err(Failure::Interrupted);
    }
    out.finish()?;
    progress.finish();
    Ok(progress)
}

/// An output that is one of the inputs would be replaced while it is read.
fn refuse_input(output: &Path, inputs: &[PathBuf]) -> CliResult {
    let Ok(out) = output.canonicalize() else {
        return Ok(());
    };
    if inputs
        .iter()
        .any(|i| i.canonicalize().is_ok_and(|i| i == out))
    {
        return Err(fail(format!("{} is also an input", output.display())));
    }
    Ok(())
}
