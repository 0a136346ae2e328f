//! Bad input on the way into and out of frames: each case a typed error naming the column, never a
//! panic.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, Date32Array, DictionaryArray, FixedSizeListArray, Float32Array, Int32Array,
    Int64Array, ListArray, NullArray, RecordBatch, StructArray,
};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::datatypes::{DataType, Field, Int32Type, Schema};
use half::bf16;
use polars::prelude::{Column, DataFrame, DataType as PlDataType, NamedFrom, Series};
use slicestream::frames::{
    from_record_batch, to_dataframe, to_record_batch, FrameOptions, RecordBatchConverter,
    SUPPORTED_ARROW_TYPES,
};
use slicestream::{Dataset, Element, Error, ErrorKind, Tensor};

fn column_of(e: &Error) -> Option<&str> {
    e.position().component.as_deref()
}

fn one(name: &str, array: ArrayRef) -> RecordBatch {
    RecordBatch::try_from_iter([(name, array)]).unwrap()
}

fn fsl(values: ArrayRef, size: i32, nulls: Option<NullBuffer>) -> FixedSizeListArray {
    let item = Arc::new(Field::new("item", values.data_type().clone(), true));
    FixedSizeListArray::try_new(item, size, values, nulls).unwrap()
}

fn with_field_metadata(rb: &RecordBatch, meta: &[(&str, &str)]) -> RecordBatch {
    let f = rb.schema().field(0).clone().with_metadata(
        meta.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<HashMap<_, _>>(),
    );
    RecordBatch::try_new(Arc::new(Schema::new(vec![f])), rb.columns().to_vec()).unwrap()
}

#[test]
fn unsupported_arrow_types_name_the_column_and_list_the_supported_ones() {
    let date: ArrayRef = Arc::new(Date32Array::from(vec![1, 2]));
    let dict: ArrayRef = Arc::new(DictionaryArray::<Int32Type>::from_iter(["a", "b"]));
    let null: ArrayRef = Arc::new(NullArray::new(2));
    let strukt: ArrayRef = Arc::new(StructArray::from(vec![(
        Arc::new(Field::new("a", DataType::Int64, false)),
        Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef,
    )]));
    let list_of_dates: ArrayRef = Arc::new(fsl(date.clone(), 1, None));
    for (name, array) in [
        ("date", date),
        ("dict", dict),
        ("null", null),
        ("struct", strukt),
        ("nested_date", list_of_dates),
    ] {
        let rb = one(name, array);
        let err = from_record_batch(&rb).unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::Incompatible(_)),
            "{name}: {err}"
        );
        assert_eq!(column_of(&err), Some(name), "{err}");
        assert!(err.to_string().contains(SUPPORTED_ARROW_TYPES), "{err}");
        // Datasets refuse them before iterating.
        let err = Dataset::from_record_batches([rb]).unwrap_err();
        assert_eq!(column_of(&err), Some(name), "{err}");
    }
}

#[test]
fn unsupported_polars_types_name_the_column() {
    let s = Series::full_null("nothing".into(), 3, &PlDataType::Null);
    let df = DataFrame::new(3, vec![Column::from(s)]).unwrap();
    let err = Dataset::from_polars(&df).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Incompatible(_)), "{err}");
    assert_eq!(column_of(&err), Some("nothing"), "{err}");
}

#[test]
fn nulls_in_any_column_are_an_error_naming_it() {
    let ints: ArrayRef = Arc::new(Int64Array::from(vec![Some(1), None]));
    let err = from_record_batch(&one("y", ints)).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Incompatible(_)), "{err}");
    assert_eq!(column_of(&err), Some("y"));
    assert!(err.to_string().contains("null"), "{err}");

    // A null inside a tensor, and a null tensor.
    let inner: ArrayRef = Arc::new(Float32Array::from(vec![
        Some(1.0),
        None,
        Some(3.0),
        Some(4.0),
    ]));
    let err = from_record_batch(&one("x", Arc::new(fsl(inner, 2, None)))).unwrap_err();
    assert_eq!(column_of(&err), Some("x"), "{err}");
    let values: ArrayRef = Arc::new(Float32Array::from(vec![1.0f32, 2.0, 3.0, 4.0]));
    let nulls = NullBuffer::from(vec![true, false]);
    let err = from_record_batch(&one("x", Arc::new(fsl(values, 2, Some(nulls))))).unwrap_err();
    assert_eq!(column_of(&err), Some("x"), "{err}");

    // Through polars, and in a dataset: the error comes with the row's element index.
    let s = Series::new("p".into(), [Some(1i64), None, Some(3)]);
    let df = DataFrame::new(3, vec![Column::from(s)]).unwrap();
    let err = Dataset::from_polars(&df)
        .unwrap()
        .iter()
        .find_map(|r| r.err())
        .unwrap();
    assert_eq!(column_of(&err), Some("p"), "{err}");
    assert_eq!(err.position().element, Some(1), "{err}");
}

