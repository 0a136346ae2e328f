//! Every bad input is a typed `Err` — the right `ErrorKind`, a message that says what, a position that
//! says where — never a panic. User closures that panic or fail end the epoch with one error.

use ndarray::Array2;
use slicestream::{
    DType, Dataset, Element, ElementSpec, Error, ErrorKind, Result, Tensor, TensorSpec,
};

fn range(n: i64) -> Dataset {
    Dataset::range(0, n, 1).unwrap()
}

fn scalar_of(e: &Element) -> Result<i64> {
    Ok(e.component(0)?.as_slice::<i64>()?[0])
}

fn is_invalid(e: &Error) -> bool {
    matches!(e.kind(), ErrorKind::InvalidArgument(_))
}

fn is_incompatible(e: &Error) -> bool {
    matches!(e.kind(), ErrorKind::Incompatible(_))
}

fn stage(e: &Error) -> Option<&str> {
    e.position().stage.as_deref()
}

/// Iterates `ds` expecting `ok` elements, then one error (returned), then the end.
fn error_after(ds: &Dataset, ok: usize) -> Error {
    let mut it = ds.iter();
    for k in 0..ok {
        match it.next() {
            Some(Ok(_)) => {}
            other => panic!("element {k}: expected Ok, got {other:?}"),
        }
    }
    let err = match it.next() {
        Some(Err(e)) => e,
        other => panic!("expected an error after {ok} elements, got {other:?}"),
    };
    assert!(it.next().is_none(), "the iteration must end after an error");
    assert!(it.next().is_none());
    err
}

// ----- sources ----------------------------------------------------------------------------------------

#[test]
fn first_dimensions_that_differ() {
    let err = Dataset::from_tensor_slices((vec![1i64, 2, 3], vec![1.0f32, 2.0])).unwrap_err();
    assert!(is_incompatible(&err), "{err:?}");
    assert!(
        err.message().contains('3') && err.message().contains('2'),
        "{err}"
    );
    assert_eq!(err.position().component.as_deref(), Some("1"));
    assert_eq!(stage(&err), Some("from_tensor_slices"));

    let x = Array2::<f32>::zeros((4, 2));
    let mut dict = std::collections::BTreeMap::new();
    dict.insert("image", Tensor::from(x));
    dict.insert("label", Tensor::from_vec1(vec![0i64; 5]));
    let err = Dataset::from_tensor_slices(dict).unwrap_err();
    assert!(is_incompatible(&err), "{err:?}");
    assert_eq!(err.position().component.as_deref(), Some("label"));
}

#[test]
fn a_scalar_to_from_tensor_slices() {
    let err = Dataset::from_tensor_slices(Tensor::scalar(5i64)).unwrap_err();
    assert!(is_invalid(&err), "{err:?}");
    assert!(err.message().contains("rank >= 1"), "{err}");
    assert_eq!(stage(&err), Some("from_tensor_slices"));
    let err = Dataset::from_tensor_slices((vec![1i64, 2], Tensor::scalar(1.0f32))).unwrap_err();
    assert!(is_invalid(&err), "{err:?}");
    assert_eq!(err.position().component.as_deref(), Some("1"));
    let err = Dataset::from_tensor_slices(Element::tuple(vec![])).unwrap_err();
    assert!(is_invalid(&err), "{err:?}");
}

#[test]
fn bad_arguments_to_sources() {
    let err = Dataset::range(0, 10, 0).unwrap_err();
    assert!(
        is_invalid(&err) && err.message().contains("step"),
        "{err:?}"
    );
    let err = Dataset::range_with_dtype(0, 3, 1, DType::String).unwrap_err();
    assert!(is_invalid(&err), "{err:?}");
    let err = Dataset::from_elements(vec![]).unwrap_err();
    assert!(is_invalid(&err), "{err:?}");
    let err = Dataset::from_elements(vec![
        Element::single(Tensor::scalar(1i64)),
        Element::single(Tensor::scalar(1.0f32)),
    ])
    .unwrap_err();
    assert!(is_incompatible(&err), "{err:?}");
    assert_eq!(err.position().element, Some(1));
}

// ----- transformation arguments ----------------------------------------------------------------------

