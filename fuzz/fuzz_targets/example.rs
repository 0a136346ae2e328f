//! `example`: differential test of the two `tf.train.Example` parsers. The bytes are one serialized
//! Example, parsed (a) with prost (`Example::from_bytes`) then `FeatureDescription::parse_example`,
//! and (b) with the fast wire parser (`FeatureDescription::parse`), for a fixed description (image
//! bytes, label int64, score float32[3], name string with a default, var-len tags/ids/weights) and
//! a fixed-length-only one (also through `parse_batch` on a batch of the record twice). Both must
//! fail, or both succeed with identical elements (paths, dtypes, shapes, value bytes). A prost
//! decode error where the fast parser succeeds (or the reverse) is a disagreement too.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use slicestream::io::tfrecord::{Example, FeatureDescription};
use slicestream::Tensor;

fn check(desc: &FeatureDescription, data: &[u8], example: &Result<Example, slicestream::Error>) {
    let slow = match example {
        Ok(ex) => desc.parse_example(ex),
        Err(e) => Err(slicestream::Error::format(e.to_string())),
    };
    let fast = desc.parse(data);
    match (&slow, &fast) {
        (Ok(a), Ok(b)) => {
            assert_eq!(
                common::element_bits(a),
                common::element_bits(b),
                "prost and fast parsers give different elements"
            );
            common::touch_element(a);
        }
        (Err(_), Err(_)) => {}
        (Ok(_), Err(e)) => panic!("prost path accepts, fast path rejects: {e}"),
        (Err(e), Ok(_)) => panic!("prost path rejects, fast path accepts: {e}"),
    }
}

fuzz_target!(|data: &[u8]| {
    common::limit_allocations();
    let example = Example::from_bytes(data);
    check(&common::example_features(), data, &example);
    let fixed = common::fixed_features();
    check(&fixed, data, &example);
    // The batch parser must agree with parsing each record alone.
    let records = Tensor::from_byte_strings([2usize], [data, data]).expect("a batch of records");
    let batch = fixed.parse_batch(&records);
    match (fixed.parse(data), batch) {
        (Ok(one), Ok(batch)) => {
            for (t1, tb) in one.components().iter().zip(batch.components()) {
                assert_eq!(tb.shape()[0], 2);
                let row = tb.row(1).expect("row 1 of a batch of 2");
                assert_eq!(
                    common::tensor_bits(t1),
                    common::tensor_bits(&row),
                    "parse_batch row differs from parse"
                );
            }
        }
        (Err(_), Err(_)) => {}
        (a, b) => panic!(
            "parse {:?} vs parse_batch {:?}",
            a.map(|_| ()),
            b.map(|_| ())
        ),
    }
});
