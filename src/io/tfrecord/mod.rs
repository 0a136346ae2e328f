//! TFRecord files and `tf.train.Example` records, byte-compatible with TensorFlow.
//!
//! * [`TfRecordReader`] streams a file record by record, checking both masked CRC-32C checksums,
//!   uncompressed or GZIP / ZLIB compressed; [`TfRecordWriter`] writes one (to a temporary name,
//!   renamed by [`TfRecordWriter::finish`]), byte-identical to `tf.io.TFRecordWriter` when uncompressed.
//! * [`Example`] and its parts are `tf.train.Example` as prost messages; [`FeatureDescription`] parses
//!   one into an [`crate::Element`] like `tf.io.parse_single_example`, and [`example_from_element`]
//!   goes the other way.
//! * [`crate::Dataset::from_tfrecord`] and [`crate::Dataset::from_tfrecord_examples`] are the dataset
//!   sources (tf.data's `TFRecordDataset`, optionally followed by parsing);
//!   [`crate::Dataset::from_tfrecord_example_batches`] reads and parses whole batches in parallel.
//!
//! The framing of each record: `u64 length (LE) | u32 masked_crc32c(length bytes) | data |
//! u32 masked_crc32c(data)`, decoded and checked in one place (`framing.rs`) for both readers.
//!
//! ```
//! use slicestream::io::tfrecord::{Compression, TfRecordReader, TfRecordWriter};
//!
//! let dir = std::env::temp_dir().join(format!("slicestream-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("doc.tfrecord");
//! let mut writer = TfRecordWriter::create(&path, Compression::None)?;
//! writer.write_record(b"hello")?;
//! writer.write_record(b"world")?;
//! writer.finish()?;
//! let records: Vec<Vec<u8>> = TfRecordReader::open(&path, Compression::None)?
//!     .map(|r| r.map(|r| r.data))
//!     .collect::<Result<_, _>>()?;
//! assert_eq!(records, [b"hello".to_vec(), b"world".to_vec()]);
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), slicestream::Error>(())
//! ```

mod batches;
mod dataset;
mod example;
mod fast;
mod framing;
mod parse;
mod reader;
mod wire;
mod writer;

use std::fmt;
use std::str::FromStr;

pub use example::{
    example_from_element, BytesList, Example, Feature, FeatureKind, Features, FloatList, Int64List,
};
pub use framing::masked_crc32c;
pub(crate) use framing::record_header;
pub use parse::{FeatureDescription, FeatureSpec};
pub use reader::{Record, TfRecordReader};
pub use writer::TfRecordWriter;

use crate::error::{Error, Result};

/// How a TFRecord file is compressed (TensorFlow's `compression_type`: `""`, `"GZIP"`, `"ZLIB"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Compression {
    /// Plain records.
    #[default]
    None,
    /// The whole file is one GZIP stream (concatenated members are read too).
    Gzip,
    /// The whole file is one ZLIB stream.
    Zlib,
}

impl Compression {
    /// TensorFlow's name: `""`, `"GZIP"` or `"ZLIB"`.
    pub fn tf_name(self) -> &'static str {
        match self {
            Compression::None => "",
            Compression::Gzip => "GZIP",
            Compression::Zlib => "ZLIB",
        }
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Compression::None => "uncompressed",
            Compression::Gzip => "GZIP",
            Compression::Zlib => "ZLIB",
        })
    }
}

impl FromStr for Compression {
    type Err = Error;

    /// TensorFlow's names, any case: `""` or `"NONE"`, `"GZIP"`, `"ZLIB"`.
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_uppercase().as_str() {
            "" | "NONE" => Ok(Compression::None),
            "GZIP" => Ok(Compression::Gzip),
            "ZLIB" => Ok(Compression::Zlib),
            _ => Err(Error::invalid_argument(format!(
                "unknown TFRecord compression {s:?}; expected \"\", \"GZIP\" or \"ZLIB\""
            ))),
        }
    }
}
