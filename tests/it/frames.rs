//! Batches to Arrow record batches and back: the Arrow buffers are the tensors' buffers (pointers
//! compared), the fixed_shape_tensor metadata, list columns for unknown dimensions, structures, and
//! `Dataset::from_record_batches`.

use std::sync::Arc;

use crate::frames_common::{collect, digits_batch};
use arrow::array::{
    Array, AsArray, BooleanArray, FixedSizeListArray, Int64Array, LargeListArray, LargeStringArray,
    RecordBatch, RecordBatchIterator,
};
use arrow::datatypes::{DataType, Field, Float32Type, Int64Type, UInt8Type};
use slicestream::frames::{
    from_record_batch, row_spec_of, to_record_batch, FrameOptions, RecordBatchConverter,
};
use slicestream::{DType, Dataset, Element, ElementSpec, ErrorKind, Structure, Tensor, TensorSpec};

fn addr<T>(p: *const T) -> usize {
    p as usize
}

fn batch() -> Element {
    Element::dict([
        (
            "x",
            Tensor::from_vec([4, 2, 3], (0..24).map(|i| i as f32).collect::<Vec<_>>()).unwrap(),
        ),
        ("y", Tensor::from_vec1(vec![10i64, 11, 12, 13])),
        (
            "s",
            Tensor::from_strings([4], ["a", "bb", "a longer string than twelve", ""]).unwrap(),
        ),
        ("b", Tensor::from_vec1(vec![true, false, true, true])),
    ])
}

#[test]
fn a_batch_becomes_a_record_batch_over_its_own_buffers() {
    let b = batch();
    let rb = to_record_batch(&b).unwrap();
    assert_eq!(rb.num_rows(), 4);
    let schema = rb.schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, ["x", "y", "s", "b"]);

    // x: FixedSizeList<f32, 6> whose values are the tensor's buffer.
    let x = rb.column(0).as_fixed_size_list();
    assert_eq!(x.value_length(), 6);
    let xv = x.values().as_primitive::<Float32Type>();
    assert_eq!(
        addr(xv.values().as_ptr()),
        addr(b.get("x").unwrap().data_ptr())
    );
    assert_eq!(xv.value(7), 7.0);

    // y: Int64, same buffer.
    let y = rb.column(1).as_primitive::<Int64Type>();
    assert_eq!(
        addr(y.values().as_ptr()),
        addr(b.get("y").unwrap().data_ptr())
    );

    // s: LargeUtf8 over the tensor's offsets and values.
    let s = rb.column(2).as_string::<i64>();
    let (offsets, values) = b.get("s").unwrap().var_parts().unwrap();
    assert_eq!(addr(s.value_offsets().as_ptr()), addr(offsets.as_ptr()));
    assert_eq!(addr(s.values().as_ptr()), addr(values.as_ptr()));
    assert_eq!(s.value(2), "a longer string than twelve");

    // b: the one copy (bits).
    let bools = rb
        .column(3)
        .as_any()
        .downcast_ref::<BooleanArray>()
        .unwrap();
    assert_eq!(
        bools.iter().flatten().collect::<Vec<_>>(),
        [true, false, true, true]
    );
}

#[test]
fn tensor_columns_carry_the_fixed_shape_tensor_extension_as_pyarrow_writes_it() {
    let rb = to_record_batch(&batch()).unwrap();
    let schema = rb.schema();
    let x = schema.field(0);
    assert_eq!(
        x.metadata()["ARROW:extension:name"],
        "arrow.fixed_shape_tensor"
    );
    assert_eq!(
        x.metadata()["ARROW:extension:metadata"],
        r#"{"shape":[2,3]}"#
    );
    match x.data_type() {
        DataType::FixedSizeList(item, 6) => {
            assert_eq!(item.data_type(), &DataType::Float32);
            assert!(
                item.is_nullable(),
                "pyarrow wants a nullable item in fixed_shape_tensor storage"
            );
        }
        other => panic!("x is {other}"),
    }
    // Scalars carry no extension; no column is nullable.
    assert!(schema.field(1).metadata().is_empty());
    assert!(schema.fields().iter().all(|f| !f.is_nullable()));
    assert_eq!(schema.field(2).data_type(), &DataType::LargeUtf8);
}

#[test]
fn a_slice_of_a_source_is_still_zero_copy() {
    let x = Tensor::from_vec([100, 8, 8], vec![7u8; 6400]).unwrap();
    let base = addr(x.data_ptr());
    let ds = Dataset::from_tensor_slices(Element::dict([("image", x)])).unwrap();
    let batches = collect(&ds.batch(32, false).unwrap());
    let rb = to_record_batch(&batches[1]).unwrap();
    let values = rb
        .column(0)
        .as_fixed_size_list()
        .values()
        .as_primitive::<UInt8Type>()
        .clone();
    assert_eq!(addr(values.values().as_ptr()), base + 32 * 64);
    assert_eq!(values.len(), 32 * 64);
}

