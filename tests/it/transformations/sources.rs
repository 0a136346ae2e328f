//! from_generator, from_tensors, range, from_tensor_slices.

use super::*;
use ndarray::Array2;
use slicestream::{DType, ElementSpec, ErrorKind};
use std::collections::BTreeMap;

// ----- sources --------------------------------------------------------------------------------------

#[test]
fn from_generator_checks_its_spec() {
    let spec = ElementSpec::single(TensorSpec::with_unknown(DType::I64, vec![None]));
    let ds = Dataset::from_generator(spec.clone(), || {
        (0..4i64).map(|n| {
            Ok(Element::single(Tensor::from_vec1(
                (0..n).collect::<Vec<i64>>(),
            )))
        })
    });
    assert_eq!(ds.element_spec().unwrap(), spec);
    assert_eq!(card(&ds), -2);
    let expected = vec![vec![], vec![0], vec![0, 1], vec![0, 1, 2]];
    assert_eq!(rows(&ds), expected);
    assert_eq!(rows(&ds), expected, "a new iterator each epoch");
    let bad = Dataset::from_generator(spec, || {
        (0..4i64).map(|n| {
            Ok(if n == 2 {
                Element::single(Tensor::from_vec1(vec![1.0f32]))
            } else {
                Element::single(Tensor::from_vec1(vec![n]))
            })
        })
    });
    let mut it = bad.iter();
    assert!(it.next().unwrap().is_ok());
    assert!(it.next().unwrap().is_ok());
    let err = it.next().unwrap().unwrap_err();
    assert!(
        matches!(
            err.kind(),
            ErrorKind::DTypeMismatch {
                expected: DType::I64,
                found: DType::F32
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.position().stage.as_deref(), Some("from_generator"));
    assert_eq!(err.position().element, Some(2));
    assert!(it.next().is_none());
}

#[test]
fn from_tensors_is_one_element() {
    let a = Array2::<f64>::from_shape_fn((2, 3), |(i, j)| (i * 3 + j) as f64);
    let ds = Dataset::from_tensors((a, vec![7i64])).unwrap();
    assert_eq!(card(&ds), 1);
    let spec = ds.element_spec().unwrap();
    assert_eq!(
        spec.components(),
        &[
            TensorSpec::new(DType::F64, &[2, 3]),
            TensorSpec::new(DType::I64, &[1])
        ]
    );
    let e = collect(&ds);
    assert_eq!(e.len(), 1);
    assert_eq!(
        e[0].get("0").unwrap().as_slice::<f64>().unwrap(),
        &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    );
    assert_eq!(ints(e[0].get("1").unwrap()), vec![7]);
}

#[test]
fn range_steps_and_empty_ranges() {
    let ds = Dataset::range(10, 0, -3).unwrap();
    assert_eq!(scalars(&ds), vec![10, 7, 4, 1]);
    assert_eq!(card(&ds), 4);
    assert_eq!(scalars(&Dataset::range(0, 10, 4).unwrap()), vec![0, 4, 8]);
    assert_eq!(scalars(&Dataset::range(-3, 2, 2).unwrap()), vec![-3, -1, 1]);
    for (a, b, s) in [(5, 5, 1), (5, 0, 1), (0, 5, -1), (3, 3, -2)] {
        let ds = Dataset::range(a, b, s).unwrap();
        assert!(scalars(&ds).is_empty(), "range({a}, {b}, {s})");
        assert_eq!(card(&ds), 0);
        assert_eq!(spec0(&ds), TensorSpec::new(DType::I64, &[]));
    }
    let ds = Dataset::range_with_dtype(0, 3, 1, DType::I32).unwrap();
    assert_eq!(spec0(&ds), TensorSpec::new(DType::I32, &[]));
    let got: Vec<i32> = collect(&ds)
        .iter()
        .map(|e| e.component(0).unwrap().as_slice::<i32>().unwrap()[0])
        .collect();
    assert_eq!(got, vec![0, 1, 2]);
}

#[test]
fn from_tensor_slices_of_each_input_kind() {
    let a = Array2::<f32>::from_shape_fn((3, 2), |(i, j)| i as f32 * 2.0 + j as f32);
    let ds = Dataset::from_tensor_slices(a).unwrap();
    assert_eq!(spec0(&ds), TensorSpec::new(DType::F32, &[2]));
    assert_eq!(card(&ds), 3);
    let got: Vec<Vec<f32>> = collect(&ds)
        .iter()
        .map(|e| e.component(0).unwrap().as_slice::<f32>().unwrap().to_vec())
        .collect();
    assert_eq!(got, vec![vec![0.0, 1.0], vec![2.0, 3.0], vec![4.0, 5.0]]);

    let ds = Dataset::from_tensor_slices(vec![3u8, 1, 2]).unwrap();
    assert_eq!(spec0(&ds), TensorSpec::new(DType::U8, &[]));
    let got: Vec<u8> = collect(&ds)
        .iter()
        .map(|e| e.component(0).unwrap().as_slice::<u8>().unwrap()[0])
        .collect();
    assert_eq!(got, vec![3, 1, 2]);

    let ds = Dataset::from_tensor_slices(vec!["ab".to_string(), "c".to_string()]).unwrap();
    assert_eq!(spec0(&ds), TensorSpec::new(DType::String, &[]));
    let got: Vec<String> = collect(&ds)
        .iter()
        .map(|e| e.component(0).unwrap().str_at(0).unwrap().to_string())
        .collect();
    assert_eq!(got, vec!["ab", "c"]);

    let ds = Dataset::from_tensor_slices((vec![1i64, 2], vec![true, false], vec![0.5f64, 0.25]))
        .unwrap();
    assert_eq!(
        ds.element_spec().unwrap().components(),
        &[
            TensorSpec::new(DType::I64, &[]),
            TensorSpec::new(DType::Bool, &[]),
            TensorSpec::new(DType::F64, &[])
        ]
    );
    let e = collect(&ds);
    assert_eq!(e[1].get("1").unwrap().as_slice::<bool>().unwrap(), &[false]);
    assert_eq!(e[1].get("2").unwrap().as_slice::<f64>().unwrap(), &[0.25]);

    let mut dict = BTreeMap::new();
    dict.insert("b", Tensor::from_vec1(vec![1i32, 2]));
    dict.insert(
        "a",
        Tensor::from_vec(vec![2, 2], vec![1u16, 2, 3, 4]).unwrap(),
    );
    let ds = Dataset::from_tensor_slices(dict).unwrap();
    let spec = ds.element_spec().unwrap();
    assert_eq!(spec.paths(), vec!["a", "b"], "keys sorted");
    assert_eq!(spec.get("a").unwrap(), &TensorSpec::new(DType::U16, &[2]));
    let e = collect(&ds);
    assert_eq!(e[1].get("a").unwrap().as_slice::<u16>().unwrap(), &[3, 4]);
    assert_eq!(e[1].get("b").unwrap().as_slice::<i32>().unwrap(), &[2]);
}
