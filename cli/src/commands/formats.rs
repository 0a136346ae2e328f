//! The one place that knows the file formats: how to recognise one (magic bytes, then extension),
//! how to open files as a dataset (through a pipeline-file source, so `run` and the CLI read files
//! the same way), and how to write a dataset's elements.
//!
//! Adding a format: a row in [`FORMATS`], an arm in [`source_json`] (its source in
//! `crate::pipeline_file`), and, when it can be written, an arm in `create_output` (in the `outputs` module).

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use slicestream::{Dataset, Error};

pub use super::outputs::{create_output, output_files, Output};
use super::{fail, CliResult};

/// A file format the CLI knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// numpy's `.npy`: one array, one element per row.
    Npy,
    /// numpy's `.npz`: a dict of arrays of equal length.
    Npz,
    /// TensorFlow's TFRecord: raw records, or `tf.train.Example`s parsed into dicts.
    Tfrecord,
    /// Comma-separated values with a header.
    Csv,
    /// Apache Parquet.
    Parquet,
    /// Arrow IPC (Feather v2) file.
    Ipc,
    /// A pipeline file: `{"input": …, "pipeline": […]}`.
    Pipeline,
}

/// What the CLI knows of a format.
struct Info {
    format: Format,
    name: &'static str,
    extensions: &'static [&'static str],
    magic: &'static [u8],
}

/// Every format, in the order detection tries them.
const FORMATS: &[Info] = &[
    Info {
        format: Format::Npy,
        name: "NPY",
        extensions: &["npy"],
        magic: b"\x93NUMPY",
    },
    Info {
        format: Format::Npz,
        name: "NPZ",
        extensions: &["npz"],
        magic: b"PK\x03\x04",
    },
    Info {
        format: Format::Parquet,
        name: "Parquet",
        extensions: &["parquet", "pq"],
        magic: b"PAR1",
    },
    Info {
        format: Format::Ipc,
        name: "Arrow IPC",
        extensions: &["arrow", "arrows", "ipc", "feather"],
        magic: b"ARROW1",
    },
    Info {
        format: Format::Tfrecord,
        name: "TFRecord",
        extensions: &["tfrecord", "tfrecords", "tfrec"],
        magic: b"",
    },
    Info {
        format: Format::Csv,
        name: "CSV",
        extensions: &["csv", "tsv"],
        magic: b"",
    },
    Info {
        format: Format::Pipeline,
        name: "pipeline file",
        extensions: &["json"],
        magic: b"",
    },
];

impl Format {
    fn info(self) -> &'static Info {
        FORMATS
            .iter()
            .find(|i| i.format == self)
            .unwrap_or(&FORMATS[0])
    }

    /// The format's display name.
    pub fn name(self) -> &'static str {
        self.info().name
    }
}

/// The extension that says the format, looking through a trailing `.gz` (`x.tfrecord.gz`).
fn extension(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    Path::new(name)
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
}

