//! Properties of the core transformations over random inputs (proptest, few cases so debug builds
//! stay fast): batch/unbatch round trips, shuffles are seeded permutations, shards partition, and
//! element counts agree with `cardinality()`.

use ndarray::Array2;
use proptest::prelude::*;
use slicestream::{Cardinality, Dataset, Element, Result, Tensor};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 64,
        ..ProptestConfig::default()
    }
}

fn collect(ds: &Dataset) -> Vec<Element> {
    ds.iter()
        .collect::<Result<Vec<_>>>()
        .expect("iteration failed")
}

/// Component 0 of each element, flattened, in order.
fn flat_i64(ds: &Dataset) -> Vec<i64> {
    collect(ds)
        .iter()
        .flat_map(|e| e.component(0).unwrap().as_slice::<i64>().unwrap().to_vec())
        .collect()
}

/// Component 0 of each element as a vector.
fn rows_of(ds: &Dataset) -> Vec<Vec<i64>> {
    collect(ds)
        .iter()
        .map(|e| e.component(0).unwrap().as_slice::<i64>().unwrap().to_vec())
        .collect()
}

fn count(ds: &Dataset) -> u64 {
    let mut n = 0;
    for e in ds.iter() {
        e.expect("iteration failed");
        n += 1;
    }
    n
}

