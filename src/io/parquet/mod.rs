//! Parquet files, with arrow-rs's `parquet` crate: [`ParquetWriter`] (and
//! [`Dataset::write_parquet`]) writes batches as they arrive, row group by row group;
//! [`Dataset::from_parquet`] reads files back row group by row group.
//!
//! Columns follow [`crate::frames`]: one per component, fixed-shape tensors as `FixedSizeList`
//! columns carrying the `arrow.fixed_shape_tensor` extension (kept in the file's `ARROW:schema`
//! metadata, which arrow-rs, pyarrow and Python polars restore: pyarrow reads a
//! `FixedShapeTensorArray`, because the list's item field is declared nullable as pyarrow's storage
//! type wants; see `docs/dtypes.md`).
//!
//! # Memory
//!
//! The writer holds at most one row group (encoded) besides the batch being written: a row group is
//! flushed to the file as soon as its estimated encoded size reaches
//! [`ParquetWriteOptions::with_max_row_group_bytes`] (64 MiB by default) or its row count
//! [`ParquetWriteOptions::with_max_row_group_rows`]; a batch larger than the limit on its own makes
//! one row group of its size. Measured on x: f32[200000, 784] + y: i64 (627 MB): peak anonymous
//! memory +99 MiB uncompressed, +46 MiB with zstd (pyarrow's `write_table`: +970 MiB and +320 MiB).
//! The reader decodes one row group at a time.
//!
//! # Errors
//!
//! A failed or abandoned export leaves nothing under the target name: the file is written under a
//! temporary name in the same directory and renamed by [`ParquetWriter::finish`].

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::Schema;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::arrow::{ArrowWriter, ProjectionMask};
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use crate::dataset::{Cardinality, Dataset};
use crate::element::{Batch, ElementSpec};
use crate::error::{Error, Result};
use crate::frames::{
    check_same_columns, BatchStream, FrameOptions, RecordBatchConverter, RecordBatchNode,
};
use crate::io::sink::frames::{write_dataset, ExportSummary, RecordBatchFileWriter};
use crate::io::FaultFile;
use crate::io::TempFile;

mod checks;
use checks::{check_column_chunks, check_dictionary_pages, MAX_BATCH_ROWS};

/// The compression of a Parquet file's pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParquetCompression {
    /// No compression.
    Uncompressed,
    /// Snappy.
    Snappy,
    /// Zstandard at this level (1..=22). The default is `Zstd(1)`, the level pyarrow and arrow-rs
    /// use by default.
    Zstd(i32),
}

impl Default for ParquetCompression {
    fn default() -> Self {
        ParquetCompression::Zstd(1)
    }
}

/// Options of [`ParquetWriter`] and [`Dataset::write_parquet`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParquetWriteOptions {
    compression: ParquetCompression,
    max_row_group_bytes: usize,
    max_row_group_rows: usize,
    batch_rows: usize,
    frame: FrameOptions,
}

impl Default for ParquetWriteOptions {
    fn default() -> Self {
        ParquetWriteOptions {
            compression: ParquetCompression::default(),
            max_row_group_bytes: 64 << 20,
            max_row_group_rows: 1 << 20,
            batch_rows: 4096,
            frame: FrameOptions::default(),
        }
    }
}

impl ParquetWriteOptions {
    /// These options with pages compressed by `compression` (zstd level 1 by default).
    pub fn with_compression(mut self, compression: ParquetCompression) -> Self {
        self.compression = compression;
        self
    }

    /// A row group is flushed once its estimated encoded size reaches `bytes` (64 MiB by default):
    /// the bound on what the writer holds. 0 is taken as 1.
    pub fn with_max_row_group_bytes(mut self, bytes: usize) -> Self {
        self.max_row_group_bytes = bytes.max(1);
        self
    }

    /// A row group holds at most `rows` rows (1,048,576 by default, pyarrow's). 0 is taken as 1.
    pub fn with_max_row_group_rows(mut self, rows: usize) -> Self {
        self.max_row_group_rows = rows.max(1);
        self
    }

