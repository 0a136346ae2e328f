//! The `slicestream` command line: `inspect`, `convert`, `bench`, `run`, `plot` and `demo` (the
//! default: `cargo run --release` runs the digits demo on data/). See `slicestream --help`.

/// mimalloc, as polars' binaries use: glibc's malloc returns every freed batch of more than its
/// (dynamic) mmap threshold to the kernel, so the next one faults in each of its pages again;
/// mimalloc keeps them. Measured on `bench --case shuffle_batch_prefetch` (800 KB batches):
/// 5.3–6.0 GB/s with glibc, 9.5–10.1 GB/s with mimalloc (docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    slicestream_cli::main()
}
