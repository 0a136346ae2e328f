//! Batches over random-access sources: runs of indices handed over in one call (take, skip, an
//! unshuffled source) and large shuffled batches gathered several at once on the pool give exactly
//! the batches of the one-index-at-a-time, one-thread path.

use proptest::prelude::*;
use slicestream::runtime::Options;
use slicestream::{Dataset, Element, Result, Tensor};

/// `n` rows of `width` f32 (row `i` holds `i` everywhere) and their labels.
fn rows(n: usize, width: usize) -> Dataset {
    let x: Vec<f32> = (0..n * width).map(|v| (v / width) as f32).collect();
    let y: Vec<i64> = (0..n as i64).collect();
    Dataset::from_tensor_slices(Element::tuple(vec![
        Tensor::from_vec(vec![n, width], x).unwrap(),
        Tensor::from_vec1(y),
    ]))
    .unwrap()
}

/// The labels of every batch of epoch 0, each batch's x rows checked against its labels.
fn labels(ds: &Dataset) -> Vec<Vec<i64>> {
    labels_of_epoch(ds, 0)
}

fn labels_of_epoch(ds: &Dataset, epoch: u64) -> Vec<Vec<i64>> {
    ds.iter_epoch(epoch)
        .map(|b| {
            let b = b.unwrap();
            let y = b.component(1).unwrap().as_slice::<i64>().unwrap().to_vec();
            let x = b.component(0).unwrap();
            let width = x.shape()[1];
            let values = x.as_slice::<f32>().unwrap();
            for (r, &label) in y.iter().enumerate() {
                assert!(values[r * width..(r + 1) * width]
                    .iter()
                    .all(|&v| v == label as f32));
            }
            y
        })
        .collect()
}

fn one_thread(ds: &Dataset) -> Dataset {
    ds.with_options(Options::default().with_num_threads(1))
}

#[test]
fn large_shuffled_batches_gathered_in_parallel_match_one_thread() {
    // 4 KiB rows, batches of 256: 1 MiB per batch, gathered on the pool.
    let base = rows(3000, 1024);
    let plans: Vec<(&str, Dataset)> = vec![
        (
            "global_shuffle",
            base.global_shuffle(Some(3), true)
                .unwrap()
                .batch(256, false)
                .unwrap(),
        ),
        (
            "shuffle",
            base.shuffle(500, Some(3), true)
                .unwrap()
                .batch(256, true)
                .unwrap(),
        ),
        (
            "skip, take, shuffle, prefetch",
            base.skip(7)
                .take(2500)
                .shuffle(1000, Some(9), true)
                .unwrap()
                .batch(256, false)
                .unwrap()
                .prefetch(2),
        ),
        ("unshuffled", base.batch(256, false).unwrap()),
    ];
    for (name, ds) in plans {
        let parallel = ds.with_options(Options::default().with_num_threads(2));
        let got = labels(&parallel);
        let want = labels(&one_thread(&ds));
        assert_eq!(got, want, "{name}");
        assert!(!got.is_empty(), "{name}");
        // Another epoch (reshuffled) agrees too.
        assert_eq!(
            labels_of_epoch(&parallel, 1),
            labels_of_epoch(&one_thread(&ds), 1),
            "{name}: epoch 1"
        );
    }
}

#[test]
fn dropping_a_parallel_gather_mid_epoch_joins_nothing_and_loses_nothing() {
    let ds = rows(3000, 1024)
        .global_shuffle(Some(1), true)
        .unwrap()
        .batch(256, false)
        .unwrap();
    let mut it = ds.iter();
    let first: Vec<Element> = it.by_ref().take(2).collect::<Result<_>>().unwrap();
    assert_eq!(first.len(), 2);
    drop(it);
    // The same epoch again from its start gives the same batches.
    let again: Vec<Element> = ds.iter_epoch(0).take(2).collect::<Result<_>>().unwrap();
    assert_eq!(first, again);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// skip / take / batch of a source move runs of indices: the batches are those of the plain
    /// list of indices.
    #[test]
    fn runs_of_indices_batch_like_the_list(
        n in 0usize..300,
        skip in 0u64..320,
        take in 0u64..320,
        batch in 1usize..70,
        drop_remainder: bool,
    ) {
        let ds = rows(n, 2)
            .skip(skip)
            .take(take)
            .batch(batch, drop_remainder)
            .unwrap();
        let kept: Vec<i64> = (0..n as i64).skip(skip as usize).take(take as usize).collect();
        let want: Vec<Vec<i64>> = kept
            .chunks(batch)
            .filter(|c| !drop_remainder || c.len() == batch)
            .map(|c| c.to_vec())
            .collect();
        prop_assert_eq!(labels(&ds), want);
    }
}
