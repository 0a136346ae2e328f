//! group_by_window and bucket_by_sequence_length (issue 13) through the Rust API; the same
//! operations against TensorFlow's own outputs are in cli/tests/it/tf_parity.rs
//! (`rest_ops_pipelines.json`).

use super::{card, fill, range, rows, scalar_of, shapes, spec0};
use slicestream::transform::BucketOptions;
use slicestream::{Dataset, ErrorKind, Tensor};

fn key_mod(n: i64) -> impl Fn(&slicestream::Element) -> slicestream::Result<i64> + Send + Sync {
    move |e| Ok(scalar_of(e) % n)
}

#[test]
fn full_windows_come_out_at_once_and_the_rest_by_increasing_key() {
    // TensorFlow 2.21 gives [3,0], [4,1], [5,2,8] for this input (rest_ops_pipelines.json).
    let ds = Dataset::from_tensor_slices(Tensor::from_vec1(vec![5i64, 4, 3, 2, 1, 0, 8]))
        .unwrap()
        .group_by_window(key_mod(3), |_, w| w.batch(5, false), 5)
        .unwrap();
    assert_eq!(rows(&ds), vec![vec![3, 0], vec![4, 1], vec![5, 2, 8]]);
    let full = range(0, 7)
        .group_by_window(key_mod(2), |_, w| w.batch(2, false), 2)
        .unwrap();
    assert_eq!(
        rows(&full),
        vec![vec![0, 2], vec![1, 3], vec![4, 6], vec![5]]
    );
    assert_eq!(card(&full), -2);
    assert_eq!(spec0(&full).shape, vec![None]);
}

#[test]
fn window_size_per_key_and_reduce_by_key() {
    // Key 0 in windows of 1, key 1 in windows of 3; the reduce function sees the key.
    let ds = range(0, 8)
        .group_by_window_with(
            key_mod(2),
            |key, w| {
                Ok(w.batch(4, false)?.map(move |b| {
                    let mut v = b.component(0)?.as_slice::<i64>()?.to_vec();
                    v.push(100 + key);
                    Ok(slicestream::Element::single(Tensor::from_vec1(v)))
                }))
            },
            |key| Ok(if key == 0 { 1 } else { 3 }),
        )
        .unwrap();
    assert_eq!(
        rows(&ds),
        vec![
            vec![0, 100],
            vec![2, 100],
            vec![4, 100],
            vec![1, 3, 5, 101],
            vec![6, 100],
            vec![7, 101]
        ]
    );
}

#[test]
fn a_window_size_that_is_not_positive_fails_at_iteration_naming_the_element() {
    let ds = range(0, 4)
        .group_by_window(key_mod(2), |_, w| w.batch(1, false), 0)
        .unwrap();
    let err = ds.iter().next().unwrap().unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::InvalidArgument(_)), "{err}");
    assert!(err
        .to_string()
        .contains("Window size must be greater than zero, but got 0."));
    assert_eq!(err.position().element, Some(0));
}

#[test]
fn a_failing_key_function_names_the_element() {
    let ds = range(0, 5)
        .group_by_window(
            |e| {
                let x = scalar_of(e);
                if x == 3 {
                    Err(slicestream::Error::invalid_argument("no key for 3"))
                } else {
                    Ok(x % 2)
                }
            },
            |_, w| w.batch(10, false),
            10,
        )
        .unwrap();
    let results: Vec<_> = ds.iter().collect();
    assert_eq!(results.len(), 1);
    let err = results[0].as_ref().unwrap_err();
    assert_eq!(err.position().element, Some(3));
    assert_eq!(err.position().stage.as_deref(), Some("group_by_window"));
}

#[test]
fn buckets_batch_by_length_and_pad_to_the_longest_or_the_boundary() {
    // Lengths 1..=7 (x -> fill([x], x)); boundaries [3, 5]: buckets {1,2}, {3,4}, {5,6,7}.
    let ds = fill(&range(1, 8));
    let plain = ds
        .bucket_by_sequence_length(
            |e| Ok(e.component(0)?.shape()[0] as i64),
            &[3, 5],
            &[2, 2, 2],
            BucketOptions::default(),
        )
        .unwrap();
    assert_eq!(
        shapes(&plain),
        vec![vec![2, 2], vec![2, 4], vec![2, 6], vec![1, 7]]
    );
    assert_eq!(spec0(&plain).shape, vec![None, None]);
    let padded = ds
        .bucket_by_sequence_length(
            |e| Ok(e.component(0)?.shape()[0] as i64),
            &[3, 5, 8],
            &[2, 2, 2, 2],
            BucketOptions::default().with_pad_to_bucket_boundary(true),
        )
        .unwrap();
    assert_eq!(
        shapes(&padded),
        vec![vec![2, 2], vec![2, 4], vec![2, 7], vec![1, 7]]
    );
    let dropped = ds
        .bucket_by_sequence_length(
            |e| Ok(e.component(0)?.shape()[0] as i64),
            &[3, 5],
            &[2, 2, 2],
            BucketOptions::default().with_drop_remainder(true),
        )
        .unwrap();
    assert_eq!(shapes(&dropped), vec![vec![2, 2], vec![2, 4], vec![2, 6]]);
}

#[test]
fn bucket_arguments_and_the_last_boundary_are_checked() {
    let ds = fill(&range(1, 8));
    let length = |e: &slicestream::Element| Ok(e.component(0)?.shape()[0] as i64);
    let err = ds
        .bucket_by_sequence_length(length, &[3, 5], &[2, 2], BucketOptions::default())
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("`len(bucket_batch_sizes)` must equal"),
        "{err}"
    );
    let err = ds
        .bucket_by_sequence_length(length, &[3], &[2, 0], BucketOptions::default())
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::InvalidArgument(_)), "{err}");
    // Lengths 5, 6, 7 are past the last boundary: their bucket fails when it is batched, after the
    // batches of the buckets that filled before it.
    let past = ds
        .bucket_by_sequence_length(
            length,
            &[3, 5],
            &[2, 2, 2],
            BucketOptions::default().with_pad_to_bucket_boundary(true),
        )
        .unwrap();
    let results: Vec<_> = past.iter().collect();
    assert_eq!(results.len(), 3);
    assert!(results[..2].iter().all(|r| r.is_ok()));
    let err = results[2].as_ref().unwrap_err();
    assert!(
        err.to_string().contains("pad_to_bucket_boundary=True"),
        "{err}"
    );
}
