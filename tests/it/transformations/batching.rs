//! batch, padded_batch, unbatch, rebatch, window.

use super::*;
use ndarray::{Array2, Array3};
use slicestream::{DType, ElementSpec, ErrorKind, Structure};
use std::collections::BTreeMap;

// ----- batch ------------------------------------------------------------------------------------

#[test]
fn batch_keeps_remainder() {
    let ds = range(0, 10).batch(4, false).unwrap();
    assert_eq!(
        rows(&ds),
        vec![vec![0, 1, 2, 3], vec![4, 5, 6, 7], vec![8, 9]]
    );
    assert_eq!(shapes(&ds), vec![vec![4], vec![4], vec![2]]);
    assert_eq!(spec0(&ds), TensorSpec::with_unknown(DType::I64, vec![None]));
    assert_eq!(card(&ds), 3);
    assert!(collect(&ds)
        .iter()
        .all(|e| e.component(0).unwrap().dtype() == DType::I64));
}

#[test]
fn batch_drops_remainder() {
    let ds = range(0, 10).batch(4, true).unwrap();
    assert_eq!(rows(&ds), vec![vec![0, 1, 2, 3], vec![4, 5, 6, 7]]);
    assert_eq!(spec0(&ds), TensorSpec::new(DType::I64, &[4]));
    assert_eq!(card(&ds), 2);
    // Exact multiple: nothing to drop.
    let ds = range(0, 8).batch(4, true).unwrap();
    assert_eq!(card(&ds), 2);
    assert_eq!(collect(&ds).len(), 2);
}

#[test]
fn batch_of_an_element_stream() {
    // After a map the input is a stream of elements, not indices: batching stacks them.
    let ds = range(0, 7)
        .map(|e| Ok(Element::single(Tensor::scalar(scalar_of(&e) * 3))))
        .batch(3, false)
        .unwrap();
    assert_eq!(rows(&ds), vec![vec![0, 3, 6], vec![9, 12, 15], vec![18]]);
    assert_eq!(card(&ds), 3);
}

#[test]
fn batch_tuple_components() {
    let x = Array2::<f32>::from_shape_fn((5, 3), |(i, j)| (i * 10 + j) as f32);
    let y: Vec<i64> = vec![100, 101, 102, 103, 104];
    let ds = Dataset::from_tensor_slices((x, y))
        .unwrap()
        .batch(2, false)
        .unwrap();
    let spec = ds.element_spec().unwrap();
    assert_eq!(spec.structure(), &Structure::tuple_of_tensors(2));
    assert_eq!(
        spec.get("0").unwrap(),
        &TensorSpec::with_unknown(DType::F32, vec![None, Some(3)])
    );
    assert_eq!(
        spec.get("1").unwrap(),
        &TensorSpec::with_unknown(DType::I64, vec![None])
    );
    assert_eq!(card(&ds), 3);
    let batches = collect(&ds);
    assert_eq!(batches.len(), 3);
    for (k, b) in batches.iter().enumerate() {
        let n = if k < 2 { 2 } else { 1 };
        let xs = b.get("0").unwrap();
        assert_eq!(xs.shape(), &[n, 3]);
        let expected: Vec<f32> = (0..n)
            .flat_map(|r| (0..3).map(move |j| ((2 * k + r) * 10 + j) as f32))
            .collect();
        assert_eq!(xs.as_slice::<f32>().unwrap(), expected.as_slice());
        let expected: Vec<i64> = (0..n).map(|r| 100 + (2 * k + r) as i64).collect();
        assert_eq!(ints(b.get("1").unwrap()), expected);
    }
}

