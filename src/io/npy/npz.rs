//! [`NpzArchive`]: the arrays of an NPZ file (`np.savez`, stored; `np.savez_compressed`, deflate).

use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

use arrow_buffer::{Buffer, MutableBuffer};
use zip::result::ZipError;
use zip::{CompressionMethod, ZipArchive};

use super::file::{map_file, open_file, NpyFile, Origin};
use super::header::{parse_header, parse_preamble};
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Deflate cannot expand data by more than about 1032:1; a member that claims more is rejected
/// before anything is allocated for it.
const MAX_DEFLATE_RATIO: u64 = 1032;

#[derive(Debug, Clone)]
struct Member {
    /// The array's name: the member's name without `.npy`.
    name: String,
    index: usize,
    compressed: bool,
}

/// An NPZ archive (a ZIP of `.npy` members, as `np.savez` and `np.savez_compressed` write),
/// memory-mapped.
///
/// * **Stored** members (`np.savez`) are not copied: the member's bytes are a slice of the mapped
///   archive, and its tensor a view of them when aligned for the dtype (numpy does not align ZIP
///   members, so multi-byte dtypes are usually copied once by the tensor; `uint8` and `bool` never
///   are). The member's CRC-32 is checked when it is opened (one streaming pass, no allocation).
/// * **Deflate** members (`np.savez_compressed`) are inflated into memory: the NPY header is
///   inflated and checked first, then exactly the bytes it announces are allocated (never more
///   than the ZIP entry declares, nor more than deflate can produce from the compressed size), and
///   the CRC-32 is checked at the end.
///
/// Arrays are named as numpy's `NpzFile.files` names them: member names without `.npy`. Members
/// that are not `.npy` files are not listed. Error positions give the archive as the file, the
/// member name as the component and, for NPY format errors, the byte offset within the member.
pub struct NpzArchive {
    path: PathBuf,
    map: Buffer,
    zip: ZipArchive<Cursor<Buffer>>,
    members: Vec<Member>,
}

impl std::fmt::Debug for NpzArchive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NpzArchive")
            .field("path", &self.path)
            .field("members", &self.members)
            .finish()
    }
}

fn zip_error(e: ZipError, path: &Path, member: Option<&str>) -> Error {
    let what = match member {
        Some(m) => format!("NPZ member {m:?}"),
        None => "NPZ archive".to_string(),
    };
    let mut err = Error::format(format!("bad {what}: {e}"))
        .with_source(e)
        .with_file(path);
    if let Some(m) = member {
        err = err.with_component(m);
    }
    err
}

impl NpzArchive {
    /// Memory-maps the NPZ file at `path` and reads its ZIP directory.
    ///
    /// Errors: [`crate::ErrorKind::NotFound`] for a missing file, [`crate::ErrorKind::Io`] for other
    /// I/O failures, [`crate::ErrorKind::Format`] for an empty file or one that is not a ZIP archive.
    pub fn open(path: impl AsRef<Path>) -> Result<NpzArchive> {
        let path = path.as_ref();
        let file = open_file(path)?;
        let map = map_file(&file, path, "NPZ")?;
        let mut zip =
            ZipArchive::new(Cursor::new(map.clone())).map_err(|e| zip_error(e, path, None))?;
        let mut members = Vec::new();
        for index in 0..zip.len() {
            let f = zip
                .by_index_raw(index)
                .map_err(|e| zip_error(e, path, None))?;
            let name = f.name().map_err(|e| zip_error(e, path, None))?.into_owned();
            if let Some(stem) = name.strip_suffix(".npy").filter(|_| f.is_file()) {
                members.push(Member {
                    name: stem.to_string(),
                    index,
                    compressed: f.compression() != CompressionMethod::Stored,
                });
            }
        }
        Ok(NpzArchive {
            path: path.to_path_buf(),
            map,
            zip,
            members,
        })
    }

    /// The archive's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The names of the arrays, in archive order (`np.savez(f, a=..., b=...)` gives `["a", "b"]`).
    pub fn names(&self) -> Vec<&str> {
        self.members.iter().map(|m| m.name.as_str()).collect()
    }

    fn member(&self, name: &str) -> Result<&Member> {
        let stem = name.strip_suffix(".npy").unwrap_or(name);
        self.members.iter().find(|m| m.name == stem).ok_or_else(|| {
            Error::not_found(format!(
                "no array {name:?} in the NPZ archive; it has {:?}",
                self.names()
            ))
            .with_file(&self.path)
        })
    }

    /// Whether array `name` is deflate-compressed (`np.savez_compressed`) rather than stored.
    pub fn is_compressed(&self, name: &str) -> Result<bool> {
        Ok(self.member(name)?.compressed)
    }