#[test]
fn a_tensor_shape_that_disagrees_with_the_list_length_is_a_format_error() {
    let values: ArrayRef = Arc::new(Float32Array::from(vec![0.0f32; 16]));
    let rb = one("image", Arc::new(fsl(values, 8, None)));
    let bad = with_field_metadata(
        &rb,
        &[
            ("ARROW:extension:name", "arrow.fixed_shape_tensor"),
            ("ARROW:extension:metadata", r#"{"shape":[3,3]}"#),
        ],
    );
    let err = from_record_batch(&bad).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Format(_)), "{err}");
    assert_eq!(column_of(&err), Some("image"));
    let err = Dataset::from_record_batches([bad]).unwrap_err();
    assert_eq!(column_of(&err), Some("image"), "{err}");

    // Bad JSON, no shape, a negative dimension, a shape whose product overflows (found by the
    // arrow_import fuzz target: it used to overflow, or wrap to match in release builds): format
    // errors too.
    for meta in [
        "not json",
        r#"{"dim_names":["a"]}"#,
        r#"{"shape":[-1,8]}"#,
        r#"{"shape":[18446744073709551615,2]}"#,
        r#"{"shape":[9223372036854775808,2,4]}"#,
    ] {
        let bad = with_field_metadata(
            &rb,
            &[
                ("ARROW:extension:name", "arrow.fixed_shape_tensor"),
                ("ARROW:extension:metadata", meta),
            ],
        );
        let err = from_record_batch(&bad).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Format(_)), "{meta}: {err}");
        assert_eq!(column_of(&err), Some("image"));
    }
    // A transposed layout (permutation) is refused, naming the column.
    let perm = with_field_metadata(
        &rb,
        &[
            ("ARROW:extension:name", "arrow.fixed_shape_tensor"),
            (
                "ARROW:extension:metadata",
                r#"{"shape":[2,4],"permutation":[1,0]}"#,
            ),
        ],
    );
    let err = from_record_batch(&perm).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Incompatible(_)), "{err}");
    // The identity permutation is fine.
    let ok = with_field_metadata(
        &rb,
        &[
            ("ARROW:extension:name", "arrow.fixed_shape_tensor"),
            (
                "ARROW:extension:metadata",
                r#"{"shape":[2,4],"permutation":[0,1],"dim_names":["h","w"]}"#,
            ),
        ],
    );
    assert_eq!(
        from_record_batch(&ok)
            .unwrap()
            .get("image")
            .unwrap()
            .shape(),
        [2, 2, 4]
    );
}

#[test]
fn a_schema_change_between_record_batches_names_the_column() {
    let a = one("x", Arc::new(Int64Array::from(vec![1, 2])));
    let changed_type = one("x", Arc::new(Float32Array::from(vec![1.0, 2.0])));
    let renamed = one("z", Arc::new(Int64Array::from(vec![1, 2])));
    let added = RecordBatch::try_from_iter([
        ("x", Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef),
        ("w", Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef),
    ])
    .unwrap();
    let vals = |n: usize| -> ArrayRef { Arc::new(Float32Array::from(vec![0.0f32; n])) };
    let len4 = one("t", Arc::new(fsl(vals(8), 4, None)));
    let len2 = one("t", Arc::new(fsl(vals(8), 2, None)));
    for (first, second, column) in [
        (a.clone(), changed_type, "x"),
        (a.clone(), renamed, "z"),
        (a.clone(), added, "w"),
        (len4, len2, "t"),
    ] {
        let ds = Dataset::from_record_batches([first.clone(), first, second]).unwrap();
        let results: Vec<_> = ds.iter().collect();
        let err = results.last().unwrap().as_ref().unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Incompatible(_)), "{err}");
        assert_eq!(column_of(err), Some(column), "{err}");
        assert!(err.to_string().contains("record batch 2"), "{err}");
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 4);
    }
}

