//! Frames: batches as Arrow [`RecordBatch`](arrow::array::RecordBatch)es and polars
//! [`DataFrame`](::polars::prelude::DataFrame)s without a copy, and datasets read back from them.
//!
//! # Batches out
//!
//! [`to_record_batch`] / [`RecordBatchConverter`] make one column per component, named by its path
//! (`"image"`, `"0"`, `"a/0"`), over the component's own buffers:
//!
//! | component (per row) | Arrow column | polars column ([`to_dataframe`]) |
//! |---|---|---|
//! | scalar number | primitive (`Int64`, `Float32`, …) | the same |
//! | scalar `bool` | `Boolean` (**copied**: bit-packed) | `Boolean` |
//! | scalar `string` / `bytes` | `LargeUtf8` / `LargeBinary` (i64 offsets + values: the tensor's) | `String` / `Binary` (views over the values; see [`PolarsStrings`]) |
//! | fixed shape, e.g. `[8, 8]` | `FixedSizeList<T, 64>` with the `arrow.fixed_shape_tensor` extension, metadata `{"shape":[8,8]}` | `Array(T, (8, 8))` (nested `FixedSizeList`, no extension: polars refuses those) |
//! | unknown dimensions, e.g. `[None]`, `[None, 3]` | `LargeList<T>`, `LargeList<FixedSizeList<T, 3>>` | `List(T)`, `List(Array(T, 3))` |
//! | `bfloat16` | error naming the column, or `UInt16` bits with [`Bf16Policy::Bits`] | the same |
//!
//! The Arrow form of a tensor column is the canonical one: a *flat* `FixedSizeList` of
//! `prod(shape)` values whose field carries `ARROW:extension:name = arrow.fixed_shape_tensor` and
//! `ARROW:extension:metadata = {"shape":[...]}`, written by hand (arrow-rs's own extension type
//! writes metadata pyarrow rejects), so pyarrow reads a `FixedShapeTensorArray`. Polars gets nested
//! `FixedSizeList`s, which it shows as an `Array` of the row shape. The record batch's schema
//! metadata records the element structure (`slicestream:structure`) so tuples and nested dicts
//! come back as written.
//!
//! Both conversions cost O(number of columns), whatever the batch size (`cli/benches/frames.rs`: about
//! 0.7 µs per record batch and 3.5 µs per data frame of x: f32[n, 784] + y: i64, n = 32 … 65,536):
//! no value is touched, except that `bool` is packed to bits, polars' string views are built (one
//! 16-byte view per value, values of at most 12 bytes inlined) and unknown dimensions get an offsets
//! buffer (`n + 1` values per list level). String columns are not re-validated: a tensor's offsets
//! and UTF-8 are valid by construction. The polars side goes through the Arrow C Data Interface
//! ([`ffi`]), polars taking the same buffers.
//!
//! The flat list's item field is declared nullable (though never null), as in pyarrow's storage type
//! for the extension: pyarrow refuses a non-null item there, and reads such a Parquet column back as
//! a plain `FixedSizeList`.
//!
//! `docs/dtypes.md` has the full table of dtypes across slicestream, TensorFlow, numpy, Arrow and
//! polars.
//!
//! # Batches in
//!
//! [`from_record_batch`], [`from_dataframe`], [`Dataset::from_record_batches`](crate::Dataset::from_record_batches),
//! [`Dataset::from_record_batch_reader`](crate::Dataset::from_record_batch_reader) and
//! [`Dataset::from_polars`](crate::Dataset::from_polars) read columns back: `FixedSizeList` (nested or
//! flat with the tensor extension) and polars `Array` columns are tensors of their shape, `List` /
//! `LargeList` columns tensors with unknown dimensions, scalars rank-0. Views of the Arrow buffers
//! where the layout allows (numbers, `LargeUtf8` / `LargeBinary`); copied: `Boolean` (bits to
//! bytes), view strings (`Utf8View`, polars' `String`) and the offsets of `Utf8` / `Binary` / `List`
//! (32-bit, widened to 64). Errors name the column: unsupported types (listing
//! [`SUPPORTED_ARROW_TYPES`]), nulls (tensors hold none: fill or drop them first), a
//! `fixed_shape_tensor` shape that does not fit its lists, a list column whose rows are not
//! rectangular, a schema change between record batches.
//!
//! Column names nest into a structure ([`structure_from_names`]) unless the schema metadata records
//! one.

#[cfg(feature = "polars")]
mod dataframe;
mod dataset;
#[cfg(feature = "polars")]
pub mod ffi;
mod from_arrow;
mod options;
mod schema;
mod to_arrow;

#[cfg(feature = "polars")]
pub use dataframe::{from_dataframe, to_dataframe, to_dataframe_with, DataFrameConverter};
pub use dataset::IntoRecordBatch;
pub use from_arrow::from_record_batch;
pub use options::{Bf16Policy, FrameOptions, PolarsStrings};
pub use schema::{
    arrow_schema, column_spec, element_spec, structure_from_names, EXTENSION_METADATA,
    EXTENSION_NAME, FIXED_SHAPE_TENSOR, STRUCTURE_KEY, SUPPORTED_ARROW_TYPES,
};
pub use to_arrow::{row_spec_of, to_record_batch, RecordBatchConverter};

#[cfg(feature = "parquet")]
pub(crate) use dataset::check_same_columns;
#[cfg(any(feature = "parquet", feature = "ipc"))]
pub(crate) use dataset::{BatchStream, RecordBatchNode};