#[test]
fn record_batches_come_back_as_the_same_batch_over_the_same_buffers() {
    let b = batch();
    let rb = to_record_batch(&b).unwrap();
    let back = from_record_batch(&rb).unwrap();
    assert_eq!(back, b);
    for path in ["x", "y", "s"] {
        assert_eq!(
            addr(back.get(path).unwrap().data_ptr()),
            addr(b.get(path).unwrap().data_ptr()),
            "{path}"
        );
    }
    // The digits, 8x8 images.
    let d = digits_batch();
    let back = from_record_batch(&to_record_batch(&d).unwrap()).unwrap();
    assert_eq!(back.get("image").unwrap().shape(), [1797, 8, 8]);
    assert_eq!(back, d);
}

#[test]
fn structures_survive_through_the_schema_metadata_and_names_nest_without_it() {
    let nested = Element::dict_of(vec![
        (
            "a",
            Element::tuple(vec![
                Tensor::from_vec1(vec![1i32, 2]),
                Tensor::from_vec1(vec![3.0f64, 4.0]),
            ]),
        ),
        ("b", Element::single(Tensor::from_vec1(vec![5u16, 6]))),
    ]);
    let rb = to_record_batch(&nested).unwrap();
    let schema = rb.schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, ["a/0", "a/1", "b"]);
    assert_eq!(from_record_batch(&rb).unwrap(), nested);

    // Tuples, and a single tensor (path "0").
    let t = Element::tuple(vec![
        Tensor::from_vec1(vec![1i64]),
        Tensor::from_vec1(vec![2i64]),
    ]);
    assert_eq!(from_record_batch(&to_record_batch(&t).unwrap()).unwrap(), t);
    let one = Element::single(Tensor::from_vec1(vec![1i8, 2]));
    assert_eq!(
        from_record_batch(&to_record_batch(&one).unwrap()).unwrap(),
        one
    );

    // Without metadata, names decide: "a/0", "a/1" is a tuple under a dict.
    let plain = RecordBatch::try_new(
        Arc::new(
            rb.schema()
                .as_ref()
                .clone()
                .with_metadata(std::collections::HashMap::<String, String>::new()),
        ),
        rb.columns().to_vec(),
    )
    .unwrap();
    assert_eq!(
        from_record_batch(&plain).unwrap().structure(),
        nested.structure()
    );
}

#[test]
fn unknown_dimensions_are_list_columns_and_rows_come_back_with_their_own_shapes() {
    // Rows of shape [None, 2]: LargeList<FixedSizeList<i32, 2>>.
    let spec = ElementSpec::new(
        Structure::dict_of_tensors(["seq"]),
        vec![TensorSpec::with_unknown(DType::I32, vec![None, Some(2)])],
    )
    .unwrap();
    let conv = RecordBatchConverter::new(&spec, &FrameOptions::default()).unwrap();
    match conv.schema().field(0).data_type() {
        DataType::LargeList(item) => {
            assert!(matches!(item.data_type(), DataType::FixedSizeList(_, 2)))
        }
        other => panic!("seq is {other}"),
    }
    let rows: Vec<Element> = [1usize, 3, 0]
        .iter()
        .map(|&n| {
            let v: Vec<i32> = (0..n as i32 * 2).collect();
            Element::dict([("seq", Tensor::from_vec([n, 2], v).unwrap())])
        })
        .collect();
    let rb = conv.convert_rows(&rows).unwrap();
    let list = rb
        .column(0)
        .as_any()
        .downcast_ref::<LargeListArray>()
        .unwrap();
    assert_eq!(list.value_offsets(), &[0, 1, 4, 4]);
    // A dataset of the rows gives them back, each its own shape (views of the list values).
    let back = collect(&Dataset::from_record_batches([rb.clone()]).unwrap());
    assert_eq!(back, rows);
    assert_eq!(
        Dataset::from_record_batches([rb.clone()])
            .unwrap()
            .element_spec()
            .unwrap(),
        spec
    );
    // A batch of rows of one shape is a list column too, zero-copy back.
    let uniform = Element::dict([(
        "seq",
        Tensor::from_vec([2, 3, 2], (0..12).collect::<Vec<i32>>()).unwrap(),
    )]);
    let rb = conv.convert(&uniform).unwrap();
    let back = from_record_batch(&rb).unwrap();
    assert_eq!(back, uniform);
    assert_eq!(
        addr(back.get("seq").unwrap().data_ptr()),
        addr(uniform.get("seq").unwrap().data_ptr())
    );
}

