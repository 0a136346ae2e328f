//! [`NpyFile`]: one NPY array, memory-mapped (or held in a buffer), read whole or by rows.

use std::path::{Path, PathBuf};
use std::ptr::NonNull;
use std::sync::Arc;

use arrow_buffer::{Buffer, MutableBuffer};
use memmap2::Mmap;

use super::header::{parse_header, ByteOrder, NpyHeader};
use crate::error::{Error, Result};
use crate::io::FaultFile;
use crate::tensor::{alloc, DType, Tensor};

/// Where an array came from, for error positions: a file, and a member when it is inside an NPZ.
#[derive(Debug, Clone, Default)]
pub(crate) struct Origin {
    pub file: Option<PathBuf>,
    pub member: Option<String>,
}

impl Origin {
    pub(crate) fn file(path: &Path) -> Self {
        Origin {
            file: Some(path.to_path_buf()),
            member: None,
        }
    }

    /// `e` with this origin's file and member (as the component) attached.
    pub(crate) fn attach(&self, mut e: Error) -> Error {
        if let Some(f) = &self.file {
            e = e.with_file(f.clone());
        }
        if let Some(m) = &self.member {
            e = e.with_component(m.clone());
        }
        e
    }
}

/// Opens `path` for reading; a missing file is [`crate::ErrorKind::NotFound`], other failures [`crate::ErrorKind::Io`].
pub(crate) fn open_file(path: &Path) -> Result<FaultFile> {
    FaultFile::open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::not_found(format!("no such file: {}", path.display()))
                .with_source(e)
                .with_file(path)
        } else {
            Error::io(e, path)
        }
    })
}

/// Maps `file` read-only into an Arrow buffer that keeps the map alive (no copy). Empty files are
/// an error (they cannot be mapped and hold no NPY or ZIP data).
pub(crate) fn map_file(file: &FaultFile, path: &Path, what: &str) -> Result<Buffer> {
    let len = file.metadata().map_err(|e| Error::io(e, path))?.len();
    if len == 0 {
        return Err(
            Error::format(format!("empty file (0 bytes): not an {what} file"))
                .with_file(path)
                .with_byte_offset(0),
        );
    }
    // SAFETY: the map is read-only. As with numpy.memmap, the file must not be truncated or
    // modified by another process while a tensor from it is alive (the OS would show the change or
    // raise SIGBUS); this is the documented contract of `NpyFile::open`.
    let file = file.for_mapping().map_err(|e| Error::io(e, path))?;
    let mmap = unsafe { Mmap::map(file) }.map_err(|e| Error::io(e, path))?;
    let len = mmap.len();
    let ptr = NonNull::new(mmap.as_ptr() as *mut u8)
        .ok_or_else(|| Error::format("empty map").with_file(path))?;
    // SAFETY: `ptr` points to `len` readable bytes that stay valid as long as the `Mmap`, which the
    // buffer owns through the `Arc`; the bytes are never written through it.
    Ok(unsafe { Buffer::from_custom_allocation(ptr, len, Arc::new(mmap)) })
}

/// One NPY array: its header and its data bytes, memory-mapped from a file (or held in a buffer).
///
/// * **C order, native byte order** (what `np.save` writes): [`NpyFile::tensor`] and
///   [`NpyFile::slice_rows`] are views of the mapped bytes, no copy; [`NpyFile::gather_rows`] copies
///   only the rows asked for. Pages are read by the OS when touched.
/// * **Fortran order** (with more than one dimension larger than 1): values are transposed into
///   row-major order when read, into a new buffer holding only the rows asked for (one pass, per
///   value). The mapped bytes are never changed.
/// * **Big-endian** (`>` descrs): values are byte-swapped when read, into a new buffer, likewise.
/// * `bool` data is checked to hold only bytes 0 and 1 when opened.
///
/// The file must not be truncated or rewritten while the `NpyFile` or a tensor from it is alive
/// (the same rule as `numpy.memmap`).
#[derive(Clone)]
pub struct NpyFile {
    header: NpyHeader,
    /// The data bytes exactly as stored.
    data: Buffer,
    /// The zero-copy tensor, when the layout is C order and native byte order.
    direct: Option<Tensor>,
    origin: Origin,
}

impl std::fmt::Debug for NpyFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NpyFile")
            .field("file", &self.origin.file)
            .field("member", &self.origin.member)
            .field("descr", &self.header.descr)
            .field("shape", &self.header.shape)
            .field("fortran_order", &self.header.fortran_order)
            .finish()
    }
}

/// Which rows to read.
enum Rows<'a> {
    Range(usize, usize),
    Indices(&'a [usize]),
}

