//! Writing a dataset's elements in each format the CLI writes ([`create_output`]); each output keeps
//! its files under temporary names until [`Output::finish`], so dropping it (an error, Ctrl-C) leaves
//! nothing under the final names.

use std::path::{Path, PathBuf};

use slicestream::io::ipc::IpcWriteOptions;
use slicestream::io::npy::NpyWriter;
use slicestream::io::parquet::ParquetWriteOptions;
use slicestream::io::sink::{CsvSink, IpcSink, ParquetSink, Sink};
use slicestream::io::tfrecord::{example_from_element, Compression, TfRecordWriter};
use slicestream::{DType, Element, ElementSpec, Error, Structure};

use super::formats::{not_yet, text, Format};
use super::{fail, CliResult};

/// A destination for a dataset's elements.
pub trait Output {
    /// Appends one element.
    fn write(&mut self, element: &Element) -> slicestream::Result<()>;
    /// Completes the output: its files appear under their final names.
    fn finish(self: Box<Self>) -> slicestream::Result<()>;
}

/// The files an output of `format` at `path` will make for elements of `spec`: one, or for NPY one
/// per component (`path` must then hold `{}`, replaced by each component's name).
pub fn output_files(
    format: Format,
    path: &Path,
    spec: &ElementSpec,
) -> CliResult<Vec<(String, PathBuf)>> {
    if format != Format::Npy {
        return Ok(vec![(String::new(), path.to_path_buf())]);
    }
    let paths = spec.paths();
    let pattern = text(path);
    if paths.len() == 1 && !pattern.contains("{}") {
        return Ok(vec![(paths[0].clone(), path.to_path_buf())]);
    }
    if !pattern.contains("{}") {
        return Err(fail(format!(
            "an NPY file holds one array and the elements have {} components {:?}: put {{}} in the output name (one file each, e.g. out_{{}}.npy) or select one component",
            paths.len(),
            paths
        )));
    }
    Ok(paths
        .iter()
        .map(|c| {
            (
                c.clone(),
                PathBuf::from(pattern.replace("{}", &c.replace('/', "_"))),
            )
        })
        .collect())
}

/// Starts writing elements of `spec` in `format`; files appear only at [`Output::finish`].
pub fn create_output(
    format: Format,
    path: &Path,
    spec: &ElementSpec,
) -> CliResult<Box<dyn Output>> {
    match format {
        Format::Npy => Ok(Box::new(NpyOutput {
            files: output_files(format, path, spec)?,
            writers: Vec::new(),
            spec: spec.clone(),
        })),
        Format::Tfrecord => {
            let gz = path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("gz"));
            let compression = if gz {
                Compression::Gzip
            } else {
                Compression::None
            };
            let raw = *spec.structure() == Structure::Tensor
                && spec.components()[0].dtype == DType::Bytes
                && spec.components()[0].shape.is_empty();
            Ok(Box::new(TfRecordOutput {
                writer: TfRecordWriter::create(path, compression)?,
                raw,
            }))
        }
        Format::Csv => {
            let mut sink = CsvSink::create(path);
            sink.begin(spec)?;
            Ok(Box::new(SinkOutput(sink)))
        }
        Format::Parquet => {
            let mut sink = ParquetSink::new(path, ParquetWriteOptions::default());
            sink.begin(spec)?;
            Ok(Box::new(SinkOutput(sink)))
        }
        Format::Ipc => {
            let mut sink = IpcSink::new(path, IpcWriteOptions::default());
            sink.begin(spec)?;
            Ok(Box::new(SinkOutput(sink)))
        }
        Format::Npz => Err(not_yet(format, "write")),
        Format::Pipeline => Err(fail(
            "cannot write a pipeline file: name a data file as output",
        )),
    }
}

/// One NPY file per component, each the stack of that component over the elements.
struct NpyOutput {
    files: Vec<(String, PathBuf)>,
    writers: Vec<NpyWriter>,
    spec: ElementSpec,
}

impl Output for NpyOutput {
    fn write(&mut self, element: &Element) -> slicestream::Result<()> {
        let parts = element.components();
        if self.writers.is_empty() {
            for ((_, path), t) in self.files.iter().zip(parts) {
                self.writers
                    .push(NpyWriter::create(path, t.dtype(), t.shape().to_vec())?);
            }
        }
        for (((name, _), w), t) in self.files.iter().zip(&mut self.writers).zip(parts) {
            w.write_row(t).map_err(|e| e.with_component(name.clone()))?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> slicestream::Result<()> {
        if self.writers.is_empty() {
            // No elements: empty arrays, when the spec knows every shape.
            for ((_, path), s) in self.files.iter().zip(self.spec.components()) {
                let shape: Option<Vec<usize>> = s.shape.iter().copied().collect();
                let shape = shape.ok_or_else(|| {
                    Error::invalid_argument(
                        "no elements, and the spec leaves a dimension unknown: an empty NPY file needs a shape",
                    )
                })?;
                self.writers.push(NpyWriter::create(path, s.dtype, shape)?);
            }
        }
        self.writers.into_iter().try_for_each(NpyWriter::finish)
    }
}

/// One record per element: the raw bytes of a lone bytes scalar, else a `tf.train.Example`.
struct TfRecordOutput {
    writer: TfRecordWriter,
    raw: bool,
}

impl Output for TfRecordOutput {
    fn write(&mut self, element: &Element) -> slicestream::Result<()> {
        if self.raw {
            self.writer
                .write_record(element.components()[0].bytes_at(0)?)
        } else {
            self.writer.write_example(&example_from_element(element))
        }
    }

    fn finish(self: Box<Self>) -> slicestream::Result<()> {
        self.writer.finish()
    }
}

/// A library sink (CSV, Parquet, Arrow IPC), one row per element; Parquet and IPC gather rows into
/// record batches, with list columns for dimensions the spec leaves unknown.
struct SinkOutput<S: Sink>(S);

impl<S: Sink> Output for SinkOutput<S> {
    fn write(&mut self, element: &Element) -> slicestream::Result<()> {
        self.0.write_row(element)
    }

    fn finish(self: Box<Self>) -> slicestream::Result<()> {
        self.0.finish().map(|_| ())
    }
}
