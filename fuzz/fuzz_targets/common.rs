//! Helpers shared by the fuzz targets (included with `#[path]`; not a target itself).
#![allow(dead_code)]

use std::path::PathBuf;

use slicestream::{Dataset, Element, Tensor};

/// Caps allocations sized by input at 1 GiB (`tensor::alloc::set_allocation_limit`), under the
/// fuzzers' 2 GiB RSS limit: a few bytes may legitimately ask for more (a TensorProto splat, as in
/// TensorFlow), which the library refuses above the cap with a typed error. Called by every target.
pub fn limit_allocations() {
    slicestream::tensor::alloc::set_allocation_limit(1 << 30);
}

/// Writes `data` to a fresh per-process temporary file `input-<n>.<ext>` and returns its path; the
/// previous input's file is unlinked (not truncated: a dataset's background work may still read a
/// memory map of it after its iterator is dropped, and truncating a mapped file is a SIGBUS).
pub fn temp_file(data: &[u8], ext: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!("slicestream-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create the fuzz temp dir");
    let n = N.fetch_add(1, Ordering::Relaxed);
    if n > 0 {
        let _ = std::fs::remove_file(dir.join(format!("input-{}.{ext}", n - 1)));
    }
    let path = dir.join(format!("input-{n}.{ext}"));
    std::fs::write(&path, data).expect("write the fuzz input file");
    path
}

/// Runs `f` with panics caught and not reported (libFuzzer's hook would abort): for code outside
/// slicestream (arrow's own readers) whose panics are not what a target looks for.
pub fn quietly<R>(f: impl FnOnce() -> R) -> Option<R> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).ok();
    std::panic::set_hook(hook);
    r
}

/// Reads every value of a tensor (its raw bytes, or every string/bytes value) so that a lazily
/// decoded or badly sliced buffer is touched. Returns a checksum so nothing is optimised away.
pub fn touch_tensor(t: &Tensor) -> u64 {
    let mut sum = t.shape().iter().fold(t.dtype() as u64, |a, &d| {
        a.wrapping_mul(31).wrapping_add(d as u64)
    });
    if let Some(b) = t.buffer() {
        for &x in b.as_slice() {
            sum = sum.wrapping_mul(131).wrapping_add(x as u64);
        }
    } else {
        let n = t.num_elements();
        for i in 0..n {
            let v = t
                .bytes_at(i)
                .expect("bytes_at(i) of a var-width tensor, i < num_elements");
            sum = sum.wrapping_add(v.len() as u64);
            for &x in v {
                sum = sum.wrapping_mul(131).wrapping_add(x as u64);
            }
        }
    }
    sum
}

/// Touches every component of an element, and checks that the element matches its own spec.
pub fn touch_element(e: &Element) -> u64 {
    let mut sum = 0u64;
    for t in e.components() {
        sum = sum.wrapping_add(touch_tensor(t));
    }
    let spec = e.spec();
    assert_eq!(
        spec.components().len(),
        e.components().len(),
        "spec of an element"
    );
    sum
}

/// Iterates a dataset to its end, its first error or `cap` elements, touching every element.
/// Returns the number of elements read.
pub fn drain(ds: &Dataset, cap: usize) -> usize {
    let mut n = 0;
    let mut sum = 0u64;
    for item in ds.iter() {
        match item {
            Ok(e) => {
                sum = sum.wrapping_add(touch_element(&e));
                n += 1;
                if n >= cap {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    std::hint::black_box(sum);
    n
}

/// The exact contents of a tensor: dtype, shape and value bytes (floats compared bit for bit, so a
/// NaN equals the same NaN).
pub fn tensor_bits(t: &Tensor) -> (slicestream::DType, Vec<usize>, Vec<Vec<u8>>) {
    let values = match t.buffer() {
        Some(b) => vec![b.as_slice().to_vec()],
        None => t
            .byte_values()
            .expect("byte_values of a var-width tensor")
            .into_iter()
            .map(<[u8]>::to_vec)
            .collect(),
    };
    (t.dtype(), t.shape().to_vec(), values)
}

/// The exact contents of an element: paths and [`tensor_bits`] of every component.
pub fn element_bits(
    e: &Element,
) -> (
    Vec<String>,
    Vec<(slicestream::DType, Vec<usize>, Vec<Vec<u8>>)>,
) {
    (e.paths(), e.components().iter().map(tensor_bits).collect())
}

/// The features the Example targets parse: the test fixtures' `image` (bytes), `label` (int64),
/// `score` (float32[3]) and `name` (string, with a default), and var-len `tags` (bytes), `ids`
/// (int64) and `weights` (float32).
pub fn example_features() -> slicestream::io::tfrecord::FeatureDescription {
    use slicestream::io::tfrecord::{FeatureDescription, FeatureSpec};
    use slicestream::DType;
    FeatureDescription::new([
        ("image", FeatureSpec::fixed(DType::Bytes, [])),
        ("label", FeatureSpec::fixed(DType::I64, [])),
        ("score", FeatureSpec::fixed(DType::F32, [3])),
        (
            "name",
            FeatureSpec::fixed_with_default(
                DType::String,
                [],
                Tensor::from_strings(Vec::<usize>::new(), ["none"]).expect("default"),
            ),
        ),
        ("tags", FeatureSpec::var_len(DType::Bytes)),
        ("ids", FeatureSpec::var_len(DType::I64)),
        ("weights", FeatureSpec::var_len(DType::F32)),
    ])
    .expect("a valid description")
}

/// Fixed-length features only (what the batched parsers take): `label`, `score` and `image`, plus
/// `pair` (int64[2], default `[0, 0]`).
pub fn fixed_features() -> slicestream::io::tfrecord::FeatureDescription {
    use slicestream::io::tfrecord::{FeatureDescription, FeatureSpec};
    use slicestream::DType;
    FeatureDescription::new([
        ("label", FeatureSpec::fixed(DType::I64, [])),
        ("score", FeatureSpec::fixed(DType::F32, [3])),
        ("image", FeatureSpec::fixed(DType::Bytes, [])),
        (
            "pair",
            FeatureSpec::fixed_with_default(DType::I64, [2], Tensor::from_vec1(vec![0i64, 0])),
        ),
    ])
    .expect("a valid description")
}
