//! The record layer of the CSV reader: opening a file, framing records with the `csv` crate, and
//! where a record is (for messages and positions). Schemas and readers build on it.

use std::io;
use std::path::Path;

use csv::ByteRecord;

use super::CsvOptions;
use crate::error::{Error, Result};
use crate::io::FaultFile;

/// Opens `path` for reading, [`NotFound`](crate::ErrorKind::NotFound) when it does not exist.
pub(crate) fn open_file(path: &Path) -> Result<FaultFile> {
    FaultFile::open(path).map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            Error::not_found(format!("CSV file {}", path.display()))
                .with_source(e)
                .with_file(path)
        } else {
            Error::io(e, path)
        }
    })
}

/// A `csv` reader over `path` configured by `options` (every line a record: the header is ours).
pub(crate) fn csv_reader(path: &Path, options: &CsvOptions) -> Result<csv::Reader<FaultFile>> {
    let file = open_file(path)?;
    Ok(csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(options.delimiter)
        .quoting(options.quote.is_some())
        .quote(options.quote.unwrap_or(b'"'))
        .buffer_capacity(1 << 16)
        .from_reader(file))
}

/// Where a record is, for messages and positions.
#[derive(Debug, Clone, Copy)]
pub(crate) struct At {
    /// The data row (0-based, the header not counted).
    pub row: u64,
    /// The line the record starts on (1-based).
    pub line: u64,
    /// The byte offset of the record.
    pub byte: u64,
}

impl At {
    pub(crate) fn of(record: &ByteRecord, row: u64) -> At {
        let p = record.position();
        At {
            row,
            line: p.map_or(0, |p| p.line()),
            byte: p.map_or(0, |p| p.byte()),
        }
    }

    /// An error at this record of `path`, in `column` when given.
    pub(crate) fn error(&self, path: &Path, column: Option<&str>, message: String) -> Error {
        let e = Error::format(message)
            .with_file(path)
            .with_record(self.row)
            .with_byte_offset(self.byte);
        match column {
            Some(c) => e.with_component(c),
            None => e,
        }
    }

    /// "row 3 (line 5)".
    pub(crate) fn describe(&self) -> String {
        format!("row {} (line {})", self.row, self.line)
    }
}

/// A failure of the `csv` reader itself (I/O, or bytes it cannot frame).
pub(crate) fn csv_error(e: csv::Error, path: &Path) -> Error {
    let position = e.position().cloned();
    let err = match e.kind() {
        csv::ErrorKind::Io(_) => match e.into_kind() {
            csv::ErrorKind::Io(io) => Error::io(io, path),
            _ => Error::format("CSV I/O error").with_file(path),
        },
        _ => Error::format(format!("cannot read CSV: {e}"))
            .with_source(e)
            .with_file(path),
    };
    match position {
        Some(p) => err.with_byte_offset(p.byte()),
        None => err,
    }
}

/// Reads the next record into `record`; `false` at the end.
pub(crate) fn next_record(
    reader: &mut csv::Reader<FaultFile>,
    record: &mut ByteRecord,
    path: &Path,
) -> Result<bool> {
    reader
        .read_byte_record(record)
        .map_err(|e| csv_error(e, path))
}

/// Checks a data record's field count against the header's.
pub(crate) fn check_width(record: &ByteRecord, at: At, width: usize, path: &Path) -> Result<()> {
    if record.len() != width {
        return Err(at.error(
            path,
            None,
            format!(
                "ragged CSV: {} has {} fields, the header has {width}",
                at.describe(),
                record.len()
            ),
        ));
    }
    Ok(())
}
