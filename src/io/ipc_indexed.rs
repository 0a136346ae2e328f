//! [`IpcFileSource`]: the rows of an Arrow IPC *file* as a random-access source. The file is
//! memory-mapped and its footer lists every record batch, so rows are read by index: an unshuffled
//! batch within one record batch is a view of the map (no copy), a shuffled one a single row-wise
//! gather, and [`Dataset::global_shuffle`] shuffles indices, not data.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::buffer::Buffer;
use arrow::error::ArrowError;
use arrow::ipc::convert::try_fb_to_schema;
use arrow::ipc::reader::{read_footer_length, FileDecoder};
use arrow::ipc::root_as_footer;

use crate::dataset::{Dataset, RandomAccess};
use crate::element::{Batch, Element, ElementSpec};
use crate::error::{Error, Result};
use crate::frames::from_record_batch;
use crate::io::ipc::guarded;
use crate::io::npy::{map_file, open_file};
use crate::tensor::Tensor;

/// The magic bytes that open and close an Arrow IPC file.
const MAGIC: &[u8; 6] = b"ARROW1";

/// The rows of a memory-mapped Arrow IPC file, by index (see the module's documentation). Record
/// batches are decoded when the source is opened (their metadata only: the values stay in the map).
#[derive(Debug)]
pub struct IpcFileSource {
    path: PathBuf,
    spec: ElementSpec,
    batches: Vec<Batch>,
    /// Index of the first row of each record batch, then the number of rows.
    starts: Vec<usize>,
}

