//! Batches to polars data frames and back through the C Data Interface bridge: pointers compared on
//! both sides, `Array` dtypes with the element's shape, the copies polars forces (and only those),
//! and `Dataset::from_polars`.

use crate::frames_common::{check_digits, collect, digits_batch};
use arrow::array::{Array as _, ArrayData};
use half::{bf16, f16};
use polars::prelude::{
    ChunkedArray, Column, DataFrame, DataType as PlDataType, Float32Type, IntoSeries, NamedFrom,
    Series,
};
use polars_arrow::array::{FixedSizeListArray, PrimitiveArray, Utf8ViewArray};
use slicestream::frames::ffi::{arrow_to_series, series_chunk_to_arrow};
use slicestream::frames::{
    from_dataframe, to_dataframe, to_dataframe_with, Bf16Policy, FrameOptions, PolarsStrings,
};
use slicestream::{DType, Dataset, Element, ErrorKind, Tensor};

fn addr<T>(p: *const T) -> usize {
    p as usize
}

/// The address of the first leaf value of chunk 0 of `s`, read through the bridge back to arrow-rs
/// (the bridge keeps pointers: if either direction copied, addresses would differ).
fn leaf_addr(s: &Series) -> usize {
    fn leaf(d: &ArrayData) -> usize {
        match d.child_data().first() {
            Some(c) => leaf(c),
            None => {
                let i = if d.data_type().is_primitive() {
                    0
                } else {
                    d.buffers().len() - 1
                };
                addr(d.buffers()[i].as_ptr())
            }
        }
    }
    let (_, array) = series_chunk_to_arrow(s, 0).unwrap();
    leaf(&array.to_data())
}

fn series<'a>(df: &'a DataFrame, name: &str) -> &'a Series {
    df.column(name).unwrap().as_materialized_series()
}

#[test]
fn tensors_become_array_columns_of_their_shape_over_the_same_buffer() {
    let d = digits_batch();
    let df = to_dataframe(&d).unwrap();
    assert_eq!(df.height(), 1797);
    let image = series(&df, "image");
    assert_eq!(
        image.dtype(),
        &PlDataType::Array(
            Box::new(PlDataType::Array(Box::new(PlDataType::UInt8), 8)),
            8
        )
    );
    // Walk polars' own arrays: Array(Array(u8, 8), 8) -> values -> values -> u8 buffer.
    let outer = image.chunks()[0]
        .as_any()
        .downcast_ref::<FixedSizeListArray>()
        .unwrap();
    let inner = outer
        .values()
        .as_any()
        .downcast_ref::<FixedSizeListArray>()
        .unwrap();
    let leaf = inner
        .values()
        .as_any()
        .downcast_ref::<PrimitiveArray<u8>>()
        .unwrap();
    assert_eq!(
        addr(leaf.values().as_ptr()),
        addr(d.get("image").unwrap().data_ptr())
    );
    let label = series(&df, "label");
    let labels = label.chunks()[0]
        .as_any()
        .downcast_ref::<PrimitiveArray<i64>>()
        .unwrap();
    assert_eq!(
        addr(labels.values().as_ptr()),
        addr(d.get("label").unwrap().data_ptr())
    );

    // f32 rows of shape [784]: Array(f32, 784), same buffer.
    let x = Tensor::from_vec([5, 784], vec![0.5f32; 5 * 784]).unwrap();
    let df = to_dataframe(&Element::dict([("x", x.clone())])).unwrap();
    let s = series(&df, "x");
    assert_eq!(
        s.dtype(),
        &PlDataType::Array(Box::new(PlDataType::Float32), 784)
    );
    let fsl = s.chunks()[0]
        .as_any()
        .downcast_ref::<FixedSizeListArray>()
        .unwrap();
    let v = fsl
        .values()
        .as_any()
        .downcast_ref::<PrimitiveArray<f32>>()
        .unwrap();
    assert_eq!(addr(v.values().as_ptr()), addr(x.data_ptr()));
}

