//! The `slicestream` command line: `inspect`, `convert`, `bench`, `run`, `plot` and `demo` (the
//! default: `cargo run --release` runs the digits demo on data/). See `slicestream --help`.

fn main() -> std::process::ExitCode {
    slicestream_cli::main()
}