    /// [`Dataset::write_parquet`] converts `rows` rows at a time (4,096 by default).
    pub fn with_batch_rows(mut self, rows: usize) -> Self {
        self.batch_rows = rows.max(1);
        self
    }

    /// These options with these conversion options (`bfloat16` handling).
    pub fn with_frame_options(mut self, frame: FrameOptions) -> Self {
        self.frame = frame;
        self
    }

    fn properties(&self) -> Result<WriterProperties> {
        let compression = match self.compression {
            ParquetCompression::Uncompressed => Compression::UNCOMPRESSED,
            ParquetCompression::Snappy => Compression::SNAPPY,
            ParquetCompression::Zstd(level) => Compression::ZSTD(
                ZstdLevel::try_new(level)
                    .map_err(|e| Error::invalid_argument(format!("zstd level {level}: {e}")))?,
            ),
        };
        Ok(WriterProperties::builder()
            .set_compression(compression)
            .set_max_row_group_bytes(Some(self.max_row_group_bytes))
            .set_max_row_group_row_count(Some(self.max_row_group_rows))
            .build())
    }
}

/// An open export: its temp file, the Arrow writer, and a second handle of the file (to sync it).
type OpenParquet = (TempFile, (ArrowWriter<BufWriter<FaultFile>>, FaultFile));

/// Writes batches to a Parquet file as they arrive, one row group flushed whenever it fills.
///
/// ```
/// use slicestream::io::parquet::{ParquetWriteOptions, ParquetWriter};
/// use slicestream::{Dataset, Element, Tensor};
/// # let dir = tempfile::tempdir()?;
/// let path = dir.path().join("x.parquet");
/// let batch = Element::dict([("x", Tensor::from_vec([2, 3], vec![1.0f32; 6])?)]);
/// let mut w = ParquetWriter::create(&path, &slicestream::frames::row_spec_of(&batch)?,
///                                   ParquetWriteOptions::default())?;
/// w.write_batch(&batch)?;
/// w.write_batch(&batch)?;
/// assert_eq!(w.finish()?.rows, 4);
/// assert_eq!(Dataset::from_parquet([&path], None)?.iter().count(), 4);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ParquetWriter {
    converter: RecordBatchConverter,
    /// `None` once finished.
    out: Option<OpenParquet>,
    target: PathBuf,
    rows: u64,
}

impl std::fmt::Debug for ParquetWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParquetWriter")
            .field("target", &self.target)
            .field("rows", &self.rows)
            .finish()
    }
}

impl ParquetWriter {
    /// Starts writing rows of `row_spec` to `path` (under a temporary name until
    /// [`ParquetWriter::finish`]).
    ///
    /// Errors for components the conversion cannot carry (`bfloat16` by default), a bad zstd level,
    /// and I/O failures creating the temporary file.
    pub fn create(
        path: impl AsRef<Path>,
        row_spec: &ElementSpec,
        options: ParquetWriteOptions,
    ) -> Result<Self> {
        let target = path.as_ref().to_path_buf();
        let converter = RecordBatchConverter::new(row_spec, &options.frame)
            .map_err(|e| e.with_file(&target))?;
        let props = options.properties().map_err(|e| e.with_file(&target))?;
        let (temp, file) = TempFile::create(&target)?;
        let handle = file.try_clone().map_err(|e| Error::io(e, &target))?;
        let writer = ArrowWriter::try_new(
            BufWriter::with_capacity(1 << 20, file),
            converter.schema().clone(),
            Some(props),
        )
        .map_err(|e| parquet_error(e, &target))?;
        Ok(ParquetWriter {
            converter,
            out: Some((temp, (writer, handle))),
            target,
            rows: 0,
        })
    }

    /// The Arrow schema of the file.
    pub fn schema(&self) -> &Arc<Schema> {
        self.converter.schema()
    }

    /// Rows written so far.
    pub fn rows_written(&self) -> u64 {
        self.rows
    }