/// `n` distinct values, so each identifies its input position.
fn distinct(n: usize) -> Vec<i64> {
    (0..n as i64).map(|i| i * 7 + 3).collect()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn batch_then_unbatch_is_the_identity(
        values in prop::collection::vec(any::<i64>(), 0..60),
        batch in 1usize..12,
        drop in any::<bool>(),
    ) {
        let ds = Dataset::from_tensor_slices(values.clone()).unwrap();
        let round = ds.batch(batch, drop).unwrap().unbatch().unwrap();
        let kept = if drop { values.len() / batch * batch } else { values.len() };
        prop_assert_eq!(flat_i64(&round), values[..kept].to_vec());
        prop_assert_eq!(round.element_spec().unwrap(), ds.element_spec().unwrap());
    }

    #[test]
    fn batch_then_unbatch_keeps_rows_of_tuples(
        rows in 0usize..30,
        width in 1usize..5,
        batch in 1usize..8,
        seed in any::<u64>(),
    ) {
        let x = Array2::<f32>::from_shape_fn((rows, width), |(i, j)| (i * width + j) as f32 + 0.25);
        let labels: Vec<String> = (0..rows).map(|i| format!("row{i}")).collect();
        let ds = Dataset::from_tensor_slices((x.clone(), labels.clone())).unwrap();
        // Shuffled (gathered) batches of floats and strings, unbatched: rows stay together.
        let round = ds.shuffle(rows.max(1), Some(seed), true).unwrap().batch(batch, false).unwrap().unbatch().unwrap();
        let mut got = Vec::new();
        for e in collect(&round) {
            let label = e.get("1").unwrap().str_at(0).unwrap().to_string();
            let values = e.get("0").unwrap().as_slice::<f32>().unwrap().to_vec();
            got.push((label, values));
        }
        got.sort_by_key(|(l, _)| l[3..].parse::<usize>().unwrap());
        let expected: Vec<(String, Vec<f32>)> = (0..rows).map(|i| (labels[i].clone(), x.row(i).to_vec())).collect();
        prop_assert_eq!(got, expected);
    }

    #[test]
    fn shuffle_is_a_seeded_permutation(
        n in 0usize..120,
        buffer in 1usize..150,
        seed in any::<u64>(),
        batch in prop::option::of(1usize..10),
    ) {
        let values = distinct(n);
        let base = Dataset::from_tensor_slices(values.clone()).unwrap();
        let shuffle = |ds: &Dataset| {
            let s = ds.shuffle(buffer, Some(seed), true).unwrap();
            match batch {
                Some(b) => s.batch(b, false).unwrap(),
                None => s,
            }
        };
        let a = shuffle(&base);
        let first = flat_i64(&a);
        let mut sorted = first.clone();
        sorted.sort();
        prop_assert_eq!(&sorted, &values);
        // The same seed gives the same order: another plan, and the same plan's epoch 0 again.
        prop_assert_eq!(&flat_i64(&shuffle(&base)), &first);
        let again: Vec<i64> = a
            .iter_epoch(0)
            .flat_map(|e| e.unwrap().component(0).unwrap().as_slice::<i64>().unwrap().to_vec())
            .collect();
        prop_assert_eq!(&again, &first);
        // Over an element stream the same seed also gives the same permutation.
        let mapped = base.map(|e| Ok(Element::single(e.component(0)?.clone())));
        let m = flat_i64(&shuffle(&mapped));
        prop_assert_eq!(&flat_i64(&shuffle(&mapped)), &m);
        let mut m_sorted = m.clone();
        m_sorted.sort();
        prop_assert_eq!(&m_sorted, &values);
        prop_assert_eq!(a.cardinality(), base.cardinality().finite().map_or(Cardinality::Unknown, |c| {
            match batch {
                Some(b) => Cardinality::Finite(c.div_ceil(b as u64)),
                None => Cardinality::Finite(c),
            }
        }));
    }

    #[test]
    fn shards_partition_the_input(n in 0usize..80, num_shards in 1u64..9) {
        let values = distinct(n);
        let ds = Dataset::from_tensor_slices(values.clone()).unwrap();
        let mut union = Vec::new();
        for index in 0..num_shards {
            let shard = ds.shard(num_shards, index).unwrap();
            let got = flat_i64(&shard);
            prop_assert_eq!(shard.cardinality(), Cardinality::Finite(got.len() as u64));
            // Shard `index` holds input positions index, index + num_shards, ...
            let expected: Vec<i64> = values.iter().copied().skip(index as usize).step_by(num_shards as usize).collect();
            prop_assert_eq!(&got, &expected);
            union.extend(got);
        }
        // Disjoint (values are distinct, so no repeats) and complete.
        prop_assert_eq!(union.len(), n);
        union.sort();
        prop_assert_eq!(union, values);
    }

    #[test]
    fn take_skip_repeat_counts_agree_with_cardinality(
        n in 0usize..40,
        take in 0u64..50,
        skip in 0u64..50,
        repeat in 0u64..4,
        over_stream in any::<bool>(),
    ) {
        let mut ds = Dataset::range(0, n as i64, 1).unwrap();
        if over_stream {
            ds = ds.map(|e| Ok(Element::single(e.component(0)?.clone())));
        }
        let n = n as u64;
        let cases = [
            (ds.take(take), n.min(take)),
            (ds.skip(skip), n.saturating_sub(skip)),
            (ds.repeat(repeat), n * repeat),
            (ds.skip(skip).take(take).repeat(repeat), n.saturating_sub(skip).min(take) * repeat),
            (ds.repeat(repeat).skip(skip).take(take), (n * repeat).saturating_sub(skip).min(take)),
        ];
        for (d, expected) in cases {
            prop_assert_eq!(d.cardinality(), Cardinality::Finite(expected));
            prop_assert_eq!(count(&d), expected);
        }
        let forever = ds.repeat_forever().take(take);
        let expected = if n == 0 { 0 } else { take };
        prop_assert_eq!(count(&forever), expected);
        if n > 0 {
            prop_assert_eq!(ds.repeat_forever().cardinality(), Cardinality::Infinite);
            prop_assert_eq!(forever.cardinality(), Cardinality::Finite(take));
            // Values cycle through the input.
            let got = flat_i64(&forever);
            let cycled: Vec<i64> = (0..take).map(|k| (k % n) as i64).collect();
            prop_assert_eq!(got, cycled);
        }
    }

    #[test]
    fn batch_cardinality_agrees_with_the_batches(
        n in 0usize..60,
        batch in 1usize..12,
        drop in any::<bool>(),
        padded in any::<bool>(),
    ) {
        let ds = Dataset::range(0, n as i64, 1).unwrap();
        let batched = if padded {
            ds.padded_batch(batch, None, None, drop).unwrap()
        } else {
            ds.batch(batch, drop).unwrap()
        };
        let sizes: Vec<usize> = collect(&batched).iter().map(|b| b.component(0).unwrap().shape()[0]).collect();
        prop_assert_eq!(batched.cardinality(), Cardinality::Finite(sizes.len() as u64));
        let expected_batches = if drop { n / batch } else { n.div_ceil(batch) };
        prop_assert_eq!(sizes.len(), expected_batches);
        for (k, &s) in sizes.iter().enumerate() {
            prop_assert_eq!(s, batch.min(n - k * batch));
        }
        prop_assert!(!drop || sizes.iter().all(|&s| s == batch));
    }

    #[test]
    fn rebatch_regroups_the_same_rows(
        n in 0usize..50,
        first in 1usize..8,
        sizes in prop::collection::vec(1usize..6, 1..4),
        drop in any::<bool>(),
    ) {
        let ds = Dataset::range(0, n as i64, 1).unwrap().batch(first, false).unwrap();
        let re = ds.rebatch(sizes.clone(), drop).unwrap();
        let mut expected = Vec::new();
        let (mut start, mut turn) = (0usize, 0usize);
        while start < n {
            let want = sizes[turn % sizes.len()];
            if drop && start + want > n {
                break;
            }
            let end = (start + want).min(n);
            expected.push((start as i64..end as i64).collect::<Vec<_>>());
            start = end;
            turn += 1;
        }
        prop_assert_eq!(rows_of(&re), expected);
    }

    #[test]
    fn windows_match_their_definition_and_cardinality(
        n in 0usize..30,
        size in 1usize..6,
        shift in 1usize..6,
        stride in 1usize..4,
        drop in any::<bool>(),
    ) {
        let ds = Dataset::range(0, n as i64, 1).unwrap();
        let windows = ds.window(size, Some(shift), stride, drop).unwrap();
        let got = rows_of(&windows.flat_map(move |w| w.batch(size, false)).unwrap());
        // Window k starts at k * shift and takes every stride-th element, up to size of them.
        let mut expected = Vec::new();
        let mut start = 0;
        while start < n {
            let w: Vec<i64> = (start..n).step_by(stride).take(size).map(|x| x as i64).collect();
            if drop && w.len() < size {
                break;
            }
            expected.push(w);
            start += shift;
        }
        prop_assert_eq!(windows.cardinality(), Cardinality::Finite(expected.len() as u64));
        prop_assert_eq!(got, expected);
    }
}

#[test]
fn tensor_round_trips_through_rows() {
    // A non-proptest sanity check that `row` and `stack` invert each other (the basis of unbatch).
    let t = Tensor::from_vec(vec![3, 2], vec![1i64, 2, 3, 4, 5, 6]).unwrap();
    let rows: Vec<Tensor> = (0..3).map(|i| t.row(i).unwrap()).collect();
    assert_eq!(Tensor::stack(&rows).unwrap(), t);
}
