//! `parquet`: a Parquet file (temporary file) read with `Dataset::from_parquet`, every column and
//! then only the first column by name, iterated to its end (and batched), every element touched.
//! Only `Ok`/`Err` may come out.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use slicestream::Dataset;

fuzz_target!(|data: &[u8]| {
    common::limit_allocations();
    let path = common::temp_file(data, "parquet");
    if let Ok(ds) = Dataset::from_parquet([&path], None) {
        let first = ds
            .element_spec()
            .ok()
            .and_then(|s| s.paths().into_iter().next());
        common::drain(&ds, 1_000_000);
        if let Ok(b) = ds.batch(7, false) {
            common::drain(&b, 1_000_000);
        }
        if let Some(name) = first {
            if let Ok(ds) = Dataset::from_parquet([&path], Some(&[name.as_str()][..])) {
                common::drain(&ds, 1_000_000);
            }
        }
    }
});