impl NpyFile {
    /// Memory-maps the NPY file at `path` and reads its header. No data is read or copied (except
    /// that `bool` data is scanned once for bytes other than 0 and 1).
    ///
    /// Errors: [`crate::ErrorKind::NotFound`] for a missing file, [`crate::ErrorKind::Io`] for other I/O
    /// failures, [`crate::ErrorKind::Format`] (with the file and byte offset) for an empty file, bad
    /// magic, an unsupported version, a bad header, an unsupported dtype, a shape whose size
    /// overflows, or a file shorter than the header says.
    pub fn open(path: impl AsRef<Path>) -> Result<NpyFile> {
        let path = path.as_ref();
        let file = open_file(path)?;
        let buffer = map_file(&file, path, "NPY")?;
        Self::from_origin(buffer, Origin::file(path))
    }

    /// An NPY file held in memory (e.g. received over the network): the whole file's bytes. The
    /// tensor shares `buffer` when aligned, C order and native byte order.
    pub fn from_buffer(buffer: Buffer) -> Result<NpyFile> {
        Self::from_origin(buffer, Origin::default())
    }

    pub(crate) fn from_origin(buffer: Buffer, origin: Origin) -> Result<NpyFile> {
        let header = parse_header(buffer.as_slice(), buffer.len()).map_err(|e| origin.attach(e))?;
        let data = buffer.slice_with_length(header.data_offset, header.data_len);
        if header.dtype == DType::Bool {
            if let Some(pos) = data.as_slice().iter().position(|&b| b > 1) {
                return Err(origin.attach(
                    Error::format(format!(
                        "bool value {pos} is byte {}, not 0 or 1",
                        data.as_slice()[pos]
                    ))
                    .with_byte_offset((header.data_offset + pos) as u64),
                ));
            }
        }
        let mut file = NpyFile {
            header,
            data,
            direct: None,
            origin,
        };
        if !file.needs_transpose() && !file.needs_swap() {
            let t = Tensor::from_buffer(
                file.header.dtype,
                file.header.shape.clone(),
                file.data.clone(),
            );
            file.direct = Some(t.map_err(|e| file.origin.attach(e))?);
        }
        Ok(file)
    }

    /// Fortran order only matters when more than one dimension is larger than 1.
    fn needs_transpose(&self) -> bool {
        self.header.fortran_order && self.header.shape.iter().filter(|&&d| d > 1).count() > 1
    }

    fn needs_swap(&self) -> bool {
        self.header.byte_order != ByteOrder::NATIVE
            && self.header.dtype.item_size().unwrap_or(1) > 1
    }

    /// The header: version, descr, dtype, byte order, Fortran order, shape, data offset.
    pub fn header(&self) -> &NpyHeader {
        &self.header
    }

    /// The dtype of the values.
    pub fn dtype(&self) -> DType {
        self.header.dtype
    }

    /// The shape of the array (empty for a 0-d array).
    pub fn shape(&self) -> &[usize] {
        &self.header.shape
    }

    /// Whether the file stores the values in Fortran (column-major) order.
    pub fn fortran_order(&self) -> bool {
        self.header.fortran_order
    }

    /// The number of rows (the first dimension); `None` for a 0-d array.
    pub fn num_rows(&self) -> Option<usize> {
        self.header.shape.first().copied()
    }

    /// The file this array was opened from (for an NPZ member, the archive).
    pub fn path(&self) -> Option<&Path> {
        self.origin.file.as_deref()
    }

    /// Whether tensors read from this array share its bytes (C order, native byte order, aligned
    /// data) rather than being converted into new buffers.
    pub fn is_zero_copy(&self) -> bool {
        self.direct
            .as_ref()
            .is_some_and(|t| t.data_ptr() == self.data.as_ptr())
    }

    /// The data bytes exactly as stored in the file (file order and byte order), without a copy.
    pub fn raw_data(&self) -> &Buffer {
        &self.data
    }

    /// The whole array as a row-major tensor: a view of the mapped bytes when
    /// [`NpyFile::is_zero_copy`], else converted into a new buffer (Fortran order, big-endian).
    pub fn tensor(&self) -> Result<Tensor> {
        if let Some(t) = &self.direct {
            return Ok(t.clone());
        }
        match self.num_rows() {
            Some(n) => self.convert(Rows::Range(0, n)),
            None => self
                .convert(Rows::Range(0, 1))
                .and_then(|t| t.reshape(Vec::new())),
        }
    }

