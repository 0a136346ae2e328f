//! `ipc`: Arrow IPC data (temporary file) through slicestream's two IPC sources:
//! `Dataset::from_ipc` (file or stream format, detected from the magic; iterated to its end, then
//! a second epoch) and `IpcFileSource::open` (the file format by index: `get` of every row, `slice`
//! and `gather` across record batches, out-of-range indices; `Dataset::from_ipc_indexed`, shuffled
//! and batched). The input is the file's bytes. Only `Ok`/`Err` may come out.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use slicestream::io::ipc_indexed::IpcFileSource;
use slicestream::{Dataset, RandomAccess};

fuzz_target!(|data: &[u8]| {
    common::limit_allocations();
    let path = common::temp_file(data, "arrow");
    if let Ok(ds) = Dataset::from_ipc(&path) {
        common::drain(&ds, 1_000_000);
        common::drain(&ds, 1_000_000);
        if let Ok(b) = ds.batch(5, false) {
            common::drain(&b, 1_000_000);
        }
    }
    if let Ok(src) = IpcFileSource::open(&path) {
        let _ = src.spec();
        let n = src.len();
        for i in 0..n.min(10_000) {
            if let Ok(e) = src.get(i) {
                common::touch_element(&e);
            }
        }
        let _ = src.get(n);
        for (a, b) in [
            (0, n),
            (0, n.min(1)),
            (n / 3, n),
            (n, n),
            (1, 0),
            (0, n + 1),
        ] {
            if let Ok(e) = src.slice(a, b) {
                common::touch_element(&e);
            }
        }
        let idx: Vec<usize> = (0..n.min(64))
            .rev()
            .chain([0, n.saturating_sub(1)])
            .collect();
        if let Ok(e) = src.gather(&idx) {
            common::touch_element(&e);
        }
        let _ = src.gather(&[]);
        let _ = src.gather(&[n]);
        if let Ok(ds) = Dataset::from_ipc_indexed(&path) {
            common::drain(&ds, 1_000_000);
            if let Ok(b) = ds.shuffle(4, Some(1), true).and_then(|d| d.batch(3, false)) {
                common::drain(&b, 1_000_000);
            }
        }
    }
});
