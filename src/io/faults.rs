//! [`FaultFile`]: the file handle every reader and writer of slicestream opens, and the fault
//! injection that tests (ours and those of code built on slicestream) use to make its reads and
//! writes fail: [`inject`] a [`FaultPlan`], and the `at`-th read (or write) of a file whose path
//! contains the plan's marker returns an I/O error, as a failing disk or network filesystem would.
//!
//! Unarmed, the cost is one relaxed atomic load per open. Memory-mapped files (NPY, TFRecord
//! batches) are read by page faults, which cannot fail with an error (the kernel raises `SIGBUS`, as
//! for numpy's `mmap_mode`); for them mapping the file counts as their one read.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// Which calls a [`FaultPlan`] counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultOp {
    /// `read` calls (and mapping a memory-mapped file).
    Read,
    /// `write`, `flush` and `sync_all` calls.
    Write,
}

/// Makes the `at`-th (0-based) call of kind `op`, on files opened while the plan is armed whose
/// path contains `path_contains`, fail with an I/O error; every later such call fails too (a
/// failed disk stays failed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultPlan {
    /// A substring of the paths the plan applies to (e.g. a test's own directory).
    pub path_contains: String,
    /// The calls it counts.
    pub op: FaultOp,
    /// The first call that fails.
    pub at: u64,
}

static ARMED: AtomicBool = AtomicBool::new(false);
static PLAN: Mutex<Option<FaultPlan>> = Mutex::new(None);
static CALLS: AtomicU64 = AtomicU64::new(0);
static FIRED: AtomicU64 = AtomicU64::new(0);
/// One plan at a time: [`inject`] holds this until its guard drops.
static EXCLUSIVE: Mutex<()> = Mutex::new(());

/// Arms `plan` until the returned guard is dropped. Plans are process-wide and one at a time: a
/// second `inject` waits for the first guard.
pub fn inject(plan: FaultPlan) -> FaultGuard {
    let exclusive = EXCLUSIVE.lock().unwrap_or_else(|p| p.into_inner());
    *PLAN.lock().unwrap_or_else(|p| p.into_inner()) = Some(plan);
    CALLS.store(0, Ordering::SeqCst);
    FIRED.store(0, Ordering::SeqCst);
    ARMED.store(true, Ordering::SeqCst);
    FaultGuard {
        _exclusive: exclusive,
    }
}

/// Keeps a [`FaultPlan`] armed; dropping it disarms the plan.
pub struct FaultGuard {
    _exclusive: MutexGuard<'static, ()>,
}

impl FaultGuard {
    /// How many calls failed because of the plan so far.
    pub fn fired(&self) -> u64 {
        FIRED.load(Ordering::SeqCst)
    }

    /// How many calls the plan counted so far (failed or not).
    pub fn calls(&self) -> u64 {
        CALLS.load(Ordering::SeqCst)
    }
}

