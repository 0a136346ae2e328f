//! What the Parquet and IPC writers share: the summary they return and the loop that feeds a
//! dataset's rows to them in record batches.

use std::path::PathBuf;

use arrow::array::RecordBatch;

use super::RecordBatchConverter;
use crate::dataset::Dataset;
use crate::error::Result;

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

/// A writer of record batches of one schema (the Parquet and IPC writers).
pub(crate) trait RecordBatchSink {
    /// The converter of the sink's row spec.
    fn converter(&self) -> &RecordBatchConverter;
    /// Writes one record batch of the converter's schema.
    fn write_record_batch(&mut self, rb: &RecordBatch) -> Result<()>;
}

/// Writes every element of `dataset` (one row each) through `sink`, `batch_rows` rows at a time.
///
/// When every row has the same shape the dataset is batched first (for random-access sources a
/// batch is a slice: no copy) and each batch converted without a copy; when rows have unknown
/// dimensions, `batch_rows` rows are gathered and their values copied once into list columns.
pub(crate) fn feed(
    dataset: &Dataset,
    batch_rows: usize,
    sink: &mut impl RecordBatchSink,
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
    let mut rows = Vec::with_capacity(batch_rows);
    for row in dataset {
        rows.push(row?);
        if rows.len() == batch_rows {
            let rb = sink.converter().convert_rows(&rows)?;
            sink.write_record_batch(&rb)?;
            rows.clear();
        }
    }
    if !rows.is_empty() {
        let rb = sink.converter().convert_rows(&rows)?;
        sink.write_record_batch(&rb)?;
    }
    Ok(())
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
        sink: &mut impl RecordBatchSink,
    ) -> Result<()> {
        self.rows.push(row.clone());
        if self.rows.len() >= self.capacity {
            self.flush(sink)?;
        }
        Ok(())
    }

    /// Writes the buffered rows (their values copied once into the record batch's columns).
    pub(crate) fn flush(&mut self, sink: &mut impl RecordBatchSink) -> Result<()> {
        if !self.rows.is_empty() {
            let rb = sink.converter().convert_rows(&self.rows)?;
            self.rows.clear();
            sink.write_record_batch(&rb)?;
        }
        Ok(())
    }
}
