//! Arrow IPC files and streams (Feather v2), with arrow-rs's `arrow-ipc`: [`IpcWriter`] (and
//! [`Dataset::write_ipc`]) writes each batch as one record batch as it arrives; [`Dataset::from_ipc`]
//! reads one record batch at a time, file or stream format alike.
//!
//! Columns follow [`crate::frames`]: fixed-shape tensors are `FixedSizeList` columns carrying the
//! `arrow.fixed_shape_tensor` extension, which pyarrow reads as a `FixedShapeTensorArray` and Python
//! polars as an `Array` column. The writer holds nothing but the record batch being written (no
//! compression: arrow-rs's IPC compression features are not enabled, and pyarrow's default is none
//! too). A failed or abandoned export leaves nothing under the target name: the file is written under
//! a temporary name and renamed by [`IpcWriter::finish`].

use std::io::{BufReader, BufWriter, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::Schema;
use arrow::error::ArrowError;
use arrow::ipc::reader::{FileReader, StreamReader};
use arrow::ipc::writer::{FileWriter, StreamWriter};

use crate::dataset::{Cardinality, Dataset};
use crate::element::{Batch, ElementSpec};
use crate::error::{Error, Result};
use crate::frames::{BatchStream, FrameOptions, RecordBatchConverter, RecordBatchNode};
use crate::io::sink::frames::{write_dataset, ExportSummary, RecordBatchFileWriter};
use crate::io::FaultFile;
use crate::io::TempFile;

/// Which of Arrow's two IPC formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum IpcFormat {
    /// The file format (`.arrow`, Feather v2): magic `ARROW1`, a footer indexing the record batches.
    #[default]
    File,
    /// The stream format (`.arrows`): schema then record batches, no footer.
    Stream,
}

/// Options of [`IpcWriter`] and [`Dataset::write_ipc`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IpcWriteOptions {
    format: IpcFormat,
    batch_rows: usize,
    frame: FrameOptions,
}

impl Default for IpcWriteOptions {
    fn default() -> Self {
        IpcWriteOptions {
            format: IpcFormat::File,
            batch_rows: 4096,
            frame: FrameOptions::default(),
        }
    }
}

impl IpcWriteOptions {
    /// These options with the given format (the file format by default).
    pub fn with_format(mut self, format: IpcFormat) -> Self {
        self.format = format;
        self
    }

    /// [`Dataset::write_ipc`] writes record batches of `rows` rows (4,096 by default). 0 is taken as 1.
    pub fn with_batch_rows(mut self, rows: usize) -> Self {
        self.batch_rows = rows.max(1);
        self
    }

    /// These options with these conversion options (`bfloat16` handling).
    pub fn with_frame_options(mut self, frame: FrameOptions) -> Self {
        self.frame = frame;
        self
    }
}

enum Writer {
    File(FileWriter<BufWriter<FaultFile>>),
    Stream(StreamWriter<BufWriter<FaultFile>>),
}

/// Writes batches to an Arrow IPC file or stream as they arrive, one record batch each.
///
/// ```
/// use slicestream::io::ipc::{IpcWriteOptions, IpcWriter};
/// use slicestream::{Dataset, Element, Tensor};
/// # let dir = tempfile::tempdir()?;
/// let path = dir.path().join("x.arrow");
/// let batch = Element::dict([("x", Tensor::from_vec([2, 3], vec![1.0f32; 6])?)]);
/// let mut w = IpcWriter::create(&path, &slicestream::frames::row_spec_of(&batch)?,
///                               IpcWriteOptions::default())?;
/// w.write_batch(&batch)?;
/// assert_eq!(w.finish()?.rows, 2);
/// assert_eq!(Dataset::from_ipc(&path)?.iter().count(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct IpcWriter {
    converter: RecordBatchConverter,
    /// `None` once finished.
    out: Option<(TempFile, Writer)>,
    target: PathBuf,
    rows: u64,
    batches: u64,
}

impl std::fmt::Debug for IpcWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IpcWriter")
            .field("target", &self.target)
            .field("rows", &self.rows)
            .finish()
    }
}

fn ipc_error(e: ArrowError, file: &Path) -> Error {
    match e {
        ArrowError::IoError(_, io) => Error::io(io, file),
        other => Error::format("Arrow IPC")
            .with_source(other)
            .with_file(file),
    }
}