#[test]
fn batch_size_zero() {
    let err = range(5).batch(0, false).unwrap_err();
    assert!(is_invalid(&err), "{err:?}");
    assert!(
        err.message()
            .contains("Batch size must be greater than zero"),
        "{err}"
    );
    assert_eq!(stage(&err), Some("batch"));
    let err = range(5).padded_batch(0, None, None, false).unwrap_err();
    assert!(is_invalid(&err), "{err:?}");
    assert_eq!(stage(&err), Some("padded_batch"));
    // tf.data accepts a rebatch size of 0 (it yields empty batches); an empty list is an error.
    let err = range(5)
        .batch(2, false)
        .unwrap()
        .rebatch(vec![], false)
        .unwrap_err();
    assert!(is_invalid(&err), "{err:?}");
    assert_eq!(stage(&err), Some("rebatch"));
    assert!(is_invalid(
        &range(5)
            .batch(2, false)
            .unwrap()
            .rebatch(vec![], false)
            .unwrap_err()
    ));
}

#[test]
fn shuffle_buffer_zero() {
    let err = range(5).shuffle(0, Some(1), true).unwrap_err();
    assert!(is_invalid(&err), "{err:?}");
    assert!(err.message().contains("buffer_size"), "{err}");
    assert_eq!(stage(&err), Some("shuffle"));
}

#[test]
fn shard_index_out_of_range() {
    let err = range(5).shard(2, 2).unwrap_err();
    assert!(is_invalid(&err), "{err:?}");
    assert_eq!(
        err.message(),
        "invalid argument: Index must be between 0 and 1 (currently index = 2)."
    );
    assert_eq!(stage(&err), Some("shard"));
    let err = range(5).shard(0, 0).unwrap_err();
    assert!(is_invalid(&err), "{err:?}");
    assert!(err.message().contains("num_shards = 0"), "{err}");
}

#[test]
fn other_bad_arguments() {
    for (size, shift, stride) in [(0, None, 1), (2, Some(0), 1), (2, None, 0)] {
        let err = range(5)
            .window(size, shift, stride, false)
            .err()
            .expect("window must fail");
        assert!(is_invalid(&err), "{err:?}");
        assert_eq!(stage(&err), Some("window"));
    }
    assert!(is_invalid(&Dataset::zip(&[]).unwrap_err()));
    assert!(is_invalid(
        &Dataset::zip_dict(vec![("a", range(1)), ("a", range(2))]).unwrap_err()
    ));
    let err = range(5).unbatch().unwrap_err();
    assert!(
        is_invalid(&err) && err.message().contains("scalar"),
        "{err:?}"
    );
    assert_eq!(stage(&err), Some("unbatch"));
    let strings = Dataset::from_tensor_slices(vec!["a"]).unwrap();
    let err = range(3).concatenate(&strings).unwrap_err();
    assert!(is_incompatible(&err), "{err:?}");
    assert!(
        err.message().starts_with("Incompatible dataset elements"),
        "{err}"
    );
    assert_eq!(stage(&err), Some("concatenate"));
}

#[test]
fn batching_elements_of_different_shapes() {
    let spec = ElementSpec::single(TensorSpec::with_unknown(DType::I64, vec![None]));
    let ds = Dataset::from_generator(spec, || {
        (1..5usize).map(|n| Ok(Element::single(Tensor::from_vec1(vec![0i64; n.min(2)]))))
    });
    // Lengths 1, 2 | 2, 2: the first batch mixes shapes.
    let err = error_after(&ds.batch(2, false).unwrap(), 0);
    assert!(
        matches!(err.kind(), ErrorKind::ShapeMismatch { expected, found } if expected == &[Some(1)] && found == &[2]),
        "{err:?}"
    );
    assert!(
        err.message().contains("[1]") && err.message().contains("[2]"),
        "{err}"
    );
    assert_eq!(stage(&err), Some("batch"));
    // The element of the input that does not fit its batch, and its component.
    assert_eq!(err.position().element, Some(1));
    assert_eq!(err.position().component.as_deref(), Some("0"));
}

#[test]
fn unbatching_components_of_different_lengths() {
    // Known leading dimensions that differ: an error at construction, as in tf.data.
    let err = Dataset::from_tensors((vec![1i64, 2], vec![1.0f32, 2.0, 3.0]))
        .unwrap()
        .unbatch()
        .unwrap_err();
    assert!(is_incompatible(&err), "{err:?}");
    assert!(
        err.message().contains("matching leading dimension"),
        "{err}"
    );
    assert_eq!(stage(&err), Some("unbatch"));
    // Unknown leading dimensions (after padded_batch... here a generator) that differ when iterated.
    let spec = slicestream::ElementSpec::new(
        slicestream::Structure::tuple_of_tensors(2),
        vec![
            slicestream::TensorSpec::with_unknown(slicestream::DType::I64, vec![None]),
            slicestream::TensorSpec::with_unknown(slicestream::DType::F32, vec![None]),
        ],
    )
    .unwrap();
    let ds = Dataset::from_generator(spec, || {
        std::iter::once(Ok(slicestream::Element::tuple(vec![
            slicestream::Tensor::from_vec1(vec![1i64, 2]),
            slicestream::Tensor::from_vec1(vec![1.0f32, 2.0, 3.0]),
        ])))
    })
    .unbatch()
    .unwrap();
    let err = error_after(&ds, 0);
    assert!(is_incompatible(&err), "{err:?}");
    assert!(err.message().contains("same batch size"), "{err}");
    assert_eq!(stage(&err), Some("unbatch"));
}

