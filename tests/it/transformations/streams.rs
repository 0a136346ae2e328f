//! shuffle, map, map_batch, filter, take, skip, repeat, shard, zip, concatenate, enumerate,
//! flat_map, take_while, prefetch.

use super::*;
use ndarray::Array2;
use slicestream::{DType, ElementSpec, ErrorKind, Structure};
use std::time::{Duration, Instant};

// ----- shuffle ----------------------------------------------------------------------------------

#[test]
fn shuffle_is_seeded_and_reshuffles_per_epoch() {
    let n = 100;
    let a = range(0, n).shuffle(100, Some(42), true).unwrap();
    let b = range(0, n).shuffle(100, Some(42), true).unwrap();
    assert_eq!(card(&a), n);
    assert_eq!(spec0(&a), TensorSpec::new(DType::I64, &[]));
    let (a1, b1) = (scalars(&a), scalars(&b));
    assert_eq!(a1, b1, "same seed, same order");
    let mut sorted = a1.clone();
    sorted.sort();
    assert_eq!(sorted, (0..n).collect::<Vec<_>>(), "a permutation");
    assert_ne!(a1, sorted, "shuffled");
    let a2 = scalars(&a);
    assert_ne!(a1, a2, "reshuffle_each_iteration: epoch 2 differs");
    assert_eq!(a2, scalars(&b), "epoch 2 is also determined by the seed");
    assert_ne!(
        a1,
        scalars(&range(0, n).shuffle(100, Some(43), true).unwrap()),
        "another seed"
    );

    let c = range(0, n).shuffle(100, Some(42), false).unwrap();
    let c1 = scalars(&c);
    assert_eq!(
        c1,
        scalars(&c),
        "reshuffle_each_iteration=false: same order each epoch"
    );
    assert_ne!(c1, sorted);
}

#[test]
fn shuffle_then_repeat_reshuffles_each_repetition() {
    let sorted: Vec<i64> = (0..30).collect();
    let out = scalars(&range(0, 30).shuffle(30, Some(9), true).unwrap().repeat(2));
    let (first, second) = out.split_at(30);
    for part in [first, second] {
        let mut p = part.to_vec();
        p.sort();
        assert_eq!(p, sorted);
    }
    assert_ne!(first, second, "a new order in the second repetition");
    let out = scalars(&range(0, 30).shuffle(30, Some(9), false).unwrap().repeat(2));
    assert_eq!(
        out[..30],
        out[30..],
        "reshuffle_each_iteration=false: the same order"
    );
    assert_ne!(out[..30], sorted[..]);
}

#[test]
fn shuffle_buffer_bounds_the_displacement() {
    // Buffer of 1: the input order.
    assert_eq!(
        scalars(&range(0, 20).shuffle(1, Some(7), true).unwrap()),
        (0..20).collect::<Vec<_>>()
    );
    // With a buffer of b, output k can only be an input among the first k + b.
    let b = 5;
    let out = scalars(&range(0, 200).shuffle(b, Some(3), true).unwrap());
    for (k, &x) in out.iter().enumerate() {
        assert!(x < (k + b) as i64, "output {k} is {x}, beyond the buffer");
    }
    // Over an element stream (after a map) too.
    let mapped = range(0, 50).map(|e| Ok(Element::single(Tensor::scalar(scalar_of(&e)))));
    let mut got = scalars(&mapped.shuffle(8, Some(1), true).unwrap());
    got.sort();
    assert_eq!(got, (0..50).collect::<Vec<_>>());
}

// ----- map, map_batch, filter ------------------------------------------------------------------------

#[test]
fn map_values_and_inferred_spec() {
    let ds = range(0, 5).map(|e| {
        let x = scalar_of(&e);
        Ok(Element::tuple(vec![
            Tensor::scalar(x * x),
            Tensor::scalar(x as f32 + 0.5),
        ]))
    });
    assert_eq!(card(&ds), 5);
    let spec = ds.element_spec().unwrap();
    assert_eq!(spec.structure(), &Structure::tuple_of_tensors(2));
    assert_eq!(spec.get("0").unwrap(), &TensorSpec::new(DType::I64, &[]));
    assert_eq!(spec.get("1").unwrap(), &TensorSpec::new(DType::F32, &[]));
    let got: Vec<(i64, f32)> = collect(&ds)
        .iter()
        .map(|e| {
            (
                ints(e.get("0").unwrap())[0],
                e.get("1").unwrap().as_slice::<f32>().unwrap()[0],
            )
        })
        .collect();
    assert_eq!(
        got,
        (0..5).map(|x| (x * x, x as f32 + 0.5)).collect::<Vec<_>>()
    );
}

