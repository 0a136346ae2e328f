//! `interleave` against TensorFlow's own outputs (tests/fixtures/tfdata/interleave_cases.json, made
//! by make_interleave_cases.py with TF 2.21), and its errors.

use std::path::Path;

use serde_json::Value;
use slicestream::transform::InterleaveOptions;
use slicestream::{Dataset, Element, ElementSpec, ErrorKind, Tensor, TensorSpec};

fn cases() -> Vec<Value> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tfdata/interleave_cases.json");
    let v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    v["cases"].as_array().unwrap().clone()
}

fn scalar(e: &Element) -> i64 {
    e.component(0).unwrap().as_slice::<i64>().unwrap()[0]
}

fn ints(ds: &Dataset) -> Vec<i64> {
    ds.iter().map(|e| scalar(&e.unwrap())).collect()
}

#[test]
fn every_tensorflow_case_gives_tensorflows_order() {
    let cases = cases();
    assert!(cases.len() >= 60);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let input: Vec<i64> = case["input"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        let inner = case["inner"].as_str().unwrap().to_string();
        let repeat = case["repeat"].as_u64().unwrap_or(0);
        let options = InterleaveOptions::default()
            .with_cycle_length(case["cycle_length"].as_u64().unwrap() as usize)
            .with_block_length(case["block_length"].as_u64().unwrap() as usize)
            .with_spec(ElementSpec::single(TensorSpec::new(
                slicestream::DType::I64,
                &[],
            )));
        let source = Dataset::from_tensor_slices(Tensor::from_vec1(input)).unwrap();
        let ds = source
            .interleave_with(options, move |e| {
                let x = scalar(&e);
                if inner == "range" {
                    Dataset::range(10 * x, 10 * x + x, 1)
                } else {
                    Ok(Dataset::from_tensors(e)?.repeat(repeat))
                }
            })
            .unwrap();
        let want: Vec<i64> = case["expected"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        assert_eq!(ints(&ds), want, "{name}");
        // A second epoch is the same.
        assert_eq!(ints(&ds), want, "{name}, epoch 2");
        // Reading ahead on threads does not change the order.
        let threaded = source_threaded(&case);
        assert_eq!(ints(&threaded), want, "{name}, read ahead");
    }
}

fn source_threaded(case: &Value) -> Dataset {
    let input: Vec<i64> = case["input"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    let inner = case["inner"].as_str().unwrap().to_string();
    let repeat = case["repeat"].as_u64().unwrap_or(0);
    let options = InterleaveOptions::default()
        .with_cycle_length(case["cycle_length"].as_u64().unwrap() as usize)
        .with_block_length(case["block_length"].as_u64().unwrap() as usize)
        .with_read_ahead(2)
        .with_spec(ElementSpec::single(TensorSpec::new(
            slicestream::DType::I64,
            &[],
        )));
    Dataset::from_tensor_slices(Tensor::from_vec1(input))
        .unwrap()
        .interleave_with(options, move |e| {
            let x = scalar(&e);
            if inner == "range" {
                Dataset::range(10 * x, 10 * x + x, 1)
            } else {
                Ok(Dataset::from_tensors(e)?.repeat(repeat))
            }
        })
        .unwrap()
}

#[test]
fn the_documented_example_and_its_spec() {
    let ds = Dataset::range(1, 6, 1)
        .unwrap()
        .interleave(|e| Ok(Dataset::from_tensors(e)?.repeat(6)), 2, 4)
        .unwrap();
    let spec = ds.element_spec().unwrap();
    assert_eq!(spec.components()[0].dtype, slicestream::DType::I64);
    assert_eq!(spec.components()[0].rank(), 0);
    assert_eq!(ints(&ds).len(), 30);
}

#[test]
fn zero_lengths_are_invalid_arguments() {
    let ds = Dataset::range(0, 3, 1).unwrap();
    for (c, b) in [(0, 1), (1, 0)] {
        let err = ds.interleave(Dataset::from_tensors, c, b).unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::InvalidArgument(_)),
            "{err:?}"
        );
        assert_eq!(err.position().stage.as_deref(), Some("interleave"));
    }
}

#[test]
fn an_error_in_the_function_ends_the_epoch_naming_the_element() {
    let ds = Dataset::range(0, 5, 1)
        .unwrap()
        .interleave_with(
            InterleaveOptions::default()
                .with_cycle_length(2)
                .with_spec(ElementSpec::single(TensorSpec::new(
                    slicestream::DType::I64,
                    &[],
                ))),
            |e| {
                if scalar(&e) == 3 {
                    Err(slicestream::Error::invalid_argument("no dataset for 3"))
                } else {
                    Dataset::from_tensors(e)
                }
            },
        )
        .unwrap();
    let items: Vec<_> = ds.iter().collect();
    let (ok, err): (Vec<_>, Vec<_>) = items.into_iter().partition(|r| r.is_ok());
    assert_eq!(ok.len(), 3);
    assert_eq!(err.len(), 1);
    let err = err.into_iter().next().unwrap().unwrap_err();
    assert_eq!(err.position().element, Some(3));
    assert!(err.to_string().contains("no dataset for 3"), "{err}");

    let panics = Dataset::range(0, 2, 1)
        .unwrap()
        .interleave(
            |e| {
                if scalar(&e) == 1 {
                    panic!("boom in interleave")
                }
                Dataset::from_tensors(e)
            },
            2,
            1,
        )
        .unwrap();
    let last = panics.iter().last().unwrap().unwrap_err();
    assert!(matches!(last.kind(), ErrorKind::Panic(_)), "{last:?}");
}

#[test]
fn a_dataset_that_does_not_fit_the_declared_spec_is_incompatible() {
    let ds = Dataset::range(0, 3, 1)
        .unwrap()
        .interleave_with(
            InterleaveOptions::default().with_spec(ElementSpec::single(TensorSpec::new(
                slicestream::DType::I64,
                &[],
            ))),
            |e| {
                if scalar(&e) == 2 {
                    Dataset::from_tensors(Tensor::scalar(1.0f32))
                } else {
                    Dataset::from_tensors(e)
                }
            },
        )
        .unwrap();
    let err = ds.iter().find_map(|r| r.err()).unwrap();
    assert!(matches!(err.kind(), ErrorKind::Incompatible(_)), "{err:?}");
    assert_eq!(err.position().element, Some(2));
}

#[test]
fn dropping_a_read_ahead_interleave_joins_its_threads() {
    let ds = Dataset::range(0, 8, 1)
        .unwrap()
        .interleave_with(
            InterleaveOptions::default()
                .with_cycle_length(4)
                .with_read_ahead(4),
            |e| Ok(Dataset::from_tensors(e)?.repeat(1000)),
        )
        .unwrap();
    let mut it = ds.iter();
    for _ in 0..10 {
        it.next().unwrap().unwrap();
    }
    drop(it);
    // Threads of this test's pipeline are joined on drop (other tests may run in parallel, so only
    // check the iterator can be dropped mid-stream and a new epoch still gives everything).
    assert_eq!(ds.iter().count(), 8000);
}
