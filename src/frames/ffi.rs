//! The bridge between arrow-rs and polars-arrow: arrays handed across through the Arrow C Data
//! Interface, buffers and all, without a copy.
//!
//! No maintained crate bridges arrow 60 and polars 0.55, so this module does it. Both crates define
//! the C interface's two structs (`ArrowArray`, `ArrowSchema`) as `#[repr(C)]` with the layout the
//! specification fixes; a struct exported by one crate is moved, bit for bit, into the other's type,
//! which then owns it and calls its `release` callback when dropped (the producer's buffers live
//! until then). That move, in `transmute_ffi`, is the frames module's one `unsafe` bridge (the
//! other `unsafe` block skips arrow-rs's O(bytes) re-validation of string arrays built from tensors,
//! whose invariants already guarantee it: see `to_arrow.rs`).

use std::mem::{align_of, size_of, ManuallyDrop};

use arrow::array::{make_array, ArrayRef};
use arrow::datatypes::Field;
use arrow::ffi::{from_ffi, to_ffi, FFI_ArrowArray, FFI_ArrowSchema};
use polars::prelude::{PlSmallStr, Series};
use polars_arrow::ffi::{
    export_array_to_c, export_field_to_c, import_array_from_c, import_field_from_c, ArrowArray,
    ArrowSchema,
};

use crate::error::{Error, Result};

// The two crates' structs must have the C interface's size and alignment, checked at compile time.
const _: () = {
    assert!(size_of::<FFI_ArrowArray>() == size_of::<ArrowArray>());
    assert!(align_of::<FFI_ArrowArray>() == align_of::<ArrowArray>());
    assert!(size_of::<FFI_ArrowSchema>() == size_of::<ArrowSchema>());
    assert!(align_of::<FFI_ArrowSchema>() == align_of::<ArrowSchema>());
    // ArrowArray: 5 x i64 + 2 pointers + dictionary + release + private_data = 10 words.
    assert!(size_of::<ArrowArray>() == 80);
    // ArrowSchema: 3 pointers + i64 flags + i64 n_children + children + dictionary + release
    // + private_data = 9 words.
    assert!(size_of::<ArrowSchema>() == 72);
};

/// Moves a C Data Interface struct from one crate's type to the other's.
///
/// # Safety
///
/// `A` and `B` must both be `#[repr(C)]` definitions of the same C struct (`ArrowArray` or
/// `ArrowSchema` of the Arrow C Data Interface), so that every field has the same offset, size and
/// meaning; the sizes are asserted here and above. The value is moved: `from` is not dropped (its
/// `release` is not called), and the returned value owns the producer's resources and releases them
/// when dropped, as the interface specifies for a consumer.
unsafe fn transmute_ffi<A, B>(from: A) -> B {
    assert!(size_of::<A>() == size_of::<B>() && align_of::<A>() == align_of::<B>());
    let from = ManuallyDrop::new(from);
    // SAFETY: same size and layout (caller's contract); `from` is forgotten, so ownership of the
    // producer's resources passes to the returned value exactly once.
    unsafe { std::ptr::read(&*from as *const A as *const B) }
}