// ----- padded shapes -----------------------------------------------------------------------------------

#[test]
fn padded_shape_smaller_than_a_known_dimension_fails_at_construction() {
    let ds = Dataset::from_tensor_slices(Array2::<i64>::zeros((4, 5))).unwrap();
    let err = ds
        .padded_batch(2, Some(vec![vec![Some(3)]]), None, false)
        .unwrap_err();
    assert!(is_incompatible(&err), "{err:?}");
    assert!(
        err.message().contains("[3]") && err.message().contains("[5]"),
        "{err}"
    );
    assert_eq!(stage(&err), Some("padded_batch"));
    assert_eq!(err.position().component.as_deref(), Some("0"));
    // Wrong rank, wrong count of shapes or values, wrong padding dtype.
    assert!(is_incompatible(
        &ds.padded_batch(2, Some(vec![vec![Some(5), Some(1)]]), None, false)
            .unwrap_err()
    ));
    assert!(is_invalid(
        &ds.padded_batch(2, Some(vec![]), None, false).unwrap_err()
    ));
    assert!(is_invalid(
        &ds.padded_batch(2, None, Some(vec![]), false).unwrap_err()
    ));
    let err = ds
        .padded_batch(2, None, Some(vec![Tensor::scalar(1.0f32)]), false)
        .unwrap_err();
    assert!(is_incompatible(&err), "{err:?}");
}

#[test]
fn padded_shape_smaller_than_an_unknown_dimension_fails_at_iteration() {
    let ds = range(6).map(|e| {
        let x = scalar_of(&e)?;
        Ok(Element::single(Tensor::from_vec1(vec![x; x as usize])))
    });
    // Lengths 0,1 | 2,3 | 4,5 with a padded length of 3: batch 2 holds a 4.
    let ds = ds
        .padded_batch(2, Some(vec![vec![Some(3)]]), None, false)
        .unwrap();
    let err = error_after(&ds, 2);
    assert!(is_incompatible(&err), "{err:?}");
    assert!(
        err.message()
            .contains("Attempted to pad to a smaller size than the input element"),
        "{err}"
    );
    assert!(
        err.message().contains("size 5"),
        "the element's size: {err}"
    );
    assert_eq!(stage(&err), Some("padded_batch"));
    assert_eq!(err.position().element, Some(2));
}

// ----- components and dtypes ---------------------------------------------------------------------------

#[test]
fn a_component_that_does_not_exist() {
    let e = Element::dict([
        ("image", Tensor::scalar(1.0f32)),
        ("label", Tensor::scalar(3i64)),
    ]);
    let err = e.get("nope").unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::NotFound(_)), "{err:?}");
    let msg = err.message();
    assert!(
        msg.contains("nope") && msg.contains("image") && msg.contains("label"),
        "{msg}"
    );
    assert!(matches!(
        e.component(2).unwrap_err().kind(),
        ErrorKind::NotFound(_)
    ));
    assert!(matches!(
        e.view::<f32>("nope").unwrap_err().kind(),
        ErrorKind::NotFound(_)
    ));
    assert!(matches!(
        e.clone().into_array::<f32>("nope").unwrap_err().kind(),
        ErrorKind::NotFound(_)
    ));
    let spec = e.spec();
    assert!(matches!(
        spec.get("nope").unwrap_err().kind(),
        ErrorKind::NotFound(_)
    ));
    let tuple = Element::tuple(vec![Tensor::scalar(1i64)]);
    assert!(matches!(
        tuple.get("1").unwrap_err().kind(),
        ErrorKind::NotFound(_)
    ));
}

