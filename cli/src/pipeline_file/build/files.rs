//! File sources of pipeline files: `{"source": "npy" | "npz" | "tfrecord", …}`.
//!
//! * `npy`: `"path"` (one array, one tensor per row), `"paths"` as a list (a tuple of arrays) or an
//!   object (a dict of arrays: `{"image": "x.npy", "label": "y.npy"}`).
//! * `npz`: `"path"`: a dict of the archive's arrays.
//! * `tfrecord`: `"path"` or `"paths"` (files read in order), `"compression"` (`""`, `"GZIP"`,
//!   `"ZLIB"`; by default GZIP for names ending in `.gz`), and `"features"`: absent for the raw
//!   records (one `bytes` scalar each), `"infer"` to parse `tf.train.Example`s with a description
//!   read off the first 100 records, or a description `{"label": "int64", "score": {"dtype": "float32",
//!   "shape": [3]}, "tags": {"dtype": "string", "var_len": true}, "w": {"dtype": "float32", "default":
//!   1.0}}`.
//! * `csv`: `"path"` or `"paths"`, with optional `"label"` (elements become `(features, label)`),
//!   `"columns"` (the columns to keep), `"column_types"` (`{"label": "int64"}`), `"delimiter"` (one
//!   character) and `"header"` (default true); `"groups"` gathers columns into one tensor:
//!   `{"image": {"columns": ["p0", …], "dtype": "uint8", "shape": [8, 8]}}`.
//! * `parquet`: `"path"` or `"paths"`, and optional `"columns"`.
//! * `ipc`: `"path"` (an Arrow IPC file or stream).

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{bad, field};
use crate::pipeline_file::encoding::tensor_from_python_list;
use slicestream::dataset::Dataset;
use slicestream::error::{Error, Result};
use slicestream::io::tfrecord::{
    Compression, Example, FeatureDescription, FeatureKind, FeatureSpec, TfRecordReader,
};
use slicestream::tensor::DType;

/// The names of the file sources, for messages.
pub(super) const FILE_SOURCES: &str = "npy, npz, tfrecord, csv, parquet, ipc";

fn path_of(v: &Value) -> Result<PathBuf> {
    v.as_str()
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .ok_or_else(|| bad(format!("a path must be a non-empty string, got {v}")))
}

/// `"path"` or a list `"paths"`, for sources that read files one after another.
fn path_list(input: &Value) -> Result<Vec<PathBuf>> {
    match (input.get("path"), input.get("paths")) {
        (Some(p), None) => Ok(vec![path_of(p)?]),
        (None, Some(Value::Array(items))) if !items.is_empty() => {
            items.iter().map(path_of).collect()
        }
        (None, Some(_)) => Err(bad("\"paths\" must be a non-empty list of file names")),
        (Some(_), Some(_)) => Err(bad("give \"path\" or \"paths\", not both")),
        (None, None) => Err(bad("a file source needs a \"path\" (or \"paths\")")),
    }
}

/// Builds a file source, or `None` when `kind` is not one.
pub(super) fn file_source(kind: &str, input: &Value) -> Option<Result<Dataset>> {
    Some(match kind {
        "npy" => npy(input),
        "npz" => field(input, "path")
            .and_then(path_of)
            .and_then(Dataset::from_npz),
        "tfrecord" => tfrecord(input),
        "csv" => csv(input),
        "parquet" => parquet(input),
        "ipc" => field(input, "path")
            .and_then(path_of)
            .and_then(Dataset::from_ipc),
        _ => return None,
    })
}

/// A list of strings (`"columns"`), or `None` when absent.
fn names(input: &Value, name: &str) -> Result<Option<Vec<String>>> {
    match input.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| bad(format!("{name:?} must be a list of names")))
            })
            .collect::<Result<Vec<_>>>()
            .map(Some),
        Some(v) => Err(bad(format!("{name:?} must be a list of names, got {v}"))),
    }
}