#[test]
fn batch_dict_and_string_components() {
    let mut dict = BTreeMap::new();
    dict.insert(
        "x",
        Tensor::from_vec(vec![3, 2], vec![0.5f64, 1.5, 2.5, 3.5, 4.5, 5.5]).unwrap(),
    );
    dict.insert(
        "label",
        Tensor::from_strings(vec![3], ["cat", "dog", "emu"]).unwrap(),
    );
    let ds = Dataset::from_tensor_slices(dict)
        .unwrap()
        .batch(2, true)
        .unwrap();
    let spec = ds.element_spec().unwrap();
    assert_eq!(spec.paths(), vec!["label", "x"]);
    assert_eq!(
        spec.get("label").unwrap(),
        &TensorSpec::new(DType::String, &[2])
    );
    assert_eq!(
        spec.get("x").unwrap(),
        &TensorSpec::new(DType::F64, &[2, 2])
    );
    assert_eq!(card(&ds), 1);
    let batches = collect(&ds);
    assert_eq!(batches.len(), 1);
    assert_eq!(
        batches[0].get("label").unwrap().string_values().unwrap(),
        vec!["cat", "dog"]
    );
    assert_eq!(
        batches[0].get("x").unwrap().as_slice::<f64>().unwrap(),
        &[0.5, 1.5, 2.5, 3.5]
    );

    let words: Vec<String> = ["a", "bb", "", "dddd", "é"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let ds = Dataset::from_tensor_slices(words)
        .unwrap()
        .batch(2, false)
        .unwrap();
    let got: Vec<Vec<String>> = collect(&ds)
        .iter()
        .map(|e| {
            e.component(0)
                .unwrap()
                .string_values()
                .unwrap()
                .into_iter()
                .map(String::from)
                .collect()
        })
        .collect();
    assert_eq!(got, vec![vec!["a", "bb"], vec!["", "dddd"], vec!["é"]]);
    assert_eq!(
        spec0(&ds),
        TensorSpec::with_unknown(DType::String, vec![None])
    );
}

// ----- padded_batch -----------------------------------------------------------------------------

#[test]
fn padded_batch_default_pads_to_longest() {
    let ds = fill(&range(1, 6))
        .padded_batch(2, None, None, false)
        .unwrap();
    assert_eq!(
        rows(&ds),
        vec![
            vec![1, 0, 2, 2],
            vec![3, 3, 3, 0, 4, 4, 4, 4],
            vec![5, 5, 5, 5, 5]
        ]
    );
    assert_eq!(shapes(&ds), vec![vec![2, 2], vec![2, 4], vec![1, 5]]);
    assert_eq!(
        spec0(&ds),
        TensorSpec::with_unknown(DType::I64, vec![None, None])
    );
    assert_eq!(card(&ds), 3);
}

#[test]
fn padded_batch_explicit_shapes_and_values() {
    let base = fill(&range(1, 6));
    let ds = base
        .padded_batch(
            2,
            Some(vec![vec![Some(6)]]),
            Some(vec![Tensor::scalar(-1i64)]),
            false,
        )
        .unwrap();
    let mut expected = Vec::new();
    for pair in [vec![1i64, 2], vec![3, 4], vec![5]] {
        let mut batch = Vec::new();
        for x in pair {
            batch.extend((0..6).map(|j| if j < x { x } else { -1 }));
        }
        expected.push(batch);
    }
    assert_eq!(rows(&ds), expected);
    assert_eq!(shapes(&ds), vec![vec![2, 6], vec![2, 6], vec![1, 6]]);
    assert_eq!(
        spec0(&ds),
        TensorSpec::with_unknown(DType::I64, vec![None, Some(6)])
    );
    assert_eq!(card(&ds), 3);

    let dropped = base
        .padded_batch(2, Some(vec![vec![Some(6)]]), None, true)
        .unwrap();
    assert_eq!(spec0(&dropped), TensorSpec::new(DType::I64, &[2, 6]));
    assert_eq!(card(&dropped), 2);
    assert_eq!(collect(&dropped).len(), 2);
}

#[test]
fn padded_batch_of_tuples() {
    // x -> (fill([x], x), x): a padded vector beside a scalar.
    let ds = range(1, 4).map(|e| {
        let x = scalar_of(&e);
        Ok(Element::tuple(vec![
            Tensor::from_vec1(vec![x; x as usize]),
            Tensor::scalar(x),
        ]))
    });
    let ds = ds
        .padded_batch(
            2,
            None,
            Some(vec![Tensor::scalar(9i64), Tensor::scalar(0i64)]),
            false,
        )
        .unwrap();
    let spec = ds.element_spec().unwrap();
    assert_eq!(
        spec.components(),
        &[
            TensorSpec::with_unknown(DType::I64, vec![None, None]),
            TensorSpec::with_unknown(DType::I64, vec![None])
        ]
    );
    let got: Vec<(Vec<usize>, Vec<i64>, Vec<i64>)> = collect(&ds)
        .iter()
        .map(|e| {
            (
                e.get("0").unwrap().shape().to_vec(),
                ints(e.get("0").unwrap()),
                ints(e.get("1").unwrap()),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (vec![2, 2], vec![1, 9, 2, 2], vec![1, 2]),
            (vec![1, 3], vec![3, 3, 3], vec![3])
        ]
    );
}

#[test]
fn padded_batch_pads_every_dimension() {
    // Element i is a (i + 1) x (3 - i) matrix of 100 * i + 10 * r + c.
    let spec = ElementSpec::single(TensorSpec::with_unknown(DType::I32, vec![None, None]));
    let ds = Dataset::from_generator(spec, || {
        (0..3usize).map(|i| {
            let (h, w) = (i + 1, 3 - i);
            let v: Vec<i32> = (0..h * w)
                .map(|k| (100 * i + 10 * (k / w) + k % w) as i32)
                .collect();
            Ok(Element::single(Tensor::from_vec(vec![h, w], v)?))
        })
    });
    let batch = collect(
        &ds.padded_batch(3, None, Some(vec![Tensor::scalar(-1i32)]), false)
            .unwrap(),
    )
    .remove(0);
    let t = batch.component(0).unwrap();
    assert_eq!(t.shape(), &[3, 3, 3]);
    let mut expected = Vec::new();
    for i in 0..3usize {
        for r in 0..3 {
            for c in 0..3 {
                let inside = r < i + 1 && c < 3 - i;
                expected.push(if inside {
                    (100 * i + 10 * r + c) as i32
                } else {
                    -1
                });
            }
        }
    }
    assert_eq!(t.as_slice::<i32>().unwrap(), expected.as_slice());
}

#[test]
fn padded_batch_strings() {
    let t = Tensor::from_strings(vec![3, 1], ["a", "b", "c"]).unwrap();
    let pad = Tensor::from_strings(Vec::new(), ["<pad>"]).unwrap();
    let ds = Dataset::from_tensor_slices(t)
        .unwrap()
        .padded_batch(2, Some(vec![vec![Some(3)]]), Some(vec![pad]), false)
        .unwrap();
    let got: Vec<(Vec<usize>, Vec<String>)> = collect(&ds)
        .iter()
        .map(|e| {
            let t = e.component(0).unwrap();
            (
                t.shape().to_vec(),
                t.string_values()
                    .unwrap()
                    .into_iter()
                    .map(String::from)
                    .collect(),
            )
        })
        .collect();
    let p = "<pad>";
    assert_eq!(
        got,
        vec![
            (
                vec![2, 3],
                vec!["a", p, p, "b", p, p]
                    .into_iter()
                    .map(String::from)
                    .collect()
            ),
            (
                vec![1, 3],
                vec!["c", p, p].into_iter().map(String::from).collect()
            )
        ]
    );
    assert_eq!(
        spec0(&ds),
        TensorSpec::with_unknown(DType::String, vec![None, Some(3)])
    );
    // Default string padding is "".
    let ds =
        Dataset::from_tensor_slices(Tensor::from_strings(vec![2, 1], ["x", "y"]).unwrap()).unwrap();
    let ds = ds
        .padded_batch(2, Some(vec![vec![Some(2)]]), None, false)
        .unwrap();
    assert_eq!(
        collect(&ds)[0]
            .component(0)
            .unwrap()
            .string_values()
            .unwrap(),
        vec!["x", "", "y", ""]
    );
}

#[test]
fn padded_batch_errors_when_an_element_is_larger_than_the_padded_shape() {
    // Lengths 1, 2 fit in 3; the second batch holds lengths 3 and 4.
    let ds = fill(&range(1, 6))
        .padded_batch(2, Some(vec![vec![Some(3)]]), None, false)
        .unwrap();
    let mut it = ds.iter();
    assert_eq!(
        ints(it.next().unwrap().unwrap().component(0).unwrap()),
        vec![1, 0, 0, 2, 2, 0]
    );
    let err = it.next().unwrap().unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Incompatible(_)), "{err}");
    assert!(
        err.message()
            .contains("smaller size than the input element"),
        "{err}"
    );
    assert_eq!(err.position().stage.as_deref(), Some("padded_batch"));
    assert_eq!(err.position().element, Some(1));
    assert!(it.next().is_none());
}