#[test]
fn a_dtype_mismatch_on_conversion() {
    let t = Tensor::from_vec1(vec![1i64, 2, 3]);
    let err = t.view::<f32>().unwrap_err();
    assert_eq!(
        err.kind(),
        &ErrorKind::DTypeMismatch {
            expected: DType::F32,
            found: DType::I64
        }
    );
    assert!(
        err.message().contains("float32") && err.message().contains("int64"),
        "{err}"
    );
    for err in [
        t.as_slice::<u8>().unwrap_err(),
        t.to_array::<f64>().unwrap_err(),
        t.clone().into_array::<i32>().unwrap_err(),
        t.str_at(0).unwrap_err(),
    ] {
        assert!(
            matches!(
                err.kind(),
                ErrorKind::DTypeMismatch {
                    found: DType::I64,
                    ..
                }
            ),
            "{err:?}"
        );
    }
    let e = Element::dict([("x", t)]);
    let err = e.view::<f32>("x").unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::DTypeMismatch { .. }),
        "{err:?}"
    );
    assert_eq!(
        err.position().component.as_deref(),
        Some("x"),
        "names the component"
    );
    let s = Tensor::from_strings(vec![1], ["a"]).unwrap();
    assert!(matches!(
        s.view::<u8>().unwrap_err().kind(),
        ErrorKind::DTypeMismatch {
            found: DType::String,
            ..
        }
    ));
}

#[test]
fn bad_tensor_construction() {
    assert!(is_invalid(
        &Tensor::from_vec(vec![2, 2], vec![1i64, 2, 3]).unwrap_err()
    ));
    assert!(is_invalid(
        &Tensor::from_vec1(vec![1i64, 2, 3])
            .reshape(vec![2, 2])
            .unwrap_err()
    ));
    assert!(is_invalid(
        &Tensor::from_strings(vec![3], ["a", "b"]).unwrap_err()
    ));
    let bad_bool = Tensor::from_buffer(
        DType::Bool,
        vec![2],
        arrow_buffer::Buffer::from_vec(vec![1u8, 2]),
    );
    assert!(matches!(bad_bool.unwrap_err().kind(), ErrorKind::Format(_)));
    let offsets = arrow_buffer::ScalarBuffer::from(vec![0i64, 3, 2]);
    let err = Tensor::from_var_parts(
        DType::String,
        vec![2],
        offsets,
        arrow_buffer::Buffer::from_vec(b"abc".to_vec()),
    )
    .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Format(_)), "{err:?}");
    let t = Tensor::from_vec1(vec![1i64, 2, 3]);
    assert!(is_invalid(&t.slice_rows(2, 4).unwrap_err()));
    assert!(is_invalid(&t.gather_rows(&[0, 3]).unwrap_err()));
    assert!(is_invalid(&Tensor::scalar(1i64).row(0).unwrap_err()));
    assert!(is_invalid(&Tensor::stack(&[]).unwrap_err()));
    assert!(is_incompatible(
        &Tensor::stack(&[Tensor::scalar(1i64), Tensor::scalar(1.0f32)]).unwrap_err()
    ));
    assert!("float128".parse::<DType>().is_err());
}

// ----- user closures -----------------------------------------------------------------------------------

fn assert_panic(err: &Error, stage_name: &str, index: u64, text: &str) {
    match err.kind() {
        ErrorKind::Panic(msg) => assert!(msg.contains(text), "panic message {msg:?}"),
        other => panic!("expected ErrorKind::Panic, got {other:?}"),
    }
    assert_eq!(stage(err), Some(stage_name), "{err}");
    assert_eq!(err.position().element, Some(index), "{err}");
    let shown = err.to_string();
    assert!(
        shown.contains(stage_name) && shown.contains(&format!("element {index}")),
        "{shown}"
    );
}

#[test]
fn a_panic_in_map() {
    let ds = range(10).map(|e| {
        let x = scalar_of(&e)?;
        if x == 3 {
            panic!("boom at {x}");
        }
        Ok(e)
    });
    assert_panic(&error_after(&ds, 3), "map", 3, "boom at 3");
    // Through a prefetch thread and a batch: still an error at the consumer.
    let err = error_after(&ds.prefetch(2), 3);
    assert_panic(&err, "map", 3, "boom at 3");
    let err = error_after(&ds.batch(2, false).unwrap(), 1);
    assert_panic(&err, "map", 3, "boom at 3");
    // map_batch too.
    let ds = range(10).batch(4, false).unwrap().map_batch(|b| {
        if b.component(0)?.shape()[0] < 4 {
            panic!("short batch")
        } else {
            Ok(b)
        }
    });
    assert_panic(&error_after(&ds, 2), "map_batch", 2, "short batch");
}