fn csv(input: &Value) -> Result<Dataset> {
    use slicestream::io::csv::{CsvGroup, CsvOptions};
    let paths = path_list(input)?;
    let mut options = CsvOptions::default();
    if let Some(label) = input.get("label").filter(|v| !v.is_null()) {
        let label = label
            .as_str()
            .ok_or_else(|| bad("\"label\" must be a column name"))?;
        options = options.with_label(label);
    }
    if let Some(columns) = names(input, "columns")? {
        options = options.with_select_columns(columns);
    }
    match input.get("column_types") {
        None | Some(Value::Null) => {}
        Some(Value::Object(types)) => {
            for (column, dtype) in types {
                let dtype: DType = dtype
                    .as_str()
                    .ok_or_else(|| {
                        bad(format!(
                            "the type of column {column:?} must be a dtype name"
                        ))
                    })?
                    .parse()?;
                options = options.with_column_type(column.clone(), dtype);
            }
        }
        Some(v) => return Err(bad(format!("\"column_types\" must be an object, got {v}"))),
    }
    match input
        .get("delimiter")
        .map(|v| v.as_str().map(str::as_bytes))
    {
        None => {}
        Some(Some([d])) => options = options.with_delimiter(*d),
        Some(_) => return Err(bad("\"delimiter\" must be one ASCII character")),
    }
    if let Some(header) = input.get("header") {
        let header = header
            .as_bool()
            .ok_or_else(|| bad("\"header\" must be true or false"))?;
        options = options.with_header(header);
    }
    if let Some(groups) = input.get("groups").filter(|v| !v.is_null()) {
        let groups = groups
            .as_object()
            .ok_or_else(|| bad("\"groups\" must be an object"))?;
        for (name, g) in groups {
            let columns = names(g, "columns")?
                .ok_or_else(|| bad(format!("group {name:?} needs \"columns\"")))?;
            let mut group = CsvGroup::new(name.clone(), columns);
            if let Some(d) = g.get("dtype").and_then(Value::as_str) {
                group = group.with_dtype(d.parse()?);
            }
            if let Some(Value::Array(dims)) = g.get("shape") {
                let shape = dims
                    .iter()
                    .map(|d| {
                        d.as_u64()
                            .map(|d| d as usize)
                            .ok_or_else(|| bad("group shapes hold non-negative integers"))
                    })
                    .collect::<Result<Vec<_>>>()?;
                group = group.with_shape(shape);
            }
            options = options.with_group(group);
        }
    }
    Dataset::from_csv_files(paths, options)
}

fn parquet(input: &Value) -> Result<Dataset> {
    let paths = path_list(input)?;
    let columns = names(input, "columns")?;
    let columns: Option<Vec<&str>> = columns
        .as_ref()
        .map(|c| c.iter().map(String::as_str).collect());
    Dataset::from_parquet(paths, columns.as_deref())
}

fn npy(input: &Value) -> Result<Dataset> {
    match (input.get("path"), input.get("paths")) {
        (Some(p), None) => Dataset::from_npy(path_of(p)?),
        (None, Some(Value::Array(items))) if !items.is_empty() => {
            Dataset::from_npy_tuple(items.iter().map(path_of).collect::<Result<Vec<_>>>()?)
        }
        (None, Some(Value::Object(items))) if !items.is_empty() => Dataset::from_npy_dict(
            items
                .iter()
                .map(|(k, v)| Ok((k.clone(), path_of(v)?)))
                .collect::<Result<Vec<_>>>()?,
        ),
        _ => Err(bad(
            "an npy source needs \"path\", or \"paths\" as a list (a tuple) or an object (a dict)",
        )),
    }
}

fn tfrecord(input: &Value) -> Result<Dataset> {
    let paths = path_list(input)?;
    let compression = match input.get("compression") {
        None | Some(Value::Null) => {
            let gz = paths[0]
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("gz"));
            if gz {
                Compression::Gzip
            } else {
                Compression::None
            }
        }
        Some(v) => v
            .as_str()
            .ok_or_else(|| bad("\"compression\" must be \"\", \"GZIP\" or \"ZLIB\""))?
            .parse()?,
    };
    match input.get("features") {
        None | Some(Value::Null) => Dataset::from_tfrecord(paths, compression),
        Some(Value::String(s)) if s == "infer" => {
            let features = infer_features(&paths[0], compression)?;
            Dataset::from_tfrecord_examples(paths, compression, features)
        }
        Some(Value::Object(items)) => {
            let features = FeatureDescription::new(
                items
                    .iter()
                    .map(|(name, spec)| Ok((name.clone(), feature_spec(name, spec)?)))
                    .collect::<Result<Vec<_>>>()?,
            )?;
            Dataset::from_tfrecord_examples(paths, compression, features)
        }
        Some(other) => Err(bad(format!(
            "\"features\" must be \"infer\" or an object of feature specs, got {other}"
        ))),
    }
}

