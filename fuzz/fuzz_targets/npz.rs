//! `npz`: an NPZ archive (a ZIP of NPY members, stored or deflated) written to a temporary file and
//! opened with `NpzArchive::open`; every member is listed, checked (`is_compressed`), opened
//! (`npy`) and read (`read`, `read_all`), then `read_npz` and `Dataset::from_npz` (iterated to the
//! end). Only `Ok`/`Err` may come out.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use slicestream::io::npy::{read_npz, NpzArchive};
use slicestream::Dataset;

fuzz_target!(|data: &[u8]| {
    common::limit_allocations();
    let path = common::temp_file(data, "npz");
    if let Ok(archive) = NpzArchive::open(&path) {
        let names: Vec<String> = archive.names().iter().map(|s| s.to_string()).collect();
        for name in &names {
            let _ = archive.is_compressed(name);
            if let Ok(f) = archive.npy(name) {
                if let Ok(t) = f.tensor() {
                    common::touch_tensor(&t);
                }
                let _ = f.row(0);
                let _ = f.slice_rows(0, f.num_rows().unwrap_or(0));
            }
            if let Ok(t) = archive.read(name) {
                common::touch_tensor(&t);
            }
        }
        let _ = archive.npy("no such member");
        if let Ok(all) = archive.read_all() {
            for (_, t) in &all {
                common::touch_tensor(t);
            }
        }
    }
    if let Ok(all) = read_npz(&path) {
        for (_, t) in &all {
            common::touch_tensor(t);
        }
    }
    if let Ok(ds) = Dataset::from_npz(&path) {
        common::drain(&ds, 100_000);
    }
});
