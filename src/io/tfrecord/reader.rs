//! [`TfRecordReader`]: a TFRecord file, record by record, with both CRCs checked.

use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::bufread::{MultiGzDecoder, ZlibDecoder};

use super::framing::{check_data_crc, read_header, At, FOOTER_BYTES, HEADER_BYTES};
use super::Compression;
use crate::error::{Error, Result};
use crate::io::FaultFile;

/// How much a record's buffer starts with when the stream's size is unknown (compressed files): a
/// length field is only trusted as far as bytes actually arrive, so a corrupt length that claims
/// terabytes costs at most what the stream really holds.
const UNKNOWN_SIZE_INITIAL_CAPACITY: usize = 1 << 20;

/// One record of a TFRecord file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Its index in the file (0-based).
    pub index: u64,
    /// The byte offset of its header (in the decompressed stream for compressed files).
    pub offset: u64,
    /// Its data (a serialized `tf.train.Example`, usually).
    pub data: Vec<u8>,
}

/// Reads a TFRecord file one record at a time, checking the masked CRC-32C of each length and of each
/// record's data (as TensorFlow's `TFRecordDataset` does).
///
/// Every failure is an error that names the file, the record index and the byte offset of the
/// record's header (offsets count decompressed bytes for GZIP / ZLIB files), and ends the reading:
///
/// * a CRC mismatch ([`crate::ErrorKind::Format`], "corrupted record …");
/// * a file that ends inside a record ([`crate::ErrorKind::Format`], "truncated record …") — never a
///   silently shorter epoch;
/// * a length field claiming more bytes than the rest of the file holds: for an uncompressed file
///   this is found from the file's size *before* allocating anything; for a compressed stream, whose
///   size is unknown, the record's buffer starts at 1 MiB at most and grows only as bytes arrive;
/// * a compressed stream that does not decompress (wrong compression given, corrupt or cut stream).
///
/// An empty file has no records (as for TensorFlow).
pub struct TfRecordReader {
    input: Box<dyn Read + Send>,
    path: PathBuf,
    compression: Compression,
    /// The stream's length when known (uncompressed regular files).
    size: Option<u64>,
    offset: u64,
    index: u64,
    done: bool,
}

impl std::fmt::Debug for TfRecordReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TfRecordReader")
            .field("path", &self.path)
            .field("compression", &self.compression)
            .field("index", &self.index)
            .field("offset", &self.offset)
            .finish()
    }
}

