//! `arrow_import`: slicestream's import of foreign Arrow data (`frames::from_record_batch`,
//! `Dataset::from_record_batches`, `Dataset::from_record_batch_reader`) and of polars frames
//! (`frames::ffi::arrow_to_series` → `frames::from_dataframe`, `Dataset::from_polars`). The first
//! byte's bit 0 selects where the record batches come from:
//! * 0: the rest is an Arrow IPC stream, decoded with arrow's own `StreamReader` (what a foreign
//!   producer hands over: validated by arrow);
//! * 1: the rest drives a generator (`arbitrary::Unstructured`) of record batches of 1 to 4 columns
//!   of every supported Arrow type (and a few unsupported ones), nested `FixedSizeList` / `List` /
//!   `LargeList` to depth 3, with or without nulls, sliced at an offset (non-zero array offsets),
//!   column names that nest (`a/0`), random `arrow.fixed_shape_tensor` metadata and
//!   `slicestream:structure` schema metadata.
//!
//! Every batch that imports is read in full; datasets are iterated to the end. Only `Ok`/`Err`
//! may come out.
#![no_main]

#[path = "common.rs"]
mod common;

use std::collections::HashMap;
use std::io::Cursor;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BinaryArray, BinaryViewArray, BooleanArray, Date32Array, FixedSizeListArray,
    Float16Array, Float32Array, Float64Array, Int16Array, Int32Array, Int64Array, Int8Array,
    LargeBinaryArray, LargeListArray, LargeStringArray, ListArray, NullArray, RecordBatch,
    StringArray, StringViewArray, UInt16Array, UInt32Array, UInt64Array, UInt8Array,
};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::datatypes::{Field, Schema};
use arrow::ipc::reader::StreamReader;
use libfuzzer_sys::arbitrary::{Result as AResult, Unstructured};
use libfuzzer_sys::fuzz_target;
use polars::prelude::{Column, DataFrame};
use slicestream::frames::{self, ffi::arrow_to_series};
use slicestream::Dataset;

const NAMES: &[&str] = &[
    "a", "b", "0", "1", "a/0", "a/1", "x/y/z", "", "image", "label", "a/b",
];

fn nulls(u: &mut Unstructured, len: usize) -> AResult<Option<NullBuffer>> {
    if u.ratio(1, 4)? {
        let bits: Vec<bool> = (0..len).map(|_| u.ratio(7, 8)).collect::<AResult<_>>()?;
        Ok(Some(NullBuffer::from(bits)))
    } else {
        Ok(None)
    }
}

fn vals<T: for<'a> libfuzzer_sys::arbitrary::Arbitrary<'a>>(
    u: &mut Unstructured,
    len: usize,
) -> AResult<Vec<T>> {
    (0..len).map(|_| u.arbitrary()).collect()
}

fn strings(u: &mut Unstructured, len: usize) -> AResult<Vec<String>> {
    (0..len)
        .map(|_| {
            let n = u.int_in_range(0..=20)?;
            let s: String = (0..n)
                .map(|_| u.arbitrary::<char>())
                .collect::<AResult<_>>()?;
            Ok(s)
        })
        .collect()
}

fn bytes(u: &mut Unstructured, len: usize) -> AResult<Vec<Vec<u8>>> {
    (0..len)
        .map(|_| {
            let n = u.int_in_range(0..=20)?;
            (0..n).map(|_| u.arbitrary::<u8>()).collect()
        })
        .collect()
}

/// Values with the nulls of `nb` applied.
fn opt<T>(values: Vec<T>, nb: &Option<NullBuffer>) -> Vec<Option<T>> {
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| nb.as_ref().is_none_or(|n| n.is_valid(i)).then_some(v))
        .collect()
}