// ----- unbatch, rebatch ---------------------------------------------------------------------------

#[test]
fn unbatch_splits_rows() {
    let a = Array3::<f32>::from_shape_fn((2, 2, 3), |(i, j, k)| (i * 6 + j * 3 + k) as f32);
    let ds = Dataset::from_tensor_slices(a).unwrap().unbatch().unwrap();
    assert_eq!(spec0(&ds), TensorSpec::new(DType::F32, &[3]));
    assert_eq!(card(&ds), 4);
    let got: Vec<Vec<f32>> = collect(&ds)
        .iter()
        .map(|e| e.component(0).unwrap().as_slice::<f32>().unwrap().to_vec())
        .collect();
    let expected: Vec<Vec<f32>> = (0..4)
        .map(|r| (0..3).map(|k| (r * 3 + k) as f32).collect())
        .collect();
    assert_eq!(got, expected);

    let ds = range(0, 7).batch(3, false).unwrap().unbatch().unwrap();
    assert_eq!(scalars(&ds), (0..7).collect::<Vec<_>>());
    assert_eq!(card(&ds), -2, "the batch dimension is unknown");
    let ds = range(0, 8).batch(4, true).unwrap().unbatch().unwrap();
    assert_eq!(card(&ds), 8);
    assert_eq!(spec0(&ds), TensorSpec::new(DType::I64, &[]));
}