impl IpcWriter {
    /// Starts writing rows of `row_spec` to `path` (under a temporary name until
    /// [`IpcWriter::finish`]).
    ///
    /// Errors for components the conversion cannot carry (`bfloat16` by default) and I/O failures.
    pub fn create(
        path: impl AsRef<Path>,
        row_spec: &ElementSpec,
        options: IpcWriteOptions,
    ) -> Result<Self> {
        let target = path.as_ref().to_path_buf();
        let converter = RecordBatchConverter::new(row_spec, &options.frame)
            .map_err(|e| e.with_file(&target))?;
        let (temp, file) = TempFile::create(&target)?;
        let out = BufWriter::with_capacity(1 << 20, file);
        let schema = converter.schema().clone();
        let writer = match options.format {
            IpcFormat::File => FileWriter::try_new(out, &schema).map(Writer::File),
            IpcFormat::Stream => StreamWriter::try_new(out, &schema).map(Writer::Stream),
        }
        .map_err(|e| ipc_error(e, &target))?;
        Ok(IpcWriter {
            converter,
            out: Some((temp, writer)),
            target,
            rows: 0,
            batches: 0,
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

    /// Appends a batch (components `[n, ...row shape]`) as one record batch.
    ///
    /// Errors (naming the component) when the batch does not fit the row spec, and on write failures.
    pub fn write_batch(&mut self, batch: &Batch) -> Result<()> {
        let rb = self
            .converter
            .convert(batch)
            .map_err(|e| e.with_file(&self.target))?;
        self.write_record_batch(&rb)
    }

    /// Writes the end of the file (footer, or end-of-stream marker), flushes to disk and renames the
    /// file to its target.
    pub fn finish(mut self) -> Result<ExportSummary> {
        let (temp, writer) = self.out.take().ok_or_else(|| {
            Error::invalid_argument("the IPC writer is finished").with_file(&self.target)
        })?;
        let target = temp.target().to_path_buf();
        let inner = match writer {
            Writer::File(mut w) => w.finish().and_then(|_| w.into_inner()),
            Writer::Stream(mut w) => w.finish().and_then(|_| w.into_inner()),
        }
        .map_err(|e| ipc_error(e, &target))?;
        let file = inner
            .into_inner()
            .map_err(|e| Error::io(e.into_error(), &target))?;
        temp.persist(file)?;
        let bytes = std::fs::metadata(&target)
            .map_err(|e| Error::io(e, &target))?
            .len();
        Ok(ExportSummary {
            path: target,
            rows: self.rows,
            chunks: self.batches,
            bytes,
        })
    }
}

/// The format of the IPC data at `path`, from its first bytes: the file format starts with `ARROW1`.
fn detect(path: &Path) -> Result<IpcFormat> {
    let mut head = [0u8; 6];
    let mut file = open(path)?;
    let mut read = 0;
    while read < head.len() {
        match file.read(&mut head[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io(e, path)),
        }
    }
    Ok(if read == 6 && &head == b"ARROW1" {
        IpcFormat::File
    } else {
        IpcFormat::Stream
    })
}

fn open(path: &Path) -> Result<FaultFile> {
    FaultFile::open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::not_found(format!("no file {}", path.display())).with_file(path)
        } else {
            Error::io(e, path)
        }
    })
}

/// Runs a call into arrow-ipc's reader, whose decoder panics on some malformed files (an offset
/// past the message body) instead of returning an error: the panic is a format error naming the file.
pub(crate) fn guarded<T>(path: &Path, f: impl FnOnce() -> Result<T>) -> Result<T> {
    crate::error::catch_foreign_panic(f).unwrap_or_else(|message| {
        Err(Error::format(format!(
            "Arrow IPC data the arrow-ipc reader cannot decode ({message})"
        ))
        .with_file(path))
    })
}

/// Record batches of an arrow-ipc reader, each read through [`guarded`]; after an error, none.
fn batches<R>(reader: R, path: &Path) -> BatchStream
where
    R: Iterator<Item = std::result::Result<RecordBatch, ArrowError>> + Send + 'static,
{
    let path = path.to_path_buf();
    let mut reader = Some(reader);
    Box::new(std::iter::from_fn(move || {
        let r = reader.as_mut()?;
        let next = guarded(&path, || Ok(r.next()))
            .and_then(|b| b.map(|b| b.map_err(|e| ipc_error(e, &path))).transpose());
        match next {
            Ok(Some(batch)) => Some(Ok(batch)),
            Ok(None) => None,
            Err(e) => {
                reader = None;
                Some(Err(e))
            }
        }
    }))
}

