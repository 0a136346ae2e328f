//! `save` / `load`: a whole dataset as a directory of element files (shards) with its spec, written
//! atomically and read back lazily (docs/formats.md, "Saved datasets").

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde_json::{json, Value};

use crate::dataset::{Cardinality, Context, Dataset, Node, Stream};
use crate::element::{Element, ElementSpec};
use crate::error::{Error, Result};
use crate::io::element_file::{spec_from_json, spec_to_json, ElementFileReader, ElementFileWriter};

/// The name of the description inside a saved dataset's directory.
const DESCRIPTION: &str = "dataset.json";
/// The description's `format`.
const FORMAT: &str = "slicestream-saved-dataset";
/// The plan text written into every shard of a saved dataset (checked when it is loaded).
const SHARD_PLAN: &str = "saved dataset shard";

/// How [`Dataset::save`] writes.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SaveOptions {
    /// A new shard file is started once the current one holds this many bytes of values.
    pub max_shard_bytes: u64,
}

impl Default for SaveOptions {
    fn default() -> Self {
        SaveOptions {
            max_shard_bytes: 256 << 20,
        }
    }
}

impl SaveOptions {
    /// `max_shard_bytes` (at least 1).
    pub fn with_max_shard_bytes(mut self, bytes: u64) -> Self {
        self.max_shard_bytes = bytes.max(1);
        self
    }
}

/// What [`Dataset::save`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SaveSummary {
    /// Elements written.
    pub elements: u64,
    /// Shard files written.
    pub shards: usize,
}

/// The directory `.NAME.PID-N.tmp` beside `target`, removed on drop unless renamed.
struct TempDir {
    tmp: PathBuf,
    done: bool,
}

impl TempDir {
    fn create(target: &Path) -> Result<TempDir> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let name = target.file_name().ok_or_else(|| {
            Error::invalid_argument(format!("{} does not name a directory", target.display()))
        })?;
        let tmp = target.with_file_name(format!(
            ".{}.{}-{}.tmp",
            name.to_string_lossy(),
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir(&tmp).map_err(|e| Error::io(e, target))?;
        Ok(TempDir { tmp, done: false })
    }

    fn rename_to(mut self, target: &Path) -> Result<()> {
        std::fs::rename(&self.tmp, target).map_err(|e| Error::io(e, target))?;
        self.done = true;
        Ok(())
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_dir_all(&self.tmp);
        }
    }
}

fn shard_name(i: usize) -> String {
    format!("shard-{i:05}.elements")
}

/// A saved dataset's description: its spec and its shards with their element counts.
struct Description {
    spec: ElementSpec,
    shards: Vec<(PathBuf, u64)>,
}

fn read_description(dir: &Path) -> Result<Description> {
    let path = dir.join(DESCRIPTION);
    let text = std::fs::read(&path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::not_found(format!(
                "{} is not a saved dataset (no {DESCRIPTION})",
                dir.display()
            ))
            .with_file(&path)
            .with_source(e)
        } else {
            Error::io(e, &path)
        }
    })?;
    let bad = |why: &str| Error::format(format!("saved dataset: {why}")).with_file(&path);
    let v: Value = serde_json::from_slice(&text).map_err(|e| bad(&format!("not JSON ({e})")))?;
    if v.get("format").and_then(Value::as_str) != Some(FORMAT) {
        return Err(bad(&format!("\"format\" is not {FORMAT:?}")));
    }
    if v.get("version").and_then(Value::as_u64) != Some(1) {
        return Err(bad("unknown \"version\" (this build reads version 1)"));
    }
    let spec =
        spec_from_json(v.get("spec").unwrap_or(&Value::Null)).map_err(|e| e.with_file(&path))?;
    let shards = v
        .get("shards")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("no \"shards\" list"))?
        .iter()
        .map(|s| {
            let file = s
                .get("file")
                .and_then(Value::as_str)
                .filter(|f| !f.contains('/') && !f.contains('\\') && !f.starts_with('.'))
                .ok_or_else(|| bad("a shard without a plain file name"))?;
            let elements = s
                .get("elements")
                .and_then(Value::as_u64)
                .ok_or_else(|| bad("a shard without an element count"))?;
            Ok((dir.join(file), elements))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Description { spec, shards })
}

struct LoadNode {
    spec: ElementSpec,
    shards: Arc<[(PathBuf, u64)]>,
}