/// One feature's spec: `"int64"`, or `{"dtype", "shape"?, "default"?, "var_len"?}`.
fn feature_spec(name: &str, spec: &Value) -> Result<FeatureSpec> {
    let dtype_of = |v: &Value| -> Result<DType> {
        v.as_str()
            .ok_or_else(|| bad(format!("feature {name:?}: \"dtype\" must be a string")))?
            .parse()
    };
    if let Value::String(_) = spec {
        return Ok(FeatureSpec::fixed(dtype_of(spec)?, []));
    }
    let dtype = dtype_of(
        spec.get("dtype")
            .ok_or_else(|| bad(format!("feature {name:?} needs a \"dtype\"")))?,
    )?;
    if spec.get("var_len").and_then(Value::as_bool) == Some(true) {
        return Ok(FeatureSpec::var_len(dtype));
    }
    let shape: Vec<usize> = match spec.get("shape") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(dims)) => dims
            .iter()
            .map(|d| {
                d.as_u64().map(|d| d as usize).ok_or_else(|| {
                    bad(format!(
                        "feature {name:?}: shape dimensions must be non-negative integers"
                    ))
                })
            })
            .collect::<Result<_>>()?,
        Some(_) => return Err(bad(format!("feature {name:?}: \"shape\" must be a list"))),
    };
    match spec.get("default") {
        None | Some(Value::Null) => Ok(FeatureSpec::fixed(dtype, shape)),
        Some(v) => {
            let default = tensor_from_python_list(v)?;
            let default = crate::pipeline_file::cast(&default, dtype)
                .map_err(|e| bad(format!("feature {name:?}: bad default: {}", e.message())))?;
            Ok(FeatureSpec::fixed_with_default(dtype, shape, default))
        }
    }
}

/// Records read to infer a feature description.
const INFER_RECORDS: usize = 100;

/// The description of the first records (up to 100) of `path` read as `tf.train.Example`s: a
/// feature with the same number of values in each is fixed-length (a scalar for one value), one whose
/// count varies or that some records lack is var-len; `int64_list` gives int64, `float_list` float32,
/// `bytes_list` bytes.
pub(crate) fn infer_features(path: &Path, compression: Compression) -> Result<FeatureDescription> {
    use std::collections::BTreeMap;
    let mut reader = TfRecordReader::open(path, compression)?;
    // name -> (dtype, count if the same in every record so far, records that have it)
    let mut seen: BTreeMap<String, (DType, Option<usize>, usize)> = BTreeMap::new();
    let mut records = 0;
    while records < INFER_RECORDS {
        let Some(record) = reader.next_record()? else {
            break;
        };
        let example = Example::from_bytes(&record.data)
            .map_err(|e| e.with_file(path).with_record(records as u64))?;
        let features = example.features.map(|f| f.feature).unwrap_or_default();
        if records == 0 && features.is_empty() {
            return Err(Error::format(
                "the first record is not a tf.train.Example with features (read it raw instead)",
            )
            .with_file(path)
            .with_record(0));
        }
        for (name, feature) in features {
            let (dtype, n) = match &feature.kind {
                Some(FeatureKind::Int64List(l)) => (DType::I64, l.value.len()),
                Some(FeatureKind::FloatList(l)) => (DType::F32, l.value.len()),
                Some(FeatureKind::BytesList(l)) => (DType::Bytes, l.value.len()),
                None => continue,
            };
            let entry = seen.entry(name.clone()).or_insert((dtype, Some(n), 0));
            if entry.0 != dtype {
                return Err(Error::format(format!(
                    "feature {name:?} is {} in one record and {} in another",
                    entry.0, dtype
                ))
                .with_file(path)
                .with_record(records as u64));
            }
            if entry.1 != Some(n) {
                entry.1 = None;
            }
            entry.2 += 1;
        }
        records += 1;
    }
    if records == 0 {
        return Err(
            Error::format("the file has no records to infer the features from").with_file(path),
        );
    }
    FeatureDescription::new(seen.into_iter().map(|(name, (dtype, n, present))| {
        let spec = match n.filter(|_| present == records) {
            None | Some(0) => FeatureSpec::var_len(dtype),
            Some(1) => FeatureSpec::fixed(dtype, []),
            Some(n) => FeatureSpec::fixed(dtype, [n]),
        };
        (name, spec)
    }))
}
