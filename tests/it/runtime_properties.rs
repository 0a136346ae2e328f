//! Properties of the runtime over random inputs (proptest, few cases): the thread count never changes
//! the output of a seeded pipeline, no parallelism loses or duplicates an element, and the shuffles
//! are seeded permutations, new each epoch when asked.

use std::collections::BTreeMap;

use proptest::prelude::*;
use rand::Rng;
use slicestream::runtime::Options;
use slicestream::transform::{MapOptions, ParallelCalls};
use slicestream::{DType, Dataset, Element, ElementSpec, Result, Tensor, TensorSpec};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 24,
        ..ProptestConfig::default()
    }
}

fn with_threads(ds: &Dataset, threads: usize) -> Dataset {
    ds.with_options(Options::default().with_num_threads(threads))
}

/// Every element of epoch `epoch`, each as its components' `i64` values.
fn rows(ds: &Dataset, epoch: u64) -> Vec<Vec<Vec<i64>>> {
    ds.iter_epoch(epoch)
        .map(|e| {
            let e = e.expect("iteration failed");
            e.components()
                .iter()
                .map(|t| t.as_slice::<i64>().unwrap().to_vec())
                .collect()
        })
        .collect()
}

/// Component 0 of every element, flattened, in order.
fn flat(ds: &Dataset, epoch: u64) -> Vec<i64> {
    rows(ds, epoch)
        .into_iter()
        .flat_map(|mut r| r.swap_remove(0))
        .collect()
}

/// Counts of each value: a multiset.
fn multiset(values: &[i64]) -> BTreeMap<i64, usize> {
    let mut m = BTreeMap::new();
    for &v in values {
        *m.entry(v).or_insert(0) += 1;
    }
    m
}

fn scalar(e: &Element) -> Result<i64> {
    Ok(e.component(0)?.as_slice::<i64>()?[0])
}

fn sorted(mut v: Vec<i64>) -> Vec<i64> {
    v.sort_unstable();
    v
}

fn parallel(calls: usize, deterministic: bool) -> MapOptions {
    MapOptions::default()
        .with_num_parallel_calls(calls)
        .with_deterministic(deterministic)
}

