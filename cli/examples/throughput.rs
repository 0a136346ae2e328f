//! Runs the throughput cases: `cargo run --release --example throughput [CASE…]`.

fn main() -> slicestream::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let data = slicestream_cli::bench::XY::synthetic(200_000, 0)?;
    let cases: Vec<&str> = if args.is_empty() {
        slicestream_cli::bench::CASES.to_vec()
    } else {
        args.iter().map(String::as_str).collect()
    };
    for case in cases {
        let r = slicestream_cli::bench::run_case(case, &data, 5)?;
        println!(
            "{:<28} {:>12.0} el/s {:>8.2} GB/s {:>10.4} s  peak anon +{:.0} MiB",
            r.case,
            r.elements_per_s(),
            r.gb_per_s(),
            r.seconds,
            r.peak_anon_mib
        );
    }
    slicestream_cli::bench::remove_stream_file();
    Ok(())
}