/// Opens the IPC data at `path` as a schema and a stream of record batches.
fn read(path: &Path, format: IpcFormat) -> Result<(Arc<Schema>, BatchStream)> {
    let file = BufReader::with_capacity(1 << 20, open(path)?);
    Ok(match format {
        IpcFormat::File => {
            let reader = guarded(path, || {
                FileReader::try_new(file, None).map_err(|e| ipc_error(e, path))
            })?;
            (reader.schema(), batches(reader, path))
        }
        IpcFormat::Stream => {
            let reader = guarded(path, || {
                StreamReader::try_new(file, None).map_err(|e| ipc_error(e, path))
            })?;
            (reader.schema(), batches(reader, path))
        }
    })
}

impl Dataset {
    /// A dataset of the rows of an Arrow IPC file or stream (the format is detected from the first
    /// bytes), read one record batch at a time; each epoch reads the file again.
    ///
    /// Columns are read as [`crate::frames`] describes: `FixedSizeList` columns (with or without the
    /// `arrow.fixed_shape_tensor` extension) are tensors of their shape. Each row is a view of its
    /// record batch's buffers as read (no copy beyond the read, but for bool and view strings).
    ///
    /// Errors: a missing file ([`NotFound`](crate::ErrorKind::NotFound)), bad IPC data
    /// ([`Format`](crate::ErrorKind::Format)), unsupported column types (naming the column, listing
    /// the supported ones) — before iterating; nulls and bad record batches while iterating.
    ///
    /// ```no_run
    /// use slicestream::Dataset;
    /// let ds = Dataset::from_ipc("data/digits.arrow")?.batch(64, false)?;
    /// # Ok::<(), slicestream::Error>(())
    /// ```
    pub fn from_ipc(path: impl AsRef<Path>) -> Result<Dataset> {
        const NAME: &str = "from_ipc";
        let path = path.as_ref().to_path_buf();
        let format = detect(&path).map_err(|e| e.with_stage(NAME))?;
        let (schema, _) = read(&path, format).map_err(|e| e.with_stage(NAME))?;
        let open = Arc::new(move || read(&path, format).map(|(_, batches)| batches));
        let node = RecordBatchNode::new(NAME, schema, Cardinality::Unknown, open)?;
        Ok(Dataset::from_node(node))
    }

    /// Writes the dataset's elements, one row each, to an Arrow IPC file or stream (see
    /// [`IpcWriter`]), `batch_rows` rows per record batch, renamed into place when complete.
    ///
    /// Errors as [`IpcWriter`], and with the first error of the dataset (the target is then left
    /// untouched).
    pub fn write_ipc(
        &self,
        path: impl AsRef<Path>,
        options: IpcWriteOptions,
    ) -> Result<ExportSummary> {
        write_dataset::<IpcWriter>(self, path.as_ref(), options)
    }
}

impl RecordBatchFileWriter for IpcWriter {
    type Options = IpcWriteOptions;

    fn converter(&self) -> &RecordBatchConverter {
        &self.converter
    }

    fn write_record_batch(&mut self, rb: &RecordBatch) -> Result<()> {
        let (_, writer) = self.out.as_mut().ok_or_else(|| {
            Error::invalid_argument("the IPC writer is finished").with_file(&self.target)
        })?;
        match writer {
            Writer::File(w) => w.write(rb),
            Writer::Stream(w) => w.write(rb),
        }
        .map_err(|e| ipc_error(e, &self.target))?;
        self.rows += rb.num_rows() as u64;
        self.batches += 1;
        Ok(())
    }

    fn batch_rows(options: &IpcWriteOptions) -> usize {
        options.batch_rows
    }

    fn create(path: &Path, row_spec: &ElementSpec, options: IpcWriteOptions) -> Result<Self> {
        IpcWriter::create(path, row_spec, options)
    }

    fn write_batch(&mut self, batch: &Batch) -> Result<()> {
        IpcWriter::write_batch(self, batch)
    }

    fn rows_written(&self) -> u64 {
        IpcWriter::rows_written(self)
    }

    fn finish(self) -> Result<ExportSummary> {
        IpcWriter::finish(self)
    }
}
