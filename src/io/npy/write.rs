//! Writing NPY files byte-identical to `np.save`: whole tensors ([`write_npy`]) or a stream of
//! batches ([`NpyWriter`]), always through a temporary file renamed at the end.

use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::header::encode_header;
use crate::error::{Error, ErrorKind, Result};
use crate::io::FaultFile;
use crate::io::TempFile;
use crate::tensor::{DType, Tensor};

fn values_of(tensor: &Tensor) -> Result<&[u8]> {
    tensor.buffer().map(|b| b.as_slice()).ok_or_else(|| {
        Error::invalid_argument(format!(
            "{} tensors cannot be written as NPY",
            tensor.dtype()
        ))
    })
}

/// The bytes `np.save` writes for `tensor` (C order, this machine's byte order, format version 1.0
/// unless the header needs 2.0).
///
/// Errors ([`ErrorKind::InvalidArgument`]) for `bfloat16`, `string` and `bytes` tensors, which numpy
/// files cannot hold here.
pub fn to_npy_bytes(tensor: &Tensor) -> Result<Vec<u8>> {
    let mut out = encode_header(tensor.dtype(), tensor.shape())?;
    out.extend_from_slice(values_of(tensor)?);
    Ok(out)
}

/// Writes `tensor` to `path` as `np.save` would, byte for byte.
///
/// The file is written under a temporary name in the same directory and renamed when complete, so
/// `path` never holds a partial file. Errors as [`to_npy_bytes`], plus [`ErrorKind::Io`].
pub fn write_npy(path: impl AsRef<Path>, tensor: &Tensor) -> Result<()> {
    let path = path.as_ref();
    let header = encode_header(tensor.dtype(), tensor.shape()).map_err(|e| e.with_file(path))?;
    let values = values_of(tensor).map_err(|e| e.with_file(path))?;
    let (temp, file) = TempFile::create(path)?;
    let mut out = BufWriter::new(file);
    out.write_all(&header)
        .and_then(|_| out.write_all(values))
        .map_err(|e| Error::io(e, path))?;
    let file = out
        .into_inner()
        .map_err(|e| Error::io(e.into_error(), path))?;
    temp.persist(file)
}

/// Writes an NPY file from a stream of batches (rows) of one component, without holding them.
///
/// The header is reserved when the writer is created and written in place by
/// [`NpyWriter::finish`] once the row count is known. numpy pads its header so that the first
/// dimension can grow to 21 digits without changing the header's length, so the reserved area is
/// exactly the header `np.save` writes (128 bytes for every array whose header fits there, e.g.
/// shape `(n, 8, 8)` of any dtype), and the finished file is byte-identical to `np.save` of the
/// concatenated batches.
///
/// The data goes to a temporary file in the same directory, renamed to the target by `finish`;
/// dropping the writer without `finish` (or an error in it) removes the temporary file and leaves
/// nothing under the target name.
///
/// ```
/// use slicestream::io::npy::{read_npy, NpyWriter};
/// use slicestream::{DType, Tensor};
/// # let dir = std::env::temp_dir().join(format!("npy-writer-doc-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// let path = dir.join("x.npy");
/// let mut w = NpyWriter::create(&path, DType::F32, [2])?;
/// w.write_batch(&Tensor::from_vec([2, 2], vec![1.0f32, 2.0, 3.0, 4.0])?)?;
/// w.write_batch(&Tensor::from_vec([1, 2], vec![5.0f32, 6.0])?)?;
/// w.finish()?;
/// assert_eq!(read_npy(&path)?.shape(), &[3, 2]);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct NpyWriter {
    target: PathBuf,
    /// `None` once finished (or after a failed finish).
    out: Option<(TempFile, BufWriter<FaultFile>)>,
    dtype: DType,
    row_shape: Vec<usize>,
    row_bytes: usize,
    rows: u64,
    header_len: usize,
}

impl std::fmt::Debug for NpyWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NpyWriter")
            .field("target", &self.target)
            .field("dtype", &self.dtype)
            .field("row_shape", &self.row_shape)
            .field("rows", &self.rows)
            .finish()
    }
}

impl Drop for NpyWriter {
    /// Without [`NpyWriter::finish`]: closes the temporary file without flushing what is buffered,
    /// then removes it.
    fn drop(&mut self) {
        if let Some((temp, out)) = self.out.take() {
            let (file, _unwritten) = out.into_parts();
            drop(file);
            drop(temp);
        }
    }
}