impl TfRecordReader {
    /// Opens a TFRecord file. Errors when it cannot be opened ([`crate::ErrorKind::NotFound`] when it
    /// does not exist).
    pub fn open(path: impl AsRef<Path>, compression: Compression) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let file = FaultFile::open(&path).map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                Error::not_found(format!("TFRecord file {}", path.display()))
                    .with_source(e)
                    .with_file(&path)
            } else {
                Error::io(e, &path)
            }
        })?;
        let metadata = file.metadata().map_err(|e| Error::io(e, &path))?;
        let size =
            (compression == Compression::None && metadata.is_file()).then_some(metadata.len());
        Ok(Self::with_size(file, compression, path, size))
    }

    /// Reads TFRecords from any reader; `name` is what errors call it. The stream's size is unknown,
    /// so a length field is trusted only as far as bytes arrive.
    pub fn new<R: Read + Send + 'static>(
        reader: R,
        compression: Compression,
        name: impl Into<PathBuf>,
    ) -> Self {
        Self::with_size(reader, compression, name.into(), None)
    }

    fn with_size<R: Read + Send + 'static>(
        reader: R,
        compression: Compression,
        path: PathBuf,
        size: Option<u64>,
    ) -> Self {
        let buffered = BufReader::with_capacity(1 << 16, reader);
        let input: Box<dyn Read + Send> = match compression {
            Compression::None => Box::new(buffered),
            Compression::Gzip => Box::new(BufReader::new(MultiGzDecoder::new(buffered))),
            Compression::Zlib => Box::new(BufReader::new(ZlibDecoder::new(buffered))),
        };
        TfRecordReader {
            input,
            path,
            compression,
            size,
            offset: 0,
            index: 0,
            done: false,
        }
    }

    /// The file (or name) being read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The index of the next record (the number read so far).
    pub fn records_read(&self) -> u64 {
        self.index
    }

    /// The byte offset of the next record (in the decompressed stream for compressed files).
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The next record, `None` at the clean end of the file. After an error, always `None`.
    pub fn next_record(&mut self) -> Result<Option<Record>> {
        if self.done {
            return Ok(None);
        }
        let result = self.read_one();
        if !matches!(result, Ok(Some(_))) {
            self.done = true;
        }
        result.map_err(|e| {
            e.with_file(&self.path)
                .with_record(self.index)
                .with_byte_offset(self.offset)
        })
    }

    fn read_one(&mut self) -> Result<Option<Record>> {
        let mut header = [0u8; HEADER_BYTES];
        let got = self.fill(&mut header)?;
        if got == 0 {
            return Ok(None);
        }
        let remaining = self
            .size
            .map(|size| size.saturating_sub(self.offset + HEADER_BYTES as u64));
        let len = read_header(&header[..got], self.at(), remaining)?;
        let capacity = usize::try_from(len).map_err(|_| {
            self.truncated(format!(
                "its length field claims {len} bytes, more than can be addressed"
            ))
        })?;
        let capacity = match self.size {
            Some(_) => capacity,
            None => capacity.min(UNKNOWN_SIZE_INITIAL_CAPACITY),
        };
        let mut data = Vec::with_capacity(capacity);
        let read = (&mut self.input).take(len).read_to_end(&mut data);
        read.map_err(|e| self.read_error(e))?;
        if (data.len() as u64) < len {
            return Err(self.truncated(format!(
                "the file ends after {} of its {len} data bytes",
                data.len()
            )));
        }
        let mut footer = [0u8; FOOTER_BYTES];
        let got = self.fill(&mut footer)?;
        if got < footer.len() {
            return Err(self.truncated(format!(
                "the file ends {got} bytes into the CRC after its {len} data bytes"
            )));
        }
        check_data_crc(&data, &footer, self.at())?;
        let record = Record {
            index: self.index,
            offset: self.offset,
            data,
        };
        self.index += 1;
        self.offset += 16 + len;
        Ok(Some(record))
    }

    /// Reads until `buf` is full or the stream ends; the number of bytes read.
    fn fill(&mut self, buf: &mut [u8]) -> Result<usize> {
        let mut got = 0;
        while got < buf.len() {
            match self.input.read(&mut buf[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.read_error(e)),
            }
        }
        Ok(got)
    }

    /// Where the next record is.
    fn at(&self) -> At {
        At {
            index: self.index,
            offset: self.offset,
            compression: self.compression,
        }
    }

    fn truncated(&self, why: String) -> Error {
        self.at().truncated(why)
    }

    /// A read error: a decompression failure is a format error, anything else an I/O error.
    fn read_error(&self, e: io::Error) -> Error {
        let decompression = matches!(
            e.kind(),
            io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof
        );
        if self.compression == Compression::None || !decompression {
            return Error::io(e, &self.path);
        }
        let hint = if self.index == 0
            && self.offset == 0
            && e.kind() != io::ErrorKind::UnexpectedEof
        {
            format!(
                " (is the file really {}-compressed? An uncompressed TFRecord file is read with Compression::None)",
                self.compression
            )
        } else if e.kind() == io::ErrorKind::UnexpectedEof {
            " (the compressed file is truncated)".to_string()
        } else {
            String::new()
        };
        Error::format(format!(
            "cannot decompress the {} stream at {}: {e}{hint}",
            self.compression,
            self.at().describe()
        ))
        .with_source(e)
    }
}

impl Iterator for TfRecordReader {
    type Item = Result<Record>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_record().transpose()
    }
}

impl std::iter::FusedIterator for TfRecordReader {}
