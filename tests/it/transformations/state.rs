//! unique, scan, reduce, get_single_element and counter (issue 13) through the Rust API; the same
//! operations against TensorFlow's own outputs are in cli/tests/it/tf_parity.rs.

use super::{card, collect, scalars, spec0};
use slicestream::{DType, Dataset, Element, ErrorKind, Tensor};

fn scalar(e: &Element) -> i64 {
    e.component(0).unwrap().as_slice::<i64>().unwrap()[0]
}

fn running_sum(s: Element, x: Element) -> slicestream::Result<(Element, Element)> {
    let v = Element::single(Tensor::scalar(scalar(&s) + scalar(&x)));
    Ok((v.clone(), v))
}

#[test]
fn unique_keeps_first_occurrences_in_order() {
    let ds = Dataset::from_tensor_slices(Tensor::from_vec1(vec![3i64, 1, 3, 2, 1, 9]))
        .unwrap()
        .unique()
        .unwrap();
    assert_eq!(scalars(&ds), vec![3, 1, 2, 9]);
    assert_eq!(card(&ds), -2);
    let words =
        Dataset::from_tensor_slices(Tensor::from_strings(vec![4], ["b", "a", "b", "ab"]).unwrap())
            .unwrap()
            .unique()
            .unwrap();
    let got: Vec<String> = collect(&words)
        .iter()
        .map(|e| e.component(0).unwrap().str_at(0).unwrap().to_string())
        .collect();
    assert_eq!(got, ["b", "a", "ab"]);
    // Each epoch starts afresh.
    assert_eq!(scalars(&ds.repeat(2)), vec![3, 1, 2, 9, 3, 1, 2, 9]);
}

#[test]
fn unique_refuses_what_tensorflow_refuses() {
    let floats = Dataset::from_tensor_slices(Tensor::from_vec1(vec![1.0f32])).unwrap();
    let e = floats.unique().unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::InvalidArgument(_)), "{e}");
    assert!(
        e.to_string().contains("does not support type float32"),
        "{e}"
    );
    let pairs = Dataset::from_tensor_slices(Element::tuple(vec![
        Tensor::from_vec1(vec![1i64]),
        Tensor::from_vec1(vec![2i64]),
    ]))
    .unwrap();
    assert!(pairs
        .unique()
        .unwrap_err()
        .to_string()
        .contains("single component"));
}

#[test]
fn scan_carries_its_state_and_infers_the_output_spec() {
    let ds = Dataset::range(0, 5, 1)
        .unwrap()
        .scan(Element::single(Tensor::scalar(10i64)), running_sum)
        .unwrap();
    assert_eq!(scalars(&ds), vec![10, 11, 13, 16, 20]);
    assert_eq!(card(&ds), 5);
    assert_eq!(spec0(&ds).dtype, DType::I64);
    // The state starts again each epoch.
    assert_eq!(scalars(&ds.repeat(2))[5..], [10, 11, 13, 16, 20]);
}

#[test]
fn a_scan_that_changes_its_state_is_an_error() {
    let changes = |_s: Element, x: Element| -> slicestream::Result<(Element, Element)> {
        Ok((Element::single(Tensor::scalar(1.5f32)), x))
    };
    let e = Dataset::range(0, 3, 1)
        .unwrap()
        .scan(Element::single(Tensor::scalar(0i64)), changes)
        .unwrap_err();
    assert!(
        e.to_string().contains("must match the initial state"),
        "{e}"
    );
}

#[test]
fn reduce_folds_and_an_empty_dataset_gives_the_initial_state() {
    let sum = |s: Element, x: Element| Ok(Element::single(Tensor::scalar(scalar(&s) + scalar(&x))));
    let total = Dataset::range(0, 101, 1)
        .unwrap()
        .reduce(Element::single(Tensor::scalar(0i64)), sum)
        .unwrap();
    assert_eq!(scalar(&total), 5050);
    let none = Dataset::range(0, 0, 1)
        .unwrap()
        .reduce(Element::single(Tensor::scalar(42i64)), sum)
        .unwrap();
    assert_eq!(scalar(&none), 42);
}

#[test]
fn get_single_element_wants_exactly_one() {
    let one = Dataset::range(7, 8, 1)
        .unwrap()
        .get_single_element()
        .unwrap();
    assert_eq!(scalar(&one), 7);
    let e = Dataset::range(0, 0, 1)
        .unwrap()
        .get_single_element()
        .unwrap_err();
    assert!(e.to_string().contains("empty"), "{e}");
    let e = Dataset::range(0, 2, 1)
        .unwrap()
        .get_single_element()
        .unwrap_err();
    assert!(e.to_string().contains("more than one"), "{e}");
}

#[test]
fn counter_is_infinite_and_wraps_as_its_dtype() {
    let ds = Dataset::counter(5, -2, DType::I64).unwrap();
    assert_eq!(card(&ds), -1);
    assert_eq!(scalars(&ds.take(4)), vec![5, 3, 1, -1]);
    let small = Dataset::counter(126, 1, DType::I8).unwrap().take(3);
    let got: Vec<i8> = collect(&small)
        .iter()
        .map(|e| e.component(0).unwrap().as_slice::<i8>().unwrap()[0])
        .collect();
    assert_eq!(got, vec![126, 127, -128]);
    assert!(Dataset::counter(0, 1, DType::String).is_err());
}

