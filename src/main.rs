//! The `slicestream` command line: `inspect`, `convert`, `bench`, `run`, `plot` and `demo` (the
//! default: `cargo run --release` runs the digits demo on data/). See `slicestream --help`.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
