//! [`TempFile`]: a file written under a temporary name beside its target, renamed to the target when
//! complete and removed when abandoned, so that a failed write never leaves a file that looks whole.
//! Every writer of slicestream (NPY, TFRecord, CSV, Parquet, Arrow IPC) goes through it.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};
use crate::io::FaultFile;

/// The temporary file `.NAME.PID-N.tmp` in the target's directory. [`TempFile::persist`] syncs and
/// renames it to the target; dropping it before that removes it.
#[derive(Debug)]
pub(crate) struct TempFile {
    target: PathBuf,
    tmp: PathBuf,
    persisted: bool,
}

impl TempFile {
    /// Creates the temporary file for `target` (which must name a file in an existing directory),
    /// open for reading and writing.
    pub(crate) fn create(target: &Path) -> Result<(TempFile, FaultFile)> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let name = target.file_name().ok_or_else(|| {
            Error::invalid_argument(format!("{} does not name a file", target.display()))
                .with_file(target)
        })?;
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = target.with_file_name(format!(
            ".{}.{}-{n}.tmp",
            name.to_string_lossy(),
            std::process::id()
        ));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| Error::io(e, target))?;
        let temp = TempFile {
            target: target.to_path_buf(),
            tmp,
            persisted: false,
        };
        Ok((temp, FaultFile::wrap(file, target)))
    }

    /// The final path.
    #[cfg(any(feature = "parquet", feature = "ipc", feature = "csv"))]
    pub(crate) fn target(&self) -> &Path {
        &self.target
    }

    /// Syncs `file` (already flushed by the caller), closes it and renames it to the target.
    pub(crate) fn persist(self, file: FaultFile) -> Result<()> {
        self.sync(file)?;
        self.rename()
    }

    /// Syncs `file` (already flushed by the caller) and closes it; it stays under its temporary
    /// name until [`TempFile::rename`] (for outputs of several files, all synced before any is
    /// renamed).
    pub(crate) fn sync(&self, file: FaultFile) -> Result<()> {
        file.sync_all().map_err(|e| Error::io(e, &self.target))?;
        drop(file);
        Ok(())
    }

    /// Renames the synced temporary file to the target.
    pub(crate) fn rename(mut self) -> Result<()> {
        std::fs::rename(&self.tmp, &self.target).map_err(|e| Error::io(e, &self.target))?;
        self.persisted = true;
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.persisted {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}