#[test]
fn every_dtype_crosses_without_a_copy_but_bool_and_short_strings() {
    let n = 3;
    let long: Vec<String> = (0..n)
        .map(|i| format!("a string longer than twelve bytes {i}"))
        .collect();
    let b = Element::dict([
        ("u8", Tensor::from_vec1(vec![1u8, 2, 3])),
        ("i8", Tensor::from_vec1(vec![-1i8, 2, 3])),
        ("u16", Tensor::from_vec1(vec![1u16, 2, 3])),
        ("i16", Tensor::from_vec1(vec![1i16, 2, 3])),
        ("u32", Tensor::from_vec1(vec![1u32, 2, 3])),
        ("i32", Tensor::from_vec1(vec![1i32, 2, 3])),
        ("u64", Tensor::from_vec1(vec![1u64, 2, 3])),
        ("i64", Tensor::from_vec1(vec![1i64, 2, 3])),
        ("f16", Tensor::from_vec1(vec![f16::from_f32(1.5); 3])),
        ("f32", Tensor::from_vec1(vec![1.5f32; 3])),
        ("f64", Tensor::from_vec1(vec![1.5f64; 3])),
        (
            "t",
            Tensor::from_vec([n, 2, 2], vec![2.5f64; n * 4]).unwrap(),
        ),
        ("s", Tensor::from_strings([n], &long).unwrap()),
        (
            "by",
            Tensor::from_byte_strings([n], long.iter().map(|s| s.as_bytes())).unwrap(),
        ),
        ("bool", Tensor::from_vec1(vec![true, false, true])),
    ]);
    let df = to_dataframe(&b).unwrap();
    for (path, t) in b.paths().iter().zip(b.components()) {
        let s = series(&df, path);
        let same = leaf_addr(s) == addr(t.data_ptr());
        let expect_copy = t.dtype() == DType::Bool;
        assert_eq!(same, !expect_copy, "column {path} ({})", s.dtype());
    }
    // And back: every column but bool (bits) and strings (polars keeps views) is the same memory.
    let back = from_dataframe(&df).unwrap();
    assert_eq!(back, b);
    for (path, t) in b.paths().iter().zip(back.components()) {
        let same = addr(t.data_ptr()) == addr(b.get(path).unwrap().data_ptr());
        let copied = matches!(t.dtype(), DType::Bool | DType::String | DType::Bytes);
        assert_eq!(same, !copied, "column {path}");
    }
}

#[test]
fn strings_are_views_over_the_tensor_values_and_large_utf8_is_what_polars_copies() {
    let values = [
        "short",
        "a value longer than the twelve inline bytes",
        "another long-enough one",
    ];
    let t = Tensor::from_strings([3], values).unwrap();
    let (_, bytes) = t.var_parts().unwrap();
    let b = Element::dict([("s", t.clone())]);

    let df = to_dataframe(&b).unwrap();
    let s = series(&df, "s");
    assert_eq!(s.dtype(), &PlDataType::String);
    let views = s.chunks()[0]
        .as_any()
        .downcast_ref::<Utf8ViewArray>()
        .unwrap();
    assert_eq!(views.data_buffers().len(), 1);
    assert_eq!(addr(views.data_buffers()[0].as_ptr()), addr(bytes.as_ptr()));
    assert_eq!(views.value(1), values[1]);

    // The LargeUtf8 layout: polars converts it to views by copying every value.
    let large = FrameOptions::default().with_polars_strings(PolarsStrings::Large);
    let df = to_dataframe_with(&b, &large).unwrap();
    let s = series(&df, "s");
    let views = s.chunks()[0]
        .as_any()
        .downcast_ref::<Utf8ViewArray>()
        .unwrap();
    assert!(views
        .data_buffers()
        .iter()
        .all(|buf| addr(buf.as_ptr()) != addr(bytes.as_ptr())));
    assert_eq!(views.value(2), values[2]);
}