    /// Rows `start..end` along the first dimension: a view of the mapped bytes when zero-copy,
    /// else a new buffer of just these rows.
    pub fn slice_rows(&self, start: usize, end: usize) -> Result<Tensor> {
        self.check_rows(start, end)?;
        match &self.direct {
            Some(t) => t.slice_rows(start, end).map_err(|e| self.origin.attach(e)),
            None => self.convert(Rows::Range(start, end)),
        }
    }

    /// Row `index`, without the first dimension.
    pub fn row(&self, index: usize) -> Result<Tensor> {
        let t = self.slice_rows(index, index.saturating_add(1))?;
        t.reshape(self.header.shape[1..].to_vec())
    }

    /// The given rows, in order, copied into one new tensor (one row-wise copy from the map).
    pub fn gather_rows(&self, indices: &[usize]) -> Result<Tensor> {
        let n = self.check_rows(0, 0)?;
        if let Some(&bad) = indices.iter().find(|&&i| i >= n) {
            return Err(self.origin.attach(Error::invalid_argument(format!(
                "row {bad} out of range for {n} rows"
            ))));
        }
        match &self.direct {
            Some(t) => t.gather_rows(indices).map_err(|e| self.origin.attach(e)),
            None => self.convert(Rows::Indices(indices)),
        }
    }

    /// Checks `start..end` against the rows; returns the row count.
    fn check_rows(&self, start: usize, end: usize) -> Result<usize> {
        let n = self.num_rows().ok_or_else(|| {
            self.origin
                .attach(Error::invalid_argument("a 0-d NPY array has no rows"))
        })?;
        if start > end || end > n {
            return Err(self.origin.attach(Error::invalid_argument(format!(
                "rows {start}..{end} out of range for {n} rows"
            ))));
        }
        Ok(n)
    }

    /// Reads rows into a new row-major, native-order buffer: transposing Fortran order and
    /// swapping bytes as needed. For a 0-d array, `Range(0, 1)` reads its value.
    fn convert(&self, rows: Rows<'_>) -> Result<Tensor> {
        let shape = &self.header.shape;
        let item = self.header.dtype.item_size().unwrap_or(1);
        let src = self.data.as_slice();
        let n = shape.first().copied().unwrap_or(1);
        let dims: &[usize] = if shape.is_empty() { &[] } else { &shape[1..] };
        let row_len: usize = dims.iter().product();
        let count = match rows {
            Rows::Range(a, b) => b - a,
            Rows::Indices(ix) => ix.len(),
        };
        let row_iter: Box<dyn Iterator<Item = usize> + '_> = match rows {
            Rows::Range(a, b) => Box::new(a..b),
            Rows::Indices(ix) => Box::new(ix.iter().copied()),
        };
        let bytes = alloc::bytes_for(count, row_len * item, &format!("{count} rows of {dims:?}"))?;
        let mut out = MutableBuffer::with_capacity(bytes);
        if self.needs_transpose() {
            // Fortran strides (in values) of dimensions 1.. : F_1 = n, F_j = F_{j-1} * d_{j-1}.
            let mut fstrides = Vec::with_capacity(dims.len());
            let mut s = n;
            for &d in dims {
                fstrides.push(s);
                s *= d;
            }
            let mut idx = vec![0usize; dims.len()];
            for r in row_iter {
                let mut off = r;
                for _ in 0..row_len {
                    out.extend_from_slice(&src[off * item..(off + 1) * item]);
                    let mut d = dims.len();
                    while d > 0 {
                        d -= 1;
                        idx[d] += 1;
                        off += fstrides[d];
                        if idx[d] < dims[d] {
                            break;
                        }
                        off -= fstrides[d] * dims[d];
                        idx[d] = 0;
                    }
                }
            }
        } else {
            let row_bytes = row_len * item;
            for r in row_iter {
                out.extend_from_slice(&src[r * row_bytes..(r + 1) * row_bytes]);
            }
        }
        if self.needs_swap() {
            for value in out.as_slice_mut().chunks_exact_mut(item) {
                value.reverse();
            }
        }
        let mut out_shape = Vec::with_capacity(shape.len().max(1));
        out_shape.push(count);
        out_shape.extend_from_slice(dims);
        Tensor::from_buffer(self.header.dtype, out_shape, out.into())
            .map_err(|e| self.origin.attach(e))
    }
}

/// Reads the whole NPY file at `path` into a tensor: [`NpyFile::open`] then [`NpyFile::tensor`] (a
/// view of the mapped file when C order and native byte order).
pub fn read_npy(path: impl AsRef<Path>) -> Result<Tensor> {
    NpyFile::open(path)?.tensor()
}