impl Node for LoadNode {
    fn name(&self) -> &'static str {
        "load"
    }

    fn spec(&self) -> Result<ElementSpec> {
        Ok(self.spec.clone())
    }

    fn cardinality(&self) -> Cardinality {
        Cardinality::Finite(self.shards.iter().map(|(_, n)| n).sum())
    }

    fn open(&self, _ctx: &Context) -> Result<Stream> {
        let shards = self.shards.clone();
        let spec = self.spec.clone();
        let mut next_shard = 0usize;
        let mut current: Option<(ElementFileReader, u64)> = None;
        let mut failed = false;
        Ok(Stream::elements(std::iter::from_fn(move || loop {
            if failed {
                return None;
            }
            let fail = |failed: &mut bool, e: Error| {
                *failed = true;
                Some(Err(e.with_stage("load")))
            };
            if let Some((reader, expected)) = current.as_mut() {
                match reader.next_element() {
                    Ok(Some(e)) => return Some(Ok(e)),
                    Ok(None) if reader.records() == *expected => current = None,
                    Ok(None) => {
                        let why = format!(
                            "the shard holds {} elements, the dataset's description says {expected}",
                            reader.records()
                        );
                        let e =
                            Error::format(format!("saved dataset: {why}")).with_file(reader.path());
                        return fail(&mut failed, e);
                    }
                    Err(e) => return fail(&mut failed, e),
                }
            }
            let (path, expected) = shards.get(next_shard)?;
            next_shard += 1;
            match ElementFileReader::open(path) {
                Ok(reader) if reader.spec() != &spec || reader.plan() != SHARD_PLAN => {
                    let e = Error::format(format!(
                        "saved dataset: the shard holds elements {} of {:?}, the description {spec}",
                        reader.spec(),
                        reader.plan()
                    ))
                    .with_file(path);
                    return fail(&mut failed, e);
                }
                Ok(reader) => current = Some((reader, *expected)),
                Err(e) => return fail(&mut failed, e),
            }
        })))
    }
}

impl Dataset {
    /// Writes every element of one pass over this dataset into the directory `path`, as shard
    /// files of element records beside a `dataset.json` with the spec (tf.data's `save`; the
    /// format is slicestream's own, in docs/formats.md). The directory is written under a
    /// temporary name beside `path` and renamed when complete: a failed or interrupted save
    /// leaves nothing under `path`. [`Dataset::load`] reads it back.
    ///
    /// Errors when `path` exists, with the dataset's first error, and on I/O failures.
    ///
    /// ```
    /// use slicestream::Dataset;
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("saved");
    /// Dataset::range(0, 5, 1)?.save(&path, Default::default())?;
    /// let back = Dataset::load(&path)?;
    /// assert_eq!(back.cardinality().as_tf(), 5);
    /// assert_eq!(back.iter().count(), 5);
    /// # Ok::<(), slicestream::Error>(())
    /// ```
    pub fn save(&self, path: impl AsRef<Path>, options: SaveOptions) -> Result<SaveSummary> {
        let target = path.as_ref();
        if target.exists() {
            return Err(Error::invalid_argument(format!(
                "{} exists: save writes a new directory",
                target.display()
            ))
            .with_file(target));
        }
        let spec = self.element_spec()?;
        let dir = TempDir::create(target)?;
        let mut shards: Vec<(String, u64)> = Vec::new();
        let mut writer: Option<ElementFileWriter> = None;
        let mut shard_bytes = 0u64;
        for element in self.iter() {
            let element: Element = element?;
            if writer.is_none() || shard_bytes >= options.max_shard_bytes {
                if let Some(w) = writer.take() {
                    let n = w.finish()?;
                    if let Some(last) = shards.last_mut() {
                        last.1 = n;
                    }
                }
                let name = shard_name(shards.len());
                writer = Some(ElementFileWriter::create(
                    &dir.tmp.join(&name),
                    &spec,
                    SHARD_PLAN,
                )?);
                shards.push((name, 0));
                shard_bytes = 0;
            }
            if let Some(w) = writer.as_mut() {
                w.write(&element)?;
            }
            shard_bytes += element.nbytes() as u64;
        }
        if let Some(w) = writer.take() {
            let n = w.finish()?;
            if let Some(last) = shards.last_mut() {
                last.1 = n;
            }
        }
        let elements = shards.iter().map(|(_, n)| n).sum();
        let description = json!({
            "format": FORMAT,
            "version": 1,
            "spec": spec_to_json(&spec),
            "elements": elements,
            "shards": shards.iter().map(|(f, n)| json!({"file": f, "elements": n})).collect::<Vec<_>>(),
        });
        let text = serde_json::to_vec_pretty(&description)
            .map_err(|e| Error::invalid_argument("saved dataset description").with_source(e))?;
        let desc_path = dir.tmp.join(DESCRIPTION);
        std::fs::write(&desc_path, text).map_err(|e| Error::io(e, &desc_path))?;
        std::fs::File::open(&desc_path)
            .and_then(|f| f.sync_all())
            .map_err(|e| Error::io(e, &desc_path))?;
        dir.rename_to(target)?;
        Ok(SaveSummary {
            elements,
            shards: shards.len(),
        })
    }

    /// The dataset [`Dataset::save`] wrote into `path` (tf.data's `load`): the description is read
    /// now (its spec and element count: the cardinality), the shards as they are iterated.
    ///
    /// Errors now for a directory without a valid `dataset.json`; while iterating for a missing,
    /// corrupt or truncated shard (naming the file and the byte offset) or one whose count or spec
    /// differs from the description.
    pub fn load(path: impl AsRef<Path>) -> Result<Dataset> {
        let d = read_description(path.as_ref()).map_err(|e| e.with_stage("load"))?;
        Ok(Dataset::from_node(LoadNode {
            spec: d.spec,
            shards: d.shards.into(),
        }))
    }
}