#[test]
fn from_polars_reads_polars_built_frames_and_slices_chunks_without_a_copy() {
    // A frame polars built: an Array(f32, 4) column from a reshaped series, and i64 labels.
    let flat = Series::new("x".into(), (0..40).map(|i| i as f32).collect::<Vec<_>>());
    let x = flat.reshape_array(&[
        polars::prelude::ReshapeDimension::new_dimension(10),
        polars::prelude::ReshapeDimension::new_dimension(4),
    ]);
    let x = match x {
        Ok(x) => x,
        Err(_) => {
            // reshape needs polars-ops' reshape; build it through the bridge instead.
            let t =
                Tensor::from_vec([10, 4], (0..40).map(|i| i as f32).collect::<Vec<_>>()).unwrap();
            to_dataframe(&Element::dict([("x", t)]))
                .unwrap()
                .column("x")
                .unwrap()
                .as_materialized_series()
                .clone()
        }
    };
    let y = Series::new("y".into(), (0..10i64).collect::<Vec<_>>());
    let df = DataFrame::new(10, vec![Column::from(x.clone()), Column::from(y.clone())]).unwrap();
    let ds = Dataset::from_polars(&df).unwrap();
    assert_eq!(ds.cardinality().as_tf(), 10);
    assert_eq!(
        ds.element_spec().unwrap().get("x").unwrap().shape,
        [Some(4)]
    );
    let batches = collect(&ds.batch(4, false).unwrap());
    assert_eq!(batches.len(), 3);
    let xb = batches[1].get("x").unwrap();
    assert_eq!(xb.shape(), [4, 4]);
    assert_eq!(xb.as_slice::<f32>().unwrap()[0], 16.0);
    // The batch is a slice of polars' buffer: rows 4.. start 16 floats in.
    assert_eq!(addr(xb.data_ptr()), leaf_addr(&x) + 16 * 4);
    let yb = batches[2].get("y").unwrap();
    assert_eq!(yb.as_slice::<i64>().unwrap(), &[8, 9]);
    assert_eq!(addr(yb.data_ptr()), leaf_addr(&y) + 8 * 8);

    // Shuffled: a gather (polars take), values right.
    let shuffled = collect(
        &ds.shuffle(10, Some(3), true)
            .unwrap()
            .batch(10, false)
            .unwrap(),
    );
    let mut ys: Vec<i64> = shuffled[0]
        .get("y")
        .unwrap()
        .as_slice::<i64>()
        .unwrap()
        .to_vec();
    ys.sort();
    assert_eq!(ys, (0..10).collect::<Vec<_>>());

    // Two chunks: a batch across the boundary is rechunked (values right), one inside is a view.
    let mut y2 = y.clone();
    y2.append(&Series::new("y".into(), (10..20i64).collect::<Vec<_>>()))
        .unwrap();
    assert_eq!(y2.n_chunks(), 2);
    let df2 = DataFrame::new(20, vec![Column::from(y2)]).unwrap();
    let batches = collect(&Dataset::from_polars(&df2).unwrap().batch(8, false).unwrap());
    assert_eq!(
        batches[1].get("y").unwrap().as_slice::<i64>().unwrap(),
        &(8..16).collect::<Vec<_>>()[..]
    );
    assert_eq!(
        batches[2].get("y").unwrap().as_slice::<i64>().unwrap(),
        &[16, 17, 18, 19]
    );
}

#[test]
fn digits_through_polars_and_back_keep_their_values_and_buffers() {
    let d = digits_batch();
    let df = to_dataframe(&d).unwrap();
    let back = from_dataframe(&df).unwrap();
    check_digits(back.get("image").unwrap(), back.get("label").unwrap());
    assert_eq!(
        addr(back.get("image").unwrap().data_ptr()),
        addr(d.get("image").unwrap().data_ptr())
    );
    let rows = collect(&Dataset::from_polars(&df).unwrap());
    assert_eq!(rows.len(), 1797);
    assert_eq!(
        rows[1796].get("label").unwrap().as_slice::<i64>().unwrap(),
        &[8]
    );
}

#[test]
fn list_columns_hold_rows_of_unknown_length() {
    // A polars List column (rows of different lengths) reads row by row; batching rows of different
    // lengths is an error naming the column.
    let rows = [vec![1i64, 2], vec![3], vec![4, 5, 6]];
    let inner: Vec<Series> = rows
        .iter()
        .map(|r| Series::new("".into(), r.clone()))
        .collect();
    let list = Series::new("seq".into(), inner);
    let df = DataFrame::new(3, vec![Column::from(list)]).unwrap();
    let ds = Dataset::from_polars(&df).unwrap();
    assert_eq!(ds.element_spec().unwrap().get("seq").unwrap().shape, [None]);
    let got = collect(&ds);
    for (e, r) in got.iter().zip(&rows) {
        assert_eq!(e.get("seq").unwrap().as_slice::<i64>().unwrap(), &r[..]);
    }
    let err = ds
        .batch(3, false)
        .unwrap()
        .iter()
        .find_map(|e| e.err())
        .unwrap();
    assert!(matches!(err.kind(), ErrorKind::Incompatible(_)), "{err}");
    assert_eq!(err.position().component.as_deref(), Some("seq"), "{err}");
}

