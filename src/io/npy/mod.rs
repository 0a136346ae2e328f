//! NPY and NPZ files (numpy's format): memory-mapped reading, NPZ archives, and writing
//! byte-identical to `np.save`.
//!
//! # Reading
//!
//! [`NpyFile::open`] maps a file and parses its header (format versions 1.0, 2.0 and 3.0); the
//! data is not read until used. [`Dataset::from_npy`](crate::Dataset::from_npy),
//! [`Dataset::from_npy_dict`](crate::Dataset::from_npy_dict) and
//! [`Dataset::from_npy_tuple`](crate::Dataset::from_npy_tuple) make datasets of the rows of
//! mapped files ([`NpySource`]): batches are slices of the map, shuffled batches one gather from it.
//!
//! | descr | dtype | | descr | dtype |
//! |---|---|---|---|---|
//! | `\|b1` | bool (bytes must be 0 or 1) | | `<i2` `<i4` `<i8` | int16, int32, int64 |
//! | `\|u1` `\|i1` | uint8, int8 | | `<f2` `<f4` `<f8` | float16, float32, float64 |
//! | `<u2` `<u4` `<u8` | uint16, uint32, uint64 | | | |
//!
//! What is copied, exactly:
//! * C order in this machine's byte order (what `np.save` writes): nothing. The tensor's buffer is
//!   the mapped bytes (an Arrow buffer that owns the map), when the data offset is aligned for the
//!   dtype (numpy aligns it to 64 bytes); a misaligned buffer is copied once.
//! * Fortran order: values are transposed to row-major on read, into a new buffer holding only
//!   the rows read (the whole array for [`NpyFile::tensor`]).
//! * Big-endian (`>`) descrs are accepted and byte-swapped on read, likewise into a new buffer
//!   (rather than rejected: numpy reads them, so do we).
//! * NPZ: see [`NpzArchive`] (stored members mapped; deflate members inflated into memory).
//!
//! Other dtypes (complex, object, unicode, bytes, void, datetime, structured) are a
//! [`Format`](crate::ErrorKind::Format) error naming the descr and listing the supported ones
//! ([`SUPPORTED_DESCRS`]).
//!
//! # Errors
//!
//! Nothing panics on bad input. A missing file is [`NotFound`](crate::ErrorKind::NotFound), other
//! I/O failures [`Io`](crate::ErrorKind::Io); empty files, bad magic, unsupported versions, bad
//! headers, unsupported dtypes, shapes whose size overflows and files shorter than their header
//! says are [`Format`](crate::ErrorKind::Format), with the file and the byte offset in the
//! [`Position`](crate::Position). Sizes are checked against the file's length before anything is
//! allocated.
//!
//! # Writing
//!
//! [`write_npy`] and [`NpyWriter`] write what `np.save` writes, byte for byte (C order, native
//! byte order, version 1.0 unless the header needs 2.0), through a temporary file in the same
//! directory renamed when complete.

mod dataset;
mod file;
mod header;
mod literal;
mod npz;
mod write;

pub use dataset::NpySource;
#[cfg(feature = "ipc")]
pub(crate) use file::{map_file, open_file};
pub use file::{read_npy, NpyFile};
pub use header::{ByteOrder, NpyHeader, SUPPORTED_DESCRS};
pub use npz::{read_npz, NpzArchive};
pub use write::{to_npy_bytes, write_npy, NpyWriter};