#[test]
fn map_with_spec_checks_every_output() {
    let spec = ElementSpec::single(TensorSpec::new(DType::F32, &[2]));
    let ds = range(0, 3).map_with_spec(spec.clone(), |e| {
        let x = scalar_of(&e) as f32;
        Ok(Element::single(Tensor::from_vec1(vec![x, x + 1.0])))
    });
    assert_eq!(ds.element_spec().unwrap(), spec);
    let got: Vec<Vec<f32>> = collect(&ds)
        .iter()
        .map(|e| e.component(0).unwrap().as_slice::<f32>().unwrap().to_vec())
        .collect();
    assert_eq!(got, vec![vec![0.0, 1.0], vec![1.0, 2.0], vec![2.0, 3.0]]);

    // Element 2 has three values where the spec says two.
    let ds = range(0, 4).map_with_spec(spec, |e| {
        let x = scalar_of(&e) as f32;
        let n = if x == 2.0 { 3 } else { 2 };
        Ok(Element::single(Tensor::from_vec1(vec![x; n])))
    });
    let mut it = ds.iter();
    assert!(it.next().unwrap().is_ok());
    assert!(it.next().unwrap().is_ok());
    let err = it.next().unwrap().unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::ShapeMismatch { expected, found } if expected == &[Some(2)] && found == &[3]),
        "{err:?}"
    );
    assert_eq!(err.position().stage.as_deref(), Some("map"));
    assert_eq!(err.position().element, Some(2));
    assert_eq!(err.position().component.as_deref(), Some("0"));
    assert!(it.next().is_none());
}

#[test]
fn map_batch_keeps_the_batch_size() {
    let ds = range(0, 10).batch(4, false).unwrap().map_batch(|b| {
        let v: Vec<i64> = ints(b.component(0)?).iter().map(|x| x * 10).collect();
        Ok(Element::single(Tensor::from_vec1(v)))
    });
    assert_eq!(
        rows(&ds),
        vec![vec![0, 10, 20, 30], vec![40, 50, 60, 70], vec![80, 90]]
    );
    assert_eq!(card(&ds), 3);
    assert_eq!(spec0(&ds), TensorSpec::with_unknown(DType::I64, vec![None]));

    let dropping = range(0, 10).batch(4, false).unwrap().map_batch(|b| {
        let v = ints(b.component(0)?);
        Ok(Element::single(Tensor::from_vec1(v[1..].to_vec())))
    });
    let err = dropping.iter().next().unwrap().unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Incompatible(_)), "{err}");
    assert_eq!(err.position().stage.as_deref(), Some("map_batch"));
    assert_eq!(err.position().element, Some(0));
}

#[test]
fn filter_keeps_matching_elements() {
    let even = |e: &Element| Ok(ints(e.component(0)?)[0] % 2 == 0);
    let ds = range(0, 10).filter(even);
    assert_eq!(scalars(&ds), vec![0, 2, 4, 6, 8]);
    assert_eq!(card(&ds), -2);
    assert_eq!(spec0(&ds), TensorSpec::new(DType::I64, &[]));
    // Over an element stream, and then batched.
    let ds = range(0, 10)
        .map(|e| Ok(Element::single(Tensor::scalar(scalar_of(&e) + 1))))
        .filter(even)
        .batch(2, false)
        .unwrap();
    assert_eq!(rows(&ds), vec![vec![2, 4], vec![6, 8], vec![10]]);
    // Shuffled then filtered then batched (a gather of kept indices).
    let mut got: Vec<i64> = rows(
        &range(0, 30)
            .shuffle(30, Some(5), true)
            .unwrap()
            .filter(even)
            .batch(4, false)
            .unwrap(),
    )
    .concat();
    got.sort();
    assert_eq!(got, (0..30).filter(|x| x % 2 == 0).collect::<Vec<_>>());
}

// ----- take, skip, repeat, shard -------------------------------------------------------------------