/// An array of `len` values: a leaf or a list of arrays (depth left).
fn array(u: &mut Unstructured, len: usize, depth: u32) -> AResult<ArrayRef> {
    let max_kind: u8 = if depth > 0 { 22 } else { 18 };
    let kind = u.int_in_range(0..=max_kind)?;
    let nb = nulls(u, len)?;
    let a: ArrayRef = match kind {
        0 => Arc::new(BooleanArray::new(vals::<bool>(u, len)?.into(), nb)),
        1 => Arc::new(Int8Array::new(vals::<i8>(u, len)?.into(), nb)),
        2 => Arc::new(Int16Array::new(vals::<i16>(u, len)?.into(), nb)),
        3 => Arc::new(Int32Array::new(vals::<i32>(u, len)?.into(), nb)),
        4 => Arc::new(Int64Array::new(vals::<i64>(u, len)?.into(), nb)),
        5 => Arc::new(UInt8Array::new(vals::<u8>(u, len)?.into(), nb)),
        6 => Arc::new(UInt16Array::new(vals::<u16>(u, len)?.into(), nb)),
        7 => Arc::new(UInt32Array::new(vals::<u32>(u, len)?.into(), nb)),
        8 => Arc::new(UInt64Array::new(vals::<u64>(u, len)?.into(), nb)),
        9 => Arc::new(Float16Array::new(
            vals::<u16>(u, len)?
                .into_iter()
                .map(half::f16::from_bits)
                .collect::<Vec<_>>()
                .into(),
            nb,
        )),
        10 => Arc::new(Float32Array::new(vals::<f32>(u, len)?.into(), nb)),
        11 => Arc::new(Float64Array::new(vals::<f64>(u, len)?.into(), nb)),
        12 => Arc::new(StringArray::from_iter(opt(strings(u, len)?, &nb))),
        13 => Arc::new(LargeStringArray::from_iter(opt(strings(u, len)?, &nb))),
        14 => Arc::new(StringViewArray::from_iter(opt(strings(u, len)?, &nb))),
        15 => Arc::new(BinaryArray::from_iter(opt(bytes(u, len)?, &nb))),
        16 => Arc::new(LargeBinaryArray::from_iter(opt(bytes(u, len)?, &nb))),
        17 => Arc::new(BinaryViewArray::from_iter(opt(bytes(u, len)?, &nb))),
        // Unsupported types: must be an error naming the column.
        18 => {
            if u.arbitrary()? {
                Arc::new(NullArray::new(len))
            } else {
                Arc::new(Date32Array::new(vals::<i32>(u, len)?.into(), nb))
            }
        }
        19 | 20 => {
            let size = u.int_in_range(0..=5)?;
            let child = array(u, len * size as usize, depth - 1)?;
            let field = Arc::new(Field::new("item", child.data_type().clone(), true));
            // (A size-0 list without nulls has length 0 whatever `len` is: not what is wanted here.)
            match FixedSizeListArray::try_new(field, size, child, nb) {
                Ok(a) if a.len() == len => Arc::new(a),
                _ => Arc::new(Int64Array::from(vec![0i64; len])),
            }
        }
        _ => {
            // Rectangular lists most of the time (what imports), ragged sometimes.
            let ragged = u.ratio(1, 3)?;
            let fixed = u.int_in_range(0..=4)?;
            let mut offsets = vec![0usize];
            for _ in 0..len {
                let n = if ragged {
                    u.int_in_range(0..=4)?
                } else {
                    fixed
                };
                offsets.push(offsets.last().unwrap() + n);
            }
            let total = *offsets.last().unwrap();
            let child = array(u, total, depth - 1)?;
            let field = Arc::new(Field::new("item", child.data_type().clone(), true));
            if kind == 21 {
                let o: Vec<i32> = offsets.iter().map(|&x| x as i32).collect();
                match ListArray::try_new(field, OffsetBuffer::new(o.into()), child, nb) {
                    Ok(a) => Arc::new(a),
                    Err(_) => Arc::new(Int64Array::from(vec![0i64; len])),
                }
            } else {
                let o: Vec<i64> = offsets.iter().map(|&x| x as i64).collect();
                match LargeListArray::try_new(field, OffsetBuffer::new(o.into()), child, nb) {
                    Ok(a) => Arc::new(a),
                    Err(_) => Arc::new(Int64Array::from(vec![0i64; len])),
                }
            }
        }
    };
    Ok(a)
}

