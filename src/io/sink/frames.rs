//! [`FrameSink`]: the [`Sink`] of the Parquet and IPC files ([`ParquetSink`], [`IpcSink`]), over
//! the file writers of record batches they share a trait for ([`RecordBatchFileWriter`]), with the
//! summary those return and the loop that feeds a dataset's rows to them in record batches.

use std::path::{Path, PathBuf};

use arrow::array::RecordBatch;

use super::Sink;
use crate::dataset::Dataset;
use crate::element::{Batch, Element, ElementSpec};
use crate::error::{Error, Result};
use crate::frames::RecordBatchConverter;
use crate::transform::batcher::{Batcher, Fit};

/// What a finished export wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExportSummary {
    /// The file written.
    pub path: PathBuf,
    /// Rows written.
    pub rows: u64,
    /// Record batches written (IPC) or row groups (Parquet).
    pub chunks: u64,
    /// The file's size in bytes.
    pub bytes: u64,
}

/// A file writer of record batches of one schema, which a [`FrameSink`] drives:
/// [`ParquetWriter`](crate::io::parquet::ParquetWriter) and
/// [`IpcWriter`](crate::io::ipc::IpcWriter).
pub trait RecordBatchFileWriter: Sized {
    /// The writer's options.
    type Options: Clone;
    /// Rows per record batch (or row group) that `options` asks for.
    fn batch_rows(options: &Self::Options) -> usize;
    /// Starts writing rows of `row_spec` to `path` (under a temporary name until `finish`).
    fn create(path: &Path, row_spec: &ElementSpec, options: Self::Options) -> Result<Self>;
    /// The converter of the writer's row spec.
    fn converter(&self) -> &RecordBatchConverter;
    /// Writes one record batch of the converter's schema.
    fn write_record_batch(&mut self, rb: &RecordBatch) -> Result<()>;
    /// Writes one batch (rows along its first dimension), converted without a copy; errors name
    /// the file.
    fn write_batch(&mut self, batch: &Batch) -> Result<()>;
    /// Rows written so far.
    fn rows_written(&self) -> u64;
    /// Completes the file under its final name.
    fn finish(self) -> Result<ExportSummary>;
}

/// Writes every element of `dataset` (one row each) through `sink`, `batch_rows` rows at a time.
///
/// When every row has the same shape the dataset is batched first (for random-access sources a
/// batch is a slice: no copy) and each batch converted without a copy; when rows have unknown
/// dimensions, `batch_rows` rows are gathered and their values copied once into list columns.
pub(crate) fn feed(
    dataset: &Dataset,
    batch_rows: usize,
    sink: &mut impl RecordBatchFileWriter,
) -> Result<()> {
    let batch_rows = batch_rows.max(1);
    let fixed = sink
        .converter()
        .row_spec()
        .components()
        .iter()
        .all(|s| s.shape.iter().all(Option::is_some));
    if fixed {
        for batch in &dataset.batch(batch_rows, false)? {
            let rb = sink.converter().convert(&batch?)?;
            sink.write_record_batch(&rb)?;
        }
        return Ok(());
    }
    // Rows of unknown dimensions: grouped (and checked against one another) by the one batcher,
    // then converted to list columns.
    let mut batcher = Batcher::new(batch_rows, false, Fit::SameRank);
    for row in dataset {
        batcher.push_element(row?, None)?;
        if let Some(group) = batcher.take() {
            let rb = sink.converter().convert_rows(&group.rows)?;
            sink.write_record_batch(&rb)?;
        }
    }
    if let Some(group) = batcher.finish() {
        let rb = sink.converter().convert_rows(&group.rows)?;
        sink.write_record_batch(&rb)?;
    }
    Ok(())
}

/// Writes every element of `dataset` (one row each) to `path` with a new `W`, `batch_rows` rows
/// at a time (see [`feed`]): `Dataset::write_parquet` and `Dataset::write_ipc`.
pub(crate) fn write_dataset<W: RecordBatchFileWriter>(
    dataset: &Dataset,
    path: &Path,
    options: W::Options,
) -> Result<ExportSummary> {
    let batch_rows = W::batch_rows(&options);
    let mut writer = W::create(path, &dataset.element_spec()?, options)?;
    feed(dataset, batch_rows, &mut writer)?;
    writer.finish()
}

/// Rows waiting to be written as one record batch (for sinks fed row by row).
#[derive(Debug, Default)]
pub(crate) struct RowBuffer {
    rows: Vec<crate::element::Element>,
    capacity: usize,
}

