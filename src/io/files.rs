//! Several files as one dataset: [`Files`] (a glob or a list, sharded by file), and
//! [`Dataset::from_files`], which opens each with a function `path -> Result<Dataset>` and reads them
//! one after another or interleaved.
//!
//! Any format plugs in through its opening function; these are ready made: [`open_npy`],
//! [`open_npz`], [`open_tfrecord`], [`open_tfrecord_examples`], [`open_csv`]. (Parquet and Arrow IPC
//! plug in the same way: `|p: &Path| Dataset::from_parquet(p, ...)`.)
//!
//! ```
//! use slicestream::io::files::{open_npy, Files, FilesOptions};
//! use slicestream::Dataset;
//!
//! // Worker 0 of 2 reads every other file (sharding by file: no file is read twice), four files
//! // at a time, eight rows from each in turn.
//! let files = Files::glob("data/digits_*.npy")?;
//! let mine = files.shard(2, 0)?;
//! let options = FilesOptions::default().with_cycle_length(4).with_block_length(8);
//! let ds = Dataset::from_files(&mine, options, open_npy())?;
//! # assert_eq!(mine.len(), 1);
//! # Ok::<(), slicestream::Error>(())
//! ```

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::dataset::Dataset;
use crate::error::{Error, Result};
#[cfg(feature = "csv")]
use crate::io::csv::{CsvOptions, CsvSchema};
#[cfg(feature = "tfrecord")]
use crate::io::tfrecord::{Compression, FeatureDescription};
use crate::tensor::Tensor;
use crate::transform::interleave::{check_compatible, InterleaveNode};
use crate::transform::InterleaveOptions;

/// A list of files, in a fixed order: matched by a glob pattern (sorted), or given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Files {
    paths: Vec<PathBuf>,
}

impl Files {
    /// The files matching a glob pattern (`*`, `?`, `[...]`, `**` for any directories), sorted by
    /// path so that every worker sees the same list (tf.data's `list_files(shuffle=False)`).
    ///
    /// Errors: [`InvalidArgument`](crate::ErrorKind::InvalidArgument) for a malformed pattern,
    /// [`NotFound`](crate::ErrorKind::NotFound) when nothing matches, [`Io`](crate::ErrorKind::Io)
    /// when a directory cannot be read.
    pub fn glob(pattern: &str) -> Result<Files> {
        let entries = glob::glob(pattern).map_err(|e| {
            Error::invalid_argument(format!("bad glob pattern {pattern:?}: {e}")).with_source(e)
        })?;
        let mut paths = Vec::new();
        for entry in entries {
            let path = entry.map_err(|e| {
                let path = e.path().to_path_buf();
                Error::io(e.into(), path)
            })?;
            if !path.is_dir() {
                paths.push(path);
            }
        }
        if paths.is_empty() {
            return Err(Error::not_found(format!(
                "no files match the pattern {pattern:?}"
            )));
        }
        paths.sort();
        Ok(Files { paths })
    }

    /// These paths, in this order (not checked until opened).
    pub fn new<P: Into<PathBuf>>(paths: impl IntoIterator<Item = P>) -> Files {
        Files {
            paths: paths.into_iter().map(Into::into).collect(),
        }
    }

    /// Files `index`, `index + num_shards`, … — one worker's part when sharding by file (tf.data's
    /// `list_files(...).shard(num_shards, index)`, its `FILE` auto-shard policy).
    ///
    /// Errors ([`InvalidArgument`](crate::ErrorKind::InvalidArgument)) when `num_shards` is 0,
    /// `index >= num_shards`, or there are fewer files than shards (a worker would have none;
    /// shard the elements instead, with [`Dataset::shard`]).
    pub fn shard(&self, num_shards: u64, index: u64) -> Result<Files> {
        if num_shards == 0 || index >= num_shards {
            return Err(Error::invalid_argument(format!(
                "shard {index} of {num_shards}: need 0 <= index < num_shards"
            ))
            .with_stage("shard"));
        }
        if (self.paths.len() as u64) < num_shards {
            return Err(Error::invalid_argument(format!(
                "cannot shard {} files {num_shards} ways by file: some workers would have no file; shard by element instead",
                self.paths.len()
            ))
            .with_stage("shard"));
        }
        Ok(Files {
            paths: self
                .paths
                .iter()
                .skip(index as usize)
                .step_by(num_shards as usize)
                .cloned()
                .collect(),
        })
    }

    /// The same files in an order shuffled by `seed` (the same seed, the same order).
    pub fn shuffled(&self, seed: u64) -> Files {
        let mut paths = self.paths.clone();
        paths.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
        Files { paths }
    }

    /// The paths.
    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }

    /// The number of files.
    pub fn len(&self) -> usize {
        self.paths.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    /// The paths as a dataset of `string` scalars (tf.data's `list_files`), for pipelines that map
    /// names to datasets themselves ([`Dataset::interleave`]). Paths that are not UTF-8 are
    /// converted lossily; [`Dataset::from_files`] has no such limit.
    pub fn to_dataset(&self) -> Result<Dataset> {
        let names: Vec<String> = self
            .paths
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        Dataset::from_tensor_slices(Tensor::from_strings([names.len()], names)?)
    }
}

impl From<Vec<PathBuf>> for Files {
    fn from(paths: Vec<PathBuf>) -> Files {
        Files { paths }
    }
}

