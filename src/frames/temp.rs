//! A file written under a temporary name and renamed when complete, so that a failed export never
//! leaves a file under the final name.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};

/// `.NAME.PID-N.part` beside the target; renamed to the target by [`TempFile::persist`], removed when
/// dropped before that.
pub(crate) struct TempFile {
    target: PathBuf,
    tmp: PathBuf,
    persisted: bool,
}

impl TempFile {
    /// Creates the temporary file beside `target`.
    pub(crate) fn create(target: &Path) -> Result<(TempFile, File)> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let name = target.file_name().ok_or_else(|| {
            Error::invalid_argument(format!("{} does not name a file", target.display()))
                .with_file(target)
        })?;
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = target.with_file_name(format!(
            ".{}.{}-{n}.part",
            name.to_string_lossy(),
            std::process::id()
        ));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| Error::io(e, target))?;
        Ok((
            TempFile {
                target: target.to_path_buf(),
                tmp,
                persisted: false,
            },
            file,
        ))
    }

    /// The final path.
    pub(crate) fn target(&self) -> &Path {
        &self.target
    }

    /// Flushes `file` to disk and renames the temporary file to the target.
    pub(crate) fn persist(mut self, file: File) -> Result<()> {
        file.sync_all().map_err(|e| Error::io(e, &self.target))?;
        drop(file);
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