    /// Appends a batch (components `[n, ...row shape]`), flushing row groups as they fill.
    ///
    /// Errors (naming the component) when the batch does not fit the row spec, and on write failures;
    /// after an error the writer can only be dropped (which removes the temporary file).
    pub fn write_batch(&mut self, batch: &Batch) -> Result<()> {
        let rb = self
            .converter
            .convert(batch)
            .map_err(|e| e.with_file(&self.target))?;
        self.write_record_batch(&rb)
    }

    /// Writes the footer, flushes to disk and renames the file to its target.
    pub fn finish(mut self) -> Result<ExportSummary> {
        let (temp, writer) = self.out.take().ok_or_else(|| {
            Error::invalid_argument("the Parquet writer is finished").with_file(&self.target)
        })?;
        let target = temp.target().to_path_buf();
        let (mut writer, file) = writer;
        let meta = writer.finish().map_err(|e| parquet_error(e, &target))?;
        let chunks = meta.num_row_groups() as u64;
        writer
            .inner_mut()
            .flush()
            .map_err(|e| Error::io(e, &target))?;
        drop(writer);
        temp.persist(file)?;
        let bytes = std::fs::metadata(&target)
            .map_err(|e| Error::io(e, &target))?
            .len();
        Ok(ExportSummary {
            path: target,
            rows: self.rows,
            chunks,
            bytes,
        })
    }
}

/// The error for a file the parquet crate's decoder panicked on (`message`).
fn undecodable(message: &str, path: &Path) -> Error {
    Error::format(format!(
        "Parquet data the parquet reader cannot decode ({message})"
    ))
    .with_file(path)
}

/// Runs a call into the parquet crate, whose decoder panics on some malformed files instead of
/// returning an error: the panic is a format error naming the file.
fn guarded<T>(path: &Path, f: impl FnOnce() -> Result<T>) -> Result<T> {
    crate::error::catch_foreign_panic(f).unwrap_or_else(|message| Err(undecodable(&message, path)))
}

/// A reader's error: the file's own I/O error when one happened under it, else as
/// [`parquet_error`].
fn read_error(file: &FaultFile, e: parquet::errors::ParquetError, path: &Path) -> Error {
    match file.take_read_error() {
        Some(io) => Error::io(io, path),
        None => parquet_error(e, path),
    }
}

fn parquet_error(e: parquet::errors::ParquetError, file: &Path) -> Error {
    match e {
        parquet::errors::ParquetError::External(inner) => {
            match inner.downcast::<std::io::Error>() {
                Ok(io) => Error::io(*io, file),
                Err(other) => Error::format("Parquet")
                    .with_source(parquet::errors::ParquetError::External(other))
                    .with_file(file),
            }
        }
        other => Error::format("Parquet").with_source(other).with_file(file),
    }
}

/// One Parquet file opened for reading: its footer and the projection to read.
struct ParquetInput {
    path: PathBuf,
    metadata: ArrowReaderMetadata,
    mask: ProjectionMask,
    schema: Arc<Schema>,
}

impl ParquetInput {
    fn open(path: &Path, columns: Option<&[&str]>) -> Result<Self> {
        let file = FaultFile::open(path).map_err(|e| open_error(e, path))?;
        let metadata = guarded(path, || {
            ArrowReaderMetadata::load(&file, ArrowReaderOptions::new())
                .map_err(|e| read_error(&file, e, path))
        })?;
        check_column_chunks(&metadata, path)?;
        let full = metadata.schema().clone();
        let indices: Vec<usize> = match columns {
            None => (0..full.fields().len()).collect(),
            Some(names) => names
                .iter()
                .map(|n| {
                    full.index_of(n).map_err(|_| {
                        let have: Vec<&String> = full.fields().iter().map(|f| f.name()).collect();
                        Error::not_found(format!("no column {n:?}; the file has {have:?}"))
                            .with_component(*n)
                            .with_file(path)
                    })
                })
                .collect::<Result<_>>()?,
        };
        let mask = ProjectionMask::roots(metadata.parquet_schema(), indices.iter().copied());
        // The reader returns projected columns in file order.
        let mut sorted = indices.clone();
        sorted.sort_unstable();
        let schema = Arc::new(full.project(&sorted).map_err(|e| {
            Error::invalid_argument("bad projection")
                .with_source(e)
                .with_file(path)
        })?);
        Ok(ParquetInput {
            path: path.to_path_buf(),
            metadata,
            mask,
            schema,
        })
    }