fn ranges(bounds: &[(i64, i64)]) -> Vec<Dataset> {
    bounds
        .iter()
        .map(|&(a, b)| Dataset::range(a, b, 1).unwrap())
        .collect()
}

#[test]
fn choose_from_datasets_follows_the_choices() {
    let inputs = ranges(&[(0, 3), (10, 13)]);
    let choice =
        Dataset::from_tensor_slices(Tensor::from_vec1(vec![0i64, 1, 1, 0, 1, 0, 0])).unwrap();
    // The second input ends at its fourth turn: with stop_on_empty_dataset the result ends there.
    let stop = Dataset::choose_from_datasets(&inputs, &choice, true).unwrap();
    assert_eq!(scalars(&stop), vec![0, 10, 11, 1, 12, 2]);
    let go_on = Dataset::choose_from_datasets(&inputs, &choice.repeat(2), false).unwrap();
    assert_eq!(scalars(&go_on), vec![0, 10, 11, 1, 12, 2]);
    let bad = Dataset::from_tensor_slices(Tensor::from_vec1(vec![0i64, 2])).unwrap();
    let mut it = Dataset::choose_from_datasets(&inputs, &bad, true)
        .unwrap()
        .iter();
    assert_eq!(scalar(&it.next().unwrap().unwrap()), 0);
    let e = it.next().unwrap().unwrap_err();
    assert!(e.to_string().contains("Selector index out of range"), "{e}");
    let floats = Dataset::from_tensor_slices(Tensor::from_vec1(vec![0.0f32])).unwrap();
    assert!(Dataset::choose_from_datasets(&inputs, &floats, true).is_err());
}

#[test]
fn sample_from_datasets_draws_by_weight_within_three_sigma() {
    let n = 1_000_000usize;
    let weights = [0.5, 0.3, 0.2];
    let inputs: Vec<Dataset> = (0..3)
        .map(|i| {
            Dataset::from_tensors(Element::single(Tensor::scalar(i as i64)))
                .unwrap()
                .repeat_forever()
        })
        .collect();
    let ds = Dataset::sample_from_datasets(&inputs, Some(&weights), Some(7), false, true)
        .unwrap()
        .take(n as u64);
    let mut counts = [0usize; 3];
    for e in ds.iter() {
        counts[scalar(&e.unwrap()) as usize] += 1;
    }
    for (i, w) in weights.iter().enumerate() {
        let expected = n as f64 * w;
        let sigma = (n as f64 * w * (1.0 - w)).sqrt();
        let off = (counts[i] as f64 - expected).abs();
        assert!(
            off < 3.0 * sigma,
            "dataset {i}: {} draws, {expected} expected (sigma {sigma})",
            counts[i]
        );
    }
}

#[test]
fn sample_from_datasets_is_seeded_and_thread_count_invariant() {
    use slicestream::runtime::Options;
    let make = |threads: usize| {
        let ds = Dataset::sample_from_datasets(
            &ranges(&[(0, 50), (100, 150)]),
            Some(&[1.0, 2.0]),
            Some(3),
            false,
            true,
        )
        .unwrap()
        .with_options(Options::default().with_num_threads(threads));
        (scalars(&ds), scalars(&ds))
    };
    let (one_a, one_b) = make(1);
    let (four_a, four_b) = make(4);
    assert_eq!(one_a, four_a);
    assert_eq!(one_b, four_b);
    assert_ne!(
        one_a, one_b,
        "rerandomize_each_iteration draws anew each epoch"
    );
    // Every element of both inputs exactly once (stop_on_empty_dataset false).
    let mut all = one_a.clone();
    all.sort();
    assert_eq!(all, (0..50).chain(100..150).collect::<Vec<_>>());
    // A weightless input is never drawn, and its being left does not hang the epoch.
    let only_first = Dataset::sample_from_datasets(
        &ranges(&[(0, 5), (100, 105)]),
        Some(&[1.0, 0.0]),
        Some(1),
        false,
        false,
    )
    .unwrap();
    assert_eq!(scalars(&only_first), vec![0, 1, 2, 3, 4]);
}

#[test]
fn sample_from_datasets_refuses_bad_weights() {
    let inputs = ranges(&[(0, 2), (0, 2)]);
    for w in [&[1.0][..], &[0.0, 0.0], &[-1.0, 2.0], &[f64::NAN, 1.0]] {
        let e = Dataset::sample_from_datasets(&inputs, Some(w), Some(1), false, true).unwrap_err();
        assert!(
            matches!(e.kind(), ErrorKind::InvalidArgument(_)),
            "{w:?}: {e}"
        );
    }
    assert!(Dataset::sample_from_datasets(&[], None, Some(1), false, true).is_err());
}