impl Drop for FaultGuard {
    fn drop(&mut self) {
        ARMED.store(false, Ordering::SeqCst);
        *PLAN.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

/// The plan's op, when one is armed and applies to `path`.
fn plan_for(path: &Path) -> Option<FaultOp> {
    if !ARMED.load(Ordering::Relaxed) {
        return None;
    }
    let plan = PLAN.lock().unwrap_or_else(|p| p.into_inner());
    plan.as_ref()
        .filter(|p| path.to_string_lossy().contains(&p.path_contains))
        .map(|p| p.op)
}

/// A [`File`] that a [`FaultPlan`] armed when it was opened can make fail.
#[derive(Debug)]
pub(crate) struct FaultFile {
    file: File,
    /// The op the plan counts on this file, if the plan applies to it.
    faults: Option<FaultOp>,
    /// The last read error of this file or of a handle cloned from it (kind and text): readers
    /// such as parquet's turn I/O errors into strings, and this lets the caller still say that
    /// the failure was I/O.
    read_error: Arc<Mutex<Option<(io::ErrorKind, String)>>>,
}

impl FaultFile {
    /// Opens `path` for reading.
    pub(crate) fn open(path: &Path) -> io::Result<FaultFile> {
        Ok(Self::wrap(File::open(path)?, path))
    }

    /// Wraps an open `file` whose path is `path`.
    pub(crate) fn wrap(file: File, path: &Path) -> FaultFile {
        FaultFile {
            file,
            faults: plan_for(path),
            read_error: Arc::default(),
        }
    }

    /// Counts one call of kind `op`; the injected error when it is one the plan fails.
    fn check(&self, op: FaultOp) -> io::Result<()> {
        if self.faults != Some(op) || !ARMED.load(Ordering::Relaxed) {
            return Ok(());
        }
        let n = CALLS.fetch_add(1, Ordering::SeqCst);
        let at = PLAN
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map_or(u64::MAX, |p| p.at);
        if n >= at {
            FIRED.fetch_add(1, Ordering::SeqCst);
            return Err(io::Error::other(format!("injected I/O fault (call {n})")));
        }
        Ok(())
    }

    /// The file, for memory mapping: counts as one read.
    pub(crate) fn for_mapping(&self) -> io::Result<&File> {
        self.check(FaultOp::Read)?;
        Ok(&self.file)
    }

    /// The file's metadata.
    pub(crate) fn metadata(&self) -> io::Result<std::fs::Metadata> {
        self.file.metadata()
    }

    /// A second handle of the same open file (same position), under the same plan.
    #[cfg(feature = "parquet")]
    pub(crate) fn try_clone(&self) -> io::Result<FaultFile> {
        Ok(FaultFile {
            file: self.file.try_clone()?,
            faults: self.faults,
            read_error: self.read_error.clone(),
        })
    }

    /// Flushes the file's data to the disk (a write call).
    pub(crate) fn sync_all(&self) -> io::Result<()> {
        self.check(FaultOp::Write)?;
        self.file.sync_all()
    }
}

impl FaultFile {
    /// The last read error of this file (or a handle cloned from it), taken.
    #[cfg(feature = "parquet")]
    pub(crate) fn take_read_error(&self) -> Option<io::Error> {
        let mut slot = self.read_error.lock().unwrap_or_else(|p| p.into_inner());
        slot.take().map(|(kind, text)| io::Error::new(kind, text))
    }
}

impl Read for FaultFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let result = self.check(FaultOp::Read).and_then(|()| self.file.read(buf));
        if let Err(e) = &result {
            if e.kind() != io::ErrorKind::Interrupted {
                *self.read_error.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some((e.kind(), e.to_string()));
            }
        }
        result
    }
}

impl Write for FaultFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.check(FaultOp::Write)?;
        self.file.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.check(FaultOp::Write)?;
        self.file.flush()
    }
}

impl Seek for FaultFile {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.file.seek(pos)
    }
}

#[cfg(feature = "parquet")]
mod parquet_reader {
    use std::io::{BufReader, Read, Seek, SeekFrom};

    use bytes::Bytes;
    use parquet::errors::{ParquetError, Result};
    use parquet::file::reader::{ChunkReader, Length};

    use super::FaultFile;

    impl Length for FaultFile {
        fn len(&self) -> u64 {
            self.file.metadata().map(|m| m.len()).unwrap_or(0)
        }
    }

    /// As parquet's own `ChunkReader` for `File`, through the fault plan; `get_bytes` reads what
    /// is there instead of allocating the length asked for first (a footer's lengths come from
    /// the file).
    impl ChunkReader for FaultFile {
        type T = BufReader<FaultFile>;

        fn get_read(&self, start: u64) -> Result<Self::T> {
            let mut reader = self.try_clone()?;
            reader.seek(SeekFrom::Start(start))?;
            Ok(BufReader::new(reader))
        }

        fn get_bytes(&self, start: u64, length: usize) -> Result<Bytes> {
            let mut reader = self.try_clone()?;
            reader.seek(SeekFrom::Start(start))?;
            let mut buffer = Vec::new();
            let read = reader.take(length as u64).read_to_end(&mut buffer)?;
            if read != length {
                return Err(ParquetError::EOF(format!(
                    "Expected to read {length} bytes, read only {read}"
                )));
            }
            Ok(buffer.into())
        }
    }
}
