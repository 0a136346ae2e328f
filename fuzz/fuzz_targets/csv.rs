//! `csv`: a CSV file (temporary file) read with `Dataset::from_csv`, iterated to its end. The
//! first input byte selects the options: its low two bits the mode — 0 types inferred from the
//! header's columns; 1 an explicit schema without a header (columns `a,b,c,d` typed
//! int64/float32/string/uint8 via `with_column_names` + `with_column_types`); 2 typed columns with
//! defaults and an NA value (`a` bool, `b` float64, `c` bytes, `d` int32); 3 a group `g` of `a..d`
//! as float32 `[2,2]` with label `e` — and its other bits the delimiter (`;`), no quoting,
//! `batch_size` 3, `chunk_rows` 2, `rows_for_inference` 1 and `select_columns [a, c]`. The file is
//! also read through `CsvSchema::infer` + `CsvReader::next_chunk`. Only `Ok`/`Err` may come out.
#![no_main]

#[path = "common.rs"]
mod common;

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use slicestream::io::csv::{CsvGroup, CsvOptions, CsvSchema};
use slicestream::{DType, Dataset};

fn options(sel: u8) -> CsvOptions {
    let mut o = CsvOptions::default();
    o = match sel & 3 {
        0 => o,
        1 => o
            .with_header(false)
            .with_column_names(["a", "b", "c", "d"])
            .with_column_types([
                ("a", DType::I64),
                ("b", DType::F32),
                ("c", DType::String),
                ("d", DType::U8),
            ]),
        2 => o
            .with_column_types([
                ("a", DType::Bool),
                ("b", DType::F64),
                ("c", DType::Bytes),
                ("d", DType::I32),
            ])
            .with_default("a", "true")
            .with_default("b", "nan")
            .with_default("d", "-1")
            .with_na_value("NA"),
        _ => o
            .with_group(
                CsvGroup::new("g", ["a", "b", "c", "d"])
                    .with_dtype(DType::F32)
                    .with_shape([2, 2]),
            )
            .with_label("e"),
    };
    if sel & 4 != 0 {
        o = o.with_delimiter(b';');
    }
    if sel & 8 != 0 {
        o = o.with_quote(None);
    }
    if sel & 16 != 0 {
        o = o.with_batch_size(Some(3));
    }
    if sel & 32 != 0 {
        o = o.with_chunk_rows(2);
    }
    if sel & 64 != 0 {
        o = o.with_rows_for_inference(1);
    }
    if sel & 128 != 0 {
        o = o.with_select_columns(["a", "c"]);
    }
    o
}

fuzz_target!(|data: &[u8]| {
    common::limit_allocations();
    let Some((&sel, text)) = data.split_first() else {
        return;
    };
    let opts = options(sel);
    let path = common::temp_file(text, "csv");
    if let Ok(ds) = Dataset::from_csv(&path, opts.clone()) {
        let _ = ds.element_spec();
        common::drain(&ds, 1_000_000);
    }
    if let Ok(schema) = CsvSchema::infer(&path, &opts) {
        let _ = (
            schema.columns(),
            schema.component_specs(),
            schema.row_spec(),
        );
        let schema = Arc::new(schema);
        if let Ok(mut reader) = schema.reader(&path) {
            while let Ok(Some(chunk)) = reader.next_chunk(5) {
                for t in &chunk {
                    common::touch_tensor(t);
                }
            }
        }
        let ds = Dataset::from_csv_with_schema([&path, &path], &schema);
        common::drain(&ds, 1_000_000);
    }
});
