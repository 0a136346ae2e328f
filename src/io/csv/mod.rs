//! CSV files: a streaming source like tf.data's `make_csv_dataset` ([`crate::Dataset::from_csv`]),
//! and a streaming sink ([`CsvSink`](crate::io::sink::CsvSink)).
//!
//! # Reading
//!
//! [`CsvOptions`] says how to parse (delimiter, quoting, header, column names, types, defaults, the
//! NA value, selected columns, a label) and which columns to gather into one tensor
//! ([`CsvGroup`]: e.g. the 64 pixel columns of `data/digits.csv` as an 8x8 `u8` image).
//! [`CsvSchema::infer`] resolves the options against a file's header and infers the types of untyped
//! columns from its first rows (tf.data's rule: `int32`, `int64`, `float32`, `float64`, `string`).
//!
//! Elements are a dict of components in the file's column order (a group where its first column
//! is), or `(features, label)` tuples. Rows are parsed a chunk at a time straight into one buffer per
//! component ([`CsvReader`]); each row is a view of its chunk, so memory is bounded by the chunk
//! size (1024 rows by default), never the file's.
//!
//! # Errors
//!
//! Nothing panics on bad input. Every error of a file names it ([`crate::Position::file`]):
//!
//! | input | kind | message names |
//! |---|---|---|
//! | nonexistent path | [`NotFound`](crate::ErrorKind::NotFound) | the path |
//! | empty file (a header was expected) | [`Format`](crate::ErrorKind::Format) | "empty CSV file" |
//! | a row with more or fewer fields than the header | [`Format`](crate::ErrorKind::Format) | "ragged CSV", the row, its line, both counts |
//! | a cell that does not parse as its column's dtype | [`Format`](crate::ErrorKind::Format) | the row, its line, the column's name and index, the cell, the dtype |
//! | a missing cell in a column with no default | [`Format`](crate::ErrorKind::Format) | the row, the column |
//! | a later file whose header differs | [`Incompatible`](crate::ErrorKind::Incompatible) | both headers |
//! | a column named in the options but not in the file | [`NotFound`](crate::ErrorKind::NotFound) | the name, the file's columns |
//!
//! The position carries the row as `record` (0-based data row), the column as `component` and the
//! record's `byte_offset`.
//!
//! # Writing
//!
//! [`CsvSink`](crate::io::sink::CsvSink) writes rows as they stream, a column per value
//! (`image_0_0` … for tensors), to a temporary file renamed when complete (see [`crate::io::sink`],
//! where every sink is).

mod dataset;
mod options;
mod parse;
mod reader;
mod records;
mod schema;

pub use options::{CsvGroup, CsvOptions};
pub use reader::CsvReader;
pub(crate) use records::csv_error;
pub use schema::CsvSchema;