fn known_extensions() -> String {
    FORMATS
        .iter()
        .flat_map(|i| i.extensions.iter().map(|e| format!(".{e}")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The format of an existing file: its magic bytes, else its extension.
pub fn detect(path: &Path) -> CliResult<Format> {
    let mut head = [0u8; 8];
    let n = {
        use std::io::Read;
        let mut f = std::fs::File::open(path).map_err(|e| Error::io(e, path))?;
        if f.metadata().map(|m| m.is_dir()).unwrap_or(false) {
            return Err(fail(format!(
                "{} is a directory, not a file",
                path.display()
            )));
        }
        f.read(&mut head).map_err(|e| Error::io(e, path))?
    };
    if let Some(i) = FORMATS
        .iter()
        .find(|i| !i.magic.is_empty() && head[..n].starts_with(i.magic))
    {
        return Ok(i.format);
    }
    by_extension(path).ok_or_else(|| {
        fail(format!(
            "{}: unknown format (known extensions: {})",
            path.display(),
            known_extensions()
        ))
    })
}

/// The output format: `to` when given (`--to`), else the one `output`'s extension names.
pub fn output_format(to: Option<Format>, output: &Path) -> CliResult<Format> {
    match to {
        Some(f) => Ok(f),
        None => by_extension(output).ok_or_else(|| {
            fail(format!(
                "cannot tell the output format from {}: use a known extension or --to",
                output.display()
            ))
        }),
    }
}

/// The format an output path names by its extension.
pub fn by_extension(path: &Path) -> Option<Format> {
    let ext = extension(path)?;
    FORMATS
        .iter()
        .find(|i| i.extensions.contains(&ext.as_str()))
        .map(|i| i.format)
}

/// How to read files.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// The format, instead of detecting it.
    pub format: Option<Format>,
    /// TFRecord: the raw records, not parsed as `tf.train.Example`.
    pub raw: bool,
}

/// Files opened as a dataset.
pub struct Input {
    /// Their format.
    pub format: Format,
    /// Their elements.
    pub dataset: Dataset,
    /// How they were read (e.g. "features inferred from the first 100 records").
    pub note: String,
    /// The pipeline file that reads them: `{"input": SOURCE, "pipeline": []}`, or the pipeline file
    /// itself with its paths resolved.
    pub pipeline: Value,
}

impl Input {
    /// The dataset with `ops` (pipeline-file ops) appended to the input's pipeline.
    pub fn with_ops(&self, ops: Vec<Value>) -> CliResult<Dataset> {
        if ops.is_empty() {
            return Ok(self.dataset.clone());
        }
        let mut file = self.pipeline.clone();
        let mut all = match file.get("pipeline") {
            Some(Value::Array(existing)) => existing.clone(),
            _ => Vec::new(),
        };
        all.extend(ops);
        file["pipeline"] = Value::Array(all);
        Ok(crate::pipeline_file::build(&file)?)
    }
}

/// Opens files as one dataset: several NPY files become a dict named by their stems, several
/// TFRecord files one stream; a pipeline file is built.
pub fn open(paths: &[PathBuf], options: &ReadOptions) -> CliResult<Input> {
    let first = paths.first().ok_or_else(|| fail("no input file"))?;
    for p in paths {
        if !p.exists() {
            return Err(Error::not_found(format!("no such file: {}", p.display())).into());
        }
    }
    let format = match options.format {
        Some(f) => f,
        None => detect(first)?,
    };
    for p in &paths[1..] {
        let other = options.format.map_or_else(|| detect(p), Ok)?;
        if other != format {
            return Err(fail(format!(
                "{} is {} but {} is {}: inputs must share a format",
                first.display(),
                format.name(),
                p.display(),
                other.name()
            )));
        }
    }
    if format == Format::Pipeline {
        if paths.len() > 1 {
            return Err(fail("give one pipeline file at a time"));
        }
        let pipeline = read_pipeline(first)?;
        let dataset = crate::pipeline_file::build(&pipeline)?;
        return Ok(Input {
            format,
            dataset,
            note: String::new(),
            pipeline,
        });
    }
    let source = source_json(format, paths, options)?;
    let (dataset, source, note) = match crate::pipeline_file::source(&source) {
        Ok(dataset) => {
            let note = note(format, &source);
            (dataset, source, note)
        }
        // Not Examples after all: fall back to the raw records.
        Err(e) if format == Format::Tfrecord && !options.raw && is_format_error(&e) => {
            let raw = ReadOptions {
                raw: true,
                ..options.clone()
            };
            let source = source_json(format, paths, &raw)?;
            let dataset = crate::pipeline_file::source(&source)?;
            (dataset, source, format!("raw records ({})", e.message()))
        }
        Err(e) => return Err(e.into()),
    };
    let pipeline = json!({"input": source, "pipeline": []});
    Ok(Input {
        format,
        dataset,
        note,
        pipeline,
    })
}

fn is_format_error(e: &Error) -> bool {
    matches!(e.kind(), slicestream::ErrorKind::Format(_))
}

fn note(format: Format, source: &Value) -> String {
    match format {
        Format::Tfrecord if source.get("features").is_some() => {
            "tf.train.Example records; features inferred from the first 100 records".to_string()
        }
        Format::Tfrecord => "raw records".to_string(),
        _ => String::new(),
    }
}

pub(super) fn text(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// The pipeline-file source that reads these files.
pub fn source_json(format: Format, paths: &[PathBuf], options: &ReadOptions) -> CliResult<Value> {
    let one = |kind: &str| -> CliResult<Value> {
        match paths {
            [p] => Ok(json!({"source": kind, "path": text(p)})),
            _ => Err(fail(format!("give one {} file at a time", format.name()))),
        }
    };
    match format {
        Format::Npy if paths.len() == 1 => one("npy"),
        Format::Npy => {
            let mut named = serde_json::Map::new();
            for p in paths {
                let stem = p
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                if named.insert(stem.clone(), json!(text(p))).is_some() {
                    return Err(fail(format!(
                        "two NPY inputs are named {stem:?}: components need distinct names"
                    )));
                }
            }
            Ok(json!({"source": "npy", "paths": named}))
        }
        Format::Npz => one("npz"),
        Format::Tfrecord => {
            let mut s = json!({"source": "tfrecord", "paths": paths.iter().map(|p| text(p)).collect::<Vec<_>>()});
            if !options.raw {
                s["features"] = json!("infer");
            }
            Ok(s)
        }
        Format::Csv => {
            Ok(json!({"source": "csv", "paths": paths.iter().map(|p| text(p)).collect::<Vec<_>>()}))
        }
        Format::Parquet => Ok(
            json!({"source": "parquet", "paths": paths.iter().map(|p| text(p)).collect::<Vec<_>>()}),
        ),
        Format::Ipc => one("ipc"),
        Format::Pipeline => Err(fail("a pipeline file is not a data file")),
    }
}

pub(super) fn not_yet(format: Format, what: &str) -> super::Failure {
    fail(format!(
        "this build cannot {what} {} files yet",
        format.name()
    ))
}

/// Reads a pipeline file, making its relative file paths relative to the file's folder.
pub fn read_pipeline(path: &Path) -> CliResult<Value> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(e, path))?;
    let mut value: Value = serde_json::from_str(&text)
        .map_err(|e| fail(format!("{}: not JSON: {e}", path.display())))?;
    if !value.is_object() {
        return Err(fail(format!(
            "{}: a pipeline file is an object {{\"input\": …, \"pipeline\": […]}}",
            path.display()
        )));
    }
    if let Some(dir) = path.parent() {
        resolve_paths(&mut value, dir);
    }
    Ok(value)
}

/// Makes the relative `path` / `paths` of file sources relative to `dir`.
fn resolve_paths(value: &mut Value, dir: &Path) {
    let fix = |v: &mut Value| {
        if let Some(s) = v.as_str() {
            if Path::new(s).is_relative() {
                *v = json!(text(&dir.join(s)));
            }
        }
    };
    match value {
        Value::Object(map) => {
            if map.get("source").and_then(Value::as_str).is_some() {
                if let Some(p) = map.get_mut("path") {
                    fix(p);
                }
                match map.get_mut("paths") {
                    Some(Value::Array(items)) => items.iter_mut().for_each(fix),
                    Some(Value::Object(items)) => items.values_mut().for_each(fix),
                    _ => {}
                }
            }
            map.values_mut().for_each(|v| resolve_paths(v, dir));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| resolve_paths(v, dir)),
        _ => {}
    }
}