/// How [`Dataset::from_files`] reads its files.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FilesOptions {
    /// Files open at once (default 1: one file after another, in order).
    pub cycle_length: usize,
    /// Consecutive elements from each open file before the next one's turn (default 1).
    pub block_length: usize,
    /// Read each open file ahead on a thread of its own, this many elements deep (default: no).
    pub read_ahead: Option<usize>,
}

impl Default for FilesOptions {
    fn default() -> Self {
        FilesOptions {
            cycle_length: 1,
            block_length: 1,
            read_ahead: None,
        }
    }
}

impl FilesOptions {
    /// Sets how many files are open at once (tf.data's `cycle_length`).
    pub fn with_cycle_length(mut self, cycle_length: usize) -> Self {
        self.cycle_length = cycle_length;
        self
    }

    /// Sets how many elements each file gives in turn (tf.data's `block_length`).
    pub fn with_block_length(mut self, block_length: usize) -> Self {
        self.block_length = block_length;
        self
    }

    /// Reads every open file ahead on its own thread (up to `cycle_length` files in parallel).
    pub fn with_read_ahead(mut self, buffer: usize) -> Self {
        self.read_ahead = Some(buffer.max(1));
        self
    }
}

impl Dataset {
    /// The elements of several files as one dataset: each file opened by `open` (any format: see
    /// the `open_*` functions of [`crate::io::files`]), read in order or interleaved as `options`
    /// says, with tf.data's `interleave` order. Shard by file first with [`Files::shard`].
    ///
    /// The first file is opened now to learn the element spec; every other file's spec must be
    /// compatible with it (an [`Incompatible`](crate::ErrorKind::Incompatible) error naming the
    /// file otherwise). Files are opened again, lazily, each epoch; an error opening or reading one
    /// ends the epoch with an error naming it. Errors now when there are no files or `options`
    /// has a zero length, or as `open` does for the first file.
    pub fn from_files<F>(files: &Files, options: FilesOptions, open: F) -> Result<Dataset>
    where
        F: Fn(&Path) -> Result<Dataset> + Send + Sync + 'static,
    {
        let paths: Arc<[PathBuf]> = files.paths.clone().into();
        let first = paths.first().ok_or_else(|| {
            Error::invalid_argument("from_files needs at least one file").with_stage("from_files")
        })?;
        let spec = open(first)
            .and_then(|ds| ds.element_spec())
            .map_err(|e| e.with_file(first).with_stage("from_files"))?;
        let interleave = InterleaveOptions {
            cycle_length: options.cycle_length,
            block_length: options.block_length,
            read_ahead: options.read_ahead,
            spec: Some(spec.clone()),
        };
        interleave.check().map_err(|e| e.set_stage("from_files"))?;
        let indices = Dataset::range(0, paths.len() as i64, 1)?;
        let open = Arc::new(open);
        let node = InterleaveNode {
            input: indices.node().clone(),
            open: Arc::new(move |_, element| {
                let i = element.component(0)?.as_slice::<i64>()?[0] as usize;
                let path = &paths[i];
                let ds = open(path).map_err(|e| e.with_file(path))?;
                let found = ds.element_spec().map_err(|e| e.with_file(path))?;
                check_compatible(&spec, &found).map_err(|e| e.with_file(path))?;
                Ok(ds)
            }),
            options: interleave,
            stage: "from_files",
            inferred: OnceLock::new(),
        };
        Ok(Dataset::from_node(node))
    }
}

/// Opens an NPY file as [`Dataset::from_npy`] does (memory-mapped rows).
pub fn open_npy() -> impl Fn(&Path) -> Result<Dataset> + Send + Sync + 'static {
    |p: &Path| Dataset::from_npy(p)
}

/// Opens an NPZ file as [`Dataset::from_npz`] does.
pub fn open_npz() -> impl Fn(&Path) -> Result<Dataset> + Send + Sync + 'static {
    |p: &Path| Dataset::from_npz(p)
}

/// Opens a TFRecord file as [`Dataset::from_tfrecord`] does (one `bytes` scalar per record).
#[cfg(feature = "tfrecord")]
pub fn open_tfrecord(
    compression: Compression,
) -> impl Fn(&Path) -> Result<Dataset> + Send + Sync + 'static {
    move |p: &Path| Dataset::from_tfrecord([p], compression)
}

/// Opens a TFRecord file of `tf.train.Example`s parsed as `features` describes
/// ([`Dataset::from_tfrecord_examples`]).
#[cfg(feature = "tfrecord")]
pub fn open_tfrecord_examples(
    compression: Compression,
    features: FeatureDescription,
) -> impl Fn(&Path) -> Result<Dataset> + Send + Sync + 'static {
    move |p: &Path| Dataset::from_tfrecord_examples([p], compression, features.clone())
}

/// Opens CSV files with one schema: inferred from the first file opened (see [`CsvSchema::infer`]),
/// then used for every file, whose header must match. Give every column's type in `options` for a
/// schema that does not depend on which file comes first (e.g. on different workers).
#[cfg(feature = "csv")]
pub fn open_csv(options: CsvOptions) -> impl Fn(&Path) -> Result<Dataset> + Send + Sync + 'static {
    let schema: OnceLock<CsvSchema> = OnceLock::new();
    move |p: &Path| {
        let s = match schema.get() {
            Some(s) => s,
            None => {
                let inferred = CsvSchema::infer(p, &options)?;
                schema.get_or_init(|| inferred)
            }
        };
        Ok(Dataset::from_csv_with_schema([p], s))
    }
}
