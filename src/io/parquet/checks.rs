//! What slicestream checks of a Parquet file before the parquet crate reads it: the crate trusts
//! some counts of the footer and of page headers far enough to assert on them or to reserve memory
//! by them (fuzzing found a 2.6 KB file whose dictionary page made it reserve 3.7 GB).

use std::path::Path;
use std::sync::Arc;

use parquet::arrow::arrow_reader::ArrowReaderMetadata;
use parquet::arrow::ProjectionMask;
use parquet::basic::Type as PhysicalType;
use parquet::column::page::{Page, PageReader};
use parquet::file::metadata::ParquetMetaData;
use parquet::file::serialized_reader::SerializedPageReader;

use crate::error::{Error, Result};
use crate::io::FaultFile;

/// The most rows asked of the parquet reader at once: it reserves a batch's values before decoding
/// them, so a row group's row count (from the footer) is not the batch size past this.
pub(super) const MAX_BATCH_ROWS: usize = 1 << 16;

/// Errors when a column chunk of the footer has a negative offset or size (the parquet crate
/// asserts on them when it reads the chunk).
pub(super) fn check_column_chunks(metadata: &ArrowReaderMetadata, path: &Path) -> Result<()> {
    for (g, group) in metadata.metadata().row_groups().iter().enumerate() {
        for (c, chunk) in group.columns().iter().enumerate() {
            let start = chunk
                .dictionary_page_offset()
                .unwrap_or(chunk.data_page_offset());
            if start < 0 || chunk.data_page_offset() < 0 || chunk.compressed_size() < 0 {
                return Err(Error::format(format!(
                    "row group {g}, column {c}: the footer gives a negative offset ({start}) or size ({})",
                    chunk.compressed_size()
                ))
                .with_file(path)
                .with_record(g as u64));
            }
        }
    }
    Ok(())
}

/// Errors when the dictionary page of a column chunk of row group `group` (among the columns of
/// `mask`) declares more values than its bytes can hold: the parquet crate reserves room for the
/// declared count before it decodes a value. Reads (and decompresses) each such dictionary page
/// once more; dictionaries are small (writers cap them at about 1 MiB by default).
pub(super) fn check_dictionary_pages(
    file: &FaultFile,
    path: &Path,
    metadata: &ParquetMetaData,
    group: usize,
    mask: &ProjectionMask,
) -> Result<()> {
    let row_group = metadata.row_group(group);
    let rows = usize::try_from(row_group.num_rows().max(0)).unwrap_or(usize::MAX);
    let reader = Arc::new(file.try_clone().map_err(|e| Error::io(e, path))?);
    for (c, chunk) in row_group.columns().iter().enumerate() {
        if !mask.leaf_included(c) {
            continue;
        }
        // An I/O failure under the page reader is an I/O error, not a bad file.
        let bad = |e: parquet::errors::ParquetError| match file.take_read_error() {
            Some(io) => Error::io(io, path),
            None => Error::format(format!("row group {group}, column {c}"))
                .with_source(e)
                .with_component(chunk.column_path().string()),
        };
        let mut pages =
            SerializedPageReader::new(reader.clone(), chunk, rows, None).map_err(bad)?;
        if !pages
            .peek_next_page()
            .map_err(bad)?
            .is_some_and(|m| m.is_dict)
        {
            continue;
        }
        let Some(Page::DictionaryPage {
            buf, num_values, ..
        }) = pages.get_next_page().map_err(bad)?
        else {
            continue;
        };
        let descriptor = chunk.column_descr();
        let bits_per_value: u64 = match descriptor.physical_type() {
            PhysicalType::BOOLEAN => 1,
            PhysicalType::INT32 | PhysicalType::FLOAT => 32,
            PhysicalType::INT64 | PhysicalType::DOUBLE => 64,
            PhysicalType::INT96 => 96,
            // Each value is a 4-byte length, then its bytes.
            PhysicalType::BYTE_ARRAY => 32,
            PhysicalType::FIXED_LEN_BYTE_ARRAY => 8 * descriptor.type_length().max(0) as u64,
        };
        let needed = u64::from(num_values).saturating_mul(bits_per_value);
        let have = (buf.len() as u64).saturating_mul(8);
        if needed > have {
            return Err(Error::format(format!(
                "row group {group}, column {c}: the dictionary page declares {num_values} values \
                 of {} but holds only {} bytes",
                descriptor.physical_type(),
                buf.len()
            ))
            .with_component(chunk.column_path().string()));
        }
    }
    Ok(())
}