impl RowBuffer {
    /// A buffer that writes every `capacity` rows.
    pub(crate) fn new(capacity: usize) -> Self {
        RowBuffer {
            rows: Vec::new(),
            capacity: capacity.max(1),
        }
    }

    /// The rows buffered.
    pub(crate) fn len(&self) -> usize {
        self.rows.len()
    }

    /// Buffers `row`; writes the buffer through `sink` once it holds `capacity` rows.
    pub(crate) fn push(
        &mut self,
        row: &crate::element::Element,
        sink: &mut impl RecordBatchFileWriter,
    ) -> Result<()> {
        self.rows.push(row.clone());
        if self.rows.len() >= self.capacity {
            self.flush(sink)?;
        }
        Ok(())
    }

    /// Writes the buffered rows (their values copied once into the record batch's columns).
    pub(crate) fn flush(&mut self, sink: &mut impl RecordBatchFileWriter) -> Result<()> {
        if !self.rows.is_empty() {
            let rb = sink.converter().convert_rows(&self.rows)?;
            self.rows.clear();
            sink.write_record_batch(&rb)?;
        }
        Ok(())
    }
}

/// A [`Sink`] writing a dataset's rows to a Parquet file through a
/// [`ParquetWriter`](crate::io::parquet::ParquetWriter)
/// (`Dataset::write_to(ParquetSink::new(path, options))`): see [`FrameSink`].
#[cfg(feature = "parquet")]
pub type ParquetSink = FrameSink<crate::io::parquet::ParquetWriter>;

/// A [`Sink`] writing a dataset's rows to an Arrow IPC file through an
/// [`IpcWriter`](crate::io::ipc::IpcWriter)
/// (`Dataset::write_to(IpcSink::new(path, options))`): see [`FrameSink`].
#[cfg(feature = "ipc")]
pub type IpcSink = FrameSink<crate::io::ipc::IpcWriter>;

/// A [`Sink`] writing a dataset's rows through a Parquet or IPC writer ([`ParquetSink`],
/// [`IpcSink`]): whole batches are written
/// without a copy (`write_batches_to`), single rows are buffered `batch_rows` at a time and copied
/// once into the columns (list columns for dimensions the spec leaves unknown).
#[derive(Debug)]
pub struct FrameSink<W: RecordBatchFileWriter> {
    path: PathBuf,
    options: W::Options,
    writer: Option<W>,
    pending: RowBuffer,
}

impl<W: RecordBatchFileWriter> FrameSink<W> {
    /// A sink that writes to `path` with `options` (the file appears under `path` at `finish`).
    pub fn new(path: impl AsRef<Path>, options: W::Options) -> Self {
        let pending = RowBuffer::new(W::batch_rows(&options));
        FrameSink {
            path: path.as_ref().to_path_buf(),
            options,
            writer: None,
            pending,
        }
    }

    /// The writer and the pending rows, borrowed apart.
    fn parts(&mut self) -> Result<(&mut W, &mut RowBuffer)> {
        let writer = self.writer.as_mut().ok_or_else(|| {
            Error::invalid_argument("sink used out of order: begin first").with_file(&self.path)
        })?;
        Ok((writer, &mut self.pending))
    }
}

impl<W: RecordBatchFileWriter> Sink for FrameSink<W> {
    fn begin(&mut self, row_spec: &ElementSpec) -> Result<()> {
        if self.writer.is_some() {
            return Err(Error::invalid_argument(
                "sink used out of order: begin twice",
            ));
        }
        self.writer = Some(W::create(&self.path, row_spec, self.options.clone())?);
        Ok(())
    }

    fn write_row(&mut self, row: &Element) -> Result<()> {
        let (writer, pending) = self.parts()?;
        pending.push(row, writer)
    }

    fn write_batch(&mut self, batch: &Batch) -> Result<()> {
        let (writer, pending) = self.parts()?;
        pending.flush(writer)?;
        writer.write_batch(batch)
    }

    fn rows_written(&self) -> u64 {
        self.writer.as_ref().map_or(0, W::rows_written) + self.pending.len() as u64
    }

    fn finish(mut self) -> Result<u64> {
        let (writer, pending) = self.parts()?;
        pending.flush(writer)?;
        let writer = self.writer.take().ok_or_else(|| {
            Error::invalid_argument("sink used out of order: finish without begin")
                .with_file(&self.path)
        })?;
        Ok(writer.finish()?.rows)
    }
}
