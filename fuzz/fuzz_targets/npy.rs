//! `npy`: an NPY file (header and data) from bytes, through `NpyFile::from_buffer`. Whatever opens
//! is read as `tensor()`, `row(0)`, `slice_rows` and `gather_rows` (with in-range and out-of-range
//! rows), every value touched; a tensor that opened must also round-trip through `to_npy_bytes`.
//! The same bytes are opened as a file too (`NpyFile::open`, memory-mapped, and
//! `Dataset::from_npy`, iterated to the end). Only `Ok`/`Err` may come out.
#![no_main]

#[path = "common.rs"]
mod common;

use arrow_buffer::Buffer;
use libfuzzer_sys::fuzz_target;
use slicestream::io::npy::{to_npy_bytes, NpyFile};
use slicestream::Dataset;

fn exercise(f: &NpyFile) {
    let _ = (
        f.dtype(),
        f.shape(),
        f.fortran_order(),
        f.is_zero_copy(),
        f.header().data_len(),
    );
    let rows = f.num_rows();
    if let Ok(t) = f.tensor() {
        assert_eq!(t.dtype(), f.dtype());
        assert_eq!(t.shape(), f.shape());
        common::touch_tensor(&t);
        // A tensor that was read writes back and reads again the same.
        if let Ok(bytes) = to_npy_bytes(&t) {
            let again = NpyFile::from_buffer(Buffer::from_vec(bytes))
                .and_then(|g| g.tensor())
                .expect("to_npy_bytes output must read back");
            assert_eq!(
                common::tensor_bits(&again),
                common::tensor_bits(&t),
                "npy round trip"
            );
        }
    }
    if let Ok(t) = f.row(0) {
        common::touch_tensor(&t);
    }
    let n = rows.unwrap_or(0);
    for (a, b) in [
        (0, n),
        (0, n.min(1)),
        (n / 2, n),
        (n, n),
        (1, 0),
        (0, n.saturating_add(1)),
        (usize::MAX, 0),
    ] {
        if let Ok(t) = f.slice_rows(a, b) {
            common::touch_tensor(&t);
        }
    }
    let idx: Vec<usize> = [n.saturating_sub(1), 0, n / 2, n.saturating_sub(1)].to_vec();
    if let Ok(t) = f.gather_rows(&idx) {
        common::touch_tensor(&t);
    }
    let _ = f.gather_rows(&[n]);
    let _ = f.gather_rows(&[usize::MAX]);
    let _ = f.gather_rows(&[]);
    let _ = f.row(n);
}

fuzz_target!(|data: &[u8]| {
    common::limit_allocations();
    if let Ok(f) = NpyFile::from_buffer(Buffer::from_vec(data.to_vec())) {
        exercise(&f);
    }
    // The memory-mapped path and the dataset source.
    let path = common::temp_file(data, "npy");
    if let Ok(f) = NpyFile::open(&path) {
        exercise(&f);
    }
    if let Ok(ds) = Dataset::from_npy(&path) {
        common::drain(&ds, 100_000);
        if let Ok(b) = ds.batch(3, false) {
            common::drain(&b, 100_000);
        }
    }
});
