//! The TFRecord dataset sources: `Dataset::from_tfrecord` and `Dataset::from_tfrecord_examples`.

use std::path::PathBuf;
use std::sync::Arc;

use arrow_buffer::{Buffer, ScalarBuffer};

use super::{Compression, FeatureDescription, Record, TfRecordReader};
use crate::dataset::{Cardinality, Context, Dataset, Node, Stream};
use crate::element::{Element, ElementSpec, TensorSpec};
use crate::error::{Error, Result};
use crate::tensor::{DType, Tensor};

struct TfRecordSource {
    paths: Arc<[PathBuf]>,
    compression: Compression,
    parser: Option<Arc<FeatureDescription>>,
}

impl TfRecordSource {
    fn stage(&self) -> &'static str {
        match self.parser {
            Some(_) => "from_tfrecord_examples",
            None => "from_tfrecord",
        }
    }
}

impl Node for TfRecordSource {
    fn name(&self) -> &'static str {
        self.stage()
    }

    fn spec(&self) -> Result<ElementSpec> {
        Ok(match &self.parser {
            Some(p) => p.element_spec(),
            None => ElementSpec::single(TensorSpec::new(DType::Bytes, &[])),
        })
    }

    fn cardinality(&self) -> Cardinality {
        Cardinality::Unknown
    }

    fn open(&self, _ctx: &Context) -> Result<Stream> {
        Ok(Stream::elements(Records {
            paths: self.paths.clone(),
            compression: self.compression,
            parser: self.parser.clone(),
            stage: self.stage(),
            next_file: 0,
            reader: None,
            element: 0,
            done: false,
        }))
    }
}

/// One epoch: the files in order, opened one at a time, each read record by record.
struct Records {
    paths: Arc<[PathBuf]>,
    compression: Compression,
    parser: Option<Arc<FeatureDescription>>,
    stage: &'static str,
    next_file: usize,
    reader: Option<TfRecordReader>,
    element: u64,
    done: bool,
}

impl Records {
    fn element_of(&self, record: Record) -> Result<Element> {
        match &self.parser {
            Some(parser) => parser.parse(&record.data),
            None => {
                let len = record.data.len() as i64;
                let t = Tensor::from_var_parts(
                    DType::Bytes,
                    Vec::new(),
                    ScalarBuffer::from(vec![0i64, len]),
                    Buffer::from_vec(record.data),
                )?;
                Ok(Element::single(t))
            }
        }
    }

    fn fail(&mut self, e: Error) -> Option<Result<Element>> {
        self.done = true;
        self.reader = None;
        Some(Err(e.with_stage(self.stage).with_element(self.element)))
    }
}

impl Iterator for Records {
    type Item = Result<Element>;

    fn next(&mut self) -> Option<Result<Element>> {
        if self.done {
            return None;
        }
        loop {
            let reader = match &mut self.reader {
                Some(r) => r,
                None => {
                    let Some(path) = self.paths.get(self.next_file) else {
                        self.done = true;
                        return None;
                    };
                    self.next_file += 1;
                    match TfRecordReader::open(path, self.compression) {
                        Ok(r) => self.reader.insert(r),
                        Err(e) => return self.fail(e),
                    }
                }
            };
            match reader.next_record() {
                Ok(Some(record)) => {
                    let (index, offset) = (record.index, record.offset);
                    let path = reader.path().to_path_buf();
                    return match self.element_of(record) {
                        Ok(e) => {
                            self.element += 1;
                            Some(Ok(e))
                        }
                        Err(e) => {
                            let e = e
                                .with_file(path)
                                .with_record(index)
                                .with_byte_offset(offset);
                            self.fail(e)
                        }
                    };
                }
                Ok(None) => self.reader = None,
                Err(e) => return self.fail(e),
            }
        }
    }
}

fn collect_paths<P: Into<PathBuf>>(
    paths: impl IntoIterator<Item = P>,
    stage: &str,
) -> Result<Arc<[PathBuf]>> {
    let paths: Vec<PathBuf> = paths.into_iter().map(Into::into).collect();
    if let Some(i) = paths.iter().position(|p| p.as_os_str().is_empty()) {
        return Err(
            Error::invalid_argument(format!("path {i} of the TFRecord files is empty"))
                .with_stage(stage),
        );
    }
    Ok(paths.into())
}

impl Dataset {
    /// The records of TFRecord files, one `Bytes` scalar per record, file after file (tf.data's
    /// `TFRecordDataset(paths, compression_type)`). Files are opened lazily, one at a time, and read
    /// record by record with both CRCs checked (see [`TfRecordReader`]).
    ///
    /// A missing, corrupt or truncated file ends the epoch with an error naming the file, the record
    /// index within it and the record's byte offset (plus the element index of the dataset). Errors
    /// here only for an empty path. The cardinality is unknown, as in tf.data.
    ///
    /// ```
    /// use slicestream::io::tfrecord::{Compression, TfRecordWriter};
    /// use slicestream::Dataset;
    ///
    /// let dir = std::env::temp_dir().join(format!("slicestream-doc-ds-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("records.tfrecord");
    /// let mut w = TfRecordWriter::create(&path, Compression::Gzip)?;
    /// for r in [&b"a"[..], b"bc"] {
    ///     w.write_record(r)?;
    /// }
    /// w.finish()?;
    /// let ds = Dataset::from_tfrecord([&path], Compression::Gzip)?;
    /// let records: Vec<Vec<u8>> = ds
    ///     .iter()
    ///     .map(|e| Ok(e?.component(0)?.bytes_at(0)?.to_vec()))
    ///     .collect::<slicestream::Result<_>>()?;
    /// assert_eq!(records, [b"a".to_vec(), b"bc".to_vec()]);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), slicestream::Error>(())
    /// ```
    pub fn from_tfrecord<P: Into<PathBuf>>(
        paths: impl IntoIterator<Item = P>,
        compression: Compression,
    ) -> Result<Dataset> {
        Ok(Dataset::from_node(TfRecordSource {
            paths: collect_paths(paths, "from_tfrecord")?,
            compression,
            parser: None,
        }))
    }

    /// The `tf.train.Example` records of TFRecord files, each parsed into a dict element as
    /// `features` describes (`TFRecordDataset(...).map(lambda r: tf.io.parse_single_example(r,
    /// features))`, with var-len features dense). Parsing errors (a missing feature, a wrong type, a
    /// wrong count) name the feature, the file, the record index and its byte offset.
    ///
    /// Parsing runs on the thread that iterates; for parallel parsing, use [`Dataset::from_tfrecord`]
    /// and parse in a parallel map with [`FeatureDescription::parse`].
    pub fn from_tfrecord_examples<P: Into<PathBuf>>(
        paths: impl IntoIterator<Item = P>,
        compression: Compression,
        features: FeatureDescription,
    ) -> Result<Dataset> {
        Ok(Dataset::from_node(TfRecordSource {
            paths: collect_paths(paths, "from_tfrecord_examples")?,
            compression,
            parser: Some(Arc::new(features)),
        }))
    }
}
