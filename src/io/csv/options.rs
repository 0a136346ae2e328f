//! [`CsvOptions`] and [`CsvGroup`]: how a CSV file becomes elements (tf.data's `make_csv_dataset`
//! arguments, plus groups of columns gathered into one tensor).

use crate::tensor::DType;

/// Columns gathered into one tensor component: e.g. the 64 pixel columns `p0..p63` of a digits
/// CSV as one `u8` image of shape `[8, 8]`.
///
/// The values of a row are taken in the order the columns are listed, and reshaped to `shape`
/// (default `[n]` for `n` columns). The component sits where its first listed column is in the file
/// and is named `name`; its columns do not appear on their own.
///
/// ```
/// use slicestream::io::csv::CsvGroup;
/// use slicestream::DType;
/// let image = CsvGroup::new("image", (0..64).map(|i| format!("p{i}")))
///     .with_dtype(DType::U8)
///     .with_shape([8, 8]);
/// assert_eq!(image.columns().len(), 64);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CsvGroup {
    pub(crate) name: String,
    pub(crate) columns: Vec<String>,
    pub(crate) dtype: Option<DType>,
    pub(crate) shape: Option<Vec<usize>>,
}

impl CsvGroup {
    /// A group called `name` of these columns, in this order.
    pub fn new<S: Into<String>>(
        name: impl Into<String>,
        columns: impl IntoIterator<Item = S>,
    ) -> Self {
        CsvGroup {
            name: name.into(),
            columns: columns.into_iter().map(Into::into).collect(),
            dtype: None,
            shape: None,
        }
    }

    /// The values' dtype (default: inferred from the sample, the widest type of the group's columns).
    pub fn with_dtype(mut self, dtype: DType) -> Self {
        self.dtype = Some(dtype);
        self
    }

    /// The component's shape; its size must be the number of columns (default `[columns]`).
    pub fn with_shape(mut self, shape: impl Into<Vec<usize>>) -> Self {
        self.shape = Some(shape.into());
        self
    }

    /// The component's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The columns, in the order their values are taken.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }
}

/// How to read a CSV file: the arguments of tf.data's `make_csv_dataset` that concern parsing,
/// by-value `with_*` builders over [`Default`].
///
/// | option | default | tf.data |
/// |---|---|---|
/// | [`with_delimiter`](Self::with_delimiter) | `b','` | `field_delim` |
/// | [`with_quote`](Self::with_quote) | `Some(b'"')` | `use_quote_delim` |
/// | [`with_header`](Self::with_header) | `true` | `header` |
/// | [`with_column_names`](Self::with_column_names) | from the header | `column_names` |
/// | [`with_column_type`](Self::with_column_type) | inferred | `column_defaults` (types) |
/// | [`with_default`](Self::with_default) | inferred columns: `0` / `""`; typed columns: required | `column_defaults` (values) |
/// | [`with_na_value`](Self::with_na_value) | `""` | `na_value` |
/// | [`with_select_columns`](Self::with_select_columns) | every column | `select_columns` |
/// | [`with_label`](Self::with_label) | none | `label_name` |
/// | [`with_rows_for_inference`](Self::with_rows_for_inference) | 100 | `num_rows_for_inference` |
/// | [`with_group`](Self::with_group) | none | — |
/// | [`with_batch_size`](Self::with_batch_size) | rows, unbatched | `batch_size` |
/// | [`with_chunk_rows`](Self::with_chunk_rows) | 1024 | — |
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CsvOptions {
    pub(crate) delimiter: u8,
    pub(crate) quote: Option<u8>,
    pub(crate) header: bool,
    pub(crate) column_names: Option<Vec<String>>,
    pub(crate) column_types: Vec<(String, DType)>,
    pub(crate) defaults: Vec<(String, String)>,
    pub(crate) na_value: String,
    pub(crate) select_columns: Option<Vec<String>>,
    pub(crate) groups: Vec<CsvGroup>,
    pub(crate) label: Option<String>,
    pub(crate) rows_for_inference: usize,
    pub(crate) batch_size: Option<usize>,
    pub(crate) chunk_rows: usize,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            delimiter: b',',
            quote: Some(b'"'),
            header: true,
            column_names: None,
            column_types: Vec::new(),
            defaults: Vec::new(),
            na_value: String::new(),
            select_columns: None,
            groups: Vec::new(),
            label: None,
            rows_for_inference: 100,
            batch_size: None,
            chunk_rows: 1024,
        }
    }
}

impl CsvOptions {
    /// The field delimiter (default `,`).
    pub fn with_delimiter(mut self, delimiter: u8) -> Self {
        self.delimiter = delimiter;
        self
    }