#[test]
fn take_and_skip() {
    let ds = range(0, 10);
    assert_eq!(scalars(&ds.take(3)), vec![0, 1, 2]);
    assert_eq!(card(&ds.take(3)), 3);
    assert_eq!(scalars(&ds.take(20)).len(), 10);
    assert_eq!(card(&ds.take(20)), 10);
    assert_eq!(card(&ds.take(0)), 0);
    assert!(scalars(&ds.take(0)).is_empty());
    assert_eq!(scalars(&ds.skip(7)), vec![7, 8, 9]);
    assert_eq!(card(&ds.skip(7)), 3);
    assert!(scalars(&ds.skip(20)).is_empty());
    assert_eq!(card(&ds.skip(20)), 0);
    assert_eq!(card(&ds.skip(u64::MAX)), 0);
    assert_eq!(scalars(&ds.skip(2).take(3)), vec![2, 3, 4]);
    // Unknown input.
    let f = ds.filter(|_| Ok(true));
    assert_eq!(card(&f.take(3)), -2);
    assert_eq!(card(&f.skip(3)), -2);
}

#[test]
fn repeat_count_and_forever() {
    let ds = range(0, 3);
    assert_eq!(scalars(&ds.repeat(2)), vec![0, 1, 2, 0, 1, 2]);
    assert_eq!(card(&ds.repeat(2)), 6);
    assert!(scalars(&ds.repeat(0)).is_empty());
    assert_eq!(card(&ds.repeat(0)), 0);
    let forever = ds.repeat_forever();
    assert_eq!(card(&forever), -1);
    assert_eq!(scalars(&forever.take(7)), vec![0, 1, 2, 0, 1, 2, 0]);
    assert_eq!(card(&forever.take(7)), 7);
    // Batches across repetitions (tf.data: repeat then batch).
    assert_eq!(
        rows(&ds.repeat(3).batch(4, false).unwrap()),
        vec![vec![0, 1, 2, 0], vec![1, 2, 0, 1], vec![2]]
    );
    // An empty input repeated forever is empty, not endless.
    assert!(scalars(&range(0, 0).repeat_forever()).is_empty());
    // An element stream repeats too.
    let mapped = ds.map(|e| Ok(Element::single(Tensor::scalar(-scalar_of(&e)))));
    assert_eq!(scalars(&mapped.repeat(2)), vec![0, -1, -2, 0, -1, -2]);
}

#[test]
fn shard_takes_every_nth() {
    let ds = range(0, 10);
    assert_eq!(scalars(&ds.shard(3, 1).unwrap()), vec![1, 4, 7]);
    assert_eq!(card(&ds.shard(3, 1).unwrap()), 3);
    assert_eq!(scalars(&ds.shard(3, 0).unwrap()), vec![0, 3, 6, 9]);
    assert_eq!(card(&ds.shard(3, 0).unwrap()), 4);
    assert_eq!(card(&ds.repeat_forever().shard(3, 0).unwrap()), -1);
}

// ----- zip, concatenate, enumerate ---------------------------------------------------------------------

