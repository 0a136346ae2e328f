//! [`NpySink`]: one NPY file per component, written with [`NpyWriter`] as rows stream.

use std::path::{Path, PathBuf};

use super::{batch_rows, protocol, Sink};
use crate::element::{Batch, Element, ElementSpec, Structure};
use crate::error::{Error, Result};
use crate::io::npy::NpyWriter;
use crate::tensor::DType;

enum Names {
    Dir(PathBuf),
    Files(Vec<(String, PathBuf)>),
}

struct Slot {
    component: String,
    file: PathBuf,
    dtype: DType,
    row_shape: Vec<Option<usize>>,
    writer: Option<NpyWriter>,
}

impl Slot {
    /// The writer, created from the first rows' shape when the spec left a dimension unknown.
    fn writer(&mut self, row_shape: &[usize], dtype: DType) -> Result<&mut NpyWriter> {
        let fits = dtype == self.dtype
            && row_shape.len() == self.row_shape.len()
            && self
                .row_shape
                .iter()
                .zip(row_shape)
                .all(|(s, &d)| s.is_none_or(|s| s == d));
        if !fits {
            return Err(Error::incompatible(format!(
                "a row of {dtype} {row_shape:?} does not fit the sink's {} {:?}",
                self.dtype, self.row_shape
            ))
            .with_component(self.component.clone()));
        }
        if self.writer.is_none() {
            self.row_shape = row_shape.iter().map(|&d| Some(d)).collect();
            self.writer = Some(NpyWriter::create(&self.file, self.dtype, row_shape)?);
        }
        self.writer
            .as_mut()
            .ok_or_else(|| protocol("the NPY writer is gone"))
    }
}

/// Writes each component of a dataset's rows to an NPY file of its own, as the rows stream: the
/// files are `np.save` of the stacked rows, byte for byte (see [`NpyWriter`]: header reserved and
/// written last, data under a temporary name renamed by [`Sink::finish`]).
///
/// Dtypes: every fixed-width one but `bfloat16`; `string` and `bytes` components are refused by
/// [`Sink::begin`] (NPY has no variable-length type here).
///
/// A component whose row shape is unknown in the spec takes the first row's shape; every later row
/// must have it. With no rows at all such a component is an error at `finish` (its file's shape
/// would be unknown).
pub struct NpySink {
    names: Names,
    slots: Vec<Slot>,
    structure: Option<Structure>,
    rows: u64,
}

impl std::fmt::Debug for NpySink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NpySink")
            .field(
                "files",
                &self.slots.iter().map(|s| &s.file).collect::<Vec<_>>(),
            )
            .field("rows", &self.rows)
            .finish()
    }
}

impl NpySink {
    /// Files in `dir` (which must exist) named after the component paths, `/` turned into `.`:
    /// `image.npy`, `label.npy`; `0.npy`, `1.npy` for a tuple; `0.npy` for a lone tensor.
    pub fn in_dir(dir: impl AsRef<Path>) -> NpySink {
        NpySink::new(Names::Dir(dir.as_ref().to_path_buf()))
    }

    /// Each component (by path) to the given file; every component needs one.
    pub fn with_files<S: Into<String>, P: Into<PathBuf>>(
        files: impl IntoIterator<Item = (S, P)>,
    ) -> NpySink {
        NpySink::new(Names::Files(
            files
                .into_iter()
                .map(|(c, p)| (c.into(), p.into()))
                .collect(),
        ))
    }

    fn new(names: Names) -> NpySink {
        NpySink {
            names,
            slots: Vec::new(),
            structure: None,
            rows: 0,
        }
    }

    /// The files written (known after [`Sink::begin`]), one per component.
    pub fn files(&self) -> Vec<&Path> {
        self.slots.iter().map(|s| s.file.as_path()).collect()
    }

    fn check_open(&self, element: &Element) -> Result<()> {
        match &self.structure {
            None => Err(protocol("begin was not called")),
            Some(s) if s != element.structure() => Err(Error::incompatible(format!(
                "a row of structure {} does not fit the sink's {s}",
                element.structure()
            ))),
            Some(_) => Ok(()),
        }
    }
}

impl Sink for NpySink {
    fn begin(&mut self, row_spec: &ElementSpec) -> Result<()> {
        if self.structure.is_some() {
            return Err(protocol("begin was called twice"));
        }
        let mut slots = Vec::with_capacity(row_spec.components().len());
        for (path, spec) in row_spec.paths().into_iter().zip(row_spec.components()) {
            if matches!(spec.dtype, DType::String | DType::Bytes | DType::BF16) {
                return Err(Error::invalid_argument(format!(
                    "NPY files cannot hold {} values here",
                    spec.dtype
                ))
                .with_component(path));
            }
            let file = match &self.names {
                Names::Dir(dir) => dir.join(format!("{}.npy", path.replace('/', "."))),
                Names::Files(files) => files
                    .iter()
                    .find(|(c, _)| *c == path)
                    .map(|(_, p)| p.clone())
                    .ok_or_else(|| {
                        Error::invalid_argument(format!(
                            "no NPY file was given for component {path:?}"
                        ))
                        .with_component(path.clone())
                    })?,
            };
            let mut slot = Slot {
                component: path,
                file,
                dtype: spec.dtype,
                row_shape: spec.shape.clone(),
                writer: None,
            };
            if let Some(shape) = spec.shape.iter().copied().collect::<Option<Vec<usize>>>() {
                slot.writer(&shape, spec.dtype)?;
            }
            slots.push(slot);
        }
        self.slots = slots;
        self.structure = Some(row_spec.structure().clone());
        Ok(())
    }

    fn write_row(&mut self, row: &Element) -> Result<()> {
        self.check_open(row)?;
        for (slot, t) in self.slots.iter_mut().zip(row.components()) {
            slot.writer(t.shape(), t.dtype())?.write_row(t)?;
        }
        self.rows += 1;
        Ok(())
    }

    fn write_batch(&mut self, batch: &Batch) -> Result<()> {
        self.check_open(batch)?;
        let rows = batch_rows(batch)?;
        for (slot, t) in self.slots.iter_mut().zip(batch.components()) {
            slot.writer(&t.shape()[1..], t.dtype())?.write_batch(t)?;
        }
        self.rows += rows as u64;
        Ok(())
    }

    fn rows_written(&self) -> u64 {
        self.rows
    }

    fn finish(mut self) -> Result<u64> {
        if self.structure.is_none() {
            return Err(protocol("finish without begin"));
        }
        if let Some(s) = self.slots.iter().find(|s| s.writer.is_none()) {
            return Err(Error::invalid_argument(format!(
                "no rows were written, and the spec leaves the row shape {:?} unknown",
                s.row_shape
            ))
            .with_component(s.component.clone())
            .with_file(&s.file));
        }
        // Every file complete and synced before any appears under its name: a failure leaves none.
        let mut synced = Vec::with_capacity(self.slots.len());
        for slot in &mut self.slots {
            if let Some(w) = slot.writer.take() {
                synced.push((w.finish_synced()?, slot.file.clone()));
            }
        }
        let mut renamed: Vec<PathBuf> = Vec::new();
        for (temp, file) in synced {
            if let Err(e) = temp.rename() {
                for f in &renamed {
                    let _ = std::fs::remove_file(f);
                }
                return Err(e);
            }
            renamed.push(file);
        }
        Ok(self.rows)
    }
}