fn generate(u: &mut Unstructured) -> AResult<Vec<RecordBatch>> {
    let ncols = u.int_in_range(1..=4)?;
    let nbatches = u.int_in_range(1..=3)?;
    let mut names = Vec::new();
    for _ in 0..ncols {
        names.push(*u.choose(NAMES)?);
    }
    let mut fields_meta: Vec<HashMap<String, String>> = Vec::new();
    for _ in 0..ncols {
        let mut m = HashMap::new();
        if u.ratio(1, 4)? {
            m.insert(
                frames::EXTENSION_NAME.to_string(),
                frames::FIXED_SHAPE_TENSOR.to_string(),
            );
            let meta = match u.int_in_range(0..=3)? {
                0 => {
                    let dims: Vec<u8> = (0..u.int_in_range(0u8..=3)?)
                        .map(|_| u.int_in_range(0u8..=4))
                        .collect::<AResult<_>>()?;
                    format!("{{\"shape\":{dims:?}}}")
                }
                1 => {
                    let dims: Vec<u8> = (0..u.int_in_range(0u8..=3)?)
                        .map(|_| u.int_in_range(0u8..=4))
                        .collect::<AResult<_>>()?;
                    format!("{{\"shape\":{dims:?},\"permutation\":[1,0]}}")
                }
                2 => "{\"shape\":[18446744073709551615, 2]}".to_string(),
                _ => strings(u, 1)?.remove(0),
            };
            m.insert(frames::EXTENSION_METADATA.to_string(), meta);
        }
        fields_meta.push(m);
    }
    let structure = if u.ratio(1, 5)? {
        Some(strings(u, 1)?.remove(0))
    } else {
        None
    };
    // One record batch of `total` rows (arrays sliced at an offset), cut into 1 to 3 record
    // batches of the same schema; sometimes a last batch of other, freshly drawn types.
    let total = u.int_in_range(0..=12usize)?;
    let mut make = |u: &mut Unstructured, rows: usize| -> AResult<Option<RecordBatch>> {
        let extra = u.int_in_range(0..=3usize)?;
        let mut cols = Vec::new();
        for _ in 0..ncols {
            let a = array(u, rows + extra, 3)?;
            let off = u.int_in_range(0..=extra)?;
            cols.push(a.slice(off, rows));
        }
        let fields: Vec<Field> = names
            .iter()
            .zip(&cols)
            .zip(&fields_meta)
            .map(|((n, c), m)| {
                Field::new(*n, c.data_type().clone(), c.null_count() > 0).with_metadata(m.clone())
            })
            .collect();
        let mut schema = Schema::new(fields);
        if let Some(s) = &structure {
            schema = schema.with_metadata(HashMap::from([(
                frames::STRUCTURE_KEY.to_string(),
                s.clone(),
            )]));
        }
        Ok(RecordBatch::try_new(Arc::new(schema), cols).ok())
    };
    let mut out = Vec::new();
    if let Some(rb) = make(u, total)? {
        let mut start = 0;
        for _ in 1..nbatches {
            let cut = u.int_in_range(start..=total)?;
            out.push(rb.slice(start, cut - start));
            start = cut;
        }
        out.push(rb.slice(start, total - start));
    }
    if u.ratio(1, 6)? {
        let rows = u.int_in_range(0..=4usize)?;
        if let Some(rb) = make(u, rows)? {
            out.push(rb);
        }
    }
    Ok(out)
}

fn has_fixed_size_list(t: &arrow::datatypes::DataType) -> bool {
    use arrow::datatypes::DataType::*;
    match t {
        FixedSizeList(..) => true,
        List(f) | LargeList(f) => has_fixed_size_list(f.data_type()),
        _ => false,
    }
}

fn has_date32(t: &arrow::datatypes::DataType) -> bool {
    use arrow::datatypes::DataType::*;
    match t {
        Date32 => true,
        List(f) | LargeList(f) | FixedSizeList(f, _) => has_date32(f.data_type()),
        _ => false,
    }
}

fn import(batches: Vec<RecordBatch>) {
    for rb in &batches {
        if let Ok(b) = frames::from_record_batch(rb) {
            common::touch_element(&b);
            assert_eq!(
                b.batch_size().unwrap_or(rb.num_rows()),
                rb.num_rows(),
                "batch size of an imported record batch"
            );
        }
        let _ = frames::element_spec(&rb.schema());
        // polars: through the C Data Interface (polars refuses extension fields: strip metadata).
        let columns: Option<Vec<Column>> = rb
            .schema()
            .fields()
            .iter()
            .zip(rb.columns())
            .map(|(f, a)| {
                let f = f.as_ref().clone().with_metadata(HashMap::new());
                arrow_to_series(&f, a).ok().map(Column::from)
            })
            .collect();
        if let Some(df) = columns.and_then(|c| DataFrame::new(rb.num_rows(), c).ok()) {
            if let Ok(b) = frames::from_dataframe(&df) {
                common::touch_element(&b);
            }
            if let Ok(ds) = Dataset::from_polars(&df) {
                common::drain(&ds, 100_000);
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    common::limit_allocations();
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let batches = if sel & 1 == 0 {
        // arrow's own reader (the foreign producer) may panic on bad bytes: not slicestream's bug.
        let decoded = common::quietly(|| {
            let reader = StreamReader::try_new(Cursor::new(rest.to_vec()), None).ok()?;
            let mut batches = Vec::new();
            for b in reader {
                match b {
                    Ok(b) => batches.push(b),
                    Err(_) => break,
                }
            }
            Some(batches)
        });
        let Some(Some(batches)) = decoded else { return };
        if let Ok(reader) = StreamReader::try_new(Cursor::new(rest.to_vec()), None) {
            // The reader path: arrow's errors mid-stream must come out as errors.
            if let Ok(ds) = Dataset::from_record_batch_reader(reader) {
                common::drain(&ds, 100_000);
            }
        }
        batches
    } else {
        let mut u = Unstructured::new(rest);
        match generate(&mut u) {
            Ok(b) => b,
            Err(_) => return,
        }
    };
    if batches.is_empty() {
        return;
    }
    if let Ok(ds) = Dataset::from_record_batches(batches.clone()) {
        common::drain(&ds, 100_000);
    }
    import(batches);
});
