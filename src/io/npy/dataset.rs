//! [`NpySource`]: the rows of memory-mapped NPY arrays as a [`RandomAccess`] source, and the
//! `Dataset::from_npy*` constructors.

use std::path::Path;
use std::sync::Arc;

use super::{NpyFile, NpzArchive};
use crate::dataset::{Dataset, RandomAccess};
use crate::element::{Batch, Element, ElementSpec, Structure, TensorSpec};
use crate::error::{Error, Result};

/// The rows of one or more NPY arrays that share their first dimension, read by index from the
/// files' maps: nothing is loaded up front.
///
/// An element is one row of each array (a view of the map), an unshuffled batch is one slice of
/// each (a view: no copy), a shuffled batch one row-wise gather from the map. Arrays in Fortran
/// order or big-endian are converted row by row as they are read (see [`NpyFile`]).
#[derive(Debug, Clone)]
pub struct NpySource {
    structure: Arc<Structure>,
    files: Vec<NpyFile>,
    len: usize,
    spec: ElementSpec,
}

impl NpySource {
    /// A source whose elements nest as `structure`, with one file per leaf (depth-first).
    ///
    /// Errors when the counts differ, an array is 0-d ([`crate::ErrorKind::InvalidArgument`]), or the
    /// arrays' first dimensions differ ([`crate::ErrorKind::Incompatible`]).
    pub fn new(structure: Structure, files: Vec<NpyFile>) -> Result<NpySource> {
        if structure.num_leaves() != files.len() {
            return Err(Error::invalid_argument(format!(
                "structure {structure} has {} components, got {} NPY files",
                structure.num_leaves(),
                files.len()
            )));
        }
        let paths = structure.paths();
        let mut len: Option<usize> = None;
        let mut specs = Vec::with_capacity(files.len());
        for (f, path) in files.iter().zip(&paths) {
            let at = |e: Error| {
                let e = e.with_component(path.clone());
                match f.path() {
                    Some(p) => e.with_file(p),
                    None => e,
                }
            };
            let rows = f.num_rows().ok_or_else(|| {
                at(Error::invalid_argument(
                    "a 0-d NPY array has no rows to make elements of (rank >= 1 is needed)",
                ))
            })?;
            match len {
                Some(l) if l != rows => {
                    return Err(at(Error::incompatible(format!(
                        "NPY arrays have {l} and {rows} rows; the components of a dataset must have the same number"
                    ))))
                }
                _ => len = Some(rows),
            }
            specs.push(TensorSpec::new(f.dtype(), &f.shape()[1..]));
        }
        let structure = Arc::new(structure);
        let spec = ElementSpec::from_shared(structure.clone(), specs)?;
        Ok(NpySource {
            structure,
            files,
            len: len.unwrap_or(0),
            spec,
        })
    }

    /// The arrays, one per component (depth-first).
    pub fn files(&self) -> &[NpyFile] {
        &self.files
    }

    fn each(
        &self,
        index: Option<usize>,
        f: impl Fn(&NpyFile) -> Result<crate::Tensor>,
    ) -> Result<Element> {
        let components = self
            .files
            .iter()
            .map(&f)
            .collect::<Result<Vec<_>>>()
            .map_err(|e| match index {
                Some(i) => e.with_record(i as u64),
                None => e,
            })?;
        Element::from_shared(self.structure.clone(), components)
    }
}

impl RandomAccess for NpySource {
    fn spec(&self) -> ElementSpec {
        self.spec.clone()
    }

    fn len(&self) -> usize {
        self.len
    }

    fn get(&self, index: usize) -> Result<Element> {
        self.each(Some(index), |f| f.row(index))
    }

    fn slice(&self, start: usize, end: usize) -> Result<Batch> {
        self.each(None, |f| f.slice_rows(start, end))
    }

    fn gather(&self, indices: &[usize]) -> Result<Batch> {
        self.each(None, |f| f.gather_rows(indices))
    }
}

fn open_all<P: AsRef<Path>>(paths: impl IntoIterator<Item = P>) -> Result<Vec<NpyFile>> {
    paths.into_iter().map(NpyFile::open).collect()
}

impl Dataset {
    /// A dataset of the rows of the NPY file at `path`, memory-mapped (see [`NpySource`]): elements
    /// are single tensors of shape `shape[1..]`.
    ///
    /// Errors as [`NpyFile::open`], and when the array is 0-d.
    ///
    /// ```no_run
    /// use slicestream::Dataset;
    /// let ds = Dataset::from_npy("data/digits_image.npy")?.batch(64, false)?;
    /// # Ok::<(), slicestream::Error>(())
    /// ```
    pub fn from_npy(path: impl AsRef<Path>) -> Result<Dataset> {
        let files = open_all([path]).map_err(|e| e.with_stage("from_npy"))?;
        Self::from_npy_files(Structure::Tensor, files)
    }

    /// A dataset of the rows of several NPY files, zipped into tuples `(a[i], b[i], ...)`
    /// (components `"0"`, `"1"`, ...). The files must have the same number of rows.
    pub fn from_npy_tuple<P: AsRef<Path>>(paths: impl IntoIterator<Item = P>) -> Result<Dataset> {
        let files = open_all(paths).map_err(|e| e.with_stage("from_npy"))?;
        Self::from_npy_files(Structure::tuple_of_tensors(files.len()), files)
    }

    /// A dataset of the rows of several NPY files as dicts, in the order given:
    /// `Dataset::from_npy_dict([("image", "x.npy"), ("label", "y.npy")])` has elements
    /// `{"image": x[i], "label": y[i]}`. The files must have the same number of rows.
    ///
    /// ```no_run
    /// use slicestream::Dataset;
    /// let ds = Dataset::from_npy_dict([
    ///     ("image", "data/digits_image.npy"),
    ///     ("label", "data/digits_label.npy"),
    /// ])?;
    /// # Ok::<(), slicestream::Error>(())
    /// ```
    pub fn from_npy_dict<S: Into<String>, P: AsRef<Path>>(
        items: impl IntoIterator<Item = (S, P)>,
    ) -> Result<Dataset> {
        let (names, paths): (Vec<String>, Vec<P>) =
            items.into_iter().map(|(k, p)| (k.into(), p)).unzip();
        let files = open_all(paths).map_err(|e| e.with_stage("from_npy"))?;
        Self::from_npy_files(Structure::dict_of_tensors(names), files)
    }

    /// A dataset of the rows of every array of an NPZ file, as dicts keyed by array name in
    /// archive order (stored members are mapped, compressed ones inflated: see [`NpzArchive`]).
    pub fn from_npz(path: impl AsRef<Path>) -> Result<Dataset> {
        let at = |e: Error| e.with_stage("from_npz");
        let archive = NpzArchive::open(path).map_err(at)?;
        let names: Vec<String> = archive.names().into_iter().map(String::from).collect();
        let files = names
            .iter()
            .map(|n| archive.npy(n))
            .collect::<Result<Vec<_>>>()
            .map_err(at)?;
        let source = NpySource::new(Structure::dict_of_tensors(names), files).map_err(at)?;
        Ok(Dataset::from_random_access_named(
            "from_npy",
            Arc::new(source),
        ))
    }

    /// A dataset over already opened NPY arrays nested as `structure` (see [`NpySource::new`]).
    pub fn from_npy_files(structure: Structure, files: Vec<NpyFile>) -> Result<Dataset> {
        let source = NpySource::new(structure, files).map_err(|e| e.with_stage("from_npy"))?;
        Ok(Dataset::from_random_access_named(
            "from_npy",
            Arc::new(source),
        ))
    }
}
