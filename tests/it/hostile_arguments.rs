//! Arguments and shapes far larger than the data, through the library's public API (issue 14):
//! nothing is allocated by the argument, so each case is the right answer (a batch size of 2^62
//! over 10 elements is one batch of 10, as in tf.data) or a typed `TooLarge` error naming the size
//! asked, never an abort.

use slicestream::tensor::alloc::allocation_limit;
use slicestream::{DType, Dataset, Element, ErrorKind, Tensor};

const HUGE: usize = 1 << 62;

fn values(ds: &Dataset) -> Vec<Vec<i64>> {
    ds.iter()
        .map(|e| {
            e.unwrap()
                .component(0)
                .unwrap()
                .as_slice::<i64>()
                .unwrap()
                .to_vec()
        })
        .collect()
}

fn range10() -> Dataset {
    Dataset::range(0, 10, 1).unwrap()
}

fn all10() -> Vec<Vec<i64>> {
    (0..10).map(|i| vec![i]).collect()
}

fn too_large(e: &slicestream::Error) -> bool {
    matches!(e.kind(), ErrorKind::TooLarge { .. })
}

#[test]
fn batch_sizes_beyond_the_data_make_one_short_batch() {
    let got = values(&range10().batch(HUGE, false).unwrap());
    assert_eq!(got, vec![(0..10).collect::<Vec<i64>>()]);
    assert!(values(&range10().batch(HUGE, true).unwrap()).is_empty());
    let rebatched = range10()
        .batch(3, false)
        .unwrap()
        .rebatch(vec![HUGE], false)
        .unwrap();
    assert_eq!(values(&rebatched), vec![(0..10).collect::<Vec<i64>>()]);
}

#[test]
fn buffer_sizes_beyond_the_data_allocate_nothing_by_them() {
    assert_eq!(values(&range10().prefetch(HUGE)), all10());
    let mut shuffled: Vec<i64> = values(&range10().shuffle(HUGE, Some(1), true).unwrap())
        .into_iter()
        .flatten()
        .collect();
    shuffled.sort();
    assert_eq!(shuffled, (0..10).collect::<Vec<i64>>());
}

#[test]
fn window_sizes_beyond_the_data_make_one_window() {
    let windows = range10().window(HUGE, None, HUGE, false).unwrap();
    assert_eq!(windows.cardinality(), slicestream::Cardinality::Finite(1));
    let ds = windows.flat_map(|w| w.batch(1 << 20, false)).unwrap();
    assert_eq!(values(&ds), vec![vec![0]]);
    let windows = range10().window(HUGE, Some(1), 1, true).unwrap();
    assert_eq!(windows.cardinality(), slicestream::Cardinality::Finite(0));
}

#[test]
fn a_cycle_length_beyond_the_inputs_is_the_order_of_one_as_long_as_the_inputs() {
    let open = |e: Element| Dataset::from_tensors(e)?.repeat(3).batch(1, false);
    let wide = range10().interleave(open, 1 << 40, 2).unwrap();
    let exact = range10().interleave(open, 10, 2).unwrap();
    assert_eq!(values(&wide), values(&exact));
    assert_eq!(values(&wide).len(), 30);
}

#[test]
fn tensors_of_terabytes_are_too_large_errors() {
    for dtype in [DType::I64, DType::U8, DType::String] {
        let e = Tensor::zeros(dtype, vec![1usize << 40, 1 << 10]).unwrap_err();
        assert!(too_large(&e), "{dtype}: {e}");
        assert!(e.to_string().contains("[1099511627776, 1024]"), "{e}");
    }
    let e = Tensor::zeros(DType::F32, vec![HUGE, HUGE]).unwrap_err();
    assert!(
        e.to_string().contains("more elements than fit in memory"),
        "{e}"
    );
    for value in [
        Tensor::scalar(7i64),
        Tensor::from_strings(vec![], ["text"]).unwrap(),
    ] {
        let e = Tensor::full(vec![1usize << 40], &value).unwrap_err();
        assert!(too_large(&e), "{e}");
        assert!(
            e.to_string().contains("fill of shape [1099511627776]"),
            "{e}"
        );
    }
    // Under the limit, the same calls work.
    let t = Tensor::full(vec![3], &Tensor::scalar(7i16)).unwrap();
    assert_eq!(t.as_slice::<i16>().unwrap(), &[7, 7, 7]);
    let s = Tensor::full(vec![2], &Tensor::from_strings(vec![], ["ab"]).unwrap()).unwrap();
    assert_eq!(s.str_at(1).unwrap(), "ab");
    assert!(Tensor::zeros(DType::F64, vec![1, allocation_limit() / 8 + 1]).is_err());
}

#[test]
fn a_shape_argument_without_its_values_is_an_error_not_an_allocation() {
    let e = Tensor::from_strings(vec![1usize << 40], ["one"]).unwrap_err();
    assert!(
        e.to_string().contains("needs 1099511627776 values, got 1"),
        "{e}"
    );
}

#[test]
fn padding_to_terabytes_is_a_too_large_error_at_iteration() {
    let ds = range10()
        .map(|e: Element| {
            let n = e.component(0)?.as_slice::<i64>()?[0] as usize;
            Ok(Element::single(Tensor::full(
                vec![n],
                &Tensor::scalar(1i64),
            )?))
        })
        .padded_batch(2, Some(vec![vec![Some(1 << 40)]]), None, false)
        .unwrap();
    let first = ds.iter().next().unwrap().unwrap_err();
    assert!(too_large(&first), "{first}");
    assert!(
        first
            .to_string()
            .contains("a padded batch of 2 elements of shape [1099511627776]"),
        "{first}"
    );
    let one = Tensor::scalar(1i64).reshape(vec![1]).unwrap();
    let e = one.pad_to(&[1 << 40], &Tensor::scalar(0i64)).unwrap_err();
    assert!(too_large(&e), "{e}");
}

#[test]
fn an_example_feature_of_absurd_shape_is_refused_when_described() {
    use slicestream::io::tfrecord::{FeatureDescription, FeatureSpec};
    for shape in [vec![1usize << 40], vec![HUGE, HUGE]] {
        let e = FeatureDescription::new([("x", FeatureSpec::fixed(DType::F32, shape.clone()))])
            .unwrap_err();
        assert!(e.to_string().contains("feature \"x\""), "{e}");
    }
}