impl IpcFileSource {
    /// Maps the IPC file at `path` and decodes its footer and record batches.
    ///
    /// Errors: a missing file ([`NotFound`](crate::ErrorKind::NotFound)); a file that is not in
    /// the IPC file format — the stream format has no index: read it with [`Dataset::from_ipc`] —
    /// or whose footer or a record batch is damaged ([`Format`](crate::ErrorKind::Format), naming
    /// the file and the byte offset); columns slicestream cannot read, or nulls (naming the column).
    pub fn open(path: impl AsRef<Path>) -> Result<IpcFileSource> {
        let path = path.as_ref();
        let file = open_file(path)?;
        let map = map_file(&file, path, "Arrow IPC")?;
        let bad = |what: String, offset: usize| {
            Error::format(what)
                .with_file(path)
                .with_byte_offset(offset as u64)
        };
        let arrow = |e: ArrowError, offset: usize| {
            Error::format("damaged Arrow IPC file")
                .with_source(e)
                .with_file(path)
                .with_byte_offset(offset as u64)
        };
        let n = map.len();
        if n < 2 * MAGIC.len() + 10
            || &map[..MAGIC.len()] != MAGIC
            || &map[n - MAGIC.len()..] != MAGIC
        {
            return Err(bad(
                "not an Arrow IPC file (no ARROW1 magic at both ends); the IPC stream format has no \
                 index of its record batches: read it with Dataset::from_ipc"
                    .to_string(),
                0,
            ));
        }
        let trailer = n - 10;
        let mut tail = [0u8; 10];
        tail.copy_from_slice(&map[trailer..]);
        let footer_len = read_footer_length(tail).map_err(|e| arrow(e, trailer))?;
        if footer_len > trailer - MAGIC.len() {
            return Err(bad(
                format!("the footer claims {footer_len} bytes, more than the file holds"),
                trailer,
            ));
        }
        let footer_start = trailer - footer_len;
        let footer = root_as_footer(&map[footer_start..trailer])
            .map_err(|e| bad(format!("unreadable IPC footer: {e}"), footer_start))?;
        let fb_schema = footer
            .schema()
            .ok_or_else(|| bad("the IPC footer has no schema".to_string(), footer_start))?;
        let schema = Arc::new(try_fb_to_schema(fb_schema).map_err(|e| arrow(e, footer_start))?);
        let spec = crate::frames::element_spec(&schema).map_err(|e| e.with_file(path))?;
        let mut decoder = FileDecoder::new(schema, footer.version());
        let block_data = |offset: i64, meta: i32, body: i64| -> Result<Buffer> {
            // Offsets and lengths from the footer: negative or overflowing ones run past the data.
            let (offset, meta, body) = (
                usize::try_from(offset).unwrap_or(usize::MAX),
                usize::try_from(meta).unwrap_or(usize::MAX),
                usize::try_from(body).unwrap_or(usize::MAX),
            );
            let len = meta.saturating_add(body);
            if offset.checked_add(len).is_none_or(|end| end > footer_start) {
                return Err(bad(
                    format!("a block of {len} bytes at offset {offset} runs past the data"),
                    footer_start,
                ));
            }
            Ok(map.slice_with_length(offset, len))
        };
        for block in footer.dictionaries().iter().flatten() {
            let data = block_data(block.offset(), block.metaDataLength(), block.bodyLength())?;
            guarded(path, || {
                decoder
                    .read_dictionary(block, &data)
                    .map_err(|e| arrow(e, block.offset() as usize))
            })?;
        }
        let mut batches = Vec::new();
        let mut starts = vec![0];
        for (k, block) in footer.recordBatches().iter().flatten().enumerate() {
            let data = block_data(block.offset(), block.metaDataLength(), block.bodyLength())?;
            let at = block.offset() as usize;
            let rb = guarded(path, || {
                decoder
                    .read_record_batch(block, &data)
                    .map_err(|e| arrow(e, at))
            })?
            .ok_or_else(|| bad(format!("record batch {k} is missing"), at))?;
            let batch =
                from_record_batch(&rb).map_err(|e| e.with_file(path).with_record(k as u64))?;
            starts.push(starts[k] + rb.num_rows());
            batches.push(batch);
        }
        Ok(IpcFileSource {
            path: path.to_path_buf(),
            spec,
            batches,
            starts,
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The record batch holding row `index`, and the row's position in it.
    fn locate(&self, index: usize) -> Result<(usize, usize)> {
        if index >= self.len() {
            return Err(Error::invalid_argument(format!(
                "row {index} of an Arrow IPC file of {} rows",
                self.len()
            ))
            .with_file(&self.path));
        }
        let k = self.starts.partition_point(|&s| s <= index) - 1;
        Ok((k, index - self.starts[k]))
    }
}

impl RandomAccess for IpcFileSource {
    fn spec(&self) -> ElementSpec {
        self.spec.clone()
    }

    fn len(&self) -> usize {
        self.starts.last().copied().unwrap_or(0)
    }

    fn get(&self, index: usize) -> Result<Element> {
        let (k, j) = self.locate(index)?;
        self.batches[k].try_map_components(|_, t| t.row(j))
    }

    fn slice(&self, start: usize, end: usize) -> Result<Batch> {
        if start < end {
            let (k, j) = self.locate(start)?;
            if end <= self.starts[k + 1] {
                // Within one record batch: a view of the map.
                return self.batches[k]
                    .try_map_components(|_, t| t.slice_rows(j, j + (end - start)));
            }
        }
        self.gather(&(start..end).collect::<Vec<_>>())
    }

    fn gather(&self, indices: &[usize]) -> Result<Batch> {
        let first = self.batches.first().ok_or_else(|| {
            Error::invalid_argument("an Arrow IPC file with no rows").with_file(&self.path)
        })?;
        let located = indices
            .iter()
            .map(|&i| self.locate(i))
            .collect::<Result<Vec<_>>>()?;
        let parts = (0..first.len())
            .map(|c| {
                let rows = located
                    .iter()
                    .map(|&(k, j)| self.batches[k].components()[c].slice_rows(j, j + 1))
                    .collect::<Result<Vec<_>>>()?;
                Tensor::concat_rows(&rows)
            })
            .collect::<Result<Vec<_>>>()?;
        Element::from_shared(first.shared_structure().clone(), parts)
    }
}

impl Dataset {
    /// The rows of an Arrow IPC *file* as a random-access dataset, memory-mapped (see
    /// [`IpcFileSource`]): `global_shuffle` shuffles it without a buffer and without reading it
    /// whole, an unshuffled batch within one record batch is a view of the file.
    /// [`Dataset::from_ipc`] reads files and streams one record batch at a time instead.
    ///
    /// Errors as [`IpcFileSource::open`].
    ///
    /// ```no_run
    /// use slicestream::Dataset;
    /// let ds = Dataset::from_ipc_indexed("data/digits.arrow")?
    ///     .global_shuffle(Some(7), true)?
    ///     .batch(64, false)?;
    /// # Ok::<(), slicestream::Error>(())
    /// ```
    pub fn from_ipc_indexed(path: impl AsRef<Path>) -> Result<Dataset> {
        let source = IpcFileSource::open(path).map_err(|e| e.with_stage("from_ipc_indexed"))?;
        Ok(Dataset::from_random_access_named(
            "from_ipc_indexed",
            Arc::new(source),
        ))
    }
}
