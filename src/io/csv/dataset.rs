//! The CSV dataset source: `Dataset::from_csv` and friends.

use std::path::PathBuf;
use std::sync::Arc;

use super::{CsvOptions, CsvReader, CsvSchema};
use crate::dataset::{Cardinality, Context, Dataset, Node, Stream};
use crate::element::{Element, ElementSpec};
use crate::error::{Error, Result};
use crate::tensor::Tensor;

struct CsvSource {
    schema: Arc<CsvSchema>,
    paths: Arc<[PathBuf]>,
}

impl Node for CsvSource {
    fn name(&self) -> &'static str {
        "from_csv"
    }

    fn spec(&self) -> Result<ElementSpec> {
        let row = self.schema.row_spec();
        Ok(match self.schema.options().batch_size {
            None => row,
            Some(_) => row.map_components(|s| Ok(s.batched(None)))?,
        })
    }

    fn cardinality(&self) -> Cardinality {
        Cardinality::Unknown
    }

    fn open(&self, _ctx: &Context) -> Result<Stream> {
        Ok(Stream::elements(Rows {
            schema: self.schema.clone(),
            order: self.schema.leaf_order(),
            paths: self.paths.clone(),
            next_file: 0,
            reader: None,
            chunk: Vec::new(),
            chunk_rows: 0,
            next_row: 0,
            element: 0,
            pending: None,
            done: false,
        }))
    }
}

/// One epoch: the files in order, each read a chunk of rows at a time.
struct Rows {
    schema: Arc<CsvSchema>,
    order: Vec<usize>,
    paths: Arc<[PathBuf]>,
    next_file: usize,
    reader: Option<CsvReader>,
    /// The current chunk (one tensor per component) and how far it has been handed out.
    chunk: Vec<Tensor>,
    chunk_rows: usize,
    next_row: usize,
    element: u64,
    pending: Option<Error>,
    done: bool,
}

impl Rows {
    /// The next piece of at most `rows` rows from the current file (opening the next file when the
    /// current one ends); `None` after the last file.
    fn piece(&mut self, rows: usize) -> Result<Option<Vec<Tensor>>> {
        loop {
            let reader = match &mut self.reader {
                Some(r) => r,
                None => {
                    let Some(path) = self.paths.get(self.next_file) else {
                        return Ok(None);
                    };
                    self.next_file += 1;
                    self.reader.insert(self.schema.reader(path)?)
                }
            };
            match reader.next_chunk(rows)? {
                Some(c) => return Ok(Some(c)),
                None => self.reader = None,
            }
        }
    }

