//! [`TfRecordWriter`]: writes TFRecord files as TensorFlow does, never leaving a partial file that
//! looks complete.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use flate2::write::{GzEncoder, ZlibEncoder};

use super::{masked_crc32c, record_header, Compression, Example};
use crate::error::{Error, Result};
use crate::io::FaultFile;
use crate::io::TempFile;

enum Sink {
    Plain(BufWriter<FaultFile>),
    Gzip(GzEncoder<BufWriter<FaultFile>>),
    Zlib(ZlibEncoder<BufWriter<FaultFile>>),
}

impl Sink {
    fn writer(&mut self) -> &mut dyn Write {
        match self {
            Sink::Plain(w) => w,
            Sink::Gzip(w) => w,
            Sink::Zlib(w) => w,
        }
    }

    /// Ends the compressed stream, flushes, and hands back the file.
    fn finish(self) -> io::Result<FaultFile> {
        let buffered = match self {
            Sink::Plain(w) => w,
            Sink::Gzip(w) => w.finish()?,
            Sink::Zlib(w) => w.finish()?,
        };
        buffered.into_inner().map_err(|e| e.into_error())
    }
}

/// Writes records to a TFRecord file, uncompressed (byte-identical to `tf.io.TFRecordWriter`), GZIP
/// or ZLIB (at zlib's default level, as TensorFlow; the compressed bytes may differ from TensorFlow's
/// but decompress to the same stream).
///
/// The records go to a temporary file in the same directory (`.NAME.PID-N.tmp`), which
/// [`TfRecordWriter::finish`] flushes, syncs and renames to the final name. A writer dropped without
/// `finish` (an error, a panic) removes its temporary file, so a file at the final name is always
/// complete.
pub struct TfRecordWriter {
    sink: Option<(TempFile, Sink)>,
    path: PathBuf,
    records: u64,
    failed: bool,
}

impl std::fmt::Debug for TfRecordWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TfRecordWriter")
            .field("path", &self.path)
            .field("records", &self.records)
            .finish()
    }
}

impl TfRecordWriter {
    /// Starts writing `path` (which appears only at [`TfRecordWriter::finish`]). Errors when the
    /// path has no file name or the temporary file cannot be created.
    pub fn create(path: impl AsRef<Path>, compression: Compression) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let (temp, file) = TempFile::create(&path)?;
        let buffered = BufWriter::with_capacity(1 << 16, file);
        let level = flate2::Compression::default();
        let sink = match compression {
            Compression::None => Sink::Plain(buffered),
            Compression::Gzip => Sink::Gzip(GzEncoder::new(buffered, level)),
            Compression::Zlib => Sink::Zlib(ZlibEncoder::new(buffered, level)),
        };
        Ok(TfRecordWriter {
            sink: Some((temp, sink)),
            path,
            records: 0,
            failed: false,
        })
    }

    /// The final path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many records have been written.
    pub fn records_written(&self) -> u64 {
        self.records
    }

    /// Appends one record (framed with its length and both masked CRCs).
    pub fn write_record(&mut self, data: &[u8]) -> Result<()> {
        let sink = match (&mut self.sink, self.failed) {
            (Some((_, sink)), false) => sink,
            _ => {
                return Err(Error::invalid_argument(
                    "this TFRecord writer failed earlier; its file is abandoned",
                )
                .with_file(&self.path))
            }
        };
        let w = sink.writer();
        let result = w
            .write_all(&record_header(data.len() as u64))
            .and_then(|_| w.write_all(data))
            .and_then(|_| w.write_all(&masked_crc32c(data).to_le_bytes()));
        if let Err(e) = result {
            self.failed = true;
            return Err(Error::io(e, &self.path).with_record(self.records));
        }
        self.records += 1;
        Ok(())
    }

    /// Appends one `tf.train.Example`, serialized deterministically (map keys sorted).
    pub fn write_example(&mut self, example: &Example) -> Result<()> {
        self.write_record(&example.to_bytes())
    }

    /// Ends the stream, syncs the file and renames it to its final path. On error the temporary file
    /// is removed and nothing appears at the final path.
    pub fn finish(mut self) -> Result<()> {
        let sink = self.sink.take();
        match (sink, self.failed) {
            (Some((temp, sink)), false) => {
                let file = sink.finish().map_err(|e| Error::io(e, &self.path))?;
                temp.persist(file)
            }
            _ => Err(Error::invalid_argument(
                "this TFRecord writer failed earlier; its file is abandoned",
            )
            .with_file(&self.path)),
        }
    }
}

impl Drop for TfRecordWriter {
    /// Without [`TfRecordWriter::finish`], the temporary file is removed.
    fn drop(&mut self) {
        if let Some((temp, sink)) = self.sink.take() {
            drop(sink); // closes the file, then the temporary file is removed
            drop(temp);
        }
    }
}
