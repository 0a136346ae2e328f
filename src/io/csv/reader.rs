//! [`CsvReader`]: a CSV file read as chunks of rows, one column buffer per component, with errors that
//! name the file, the row and the column.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use csv::ByteRecord;

use super::parse::Builder;
use super::records::{check_width, csv_reader, next_record, At};
use super::schema::CsvSchema;
use crate::error::{Error, Result};
use crate::io::FaultFile;
use crate::tensor::Tensor;

/// Reads a CSV file as chunks of rows, each a set of tensors (one per component, leading dimension
/// the number of rows), parsing straight into column buffers: a reused record, no per-cell
/// allocation for fixed-width dtypes.
///
/// Made by [`CsvSchema::reader`], which checks the file's header against the schema's.
pub struct CsvReader {
    schema: Arc<CsvSchema>,
    path: PathBuf,
    reader: csv::Reader<FaultFile>,
    record: ByteRecord,
    builders: Vec<Builder>,
    row: u64,
    pending: Option<Error>,
    done: bool,
}

impl std::fmt::Debug for CsvReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvReader")
            .field("path", &self.path)
            .field("row", &self.row)
            .finish()
    }
}

impl CsvReader {
    pub(crate) fn new(schema: Arc<CsvSchema>, path: &Path) -> Result<CsvReader> {
        let mut reader = csv_reader(path, schema.options())?;
        let mut record = ByteRecord::new();
        if schema.options().header {
            if !next_record(&mut reader, &mut record, path)? {
                return Err(Error::format(
                    "empty CSV file: expected a header line of column names",
                )
                .with_file(path)
                .with_byte_offset(0));
            }
            schema.check_header(&record, path)?;
        }
        let builders = schema
            .components()
            .iter()
            .map(|c| Builder::new(c.dtype, 0))
            .collect();
        Ok(CsvReader {
            schema,
            path: path.to_path_buf(),
            reader,
            record,
            builders,
            row: 0,
            pending: None,
            done: false,
        })
    }

    /// The file being read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The number of data rows read so far (the index of the next one).
    pub fn rows_read(&self) -> u64 {
        self.row
    }

    /// The next chunk of at most `max_rows` rows (one tensor per component, in the schema's order);
    /// `None` at the end of the file. After an error, always `None`.
    pub fn next_chunk(&mut self, max_rows: usize) -> Result<Option<Vec<Tensor>>> {
        if self.done {
            return Ok(None);
        }
        match self.read_chunk(max_rows.max(1)) {
            Ok(Some(c)) => Ok(Some(c)),
            other => {
                self.done = true;
                other
            }
        }
    }

    /// Parses the current record into the builders.
    fn parse_record(&mut self, schema: &CsvSchema, at: At) -> Result<()> {
        check_width(&self.record, at, schema.width(), &self.path)?;
        let na = schema.options().na_value.as_bytes();
        for (b, c) in self.builders.iter_mut().zip(schema.components()) {
            for (k, &col) in c.columns.iter().enumerate() {
                let cell = &self.record[col];
                let name = schema.column_name(col);
                let cell = if cell.is_empty() || cell == na {
                    c.defaults[k].as_deref().ok_or_else(|| {
                        at.error(
                            &self.path,
                            Some(name),
                            format!(
                                "{}, column {name:?}: the value is missing and the column has no default (give one with CsvOptions::with_default)",
                                at.describe()
                            ),
                        )
                    })?
                } else {
                    cell
                };
                b.push(cell).map_err(|why| {
                    at.error(
                        &self.path,
                        Some(name),
                        format!("{}, column {name:?} (field {col}): {why}", at.describe()),
                    )
                })?;
            }
        }
        Ok(())
    }

    fn read_chunk(&mut self, max_rows: usize) -> Result<Option<Vec<Tensor>>> {
        if let Some(e) = self.pending.take() {
            return Err(e);
        }
        let schema = self.schema.clone();
        let components = schema.components();
        for (b, c) in self.builders.iter_mut().zip(components) {
            *b = Builder::new(c.dtype, max_rows.saturating_mul(c.columns.len()));
        }
        let mut rows = 0;
        while rows < max_rows {
            let parsed =
                next_record(&mut self.reader, &mut self.record, &self.path).and_then(|more| {
                    match more {
                        false => Ok(false),
                        true => {
                            let at = At::of(&self.record, self.row);
                            self.parse_record(&schema, at).map(|_| true)
                        }
                    }
                });
            match parsed {
                Ok(true) => {}
                Ok(false) => break,
                // The rows before a bad one are yielded first; the error comes next.
                Err(e) if rows > 0 => {
                    for (b, c) in self.builders.iter_mut().zip(components) {
                        b.truncate(rows * c.columns.len());
                    }
                    self.pending = Some(e);
                    break;
                }
                Err(e) => return Err(e),
            }
            self.row += 1;
            rows += 1;
        }
        if rows == 0 {
            return Ok(None);
        }
        let tensors = self
            .builders
            .iter_mut()
            .zip(components)
            .map(|(b, c)| {
                let mut shape = Vec::with_capacity(c.shape.len() + 1);
                shape.push(rows);
                shape.extend_from_slice(&c.shape);
                b.take(shape, 0)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Some(tensors))
    }
}

impl CsvSchema {
    /// A reader of `path` with this schema (its header checked).
    pub fn reader(self: &Arc<Self>, path: impl AsRef<Path>) -> Result<CsvReader> {
        CsvReader::new(self.clone(), path.as_ref())
    }
}