/// A seeded shuffle, a deterministic parallel map, a random augmentation from `ctx.rng(seed)` (on
/// the pool too), a batch and a prefetch.
fn seeded_pipeline(
    values: &[i64],
    buffer: usize,
    seed: u64,
    calls: usize,
    batch: usize,
) -> Dataset {
    Dataset::from_tensor_slices(values.to_vec())
        .unwrap()
        .shuffle(buffer, Some(seed), true)
        .unwrap()
        .map_with(parallel(calls, true), |e: Element| {
            Ok(Element::single(Tensor::scalar(scalar(&e)?.wrapping_mul(3))))
        })
        .map_with_context(
            MapOptions::default().with_num_parallel_calls(ParallelCalls::Autotune),
            move |ctx, e| {
                let noise: i64 = ctx.rng(seed ^ 0x5eed).random_range(-1000..1000);
                Ok(Element::tuple(vec![
                    Tensor::scalar(scalar(&e)?),
                    Tensor::scalar(noise),
                    Tensor::scalar(ctx.index as i64),
                ]))
            },
        )
        .batch(batch, false)
        .unwrap()
        .prefetch(2)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_thread_count_never_changes_the_output(
        values in prop::collection::vec(-1000i64..1000, 0..300),
        buffer in 1usize..64,
        seed in any::<u64>(),
        calls in 2usize..6,
        batch in 1usize..9,
        epoch in 0u64..3,
    ) {
        let ds = seeded_pipeline(&values, buffer, seed, calls, batch);
        let one = rows(&with_threads(&ds, 1), epoch);
        prop_assert_eq!(&rows(&with_threads(&ds, 2), epoch), &one);
        prop_assert_eq!(&rows(&with_threads(&ds, 8), epoch), &one);
        // And the pipeline loses nothing: the shuffled values, tripled, each exactly once.
        let firsts: Vec<i64> = one.iter().flat_map(|b| b[0].clone()).collect();
        let tripled: Vec<i64> = values.iter().map(|v| v * 3).collect();
        prop_assert_eq!(multiset(&firsts), multiset(&tripled));
        // The same epoch again gives the same elements.
        prop_assert_eq!(&rows(&with_threads(&ds, 2), epoch), &one);
    }

    #[test]
    fn no_parallelism_loses_or_duplicates_an_element(
        n in 0i64..400,
        calls in 1usize..9,
        deterministic in any::<bool>(),
        threads in 1usize..9,
        prefetch in 0usize..4,
        batched in any::<bool>(),
    ) {
        let ds = Dataset::range(0, n, 1).unwrap();
        let ds = if prefetch > 0 { ds.prefetch(prefetch) } else { ds };
        let ds = if batched {
            // map_batch on batches of 7, then back to elements (the spec declared: an empty input
            // cannot show it).
            let spec = ElementSpec::single(TensorSpec::with_unknown(DType::I64, vec![None]));
            ds.batch(7, false)
                .unwrap()
                .map_batch_with(parallel(calls, deterministic).with_spec(spec), Ok)
                .unbatch()
                .unwrap()
        } else {
            ds.map_with(parallel(calls, deterministic), |e: Element| {
                Ok(Element::single(Tensor::scalar(scalar(&e)? + 1_000_000)))
            })
            .map_with(parallel(calls, deterministic), |e: Element| {
                Ok(Element::single(Tensor::scalar(scalar(&e)? - 1_000_000)))
            })
        };
        let ds = with_threads(&ds.prefetch(3), threads);
        let got = flat(&ds, 0);
        prop_assert_eq!(multiset(&got), multiset(&(0..n).collect::<Vec<_>>()));
        if deterministic {
            prop_assert_eq!(got, (0..n).collect::<Vec<_>>());
        }
    }

    #[test]
    fn global_shuffle_is_a_seeded_permutation_new_each_epoch(
        n in 20i64..300,
        seed in any::<u64>(),
        epoch in 0u64..100,
    ) {
        let all: Vec<i64> = (0..n).collect();
        let source = Dataset::from_tensor_slices(all.clone()).unwrap();
        let fixed = source.global_shuffle(Some(seed), false).unwrap();
        let reshuffled = source.global_shuffle(Some(seed), true).unwrap();
        for ds in [&fixed, &reshuffled] {
            let order = flat(ds, epoch);
            prop_assert_eq!(sorted(order.clone()), all.clone());
            // The same seed and epoch: the same order, whatever the thread count.
            prop_assert_eq!(&flat(&with_threads(ds, 3), epoch), &order);
            prop_assert_eq!(&flat(&source.global_shuffle(Some(seed), true).unwrap(), epoch),
                            &flat(&reshuffled, epoch));
        }
        // Without reshuffling every epoch has the same order; with it, a new one (with 20 elements or
        // more, a repeat by chance has probability below 1e-18).
        prop_assert_eq!(flat(&fixed, epoch), flat(&fixed, epoch + 1));
        prop_assert_ne!(flat(&reshuffled, epoch), flat(&reshuffled, epoch + 1));
        // Iterating twice with `iter()` runs two epochs.
        let first: Vec<i64> = reshuffled.iter().map(|e| scalar(&e.unwrap()).unwrap()).collect();
        let second: Vec<i64> = reshuffled.iter().map(|e| scalar(&e.unwrap()).unwrap()).collect();
        prop_assert_eq!(sorted(first.clone()), all.clone());
        prop_assert_ne!(first, second);
    }

    #[test]
    fn each_repetition_of_a_shuffled_dataset_is_a_permutation(
        n in 1i64..80,
        buffer in 1usize..100,
        seed in any::<u64>(),
        count in 1u64..5,
        reshuffle in any::<bool>(),
        global in any::<bool>(),
        parallel_map in any::<bool>(),
    ) {
        let all: Vec<i64> = (0..n).collect();
        let source = Dataset::from_tensor_slices(all.clone()).unwrap();
        let shuffled = if global {
            source.global_shuffle(Some(seed), reshuffle).unwrap()
        } else {
            source.shuffle(buffer, Some(seed), reshuffle).unwrap()
        };
        let shuffled = if parallel_map {
            shuffled.map_with(parallel(4, true), Ok)
        } else {
            shuffled
        };
        let got = flat(&shuffled.repeat(count).prefetch(2), 0);
        prop_assert_eq!(got.len(), n as usize * count as usize);
        let epochs: Vec<&[i64]> = got.chunks(n as usize).collect();
        for e in &epochs {
            prop_assert_eq!(sorted(e.to_vec()), all.clone());
        }
        if !reshuffle {
            for e in &epochs[1..] {
                prop_assert_eq!(*e, epochs[0]);
            }
        } else if n >= 20 && count >= 2 && (global || buffer as i64 >= n) {
            prop_assert_ne!(epochs[0], epochs[1]);
        }
    }
}