    /// The quote character, or `None` to read quotes as ordinary characters (default `"`; a doubled
    /// quote inside a quoted field is one quote).
    pub fn with_quote(mut self, quote: Option<u8>) -> Self {
        self.quote = quote;
        self
    }

    /// Whether the first line is a header of column names (default `true`).
    pub fn with_header(mut self, header: bool) -> Self {
        self.header = header;
        self
    }

    /// The column names. Needed when there is no header; with a header, they replace its names
    /// (the header must have as many fields).
    pub fn with_column_names<S: Into<String>>(
        mut self,
        names: impl IntoIterator<Item = S>,
    ) -> Self {
        self.column_names = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// The dtype of a column (or of a group, by its name). Columns without one are inferred from
    /// the first rows (see [`CsvOptions::with_rows_for_inference`]).
    ///
    /// Every dtype reads: integers and floats as Rust parses them (surrounding spaces ignored),
    /// `bool` as `true` / `false` / `1` / `0` (any case), `string` as UTF-8 text, `bytes` as the
    /// raw field.
    pub fn with_column_type(mut self, column: impl Into<String>, dtype: DType) -> Self {
        let column = column.into();
        self.column_types.retain(|(c, _)| *c != column);
        self.column_types.push((column, dtype));
        self
    }

    /// The dtypes of several columns.
    pub fn with_column_types<S: Into<String>>(
        mut self,
        types: impl IntoIterator<Item = (S, DType)>,
    ) -> Self {
        for (c, d) in types {
            self = self.with_column_type(c, d);
        }
        self
    }

    /// The value (as CSV text, parsed with the column's dtype) that a missing cell of `column` takes.
    /// A cell is missing when it is empty or equals the NA value.
    ///
    /// Without a default, a missing cell is an error in a column whose type was given, and `0` (or
    /// `""`) in a column whose type was inferred — tf.data's rule.
    pub fn with_default(mut self, column: impl Into<String>, value: impl Into<String>) -> Self {
        let column = column.into();
        self.defaults.retain(|(c, _)| *c != column);
        self.defaults.push((column, value.into()));
        self
    }

    /// A cell text that means "missing", besides the empty cell (default: only the empty cell).
    pub fn with_na_value(mut self, na_value: impl Into<String>) -> Self {
        self.na_value = na_value.into();
        self
    }

    /// Reads only these columns (by name; group members count as selected when their group is
    /// listed by its name). Components keep the file's column order.
    pub fn with_select_columns<S: Into<String>>(
        mut self,
        columns: impl IntoIterator<Item = S>,
    ) -> Self {
        self.select_columns = Some(columns.into_iter().map(Into::into).collect());
        self
    }

    /// Gathers columns into one component (see [`CsvGroup`]).
    pub fn with_group(mut self, group: CsvGroup) -> Self {
        self.groups.push(group);
        self
    }

    /// Makes elements `(features, label)` tuples, `features` the dict of the other components and
    /// `label` the component of this name (a column or a group), as `make_csv_dataset`'s
    /// `label_name`.
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// How many rows the types of untyped columns are inferred from (default 100, as tf.data; at
    /// least 1). Inference tries `int32`, `int64`, `float32`, `float64`, then `string`, taking for
    /// each column the first type every non-missing sampled value fits; a column with no values in
    /// the sample is `string`.
    pub fn with_rows_for_inference(mut self, rows: usize) -> Self {
        self.rows_for_inference = rows.max(1);
        self
    }

    /// Yields batches of `batch_size` rows (the last may be shorter) instead of single rows, built
    /// column by column as they are parsed (cheaper than `.batch(n)` on rows). `None` (the default)
    /// yields rows.
    pub fn with_batch_size(mut self, batch_size: Option<usize>) -> Self {
        self.batch_size = batch_size;
        self
    }

    /// How many rows are parsed into one set of column buffers at a time when yielding rows
    /// (default 1024; rows are views of these buffers). Bounds the memory a reader holds.
    pub fn with_chunk_rows(mut self, rows: usize) -> Self {
        self.chunk_rows = rows.max(1);
        self
    }

    /// The delimiter.
    pub fn delimiter(&self) -> u8 {
        self.delimiter
    }

    /// Whether a header is expected.
    pub fn header(&self) -> bool {
        self.header
    }

    /// The groups, in the order given.
    pub fn groups(&self) -> &[CsvGroup] {
        &self.groups
    }

    /// The label component, if any.
    pub fn label(&self) -> Option<&str> {
        self.label.as_deref()
    }

    /// The batch size, if batches are yielded.
    pub fn batch_size(&self) -> Option<usize> {
        self.batch_size
    }
}
