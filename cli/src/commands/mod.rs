//! The `slicestream` command line: argument parsing ([`Cli`]), dispatch, and how errors end the
//! process (one line on stderr, a non-zero exit code).

mod bench;
mod convert;
mod demo;
mod formats;
mod inspect;
mod outputs;
mod plot;
mod progress;
mod run;
mod stress;
mod summary;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::{Parser, Subcommand};

/// Exit code of a run that failed.
const FAILURE: u8 = 1;
/// Exit code of a bad command line (clap's convention).
const USAGE: u8 = 2;
/// Exit code after Ctrl-C (128 + SIGINT, as shells report it).
const INTERRUPTED: u8 = 130;

/// tf.data for Rust, on the command line: look into data files, convert them through a pipeline,
/// run pipeline files, benchmark, and draw charts.
///
/// With no command, runs `demo`: one epoch over the digits data in data/.
#[derive(Debug, Parser)]
#[command(name = "slicestream", version, propagate_version = true)]
pub struct Cli {
    /// What to do (default: demo).
    #[command(subcommand)]
    command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// The digits demo: data/digits_*.npy shuffled, batched and scaled, checked against digits.json.
    Demo,
    /// Format, element_spec, number of elements, per-component summary and first elements of files.
    Inspect(inspect::Args),
    /// Stream files into another format, through an optional pipeline (shard, skip, take, shuffle,
    /// batch).
    Convert(convert::Args),
    /// The throughput benchmark: elements/s, GB/s, per-stage stats and peak memory, per case.
    Bench(bench::Args),
    /// Run a pipeline file ({"input": …, "pipeline": […]}) and write its elements as JSON lines or to
    /// a file.
    Run(run::Args),
    /// The memory budget under hostile pipelines and soak runs: peak anonymous memory against the
    /// budget, memory and worker threads over many epochs and iterators.
    Stress(stress::Args),
    /// Draw PNG charts: class counts, a histogram, one element's values, an image grid, or
    /// throughput from `bench --json`.
    Plot(plot::Args),
}

/// Why a command failed: a slicestream error, a plain message, or Ctrl-C.
#[derive(Debug)]
pub enum Failure {
    /// An error of the library.
    Lib(slicestream::Error),
    /// A message of the CLI itself.
    Message(String),
    /// The user pressed Ctrl-C; nothing was left under a final name.
    Interrupted,
}

impl From<slicestream::Error> for Failure {
    fn from(e: slicestream::Error) -> Self {
        Failure::Lib(e)
    }
}

/// A CLI-level failure with this message.
pub fn fail(message: impl Into<String>) -> Failure {
    Failure::Message(message.into())
}

/// The result of a command.
pub type CliResult<T = ()> = std::result::Result<T, Failure>;

/// Set by the Ctrl-C handler; long loops check it with [`interrupted`].
static INTERRUPT: AtomicBool = AtomicBool::new(false);

/// Installs the Ctrl-C handler (once; also for SIGTERM and SIGHUP): the first signal sets a flag
/// that the command's loop checks, so writers are dropped (their temporary files removed) before the
/// process exits; a second one exits at once.
pub fn catch_interrupts() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let _ = ctrlc::set_handler(|| {
            if INTERRUPT.swap(true, Ordering::SeqCst) {
                std::process::exit(i32::from(INTERRUPTED));
            }
        });
    });
}

/// Whether Ctrl-C was pressed.
pub fn interrupted() -> bool {
    INTERRUPT.load(Ordering::SeqCst)
}

/// Refuses to overwrite `path` unless `force`.
pub fn check_output(path: &Path, force: bool) -> CliResult {
    if !force && (path.exists() || path.is_symlink()) {
        return Err(fail(format!(
            "{} exists: pass --force to replace it",
            path.display()
        )));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.is_dir() {
            return Err(fail(format!(
                "cannot write {}: the directory {} does not exist",
                path.display(),
                dir.display()
            )));
        }
    }
    Ok(())
}

/// The project's data/ folder: at the top of the workspace when built from the source tree, else
/// ./data.
pub fn data_dir() -> PathBuf {
    let built = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data");
    if built.join("digits_image.npy").exists() {
        built
    } else {
        PathBuf::from("data")
    }
}

/// Runs the command line and turns the outcome into an exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    let result = match cli.command {
        None | Some(Command::Demo) => demo::run(),
        Some(Command::Inspect(args)) => inspect::run(args),
        Some(Command::Convert(args)) => convert::run(args),
        Some(Command::Bench(args)) => bench::run(args),
        Some(Command::Run(args)) => run::run(args),
        Some(Command::Plot(args)) => plot::run(args),
        Some(Command::Stress(args)) => stress::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Interrupted) => {
            eprintln!("interrupted: nothing was written under the output's name");
            ExitCode::from(INTERRUPTED)
        }
        Err(Failure::Lib(e)) => {
            eprintln!("error: {}", one_line(&e.chain()));
            ExitCode::from(FAILURE)
        }
        Err(Failure::Message(m)) => {
            eprintln!("error: {}", one_line(&m));
            ExitCode::from(FAILURE)
        }
    }
}

/// Messages on one line: line breaks (TensorFlow-style multi-line messages) become spaces.
fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Help and version go to stdout with success; a bad command line is one line on stderr (clap's
/// first line, plus where to look) and exit code 2.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                ExitCode::from(USAGE)
            } else {
                ExitCode::SUCCESS
            }
        }
        _ => {
            let text = e.render().to_string();
            // The first paragraph: the message, with any list of missing arguments.
            let first = text
                .trim_start()
                .split("\n\n")
                .next()
                .map(one_line)
                .filter(|l| !l.is_empty())
                .unwrap_or_else(|| "error: bad command line".to_string());
            let first = if first.starts_with("error:") {
                first.to_string()
            } else {
                format!("error: {first}")
            };
            // Point at the subcommand's help when the line names one.
            let sub = std::env::args()
                .nth(1)
                .filter(|a| {
                    ["demo", "inspect", "convert", "bench", "run", "plot"].contains(&a.as_str())
                })
                .map(|a| format!("{a} "))
                .unwrap_or_default();
            eprintln!("{first} (see 'slicestream {sub}--help')");
            ExitCode::from(USAGE)
        }
    }
}
