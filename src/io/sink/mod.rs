//! Streaming sinks: a dataset written as it streams, each file under a temporary name renamed when
//! complete ([`Sink`], [`Dataset::write_to`]).
//!
//! | sink | writes | per row | a batch |
//! |---|---|---|---|
//! | [`NpySink`] | one `.npy` file per component, byte-identical to `np.save` of the stacked rows | one row | one copy of each component's buffer |
//! | [`CsvSink`] | one CSV file, a column per value (`path_i_j`) | one line | a line per row |
//! | [`TfRecordSink`] | one TFRecord file of `tf.train.Example`s, optionally GZIP / ZLIB | one record | a record per row |
//! | [`ParquetSink`] | one Parquet file, a column per component (fixed-shape tensor or list columns) | buffered into record batches | one record batch, no copy |
//! | [`IpcSink`] | one Arrow IPC file, the same columns | buffered into record batches | one record batch, no copy |
//!
//! Every sink of the library is here, behind the one [`Sink`] trait. The Parquet and IPC sinks
//! drive a file writer of record batches ([`RecordBatchFileWriter`]: `ParquetWriter`, `IpcWriter`),
//! which can also be used alone to write batches as they are.
//!
//! Every sink writes to a temporary file beside its target (`.NAME.PID-N.tmp`) and renames it in
//! [`Sink::finish`]. A sink dropped before `finish` — the dataset failed, a write failed, the caller
//! gave up — removes its temporary files, so a file under the final name is always complete.
//!
//! ```
//! use slicestream::io::sink::NpySink;
//! use slicestream::Dataset;
//! use ndarray::Array2;
//!
//! let dir = std::env::temp_dir().join(format!("slicestream-sink-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let x = Array2::<f32>::from_shape_fn((10, 3), |(i, j)| (i * 3 + j) as f32);
//! let ds = Dataset::from_tensor_slices((x, (0..10i64).collect::<Vec<_>>()))?;
//! let rows = ds.write_to(NpySink::in_dir(&dir))?;
//! assert_eq!(rows, 10);
//! assert_eq!(slicestream::io::npy::read_npy(dir.join("0.npy"))?.shape(), [10, 3]);
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), slicestream::Error>(())
//! ```

#[cfg(feature = "csv")]
mod csv;
#[cfg(any(feature = "parquet", feature = "ipc"))]
pub(crate) mod frames;
mod npy;
#[cfg(feature = "tfrecord")]
mod tfrecord;

#[cfg(feature = "csv")]
pub use csv::CsvSink;
#[cfg(feature = "ipc")]
pub use frames::IpcSink;
#[cfg(feature = "parquet")]
pub use frames::ParquetSink;
#[cfg(any(feature = "parquet", feature = "ipc"))]
pub use frames::{ExportSummary, FrameSink, RecordBatchFileWriter};
pub use npy::NpySink;
#[cfg(feature = "tfrecord")]
pub use tfrecord::TfRecordSink;

use crate::dataset::Dataset;
use crate::element::{Batch, Element, ElementSpec};
use crate::error::{Error, Result};

/// A destination that takes a dataset's rows as they stream.
///
/// The protocol: [`Sink::begin`] once with the spec of one row, then any number of
/// [`Sink::write_row`] / [`Sink::write_batch`] calls, then [`Sink::finish`], which makes the output
/// appear under its final name(s). Dropping a sink before `finish` removes everything it wrote.
/// [`Dataset::write_to`] and [`Dataset::write_batches_to`] drive this protocol.
///
/// To plug in a format: hold the file(s) under a temporary name (see `TempFile` in
/// `src/io/temp_file.rs`), write in `write_row` / `write_batch`, and sync and rename in `finish`; resolve any
/// unknown dimension of the spec from the first row.
pub trait Sink {
    /// Called once, before any row, with the spec of one row (dimensions may be unknown: they are
    /// then taken from the first row). Errors when the sink cannot hold such rows (a dtype the
    /// format has no type for, …), before anything is written.
    fn begin(&mut self, row_spec: &ElementSpec) -> Result<()>;

    /// Appends one row.
    fn write_row(&mut self, row: &Element) -> Result<()>;

    /// Appends every row of a batch: components with a shared leading dimension. The default writes
    /// them one by one; sinks with a cheaper whole-batch path override it.
    fn write_batch(&mut self, batch: &Batch) -> Result<()> {
        let rows = batch_rows(batch)?;
        for i in 0..rows {
            self.write_row(&batch.try_map_components(|_, t| t.row(i))?)?;
        }
        Ok(())
    }

    /// The rows written so far.
    fn rows_written(&self) -> u64;

    /// Completes the output: flushes, syncs and renames the temporary file(s) to the final name(s);
    /// returns the number of rows. The sink is consumed, so a row written after `finish`, or a
    /// second `finish`, does not compile:
    ///
    /// ```compile_fail
    /// use slicestream::io::sink::{NpySink, Sink};
    /// let mut sink = NpySink::in_dir(".");
    /// sink.finish()?;
    /// sink.finish()?; // error[E0382]: use of moved value: `sink`
    /// # Ok::<(), slicestream::Error>(())
    /// ```
    fn finish(self) -> Result<u64>
    where
        Self: Sized;
}

impl<S: Sink> Sink for Box<S> {
    fn begin(&mut self, row_spec: &ElementSpec) -> Result<()> {
        (**self).begin(row_spec)
    }
    fn write_row(&mut self, row: &Element) -> Result<()> {
        (**self).write_row(row)
    }
    fn write_batch(&mut self, batch: &Batch) -> Result<()> {
        (**self).write_batch(batch)
    }
    fn rows_written(&self) -> u64 {
        (**self).rows_written()
    }
    fn finish(self) -> Result<u64> {
        (*self).finish()
    }
}

/// The leading dimension every component of a batch shares.
pub(crate) fn batch_rows(batch: &Batch) -> Result<usize> {
    if batch.is_empty() {
        return Ok(0);
    }
    batch.batch_size().ok_or_else(|| {
        Error::incompatible("a batch needs every component to have the same leading dimension")
    })
}

/// The error of a sink used out of protocol order.
pub(crate) fn protocol(message: &str) -> Error {
    Error::invalid_argument(format!("sink used out of order: {message}"))
}

impl Dataset {
    /// Writes every element as one row of `sink`, as the dataset streams (nothing is held beyond
    /// what the sink buffers), then finishes the sink; returns the number of rows.
    ///
    /// When the dataset fails mid-stream (or a write does), the error is returned and the sink is
    /// dropped unfinished, which removes its temporary files: nothing appears under the final name.
    pub fn write_to<S: Sink>(&self, mut sink: S) -> Result<u64> {
        let spec = self.element_spec()?;
        sink.begin(&spec)?;
        for element in self.iter() {
            sink.write_row(&element?)?;
        }
        sink.finish()
    }

    /// Writes a dataset of batches (each element's components share a leading dimension): every row
    /// of every batch becomes a row of `sink`, a whole batch at a time where the sink can. Otherwise
    /// as [`Dataset::write_to`].
    pub fn write_batches_to<S: Sink>(&self, mut sink: S) -> Result<u64> {
        let spec = self.element_spec()?;
        let row_spec = spec
            .map_components(|s| s.unbatched())
            .map_err(|e| e.with_stage("write_batches_to"))?;
        sink.begin(&row_spec)?;
        for batch in self.iter() {
            sink.write_batch(&batch?)?;
        }
        sink.finish()
    }
}