/// An arrow-rs array (with its field: name, type, metadata) as a polars [`Series`], sharing its
/// buffers.
///
/// Polars keeps most layouts as they are (primitives, bool bitmaps, `FixedSizeList` → `Array`,
/// `LargeList` → `List`, view strings); it converts `Utf8` / `LargeUtf8` / `Binary` to its view
/// types by copying, casts `List` offsets to 64 bits, and refuses fields carrying an
/// `ARROW:extension:name` (so pass the polars layout of [`super::to_dataframe`], not the record
/// batch's).
pub fn arrow_to_series(field: &Field, array: &ArrayRef) -> Result<Series> {
    let name = field.name().clone();
    let fail = |what: &str| {
        let (what, name) = (what.to_string(), name.clone());
        move |e: polars::error::PolarsError| {
            Error::incompatible(format!("polars cannot take this column: {what}: {e}"))
                .with_component(name)
                .with_source(e)
        }
    };
    let (array, _schema) = to_ffi(&array.to_data()).map_err(|e| {
        Error::incompatible("cannot export the column through the C Data Interface")
            .with_source(e)
            .with_component(field.name().clone())
    })?;
    let schema = FFI_ArrowSchema::try_from(field).map_err(|e| {
        Error::incompatible("cannot export the field through the C Data Interface")
            .with_source(e)
            .with_component(field.name().clone())
    })?;
    // SAFETY: arrow-rs's FFI_ArrowArray / FFI_ArrowSchema and polars-arrow's ArrowArray /
    // ArrowSchema are both `#[repr(C)]` definitions of the C Data Interface structs.
    let (array, schema): (ArrowArray, ArrowSchema) =
        unsafe { (transmute_ffi(array), transmute_ffi(schema)) };
    // SAFETY: both structs were just produced by arrow-rs's exporter, which follows the interface.
    let polars_field = unsafe { import_field_from_c(&schema) }.map_err(fail("field"))?;
    // SAFETY: as above; the data type is the one the array was exported with. polars-arrow's
    // importer panics on some arrays it cannot take (a sliced fixed-size list): that is an error.
    let dtype = polars_field.dtype.clone();
    let polars_array =
        crate::error::catch_foreign_panic(|| unsafe { import_array_from_c(array, dtype) })
            .map_err(|message| {
                Error::incompatible(format!(
                    "polars cannot import this column through the C Data Interface ({message})"
                ))
                .with_component(field.name().clone())
            })?
            .map_err(fail("array"))?;
    // polars unwraps some errors of its own (a list of a type this build lacks): an error too.
    let name = PlSmallStr::from(field.name().as_str());
    crate::error::catch_foreign_panic(|| Series::from_arrow(name, polars_array))
        .map_err(|message| {
            Error::incompatible(format!("polars cannot take this column ({message})"))
                .with_component(field.name().clone())
        })?
        .map_err(fail("series"))
}

/// One chunk of a polars [`Series`] as an arrow-rs array with its field, sharing its buffers.
///
/// Polars hands out its own layouts: `Utf8View` strings, `BinaryView`, `LargeList` for `List`,
/// `FixedSizeList` (nested) for `Array`, with nullable item fields.
pub fn series_chunk_to_arrow(series: &Series, chunk: usize) -> Result<(Field, ArrayRef)> {
    let name = series.name().to_string();
    if chunk >= series.n_chunks() {
        return Err(Error::invalid_argument(format!(
            "chunk {chunk} out of range for {} chunks",
            series.n_chunks()
        ))
        .with_component(name));
    }
    let compat = polars::prelude::CompatLevel::newest();
    let polars_field = series.dtype().to_arrow_field(series.name().clone(), compat);
    let polars_array = series.to_arrow(chunk, compat);
    let schema = export_field_to_c(&polars_field);
    let array = export_array_to_c(polars_array);
    // SAFETY: polars-arrow's ArrowArray / ArrowSchema and arrow-rs's FFI_ArrowArray /
    // FFI_ArrowSchema are both `#[repr(C)]` definitions of the C Data Interface structs.
    let (array, schema): (FFI_ArrowArray, FFI_ArrowSchema) =
        unsafe { (transmute_ffi(array), transmute_ffi(schema)) };
    let fail = |e: arrow::error::ArrowError| {
        Error::incompatible("cannot import the polars column through the C Data Interface")
            .with_source(e)
            .with_component(name.clone())
    };
    let field = Field::try_from(&schema).map_err(fail)?;
    // SAFETY: both structs were just produced by polars-arrow's exporter, which follows the
    // interface; `from_ffi` takes ownership of the array and releases it when the data is dropped.
    let data = unsafe { from_ffi(array, &schema) }.map_err(fail)?;
    Ok((field, make_array(data)))
}