#[test]
fn ragged_lists_can_be_rows_but_not_a_batch_and_rows_must_be_rectangular() {
    let list = ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
        Some(vec![Some(1), Some(2)]),
        Some(vec![Some(3)]),
    ]);
    let rb = one("seq", Arc::new(list));
    let err = from_record_batch(&rb).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Incompatible(_)), "{err}");
    assert_eq!(column_of(&err), Some("seq"));
    assert_eq!(
        Dataset::from_record_batches([rb]).unwrap().iter().count(),
        2
    );

    // Rows [[1, 2], [3]] (lists of lists of different lengths) are not tensors.
    let inner = ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
        Some(vec![Some(1), Some(2)]),
        Some(vec![Some(3)]),
    ]);
    let field = Arc::new(Field::new("item", inner.data_type().clone(), true));
    let outer = ListArray::new(
        field,
        OffsetBuffer::new(vec![0, 2].into()),
        Arc::new(inner),
        None,
    );
    let err = Dataset::from_record_batches([one("m", Arc::new(outer))])
        .unwrap()
        .iter()
        .find_map(|r| r.err())
        .unwrap();
    assert_eq!(column_of(&err), Some("m"), "{err}");
    assert!(err.to_string().contains("ragged"), "{err}");
}

#[test]
fn batches_that_do_not_fit_the_converter_name_the_component() {
    let good = Element::dict([("x", Tensor::from_vec([2, 3], vec![0i32; 6]).unwrap())]);
    let conv = RecordBatchConverter::for_batch(&good).unwrap();
    let wrong_shape = Element::dict([("x", Tensor::from_vec([3, 2], vec![0i32; 6]).unwrap())]);
    let err = conv.convert(&wrong_shape).unwrap_err();
    assert_eq!(column_of(&err), Some("x"), "{err}");
    let wrong_dtype = Element::dict([("x", Tensor::from_vec([2, 3], vec![0i64; 6]).unwrap())]);
    assert_eq!(
        column_of(&conv.convert(&wrong_dtype).unwrap_err()),
        Some("x")
    );
    let wrong_structure = Element::dict([("q", Tensor::from_vec([2, 3], vec![0i32; 6]).unwrap())]);
    assert!(conv.convert(&wrong_structure).is_err());
    let rows_differ = Element::dict([
        ("a", Tensor::from_vec1(vec![1i32, 2])),
        ("b", Tensor::from_vec1(vec![1i32, 2, 3])),
    ]);
    let err = to_record_batch(&rows_differ).unwrap_err();
    assert_eq!(column_of(&err), Some("b"), "{err}");
    // A scalar component has no rows.
    let scalar = Element::dict([("s", Tensor::scalar(1i64))]);
    assert_eq!(column_of(&to_record_batch(&scalar).unwrap_err()), Some("s"));
}

#[test]
fn bf16_has_no_arrow_type_unless_asked_for_its_bits() {
    let b = Element::dict([(
        "w",
        Tensor::from_vec([2, 2], vec![bf16::from_f32(0.5); 4]).unwrap(),
    )]);
    let err = to_record_batch(&b).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Incompatible(_)), "{err}");
    assert_eq!(column_of(&err), Some("w"));
    assert!(to_dataframe(&b).is_err());
    let bits = FrameOptions::default().with_bf16(slicestream::frames::Bf16Policy::Bits);
    let spec = slicestream::frames::row_spec_of(&b).unwrap();
    let rb = RecordBatchConverter::new(&spec, &bits)
        .unwrap()
        .convert(&b)
        .unwrap();
    // Read back as bf16, the same buffer.
    let back = from_record_batch(&rb).unwrap();
    assert_eq!(back, b);
    assert_eq!(
        back.get("w").unwrap().data_ptr(),
        b.get("w").unwrap().data_ptr()
    );
    let _ = Int32Array::from(vec![0]);
}