    /// Array `name` (with or without `.npy`) as an [`NpyFile`]: a slice of the mapped archive when
    /// stored, inflated into memory when compressed (see the type's notes).
    pub fn npy(&self, name: &str) -> Result<NpyFile> {
        let member = self.member(name)?;
        let zip_name = format!("{}.npy", member.name);
        let origin = Origin {
            file: Some(self.path.clone()),
            member: Some(zip_name.clone()),
        };
        let zerr = |e| zip_error(e, &self.path, Some(&zip_name));
        let format = |m: String| origin.attach(Error::format(m));
        let mut zip = self.zip.clone();
        let mut f = zip.by_index(member.index).map_err(zerr)?;
        if f.encrypted() {
            return Err(format("the member is encrypted".into()));
        }
        let size = f.size();
        let compressed_size = f.compressed_size();
        match f.compression() {
            CompressionMethod::Stored => {
                let start = f
                    .data_start()
                    .ok_or_else(|| format("the member's data offset is unknown".into()))?;
                let end = start
                    .checked_add(size)
                    .filter(|&e| e <= self.map.len() as u64);
                if compressed_size != size || end.is_none() {
                    return Err(format(format!(
                        "stored member of {size} bytes at byte {start} does not fit the {}-byte archive",
                        self.map.len()
                    )));
                }
                std::io::copy(&mut f, &mut std::io::sink())
                    .map_err(|e| format(format!("the stored member is corrupt: {e}")))?;
                let bytes = self.map.slice_with_length(start as usize, size as usize);
                NpyFile::from_origin(bytes, origin.clone())
            }
            CompressionMethod::Deflated => {
                if size
                    > compressed_size
                        .saturating_mul(MAX_DEFLATE_RATIO)
                        .saturating_add(1024)
                {
                    return Err(format(format!(
                        "the member claims {size} bytes from {compressed_size} compressed bytes, more than deflate can produce"
                    )));
                }
                let bytes = inflate(&mut f, size, &origin)?;
                NpyFile::from_origin(bytes, origin.clone())
            }
            other => Err(format(format!(
                "the member uses compression {other}; NPZ members are stored or deflate"
            ))),
        }
    }

    /// Array `name` as a tensor (see [`NpzArchive::npy`] and [`NpyFile::tensor`]).
    pub fn read(&self, name: &str) -> Result<Tensor> {
        self.npy(name)?.tensor()
    }

    /// Every array, in archive order.
    pub fn read_all(&self) -> Result<Vec<(String, Tensor)>> {
        self.members
            .iter()
            .map(|m| Ok((m.name.clone(), self.read(&m.name)?)))
            .collect()
    }
}

/// Reads up to `limit` more bytes of `r` into `out`; errors are the member's format errors.
fn read_more(
    r: &mut impl Read,
    out: &mut MutableBuffer,
    limit: usize,
    origin: &Origin,
) -> Result<()> {
    let mut chunk = [0u8; 1 << 16];
    let mut left = limit;
    while left > 0 {
        let want = left.min(chunk.len());
        let k = match r.read(&mut chunk[..want]) {
            Ok(0) => return Ok(()),
            Ok(k) => k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(origin.attach(
                    Error::format(format!("cannot inflate the member: {e}"))
                        .with_byte_offset(out.len() as u64),
                ))
            }
        };
        out.extend_from_slice(&chunk[..k]);
        left -= k;
    }
    Ok(())
}

/// Inflates one member: header first (checked against the declared `size`), then exactly its data,
/// then the rest of the stream so that the CRC is checked.
fn inflate(f: &mut impl Read, size: u64, origin: &Origin) -> Result<Buffer> {
    let size = usize::try_from(size)
        .map_err(|_| origin.attach(Error::format("the member is too large")))?;
    let mut out = MutableBuffer::with_capacity(4096.min(size));
    read_more(f, &mut out, 12.min(size), origin)?;
    let pre = parse_preamble(out.as_slice()).map_err(|e| origin.attach(e))?;
    let header_end = pre.header_start.saturating_add(pre.header_len).min(size);
    let want = header_end.saturating_sub(out.len());
    read_more(f, &mut out, want, origin)?;
    let header = parse_header(out.as_slice(), size).map_err(|e| origin.attach(e))?;
    let total = header.data_offset() + header.data_len();
    out.reserve(total.saturating_sub(out.len()).min(64 << 20));
    let want = total.saturating_sub(out.len());
    read_more(f, &mut out, want, origin)?;
    if out.len() < total {
        return Err(origin.attach(
            Error::format(format!(
                "the member inflates to {} bytes, its NPY header needs {total}",
                out.len()
            ))
            .with_byte_offset(out.len() as u64),
        ));
    }
    std::io::copy(f, &mut std::io::sink()).map_err(|e| {
        origin.attach(Error::format(format!(
            "the compressed member is corrupt: {e}"
        )))
    })?;
    Ok(out.into())
}

/// Every array of the NPZ file at `path`, in archive order (see [`NpzArchive`]).
pub fn read_npz(path: impl AsRef<Path>) -> Result<Vec<(String, Tensor)>> {
    NpzArchive::open(path)?.read_all()
}
