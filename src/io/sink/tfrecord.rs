//! [`TfRecordSink`]: rows as `tf.train.Example` records of a TFRecord file.

use std::path::{Path, PathBuf};

use prost::Message;

use super::{protocol, Sink};
use crate::element::{Element, ElementSpec, Structure};
use crate::error::{Error, Result};
use crate::io::tfrecord::{example_from_element, Compression, TfRecordWriter};

/// Writes each row as one `tf.train.Example` (see [`example_from_element`]: a feature per
/// component, named by its path, values flattened row-major) to a TFRecord file, uncompressed,
/// GZIP or ZLIB, through [`TfRecordWriter`] (temporary name, renamed by [`Sink::finish`]).
///
/// Read it back with [`crate::Dataset::from_tfrecord_examples`] and a
/// [`FeatureDescription`](crate::io::tfrecord::FeatureDescription) giving each feature's shape
/// (an Example stores none); TensorFlow reads it with `TFRecordDataset` + `parse_example`.
#[derive(Debug)]
pub struct TfRecordSink {
    path: PathBuf,
    compression: Compression,
    writer: Option<TfRecordWriter>,
    structure: Option<Structure>,
    buffer: Vec<u8>,
    rows: u64,
}

impl TfRecordSink {
    /// A sink writing `path` (created at [`Sink::begin`], appearing at [`Sink::finish`]).
    pub fn create(path: impl AsRef<Path>, compression: Compression) -> TfRecordSink {
        TfRecordSink {
            path: path.as_ref().to_path_buf(),
            compression,
            writer: None,
            structure: None,
            buffer: Vec::new(),
            rows: 0,
        }
    }

    /// The final path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Sink for TfRecordSink {
    fn begin(&mut self, row_spec: &ElementSpec) -> Result<()> {
        if self.structure.is_some() {
            return Err(protocol("begin was called twice"));
        }
        self.writer = Some(TfRecordWriter::create(&self.path, self.compression)?);
        self.structure = Some(row_spec.structure().clone());
        Ok(())
    }

    fn write_row(&mut self, row: &Element) -> Result<()> {
        let (Some(writer), Some(structure)) = (&mut self.writer, &self.structure) else {
            return Err(protocol("write before begin"));
        };
        if structure != row.structure() {
            return Err(Error::incompatible(format!(
                "a row of structure {} does not fit the sink's {structure}",
                row.structure()
            ))
            .with_file(&self.path));
        }
        self.buffer.clear();
        example_from_element(row)
            .encode(&mut self.buffer)
            .map_err(|e| Error::format(format!("cannot encode an Example: {e}")))?;
        writer.write_record(&self.buffer)?;
        self.rows += 1;
        Ok(())
    }

    fn rows_written(&self) -> u64 {
        self.rows
    }

    fn finish(mut self) -> Result<u64> {
        let writer = self
            .writer
            .take()
            .ok_or_else(|| protocol("finish without begin"))?;
        writer.finish()?;
        Ok(self.rows)
    }
}