#[test]
fn rebatch_single_size() {
    let ds = range(0, 10)
        .batch(4, false)
        .unwrap()
        .rebatch(vec![3], false)
        .unwrap();
    assert_eq!(
        rows(&ds),
        vec![vec![0, 1, 2], vec![3, 4, 5], vec![6, 7, 8], vec![9]]
    );
    assert_eq!(spec0(&ds), TensorSpec::with_unknown(DType::I64, vec![None]));
    assert_eq!(card(&ds), -2);
    let ds = range(0, 10)
        .batch(4, false)
        .unwrap()
        .rebatch(vec![3], true)
        .unwrap();
    assert_eq!(rows(&ds), vec![vec![0, 1, 2], vec![3, 4, 5], vec![6, 7, 8]]);
    assert_eq!(spec0(&ds), TensorSpec::new(DType::I64, &[3]));
}

#[test]
fn rebatch_list_of_sizes_cycles() {
    // tf.data's docstring example.
    let ds = range(0, 8)
        .batch(4, false)
        .unwrap()
        .rebatch(vec![2, 1, 1], false)
        .unwrap();
    assert_eq!(
        rows(&ds),
        vec![vec![0, 1], vec![2], vec![3], vec![4, 5], vec![6], vec![7]]
    );
    // Output batches may span input batches.
    let ds = range(0, 10)
        .batch(4, false)
        .unwrap()
        .rebatch(vec![2, 3], false)
        .unwrap();
    assert_eq!(
        rows(&ds),
        vec![vec![0, 1], vec![2, 3, 4], vec![5, 6], vec![7, 8, 9]]
    );
    let ds = range(0, 9)
        .batch(4, false)
        .unwrap()
        .rebatch(vec![2, 3], true)
        .unwrap();
    assert_eq!(rows(&ds), vec![vec![0, 1], vec![2, 3, 4], vec![5, 6]]);
    assert_eq!(
        spec0(&ds),
        TensorSpec::with_unknown(DType::I64, vec![None]),
        "sizes differ: unknown"
    );
}

// ----- window, flat_map, take_while -----------------------------------------------------------------

fn windows(
    ds: &Dataset,
    size: usize,
    shift: Option<usize>,
    stride: usize,
    drop: bool,
) -> (Vec<Vec<i64>>, i64, TensorSpec) {
    let w = ds.window(size, shift, stride, drop).unwrap();
    let card = w.cardinality().as_tf();
    let flat = w.flat_map(move |w| w.batch(size, drop)).unwrap();
    (rows(&flat), card, spec0(&flat))
}

#[test]
fn window_then_batch() {
    let ds = range(0, 7);
    let (got, n, spec) = windows(&ds, 3, Some(2), 1, false);
    assert_eq!(
        got,
        vec![vec![0, 1, 2], vec![2, 3, 4], vec![4, 5, 6], vec![6]]
    );
    assert_eq!(n, 4);
    assert_eq!(spec, TensorSpec::with_unknown(DType::I64, vec![None]));
    let (got, n, spec) = windows(&ds, 3, Some(2), 1, true);
    assert_eq!(got, vec![vec![0, 1, 2], vec![2, 3, 4], vec![4, 5, 6]]);
    assert_eq!(n, 3);
    assert_eq!(spec, TensorSpec::new(DType::I64, &[3]));
    let (got, n, _) = windows(&ds, 3, Some(1), 2, true);
    assert_eq!(got, vec![vec![0, 2, 4], vec![1, 3, 5], vec![2, 4, 6]]);
    assert_eq!(n, 3);
    let (got, n, _) = windows(&ds, 3, Some(1), 2, false);
    assert_eq!(
        got,
        vec![
            vec![0, 2, 4],
            vec![1, 3, 5],
            vec![2, 4, 6],
            vec![3, 5],
            vec![4, 6],
            vec![5],
            vec![6]
        ]
    );
    assert_eq!(n, 7);
    // A shift longer than the window skips elements; shift defaults to size.
    let (got, n, _) = windows(&range(0, 10), 2, Some(4), 1, false);
    assert_eq!(got, vec![vec![0, 1], vec![4, 5], vec![8, 9]]);
    assert_eq!(n, 3);
    let (got, n, _) = windows(&range(0, 5), 2, None, 1, false);
    assert_eq!(got, vec![vec![0, 1], vec![2, 3], vec![4]]);
    assert_eq!(n, 3);
}