#[test]
fn bf16_is_an_error_naming_the_column_or_its_bits_as_uint16() {
    let b = Element::dict([("w", Tensor::from_vec1(vec![bf16::from_f32(1.0); 2]))]);
    let err = to_dataframe(&b).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Incompatible(_)), "{err}");
    assert_eq!(err.position().component.as_deref(), Some("w"));
    let bits = FrameOptions::default().with_bf16(Bf16Policy::Bits);
    let df = to_dataframe_with(&b, &bits).unwrap();
    assert_eq!(series(&df, "w").dtype(), &PlDataType::UInt16);
    assert_eq!(
        leaf_addr(series(&df, "w")),
        addr(b.get("w").unwrap().data_ptr())
    );
}

#[test]
fn the_bridge_moves_arrays_both_ways_and_releases_them() {
    // An arrow-rs array into polars and back, many times: pointers kept, nothing leaked or freed
    // twice (a double release would crash; the Arc count returns to one).
    let values = arrow::array::Float32Array::from(vec![1.0f32, 2.0, 3.0]);
    let field = arrow::datatypes::Field::new("v", arrow::datatypes::DataType::Float32, false);
    let array: arrow::array::ArrayRef = std::sync::Arc::new(values);
    let p = addr(array.to_data().buffers()[0].as_ptr());
    for _ in 0..100 {
        let s = arrow_to_series(&field, &array).unwrap();
        let ca: &ChunkedArray<Float32Type> = s.f32().unwrap();
        assert_eq!(ca.get(2), Some(3.0));
        let (f, back) = series_chunk_to_arrow(&s, 0).unwrap();
        assert_eq!(f.name(), "v");
        assert_eq!(addr(back.to_data().buffers()[0].as_ptr()), p);
        let _ = s.into_series();
    }
    assert_eq!(std::sync::Arc::strong_count(&array), 1);
    let err = series_chunk_to_arrow(&Series::new("e".into(), [1i64]), 3).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::InvalidArgument(_)));
    let _ = array.len();
}

/// The arrow_import fuzz target found polars-arrow 0.55 panicking on columns it cannot take
/// (a sliced `FixedSizeList` in its C Data Interface import, an `unwrap` on a `Date32` list in
/// `Series::from_arrow`): each is an error naming the column now. Sliced columns of every kind:
/// a polars column of the right length, or such an error — never a panic.
#[test]
fn sliced_and_unusual_columns_are_series_or_errors_not_panics() {
    use arrow::array::{
        ArrayRef, Date32Array, FixedSizeListArray as ArrowFsl, Int32Array, ListArray,
    };
    use arrow::buffer::OffsetBuffer;
    use arrow::datatypes::{DataType, Field};
    use std::sync::Arc;
    let item = Arc::new(Field::new("item", DataType::Int32, false));
    let values = Arc::new(Int32Array::from((0..12).collect::<Vec<i32>>()));
    let fsl = ArrowFsl::try_new(item.clone(), 3, values, None).unwrap();
    let fsl_field = Field::new("x", DataType::FixedSizeList(item, 3), false);
    let day = Arc::new(Field::new("item", DataType::Date32, true));
    let dates = ListArray::try_new(
        day.clone(),
        OffsetBuffer::from_lengths([2, 1]),
        Arc::new(Date32Array::from(vec![1, 2, 3])),
        None,
    )
    .unwrap();
    let dates_field = Field::new("d", DataType::List(day), false);
    let mut cases: Vec<(Field, ArrayRef)> = Vec::new();
    for (offset, len) in [(0, 4), (1, 2), (3, 1), (4, 0), (2, 2)] {
        cases.push((fsl_field.clone(), Arc::new(fsl.slice(offset, len))));
    }
    cases.push((dates_field.clone(), Arc::new(dates.clone())));
    cases.push((dates_field, Arc::new(dates.slice(1, 1))));
    for (field, array) in cases {
        match arrow_to_series(&field, &array) {
            Ok(s) => assert_eq!(s.len(), array.len(), "{field:?}"),
            Err(e) => assert!(e.to_string().contains("polars cannot"), "{field:?}: {e}"),
        }
    }
}
