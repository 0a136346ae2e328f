//! ignore_errors (issue 13, item 4): elements whose computation failed are dropped and counted;
//! errors of the pipeline itself, or ones that crossed a stage that cannot go on, are not.

use std::path::Path;

use super::{range, scalar_of, scalars, shapes};
use slicestream::io::tfrecord::Compression;
use slicestream::transform::IgnoreErrorsOptions;
use slicestream::transform::{MapOptions, ParallelCalls};
use slicestream::{Dataset, Element, Error, ErrorKind, Tensor};

/// Fails on every element divisible by 3 (after 0).
fn picky(e: Element) -> slicestream::Result<Element> {
    let x = scalar_of(&e);
    if x > 0 && x % 3 == 0 {
        Err(Error::invalid_argument(format!("{x} is divisible by 3")))
    } else {
        Ok(e)
    }
}

#[test]
fn failed_map_elements_are_skipped_and_counted() {
    let ds = range(0, 10).map(picky).ignore_errors(false);
    assert_eq!(scalars(&ds), vec![0, 1, 2, 4, 5, 7, 8]);
    assert_eq!(ds.cardinality().as_tf(), -2);
    let mut it = ds.iter();
    assert_eq!(it.by_ref().count(), 7);
    let stats = it.stats();
    let stage = stats
        .stages
        .iter()
        .find(|s| s.name == "ignore_errors")
        .unwrap();
    assert_eq!(stage.errors_skipped, 3);
    assert_eq!(stage.elements, 7);
}

#[test]
fn a_parallel_map_goes_on_after_a_failed_element_in_order() {
    for threads in [1, 2, 4] {
        let options = MapOptions::default().with_num_parallel_calls(ParallelCalls::Fixed(4));
        let ds = range(0, 1000)
            .map_with(options, picky)
            .ignore_errors(false)
            .with_options(slicestream::runtime::Options::default().with_num_threads(threads));
        let expected: Vec<i64> = (0..1000).filter(|x| *x == 0 || x % 3 != 0).collect();
        assert_eq!(scalars(&ds), expected, "{threads} threads");
    }
}

#[test]
fn a_batch_whose_elements_do_not_fit_is_dropped_whole() {
    // x -> fill([x % 3], x): batches whose three elements have one length are kept as they are.
    let ds = Dataset::from_tensor_slices(Tensor::from_vec1(vec![2i64, 2, 2, 1, 4, 7, 5, 5, 5]))
        .unwrap()
        .map(|e| {
            let x = scalar_of(&e);
            let n = (x % 3) as usize;
            Ok(Element::single(Tensor::from_vec1(vec![x; n])))
        })
        .batch(3, false)
        .unwrap()
        .ignore_errors(false);
    assert_eq!(shapes(&ds), vec![vec![3, 2], vec![3, 1], vec![3, 2]]);
    let mixed = Dataset::from_tensor_slices(Tensor::from_vec1(vec![2i64, 1, 2, 5, 5, 5, 1]))
        .unwrap()
        .map(|e| {
            let x = scalar_of(&e);
            Ok(Element::single(Tensor::from_vec1(vec![
                x;
                (x % 3) as usize
            ])))
        })
        .batch(3, false)
        .unwrap()
        .ignore_errors(false);
    // The first batch (2,1,2) fails and takes its three elements with it.
    assert_eq!(shapes(&mixed), vec![vec![3, 2], vec![1, 1]]);
}

#[test]
fn an_error_that_crossed_a_prefetch_still_ends_the_epoch_with_it() {
    let ds = range(0, 10).map(picky).prefetch(2).ignore_errors(false);
    let results: Vec<_> = ds.iter().collect();
    assert_eq!(results.len(), 4, "0, 1, 2, then the error of 3");
    let err = results[3].as_ref().unwrap_err();
    assert!(err.to_string().contains("3 is divisible by 3"), "{err}");
}

#[test]
fn a_corrupt_file_is_not_skipped_unless_asked() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/bad/tfrecord/cut_in_data_crc.tfrecord");
    let ds = Dataset::from_tfrecord([&path], Compression::None).unwrap();
    let plain: Vec<_> = ds.ignore_errors(false).iter().collect();
    let err = plain.last().unwrap().as_ref().unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Format(_)), "{err}");
    assert!(!err.is_element_error());
    let all = ds.ignore_errors_with(IgnoreErrorsOptions::default().with_pipeline_errors(true));
    let skipped: Vec<_> = all.iter().collect();
    assert!(skipped.iter().all(|r| r.is_ok()));
    assert_eq!(skipped.len(), plain.len() - 1);
}