    fn rows(&self) -> u64 {
        self.metadata.metadata().file_metadata().num_rows().max(0) as u64
    }

    /// The record batches of the file, one per row group, decoded as they are asked for.
    fn batches(&self) -> Result<BatchStream> {
        let path = self.path.clone();
        let file = FaultFile::open(&path).map_err(|e| open_error(e, &path))?;
        let groups = self.metadata.metadata().num_row_groups();
        let (metadata, mask) = (self.metadata.clone(), self.mask.clone());
        let mut group = 0usize;
        let mut current: Option<parquet::arrow::arrow_reader::ParquetRecordBatchReader> = None;
        Ok(Box::new(std::iter::from_fn(move || loop {
            if let Some(reader) = &mut current {
                let next = match crate::error::catch_foreign_panic(|| reader.next()) {
                    Ok(next) => next,
                    Err(message) => {
                        current = None;
                        group = groups;
                        return Some(Err(undecodable(&message, &path)));
                    }
                };
                match next {
                    Some(Ok(rb)) => return Some(Ok(rb)),
                    Some(Err(e)) => {
                        current = None;
                        group = groups;
                        // An I/O failure under the decoder is an I/O error, not a bad file.
                        return Some(Err(match file.take_read_error() {
                            Some(io) => Error::io(io, &path),
                            None => Error::format("Parquet").with_source(e).with_file(&path),
                        }));
                    }
                    None => current = None,
                }
            }
            if group >= groups {
                return None;
            }
            // The parquet reader reserves a batch's values before decoding: a footer's row count
            // is not trusted that far.
            let rows = (metadata.metadata().row_group(group).num_rows().max(1) as u64)
                .min(MAX_BATCH_ROWS as u64) as usize;
            let reader = guarded(&path, || {
                check_dictionary_pages(&file, &path, metadata.metadata(), group, &mask)
                    .map_err(|e| e.with_file(&path).with_record(group as u64))
            })
            .and_then(|()| file.try_clone().map_err(|e| Error::io(e, &path)))
            .and_then(|f| {
                guarded(&path, || {
                    ParquetRecordBatchReaderBuilder::new_with_metadata(f, metadata.clone())
                        .with_row_groups(vec![group])
                        .with_projection(mask.clone())
                        .with_batch_size(rows)
                        .build()
                        .map_err(|e| read_error(&file, e, &path))
                })
            });
            group += 1;
            match reader {
                Ok(r) => current = Some(r),
                Err(e) => {
                    group = groups;
                    return Some(Err(e));
                }
            }
        })))
    }
}

fn open_error(e: std::io::Error, path: &Path) -> Error {
    if e.kind() == std::io::ErrorKind::NotFound {
        Error::not_found(format!("no file {}", path.display())).with_file(path)
    } else {
        Error::io(e, path)
    }
}