    /// The next chunk of at most `rows` rows, across files; `None` at the end of the last file.
    /// Rows read before an error are returned first, the error on the next call.
    fn read(&mut self, rows: usize) -> Result<Option<Vec<Tensor>>> {
        if let Some(e) = self.pending.take() {
            return Err(e);
        }
        let mut pieces: Vec<Vec<Tensor>> = Vec::new();
        let mut got = 0;
        while got < rows {
            match self.piece(rows - got) {
                Ok(Some(c)) => {
                    got += c.first().map_or(0, |t| t.shape()[0]);
                    pieces.push(c);
                }
                Ok(None) => break,
                Err(e) if got > 0 => {
                    self.pending = Some(e);
                    self.reader = None;
                    self.next_file = self.paths.len();
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        match pieces.len() {
            0 => Ok(None),
            1 => Ok(pieces.pop()),
            n => (0..pieces[0].len())
                .map(|k| {
                    let parts: Vec<Tensor> = (0..n).map(|p| pieces[p][k].clone()).collect();
                    Tensor::concat_rows(&parts)
                })
                .collect::<Result<Vec<_>>>()
                .map(Some),
        }
    }

    fn element(&self, tensors: impl Fn(usize) -> Result<Tensor>) -> Result<Element> {
        let components = self
            .order
            .iter()
            .map(|&i| tensors(i))
            .collect::<Result<Vec<_>>>()?;
        Element::from_shared(self.schema.structure().clone(), components)
    }

    fn next_element(&mut self) -> Result<Option<Element>> {
        if let Some(batch) = self.schema.options().batch_size {
            let Some(chunk) = self.read(batch.max(1))? else {
                return Ok(None);
            };
            return self.element(|i| Ok(chunk[i].clone())).map(Some);
        }
        if self.next_row >= self.chunk_rows {
            let rows = self.schema.options().chunk_rows;
            let Some(chunk) = self.read(rows)? else {
                return Ok(None);
            };
            self.chunk_rows = chunk.first().map_or(0, |t| t.shape()[0]);
            self.chunk = chunk;
            self.next_row = 0;
        }
        let r = self.next_row;
        self.next_row += 1;
        self.element(|i| self.chunk[i].row(r)).map(Some)
    }
}

impl Iterator for Rows {
    type Item = Result<Element>;

    fn next(&mut self) -> Option<Result<Element>> {
        if self.done {
            return None;
        }
        match self.next_element() {
            Ok(Some(e)) => {
                self.element += 1;
                Some(Ok(e))
            }
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                self.reader = None;
                Some(Err(e.with_stage("from_csv").with_element(self.element)))
            }
        }
    }
}

impl Dataset {
    /// The rows of a CSV file as elements (tf.data's `make_csv_dataset`, without its shuffling and
    /// repeating, which are transformations here): a dict of typed components, one per column or
    /// group of columns, or `(features, label)` tuples with [`CsvOptions::with_label`]; batches
    /// instead of rows with [`CsvOptions::with_batch_size`].
    ///
    /// The header and the first rows are read now, to infer the types of untyped columns (see
    /// [`CsvSchema::infer`], which gives this function's errors). Iterating streams the file a chunk
    /// of rows at a time; a row with the wrong number of fields, a cell that does not parse, or a
    /// missing value without a default ends the epoch with a
    /// [`Format`](crate::ErrorKind::Format) error naming the file, the row (0-based data row, and
    /// the line), the column and the byte offset.
    ///
    /// ```
    /// use slicestream::io::csv::{CsvGroup, CsvOptions};
    /// use slicestream::{DType, Dataset};
    ///
    /// let options = CsvOptions::default()
    ///     .with_column_type("label", DType::I64)
    ///     .with_group(
    ///         CsvGroup::new("image", (0..64).map(|i| format!("p{i}")))
    ///             .with_dtype(DType::U8)
    ///             .with_shape([8, 8]),
    ///     );
    /// let ds = Dataset::from_csv("data/digits.csv", options)?.batch(32, false)?;
    /// let first = ds.iter().next().unwrap()?;
    /// assert_eq!(first.get("image")?.shape(), [32, 8, 8]);
    /// assert_eq!(first.get("label")?.as_slice::<i64>()?[..3], [0, 1, 2]);
    /// # Ok::<(), slicestream::Error>(())
    /// ```
    pub fn from_csv(path: impl Into<PathBuf>, options: CsvOptions) -> Result<Dataset> {
        Dataset::from_csv_files([path], options)
    }

    /// The rows of several CSV files, one after the other, read with the schema inferred from the
    /// first (every file must have the same header; a file whose header differs is an
    /// [`Incompatible`](crate::ErrorKind::Incompatible) error when it is reached).
    pub fn from_csv_files<P: Into<PathBuf>>(
        paths: impl IntoIterator<Item = P>,
        options: CsvOptions,
    ) -> Result<Dataset> {
        let paths: Vec<PathBuf> = paths.into_iter().map(Into::into).collect();
        let first = paths.first().ok_or_else(|| {
            Error::invalid_argument("from_csv needs at least one file").with_stage("from_csv")
        })?;
        let schema = CsvSchema::infer(first, &options).map_err(|e| e.with_stage("from_csv"))?;
        Ok(Dataset::from_csv_with_schema(paths, &schema))
    }

    /// The rows of CSV files read with a schema made earlier (by [`CsvSchema::infer`]): nothing is
    /// read until iteration.
    pub fn from_csv_with_schema<P: Into<PathBuf>>(
        paths: impl IntoIterator<Item = P>,
        schema: &CsvSchema,
    ) -> Dataset {
        Dataset::from_node(CsvSource {
            schema: Arc::new(schema.clone()),
            paths: paths.into_iter().map(Into::into).collect(),
        })
    }
}