/// `(x, 10x)`: a map that makes a tuple, so that the fused batch stacks two components.
fn pair(e: Element) -> Result<Element> {
    let x = scalar(&e)?;
    Ok(Element::tuple(vec![
        Tensor::scalar(x),
        Tensor::scalar(10 * x),
    ]))
}

proptest! {
    #![proptest_config(config())]

    /// A parallel map directly followed by `batch` runs fused (map_and_batch: each batch mapped and
    /// stacked by one worker); its batches are those of a sequential map then `batch`, and a
    /// non-deterministic one has the same batch sizes and the same elements.
    #[test]
    fn a_parallel_map_fused_with_batch_gives_the_batches_of_map_then_batch(
        n in 0usize..700,
        batch in 1usize..70,
        drop_remainder: bool,
        calls in 2usize..9,
        threads in 1usize..5,
    ) {
        let values: Vec<i64> = (0..n as i64).collect();
        let source = Dataset::from_tensor_slices(values).unwrap();
        let sequential = source.map(pair).batch(batch, drop_remainder).unwrap();
        let expected = rows(&sequential, 0);
        let fused = with_threads(
            &source.map_with(parallel(calls, true), pair).batch(batch, drop_remainder).unwrap(),
            threads,
        );
        prop_assert_eq!(rows(&fused, 0), expected.clone());
        let unordered = with_threads(
            &source.map_with(parallel(calls, false), pair).batch(batch, drop_remainder).unwrap(),
            threads,
        );
        let got = rows(&unordered, 0);
        let sizes = |r: &[Vec<Vec<i64>>]| r.iter().map(|b| b[0].len()).collect::<Vec<_>>();
        prop_assert_eq!(sizes(&got), sizes(&expected));
        let all = |r: Vec<Vec<Vec<i64>>>| sorted(r.into_iter().flat_map(|mut b| b.swap_remove(0)).collect());
        prop_assert_eq!(all(got), all(expected));
    }
}

/// An error in a fused parallel map + batch arrives after every whole batch before the failing
/// element, names the map and the element, and ends the epoch.
#[test]
fn a_failing_element_in_a_fused_map_and_batch_ends_the_epoch_after_the_batches_before_it() {
    let failing = 1000i64;
    let ds = Dataset::from_tensor_slices((0..2000i64).collect::<Vec<_>>())
        .unwrap()
        .map_with(parallel(4, true), move |e| {
            let x = scalar(&e)?;
            if x == failing {
                return Err(slicestream::Error::invalid_argument("bad element"));
            }
            Ok(e)
        })
        .batch(64, false)
        .unwrap();
    let mut it = ds.iter();
    let mut batches = 0;
    let err = loop {
        match it.next() {
            Some(Ok(b)) => {
                assert_eq!(
                    b.component(0).unwrap().as_slice::<i64>().unwrap()[0],
                    batches * 64
                );
                batches += 1;
            }
            Some(Err(e)) => break e,
            None => panic!("the epoch ended without the error"),
        }
    };
    assert_eq!(batches, failing / 64);
    let text = err.to_string();
    assert!(text.contains("map") && text.contains("1000"), "{text}");
    assert!(it.next().is_none());
}