#[test]
fn zip_ends_with_the_shortest() {
    let ds = Dataset::zip(&[range(0, 5), range(10, 13)]).unwrap();
    assert_eq!(card(&ds), 3);
    let spec = ds.element_spec().unwrap();
    assert_eq!(spec.structure(), &Structure::tuple_of_tensors(2));
    let got: Vec<(i64, i64)> = collect(&ds)
        .iter()
        .map(|e| (ints(e.get("0").unwrap())[0], ints(e.get("1").unwrap())[0]))
        .collect();
    assert_eq!(got, vec![(0, 10), (1, 11), (2, 12)]);
    assert_eq!(
        card(&Dataset::zip(&[range(0, 5), range(0, 2).repeat_forever()]).unwrap()),
        5
    );

    let words = Dataset::from_tensor_slices(vec!["x", "y"]).unwrap();
    let ds = Dataset::zip_dict(vec![("n", range(0, 5)), ("w", words)]).unwrap();
    assert_eq!(card(&ds), 2);
    let spec = ds.element_spec().unwrap();
    assert_eq!(spec.structure(), &Structure::dict_of_tensors(["n", "w"]));
    assert_eq!(spec.get("w").unwrap(), &TensorSpec::new(DType::String, &[]));
    let got: Vec<(i64, String)> = collect(&ds)
        .iter()
        .map(|e| {
            (
                ints(e.get("n").unwrap())[0],
                e.get("w").unwrap().str_at(0).unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(got, vec![(0, "x".to_string()), (1, "y".to_string())]);
}

#[test]
fn concatenate_relaxes_the_spec() {
    let ds = range(0, 3).concatenate(&range(10, 12)).unwrap();
    assert_eq!(scalars(&ds), vec![0, 1, 2, 10, 11]);
    assert_eq!(card(&ds), 5);
    let a = Dataset::from_tensor_slices(Array2::<i64>::from_shape_fn((2, 3), |(i, j)| {
        (i * 3 + j) as i64
    }))
    .unwrap();
    let b = Dataset::from_tensor_slices(Array2::<i64>::from_elem((1, 4), 9)).unwrap();
    let ds = a.concatenate(&b).unwrap();
    assert_eq!(spec0(&ds), TensorSpec::with_unknown(DType::I64, vec![None]));
    assert_eq!(
        rows(&ds),
        vec![vec![0, 1, 2], vec![3, 4, 5], vec![9, 9, 9, 9]]
    );
    assert_eq!(card(&ds), 3);
    let same = a.concatenate(&a).unwrap();
    assert_eq!(spec0(&same), TensorSpec::new(DType::I64, &[3]));
    assert_eq!(card(&a.concatenate(&a.repeat_forever()).unwrap()), -1);
    assert_eq!(card(&a.concatenate(&a.filter(|_| Ok(true))).unwrap()), -2);
}

#[test]
fn enumerate_counts_from_start() {
    let ds = Dataset::from_tensor_slices(vec!["a", "b", "c"])
        .unwrap()
        .enumerate(5);
    assert_eq!(card(&ds), 3);
    let spec = ds.element_spec().unwrap();
    assert_eq!(
        spec.components(),
        &[
            TensorSpec::new(DType::I64, &[]),
            TensorSpec::new(DType::String, &[])
        ]
    );
    let got: Vec<(i64, String)> = collect(&ds)
        .iter()
        .map(|e| {
            (
                ints(e.get("0").unwrap())[0],
                e.get("1").unwrap().str_at(0).unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(got, vec![(5, "a".into()), (6, "b".into()), (7, "c".into())]);
}

#[test]
fn flat_map_and_take_while() {
    let ds = range(1, 4).flat_map(|e| Dataset::range(0, scalar_of(&e), 1));
    assert_eq!(scalars(&ds), vec![0, 0, 1, 0, 1, 2]);
    assert_eq!(card(&ds), -2);
    assert_eq!(spec0(&ds), TensorSpec::new(DType::I64, &[]));
    let tw = range(0, 10).take_while(|e| Ok(ints(e.component(0)?)[0] < 5));
    assert_eq!(scalars(&tw), vec![0, 1, 2, 3, 4]);
    assert_eq!(card(&tw), -2);
    // Stops at the first failure even if later elements pass.
    let tw = Dataset::from_tensor_slices(vec![1i64, 2, 9, 3])
        .unwrap()
        .take_while(|e| Ok(ints(e.component(0)?)[0] < 5));
    assert_eq!(scalars(&tw), vec![1, 2]);
}

// ----- prefetch -------------------------------------------------------------------------------------

#[test]
fn prefetch_yields_the_same_elements() {
    let ds = range(0, 100)
        .map(|e| Ok(Element::single(Tensor::scalar(scalar_of(&e) * 3))))
        .batch(7, false)
        .unwrap();
    let pre = ds.prefetch(4);
    assert_eq!(rows(&pre), rows(&ds));
    assert_eq!(card(&pre), card(&ds));
    assert_eq!(pre.element_spec().unwrap(), ds.element_spec().unwrap());
    // Prefetch of one.
    assert_eq!(scalars(&range(0, 5).prefetch(1)), vec![0, 1, 2, 3, 4]);
}

#[test]
fn dropping_a_prefetching_iterator_returns_promptly() {
    let slow = range(0, 3).repeat_forever().map(|e| {
        std::thread::sleep(Duration::from_millis(5));
        Ok(e)
    });
    for ds in [range(0, 3).repeat_forever().prefetch(8), slow.prefetch(8)] {
        let mut it = ds.iter();
        for k in 0..5 {
            assert_eq!(scalar_of(&it.next().unwrap().unwrap()), k % 3);
        }
        let t = Instant::now();
        drop(it);
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "drop took {:?}",
            t.elapsed()
        );
    }
}
