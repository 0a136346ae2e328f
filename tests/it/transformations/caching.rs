//! cache() in memory and cache_to_file(path) (issue 13, item 7): a later pass reads the cache,
//! not the source; a pass that does not finish leaves no cache; a cache file of another plan, a
//! corrupt one or a truncated one is an error naming it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::scalars;
use slicestream::{DType, Dataset, Element, ElementSpec, ErrorKind, Tensor, TensorSpec};

/// `range(n)` as a generator that counts the elements it makes.
fn counted(n: i64) -> (Dataset, Arc<AtomicUsize>) {
    let made = Arc::new(AtomicUsize::new(0));
    let m = made.clone();
    let spec = ElementSpec::single(TensorSpec::new(DType::I64, &[]));
    let ds = Dataset::from_generator(spec, move || {
        let m = m.clone();
        (0..n).map(move |i| {
            m.fetch_add(1, Ordering::SeqCst);
            Ok(Element::single(Tensor::scalar(i)))
        })
    });
    (ds, made)
}

#[test]
fn a_memory_cache_is_read_after_the_first_complete_pass() {
    let (source, made) = counted(5);
    let ds = source.map(Ok).cache();
    assert_eq!(scalars(&ds), vec![0, 1, 2, 3, 4]);
    assert_eq!(scalars(&ds), vec![0, 1, 2, 3, 4]);
    assert_eq!(scalars(&ds.repeat(3)), [0, 1, 2, 3, 4].repeat(3));
    assert_eq!(made.load(Ordering::SeqCst), 5, "the source is read once");
    assert_eq!(ds.cardinality(), source.cardinality());
}

#[test]
fn an_unfinished_pass_caches_nothing() {
    let (source, made) = counted(5);
    let ds = source.cache();
    let firsts: Vec<_> = ds.iter().take(2).collect();
    assert_eq!(firsts.len(), 2);
    assert_eq!(scalars(&ds), vec![0, 1, 2, 3, 4]);
    assert_eq!(
        made.load(Ordering::SeqCst),
        7,
        "the second pass read the source again"
    );
    assert_eq!(scalars(&ds), vec![0, 1, 2, 3, 4]);
    assert_eq!(
        made.load(Ordering::SeqCst),
        7,
        "the third pass read the cache"
    );
}

#[test]
fn a_file_cache_is_written_whole_and_read_by_later_passes_and_plans() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.elements");
    let (source, made) = counted(6);
    let strings = |ds: &Dataset| {
        ds.map(|e| {
            let x = e.component(0)?.as_slice::<i64>()?[0];
            let word = "ab".repeat(x as usize);
            Ok(Element::tuple(vec![
                Tensor::scalar(x),
                Tensor::from_strings(vec![2], [word.as_str(), "z"])?,
            ]))
        })
    };
    let ds = strings(&source).cache_to_file(&path);
    // An interrupted first pass leaves no file.
    assert_eq!(ds.iter().take(3).count(), 3);
    assert!(!path.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no temporary file left"
    );
    let first: Vec<Element> = ds.iter().collect::<slicestream::Result<_>>().unwrap();
    assert_eq!(first.len(), 6);
    assert!(path.exists());
    let read_before = made.load(Ordering::SeqCst);
    let second: Vec<Element> = ds.iter().collect::<slicestream::Result<_>>().unwrap();
    assert_eq!(second, first);
    assert_eq!(
        made.load(Ordering::SeqCst),
        read_before,
        "the second pass read the file"
    );
    // A new plan of the same pipeline (another process, say) reads the file too.
    let (source2, made2) = counted(6);
    let again = strings(&source2).cache_to_file(&path);
    let third: Vec<Element> = again.iter().collect::<slicestream::Result<_>>().unwrap();
    assert_eq!(third, first);
    // (Checking the file's spec asks the undeclared map for its spec: one element of the source.)
    assert!(made2.load(Ordering::SeqCst) <= 1);
}

#[test]
fn a_cache_file_of_another_plan_or_a_damaged_one_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.elements");
    let ds = Dataset::range(0, 4, 1).unwrap().cache_to_file(&path);
    assert_eq!(scalars(&ds), vec![0, 1, 2, 3]);
    let other = Dataset::range(0, 4, 1)
        .unwrap()
        .map(Ok)
        .cache_to_file(&path);
    let err = other.iter().next().unwrap().unwrap_err();
    assert!(
        err.to_string().contains("the cache file holds elements"),
        "{err}"
    );
    assert_eq!(err.position().file.as_deref(), Some(path.as_path()));

    let bytes = std::fs::read(&path).unwrap();
    // A flipped byte in the last record's payload, then a truncated file.
    let mut flipped = bytes.clone();
    let at = bytes.len() - 21;
    flipped[at] ^= 0xFF;
    std::fs::write(&path, &flipped).unwrap();
    let got: Vec<_> = ds.iter().collect();
    let err = got.last().unwrap().as_ref().unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Format(_)), "{err}");
    assert!(err.to_string().contains("checksum"), "{err}");
    assert!(err.position().byte_offset.is_some());
    assert_eq!(got.len(), 4, "three good records, then the error");
    std::fs::write(&path, &bytes[..bytes.len() - 5]).unwrap();
    let err = ds.iter().last().unwrap().unwrap_err();
    assert!(err.to_string().contains("truncated"), "{err}");
    std::fs::write(&path, b"not an element file").unwrap();
    let err = ds.iter().next().unwrap().unwrap_err();
    assert!(err.to_string().contains("bad magic"), "{err}");
}
