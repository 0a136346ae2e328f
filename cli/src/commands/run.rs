//! `slicestream run PIPELINE.json`: build a pipeline file and write its elements.

use std::io::Write;
use std::path::PathBuf;

use crate::pipeline_file::encoding::{element_to_json, spec_to_json};

use super::formats::{self, Format};
use super::progress::bytes_text;
use super::{catch_interrupts, check_output, fail, interrupted, CliResult, Failure};

/// Arguments of `run`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "A pipeline file is {\"input\": SOURCE, \"pipeline\": [OP, …]}, the format of TensorFlow's \
golden fixtures (tests/fixtures/tfdata). Sources: range, from_tensor_slices, from_tensors, zip, and files: \
{\"source\": \"npy\", \"path\": …}, npz, tfrecord (with \"features\": \"infer\" or a description). Ops: every \
tf.data transformation that takes no user code, map/filter in a small expression language, and cast, scale \
(x*a+b), one_hot, select, rename. Relative paths are relative to the pipeline file.\n\nExample:\n  \
echo '{\"input\": {\"source\": \"range\", \"args\": [5]}, \"pipeline\": [{\"op\": \"batch\", \"batch_size\": 2}]}' > p.json\n  \
slicestream run p.json"
)]
pub struct Args {
    /// The pipeline file.
    #[arg(value_name = "PIPELINE.json")]
    pipeline: PathBuf,
    /// Write the elements to this file (.npy, .tfrecord, .csv, .parquet, .arrow) instead of JSON
    /// lines on stdout.
    #[arg(long, short, value_name = "PATH")]
    output: Option<PathBuf>,
    /// The output format, instead of the output's extension.
    #[arg(long, value_enum, value_name = "FORMAT", requires = "output")]
    to: Option<Format>,
    /// Replace an existing output.
    #[arg(long, requires = "output")]
    force: bool,
    /// Print the element_spec (as JSON, one line) before the elements.
    #[arg(long)]
    spec: bool,
}

/// Runs `run`.
pub fn run(args: Args) -> CliResult {
    if !args.pipeline.exists() {
        return Err(slicestream::Error::not_found(format!(
            "no such file: {}",
            args.pipeline.display()
        ))
        .into());
    }
    let file = formats::read_pipeline(&args.pipeline)?;
    let ds = crate::pipeline_file::build(&file)?;
    let spec = ds.element_spec()?;
    if let Some(output) = &args.output {
        let format = formats::output_format(args.to, output)?;
        for (_, f) in formats::output_files(format, output, &spec)? {
            check_output(&f, args.force)?;
        }
        catch_interrupts();
        let out = formats::create_output(format, output, &spec)?;
        let progress = super::convert::write_all(&ds, out)?;
        eprintln!(
            "wrote {} elements ({}) to {}",
            progress.elements(),
            bytes_text(progress.bytes() as f64),
            output.display()
        );
        return Ok(());
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut emit = |line: String| -> CliResult<bool> {
        match writeln!(out, "{line}") {
            Ok(()) => Ok(true),
            // A closed pipe (`| head`): the reader has what it wanted.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
            Err(e) => Err(fail(format!("cannot write to stdout: {e}"))),
        }
    };
    if args.spec && !emit(spec_to_json(&spec).to_string())? {
        return Ok(());
    }
    for element in ds.iter() {
        if interrupted() {
            return Err(Failure::Interrupted);
        }
        if !emit(element_to_json(&element?).to_string())? {
            return Ok(());
        }
    }
    match out.flush() {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(fail(format!("cannot write to stdout: {e}")))
        }
        _ => Ok(()),
    }
}