#[test]
fn a_panic_in_filter() {
    let ds = range(10).filter(|e| {
        let x = scalar_of(e)?;
        assert!(x != 5, "filter saw {x}");
        Ok(x % 2 == 0)
    });
    // 0, 2, 4 pass, then the predicate panics on element 5.
    assert_panic(&error_after(&ds, 3), "filter", 5, "filter saw 5");
    let mapped = range(10).map(Ok).filter(|e| {
        let x = scalar_of(e)?;
        assert!(x != 1, "filter saw {x}");
        Ok(true)
    });
    assert_panic(&error_after(&mapped, 1), "filter", 1, "filter saw 1");
}

#[test]
fn a_panic_in_flat_map() {
    let ds = range(5).flat_map(|e| {
        let x = scalar_of(&e)?;
        if x == 2 {
            panic!("flat_map on {x}");
        }
        Dataset::range(0, x, 1)
    });
    // Element 0 gives nothing, element 1 gives one value, element 2 panics.
    assert_panic(&error_after(&ds, 1), "flat_map", 2, "flat_map on 2");
    let windows = range(10).window(3, None, 1, false).unwrap();
    let ds = windows
        .flat_map(|w| {
            let n = w.cardinality().finite().unwrap_or(0);
            if n == 1 {
                panic!("a window of one");
            }
            w.batch(3, false)
        })
        .unwrap();
    assert_panic(&error_after(&ds, 3), "flat_map", 3, "a window of one");
}

#[test]
fn a_panic_in_from_generator() {
    let spec = ElementSpec::single(TensorSpec::new(DType::I64, &[]));
    let ds = Dataset::from_generator(spec.clone(), || {
        (0..10i64).map(|x| {
            if x == 4 {
                panic!("generator broke at {x}");
            }
            Ok(Element::single(Tensor::scalar(x)))
        })
    });
    assert_panic(
        &error_after(&ds, 4),
        "from_generator",
        4,
        "generator broke at 4",
    );
    // A panic in the factory itself is an error at the start of the epoch.
    let ds = Dataset::from_generator(spec, || -> std::vec::IntoIter<Result<Element>> {
        panic!("no iterator")
    });
    let err = error_after(&ds, 0);
    assert!(
        matches!(err.kind(), ErrorKind::Panic(m) if m.contains("no iterator")),
        "{err:?}"
    );
    assert_eq!(stage(&err), Some("from_generator"));
}

#[derive(Debug)]
struct Odd(i64);

impl std::fmt::Display for Odd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} is odd", self.0)
    }
}

impl std::error::Error for Odd {}

#[test]
fn an_error_returned_by_a_map_closure() {
    let ds = range(10).map(|e| {
        let x = scalar_of(&e)?;
        if x == 3 {
            return Err(Error::user(Odd(x)));
        }
        Ok(e)
    });
    let err = error_after(&ds, 3);
    assert!(matches!(err.kind(), ErrorKind::User), "{err:?}");
    // The closure's own error is the source, shown once: not repeated in the message.
    let source = std::error::Error::source(&err).map(|s| s.to_string());
    assert_eq!(source.as_deref(), Some("3 is odd"));
    assert!(!err.to_string().contains("3 is odd"), "{err}");
    assert_eq!(stage(&err), Some("map"));
    assert_eq!(err.position().element, Some(3));
    let source = std::error::Error::source(&err).expect("the user's error is kept as the source");
    assert!(source.downcast_ref::<Odd>().is_some());
    // A crate error from inside the closure keeps its own kind.
    let ds = range(4).map(|e| {
        e.get("nope")?;
        Ok(e)
    });
    let err = error_after(&ds, 0);
    assert!(matches!(err.kind(), ErrorKind::NotFound(_)), "{err:?}");
    assert_eq!(stage(&err), Some("map"));
    assert_eq!(err.position().element, Some(0));
    // A predicate error ends the epoch as well.
    let err = error_after(
        &range(5).take_while(|e| {
            if scalar_of(e)? == 2 {
                Err(Error::user("stop"))
            } else {
                Ok(true)
            }
        }),
        2,
    );
    assert_eq!(stage(&err), Some("take_while"));
    assert_eq!(err.position().element, Some(2));
}

#[test]
fn map_spec_inference_reports_the_failure() {
    let ds = range(3).map(|_| -> Result<Element> { panic!("cannot map") });
    let err = ds.element_spec().unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Panic(_)), "{err:?}");
    assert_eq!(stage(&err), Some("map"));
    let empty = range(0).map(Ok);
    assert!(is_invalid(&empty.element_spec().unwrap_err()));
}