impl NpyWriter {
    /// Starts writing rows of `dtype` and shape `row_shape` to `path` (the file is `[rows, ...row_shape]`).
    ///
    /// Errors for dtypes NPY cannot hold here (`bfloat16`, `string`, `bytes`) and for I/O failures
    /// creating the temporary file.
    pub fn create(
        path: impl AsRef<Path>,
        dtype: DType,
        row_shape: impl Into<Vec<usize>>,
    ) -> Result<NpyWriter> {
        let target = path.as_ref().to_path_buf();
        let row_shape = row_shape.into();
        let mut shape = Vec::with_capacity(row_shape.len() + 1);
        shape.push(0);
        shape.extend_from_slice(&row_shape);
        let header = encode_header(dtype, &shape).map_err(|e| e.with_file(&target))?;
        let row_bytes = row_shape
            .iter()
            .try_fold(dtype.item_size().unwrap_or(1), |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| {
                Error::invalid_argument(format!("row shape {row_shape:?} of {dtype} overflows"))
                    .with_file(&target)
            })?;
        let (temp, file) = TempFile::create(&target)?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        // Reserve the header; `finish` overwrites it with the final one of the same length.
        out.write_all(&vec![b' '; header.len()])
            .map_err(|e| Error::io(e, &target))?;
        Ok(NpyWriter {
            target,
            out: Some((temp, out)),
            dtype,
            row_shape,
            row_bytes,
            rows: 0,
            header_len: header.len(),
        })
    }

    /// The path the file will have after [`NpyWriter::finish`].
    pub fn path(&self) -> &Path {
        &self.target
    }

    /// The number of rows written so far.
    pub fn rows_written(&self) -> u64 {
        self.rows
    }

    /// Appends a batch: a tensor of shape `[k, ...row_shape]` (any `k`, including 0).
    ///
    /// Errors ([`ErrorKind::DTypeMismatch`], [`ErrorKind::Incompatible`]) when the dtype or the row
    /// shape differs, before writing anything; [`ErrorKind::Io`] on a write failure.
    pub fn write_batch(&mut self, batch: &Tensor) -> Result<()> {
        if batch.dtype() != self.dtype {
            return Err(Error::new(ErrorKind::DTypeMismatch {
                expected: self.dtype,
                found: batch.dtype(),
            })
            .with_file(&self.target));
        }
        if batch.rank() != self.row_shape.len() + 1 || batch.shape()[1..] != self.row_shape[..] {
            return Err(Error::incompatible(format!(
                "a batch of rows of shape {:?} must have shape [k, {}], not {:?}",
                self.row_shape,
                self.row_shape
                    .iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                batch.shape()
            ))
            .with_file(&self.target));
        }
        let values = values_of(batch)?;
        debug_assert_eq!(values.len(), batch.shape()[0] * self.row_bytes);
        let (_, out) = self.out.as_mut().ok_or_else(|| {
            Error::invalid_argument("the NPY writer is finished").with_file(&self.target)
        })?;
        out.write_all(values)
            .map_err(|e| Error::io(e, &self.target))?;
        self.rows += batch.shape()[0] as u64;
        Ok(())
    }

    /// Appends one row: a tensor of shape `row_shape`.
    pub fn write_row(&mut self, row: &Tensor) -> Result<()> {
        let mut shape = Vec::with_capacity(row.rank() + 1);
        shape.push(1);
        shape.extend_from_slice(row.shape());
        self.write_batch(&row.reshape(shape)?)
    }

    /// Writes the final header in place, flushes to disk, and renames the temporary file to the target.
    pub fn finish(self) -> Result<()> {
        self.finish_synced()?.rename()
    }

    /// [`NpyWriter::finish`] but the rename: the complete file, synced, under its temporary name.
    pub(crate) fn finish_synced(mut self) -> Result<TempFile> {
        let (temp, out) = self.out.take().ok_or_else(|| {
            Error::invalid_argument("the NPY writer is finished").with_file(&self.target)
        })?;
        let rows = usize::try_from(self.rows).map_err(|_| {
            Error::invalid_argument("too many rows for this machine").with_file(&self.target)
        })?;
        let mut shape = Vec::with_capacity(self.row_shape.len() + 1);
        shape.push(rows);
        shape.extend_from_slice(&self.row_shape);
        let header = encode_header(self.dtype, &shape)?;
        if header.len() != self.header_len {
            return Err(Error::format(format!(
                "the final NPY header is {} bytes, {} were reserved",
                header.len(),
                self.header_len
            ))
            .with_file(&self.target));
        }
        let io = |e| Error::io(e, &self.target);
        let mut file = out.into_inner().map_err(|e| io(e.into_error()))?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        file.write_all(&header).map_err(io)?;
        temp.sync(file)?;
        Ok(temp)
    }
}