impl Dataset {
    /// A dataset of the rows of Parquet files, read one row group at a time (each epoch reads the
    /// files again). `columns` picks columns by name (all when `None`; the file's column order is
    /// kept).
    ///
    /// Columns are read as [`crate::frames`] describes: `FixedSizeList` columns (with or without
    /// the `arrow.fixed_shape_tensor` extension) are tensors of their shape, `List` columns tensors
    /// with unknown dimensions. Every file must have the same columns.
    ///
    /// Errors: a missing file ([`NotFound`](crate::ErrorKind::NotFound)) or column (naming it and
    /// listing the file's), a file that is not Parquet ([`Format`](crate::ErrorKind::Format)),
    /// unsupported column types (listing the supported ones), and files whose columns differ —
    /// all before iterating; nulls while iterating.
    ///
    /// ```no_run
    /// use slicestream::Dataset;
    /// let ds = Dataset::from_parquet(["data/digits.parquet"], Some(&["image"]))?;
    /// # Ok::<(), slicestream::Error>(())
    /// ```
    pub fn from_parquet<P: AsRef<Path>>(
        paths: impl IntoIterator<Item = P>,
        columns: Option<&[&str]>,
    ) -> Result<Dataset> {
        const NAME: &str = "from_parquet";
        let inputs = paths
            .into_iter()
            .map(|p| ParquetInput::open(p.as_ref(), columns))
            .collect::<Result<Vec<_>>>()
            .map_err(|e| e.with_stage(NAME))?;
        let first = inputs.first().ok_or_else(|| {
            Error::invalid_argument("from_parquet needs at least one file").with_stage(NAME)
        })?;
        let schema = first.schema.clone();
        for input in &inputs[1..] {
            check_same_columns(&schema, &input.schema, 0)
                .map_err(|e| e.with_file(&input.path).with_stage(NAME))?;
        }
        let rows = inputs.iter().map(ParquetInput::rows).sum();
        let inputs = Arc::new(inputs);
        let open = Arc::new(move || -> Result<BatchStream> {
            let inputs = inputs.clone();
            let mut files = 0..inputs.len();
            let mut current: Option<BatchStream> = None;
            Ok(Box::new(std::iter::from_fn(move || loop {
                if let Some(batches) = &mut current {
                    if let Some(item) = batches.next() {
                        return Some(item);
                    }
                    current = None;
                }
                let i = files.next()?;
                match inputs[i].batches() {
                    Ok(b) => current = Some(b),
                    Err(e) => return Some(Err(e)),
                }
            })) as BatchStream)
        });
        let node = RecordBatchNode::new(NAME, schema, Cardinality::Finite(rows), open)?;
        Ok(Dataset::from_node(node))
    }

    /// Writes the dataset's elements, one row each, to a Parquet file (see [`ParquetWriter`]):
    /// `batch_rows` rows at a time, row groups flushed as they fill, renamed into place when
    /// complete. Batch the dataset's rows yourself and use [`ParquetWriter`] to write batches as
    /// they are.
    ///
    /// Errors as [`ParquetWriter`], and with the first error of the dataset (the target is then
    /// left untouched).
    pub fn write_parquet(
        &self,
        path: impl AsRef<Path>,
        options: ParquetWriteOptions,
    ) -> Result<ExportSummary> {
        write_dataset::<ParquetWriter>(self, path.as_ref(), options)
    }
}

impl RecordBatchFileWriter for ParquetWriter {
    type Options = ParquetWriteOptions;

    fn converter(&self) -> &RecordBatchConverter {
        &self.converter
    }

    fn write_record_batch(&mut self, rb: &RecordBatch) -> Result<()> {
        let (_, (writer, _)) = self.out.as_mut().ok_or_else(|| {
            Error::invalid_argument("the Parquet writer is finished").with_file(&self.target)
        })?;
        writer
            .write(rb)
            .map_err(|e| parquet_error(e, &self.target))?;
        self.rows += rb.num_rows() as u64;
        Ok(())
    }

    fn batch_rows(options: &ParquetWriteOptions) -> usize {
        options.batch_rows
    }

    fn create(path: &Path, row_spec: &ElementSpec, options: ParquetWriteOptions) -> Result<Self> {
        ParquetWriter::create(path, row_spec, options)
    }

    fn write_batch(&mut self, batch: &Batch) -> Result<()> {
        ParquetWriter::write_batch(self, batch)
    }

    fn rows_written(&self) -> u64 {
        ParquetWriter::rows_written(self)
    }

    fn finish(self) -> Result<ExportSummary> {
        ParquetWriter::finish(self)
    }
}