#[test]
fn from_record_batches_yields_rows_that_are_views_of_each_record_batch() {
    let b = batch();
    let rb = to_record_batch(&b).unwrap();
    let ds = Dataset::from_record_batches(vec![rb.clone(), rb.clone()]).unwrap();
    assert_eq!(ds.element_spec().unwrap(), row_spec_of(&b).unwrap());
    let rows = collect(&ds);
    assert_eq!(rows.len(), 8);
    assert_eq!(rows[5], b.try_map_components(|_, t| t.row(1)).unwrap());
    let x = b.get("x").unwrap();
    assert_eq!(
        addr(rows[5].get("x").unwrap().data_ptr()),
        addr(x.data_ptr()) + 6 * 4
    );
    // Batched again: one batch of 8 rows (stacked: one copy).
    let ds = Dataset::from_record_batches(vec![rb.clone(), rb]).unwrap();
    let stacked = collect(&ds.batch(8, false).unwrap());
    assert_eq!(stacked.len(), 1);
    assert_eq!(
        stacked[0].get("y").unwrap().as_slice::<i64>().unwrap(),
        &[10, 11, 12, 13, 10, 11, 12, 13]
    );
}

#[test]
fn a_record_batch_stream_is_used_once_and_a_reader_gives_the_spec_even_when_empty() {
    let rb = to_record_batch(&batch()).unwrap();
    let ds = Dataset::from_record_batches(vec![rb.clone()]).unwrap();
    assert_eq!(collect(&ds).len(), 4);
    let err = ds.iter().next().unwrap().unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::InvalidArgument(_)), "{err}");
    assert!(err.to_string().contains("used up"), "{err}");

    let schema = rb.schema();
    let empty = RecordBatchIterator::new(Vec::<Result<RecordBatch, _>>::new(), schema.clone());
    let ds = Dataset::from_record_batch_reader(empty).unwrap();
    assert_eq!(ds.element_spec().unwrap().paths(), ["x", "y", "s", "b"]);
    assert_eq!(ds.iter().count(), 0);
    let err = Dataset::from_record_batches(Vec::<RecordBatch>::new()).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::InvalidArgument(_)), "{err}");
}

#[test]
fn plain_fixed_size_lists_read_as_tensors_and_nested_ones_keep_their_shape() {
    // FixedSizeList<FixedSizeList<i64, 3>, 2> without metadata: rows [2, 3].
    let leaf = Int64Array::from((0..12).collect::<Vec<i64>>());
    let inner_field = Arc::new(Field::new("item", DataType::Int64, false));
    let inner = FixedSizeListArray::try_new(inner_field.clone(), 3, Arc::new(leaf), None).unwrap();
    let outer_field = Arc::new(Field::new("item", inner.data_type().clone(), false));
    let outer = FixedSizeListArray::try_new(outer_field, 2, Arc::new(inner), None).unwrap();
    let rb = RecordBatch::try_from_iter([("t", Arc::new(outer) as _)]).unwrap();
    let b = from_record_batch(&rb).unwrap();
    assert_eq!(b.get("t").unwrap().shape(), [2, 2, 3]);
    assert_eq!(b.get("t").unwrap().as_slice::<i64>().unwrap()[11], 11);
    // A sliced record batch reads the right rows, still a view.
    let sliced = rb.slice(1, 1);
    let b1 = from_record_batch(&sliced).unwrap();
    assert_eq!(
        b1.get("t").unwrap().as_slice::<i64>().unwrap(),
        &[6, 7, 8, 9, 10, 11]
    );
}

#[test]
fn utf8_with_32_bit_offsets_and_binary_read_as_string_and_bytes() {
    let s = arrow::array::StringArray::from(vec!["x", "yy"]);
    let b = arrow::array::BinaryArray::from(vec![&b"\x00\x01"[..], &b""[..]]);
    let l = LargeStringArray::from(vec!["p", "q"]);
    let rb = RecordBatch::try_from_iter([
        ("s", Arc::new(s) as _),
        ("b", Arc::new(b) as _),
        ("l", Arc::new(l) as _),
    ])
    .unwrap();
    let batch = from_record_batch(&rb).unwrap();
    assert_eq!(
        batch.get("s").unwrap().string_values().unwrap(),
        ["x", "yy"]
    );
    assert_eq!(batch.get("b").unwrap().dtype(), DType::Bytes);
    assert_eq!(batch.get("b").unwrap().bytes_at(0).unwrap(), b"\x00\x01");
    assert_eq!(batch.get("l").unwrap().string_values().unwrap(), ["p", "q"]);
}
