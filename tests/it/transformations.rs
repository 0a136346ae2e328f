//! One test (or a few) per transformation, with tf.data's semantics: values, shapes, dtypes,
//! `element_spec()` and `cardinality()` (TensorFlow's encoding: -1 infinite, -2 unknown).
//! Expected values are computed here independently of the crate.
//!
//! The tests live in `transformations/`: batching (batch, padded_batch, unbatch, rebatch, window),
//! streams (shuffle, map, filter, take, skip, repeat, shard, zip, concatenate, enumerate, flat_map,
//! take_while, prefetch), sources (from_generator, from_tensors, range, from_tensor_slices) and
//! state (unique, scan, reduce, get_single_element, counter), grouping (group_by_window,
//! bucket_by_sequence_length).

use slicestream::{Dataset, Element, Result, Tensor, TensorSpec};

#[path = "transformations/batching.rs"]
mod batching;
#[path = "transformations/caching.rs"]
mod caching;
#[path = "transformations/grouping.rs"]
mod grouping;
#[path = "transformations/ignoring.rs"]
mod ignoring;
#[path = "transformations/saving.rs"]
mod saving;
#[path = "transformations/sources.rs"]
mod sources;
#[path = "transformations/state.rs"]
mod state;
#[path = "transformations/streams.rs"]
mod streams;

pub fn collect(ds: &Dataset) -> Vec<Element> {
    ds.iter()
        .collect::<Result<Vec<_>>>()
        .expect("iteration failed")
}

pub fn ints(t: &Tensor) -> Vec<i64> {
    t.as_slice::<i64>().expect("an int64 tensor").to_vec()
}

/// Component 0 of every element, flattened.
pub fn rows(ds: &Dataset) -> Vec<Vec<i64>> {
    collect(ds)
        .iter()
        .map(|e| ints(e.component(0).unwrap()))
        .collect()
}

/// Component 0 of every element, each a scalar.
pub fn scalars(ds: &Dataset) -> Vec<i64> {
    collect(ds)
        .iter()
        .map(|e| {
            let t = e.component(0).unwrap();
            assert_eq!(t.shape(), &[] as &[usize], "expected a scalar");
            ints(t)[0]
        })
        .collect()
}

pub fn shapes(ds: &Dataset) -> Vec<Vec<usize>> {
    collect(ds)
        .iter()
        .map(|e| e.component(0).unwrap().shape().to_vec())
        .collect()
}

pub fn spec0(ds: &Dataset) -> TensorSpec {
    ds.element_spec().unwrap().components()[0].clone()
}

pub fn card(ds: &Dataset) -> i64 {
    ds.cardinality().as_tf()
}

pub fn range(start: i64, stop: i64) -> Dataset {
    Dataset::range(start, stop, 1).unwrap()
}

pub fn scalar_of(e: &Element) -> i64 {
    ints(e.component(0).unwrap())[0]
}

/// `x -> fill([x], x)`: variable-length elements.
pub fn fill(ds: &Dataset) -> Dataset {
    ds.map(|e| {
        let x = scalar_of(&e);
        Ok(Element::single(Tensor::from_vec1(vec![x; x as usize])))
    })
}
