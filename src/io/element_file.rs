//! The element file: slicestream's own record format for whole elements of any spec, written by
//! `cache(filename)` and `save` and read back by them and `load` (docs/formats.md). No format of
//! the crates we use holds a nested element of strings and tensors of any rank, record by record,
//! with a checksum per record, so it is written here.
//!
//! ```text
//! magic      b"SSELEM\0\x01"                                   8 bytes
//! header     u32 LE length, JSON {"spec": SPEC, "plan": TEXT},  then u32 LE CRC-32C of the JSON
//! records    u64 LE length, u32 LE CRC-32C of the payload, payload      (once per element)
//! end        u64 LE u64::MAX, u64 LE number of records, u32 LE CRC-32C of that number
//! payload    per component (the spec's order): its dimensions (u64 LE each, the spec's rank),
//!            then its values: fixed-width values as they are in memory (little-endian),
//!            strings and bytes as one u64 LE length per value, then the values' bytes
//! ```
//!
//! A file is written under a temporary name and renamed when its end is written, so a file under
//! its name is complete; a reader still checks the end and every checksum.

use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use arrow_buffer::{Buffer, ScalarBuffer};
use serde_json::{json, Value};

use crate::element::{Element, ElementSpec, Structure, TensorSpec};
use crate::error::{Error, Result};
use crate::io::{FaultFile, TempFile};
use crate::tensor::{alloc, DType, Tensor};

const MAGIC: &[u8; 8] = b"SSELEM\0\x01";
const END: u64 = u64::MAX;
/// Header JSON larger than this is refused (a spec is a few KB at most).
const MAX_HEADER: u32 = 16 << 20;

/// The JSON of a structure: `"tensor"`, `{"tuple": [...]}`, `{"dict": [[key, ...], ...]}`.
fn structure_to_json(s: &Structure) -> Value {
    match s {
        Structure::Tensor => json!("tensor"),
        Structure::Tuple(items) => {
            json!({"tuple": items.iter().map(structure_to_json).collect::<Vec<_>>()})
        }
        Structure::Dict(items) => json!({"dict": items
            .iter()
            .map(|(k, s)| json!([k, structure_to_json(s)]))
            .collect::<Vec<_>>()}),
    }
}

fn structure_from_json(v: &Value, depth: usize) -> Result<Structure> {
    let bad = || Error::format(format!("element file: bad structure {v}"));
    if depth > 64 {
        return Err(Error::format(
            "element file: structure nested past 64 levels",
        ));
    }
    if v == "tensor" {
        return Ok(Structure::Tensor);
    }
    if let Some(items) = v.get("tuple").and_then(Value::as_array) {
        return Ok(Structure::Tuple(
            items
                .iter()
                .map(|i| structure_from_json(i, depth + 1))
                .collect::<Result<_>>()?,
        ));
    }
    let items = v.get("dict").and_then(Value::as_array).ok_or_else(bad)?;
    Ok(Structure::Dict(
        items
            .iter()
            .map(|pair| match pair.as_array().map(Vec::as_slice) {
                Some([Value::String(k), s]) => Ok((k.clone(), structure_from_json(s, depth + 1)?)),
                _ => Err(bad()),
            })
            .collect::<Result<_>>()?,
    ))
}

/// The JSON of a spec: `{"structure": ..., "components": [{"dtype": "int64", "shape": [null, 3]}]}`.
pub(crate) fn spec_to_json(spec: &ElementSpec) -> Value {
    json!({
        "structure": structure_to_json(spec.structure()),
        "components": spec.components().iter().map(|c| json!({
            "dtype": c.dtype.name(),
            "shape": c.shape,
        })).collect::<Vec<_>>(),
    })
}

/// The spec of [`spec_to_json`]'s JSON.
pub(crate) fn spec_from_json(v: &Value) -> Result<ElementSpec> {
    let bad = |what: &str| Error::format(format!("element file: bad spec ({what})"));
    let structure = structure_from_json(v.get("structure").ok_or_else(|| bad("no structure"))?, 0)?;
    let components = v
        .get("components")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("no components"))?
        .iter()
        .map(|c| {
            let dtype: DType = c
                .get("dtype")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("a component without a dtype"))?
                .parse()?;
            let shape = c
                .get("shape")
                .and_then(Value::as_array)
                .ok_or_else(|| bad("a component without a shape"))?
                .iter()
                .map(|d| match d {
                    Value::Null => Ok(None),
                    d => d
                        .as_u64()
                        .and_then(|d| usize::try_from(d).ok())
                        .map(Some)
                        .ok_or_else(|| bad("a dimension that is not a size")),
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(TensorSpec::with_unknown(dtype, shape))
        })
        .collect::<Result<Vec<_>>>()?;
    ElementSpec::new(structure, components)
}

/// Writes elements of one spec to an element file: under a temporary name until
/// [`ElementFileWriter::finish`].
pub(crate) struct ElementFileWriter {
    temp: TempFile,
    out: BufWriter<FaultFile>,
    spec: ElementSpec,
    path: PathBuf,
    count: u64,
    payload: Vec<u8>,
}

impl ElementFileWriter {
    /// Starts `path` for elements of `spec`; `plan` describes what wrote it (checked by readers
    /// that must not take another dataset's file).
    pub(crate) fn create(path: &Path, spec: &ElementSpec, plan: &str) -> Result<Self> {
        let (temp, file) = TempFile::create(path)?;
        let mut out = BufWriter::new(file);
        let header = serde_json::to_vec(&json!({"spec": spec_to_json(spec), "plan": plan}))
            .map_err(|e| Error::invalid_argument("element file header").with_source(e))?;
        let io = |e| Error::io(e, path);
        out.write_all(MAGIC).map_err(io)?;
        out.write_all(&(header.len() as u32).to_le_bytes())
            .map_err(io)?;
        out.write_all(&header).map_err(io)?;
        out.write_all(&crc32c::crc32c(&header).to_le_bytes())
            .map_err(io)?;
        Ok(ElementFileWriter {
            temp,
            out,
            spec: spec.clone(),
            path: path.to_path_buf(),
            count: 0,
            payload: Vec::new(),
        })
    }

    /// Appends one element (it must have the file's structure, dtypes and ranks).
    pub(crate) fn write(&mut self, element: &Element) -> Result<()> {
        if element.structure() != self.spec.structure() {
            return Err(Error::incompatible(format!(
                "element {} of structure {} does not fit the file's {}",
                self.count,
                element.structure(),
                self.spec.structure()
            ))
            .with_file(&self.path));
        }
        self.payload.clear();
        for (t, s) in element.components().iter().zip(self.spec.components()) {
            if t.dtype() != s.dtype || t.rank() != s.rank() {
                return Err(Error::incompatible(format!(
                    "element {}: a {} tensor of shape {:?} does not fit the file's {s}",
                    self.count,
                    t.dtype(),
                    t.shape()
                ))
                .with_file(&self.path));
            }
            for &d in t.shape() {
                self.payload.extend_from_slice(&(d as u64).to_le_bytes());
            }
            match t.var_parts() {
                None => self
                    .payload
                    .extend_from_slice(t.buffer().map_or(&[][..], |b| b.as_slice())),
                Some((offsets, values)) => {
                    for w in offsets.windows(2) {
                        self.payload
                            .extend_from_slice(&((w[1] - w[0]) as u64).to_le_bytes());
                    }
                    let (first, last) = (offsets[0] as usize, offsets[offsets.len() - 1] as usize);
                    self.payload
                        .extend_from_slice(&values.as_slice()[first..last]);
                }
            }
        }
        let io = |e| Error::io(e, &self.path);
        self.out
            .write_all(&(self.payload.len() as u64).to_le_bytes())
            .map_err(io)?;
        self.out
            .write_all(&crc32c::crc32c(&self.payload).to_le_bytes())
            .map_err(io)?;
        self.out.write_all(&self.payload).map_err(io)?;
        self.count += 1;
        Ok(())
    }

    /// Writes the end, syncs the file and renames it to its name; the number of elements.
    pub(crate) fn finish(mut self) -> Result<u64> {
        let io = |e| Error::io(e, &self.path);
        let count = self.count.to_le_bytes();
        self.out.write_all(&END.to_le_bytes()).map_err(io)?;
        self.out.write_all(&count).map_err(io)?;
        self.out
            .write_all(&crc32c::crc32c(&count).to_le_bytes())
            .map_err(io)?;
        let file = self
            .out
            .into_inner()
            .map_err(|e| Error::io(e.into_error(), &self.path))?;
        self.temp.persist(file)?;
        Ok(self.count)
    }
}

/// Reads an element file, one element at a time.
pub(crate) struct ElementFileReader {
    input: BufReader<FaultFile>,
    path: PathBuf,
    spec: ElementSpec,
    plan: String,
    /// The file's length, which no record may pass.
    len: u64,
    offset: u64,
    count: u64,
    ended: bool,
}

impl ElementFileReader {
    /// Opens `path` and reads its header.
    pub(crate) fn open(path: &Path) -> Result<Self> {
        let file = FaultFile::open(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::not_found(format!("no element file {}", path.display()))
                    .with_file(path)
                    .with_source(e)
            } else {
                Error::io(e, path)
            }
        })?;
        let len = file.metadata().map_err(|e| Error::io(e, path))?.len();
        let mut r = ElementFileReader {
            input: BufReader::new(file),
            path: path.to_path_buf(),
            spec: ElementSpec::single(TensorSpec::new(DType::I64, &[])),
            plan: String::new(),
            len,
            offset: 0,
            count: 0,
            ended: false,
        };
        let mut magic = [0u8; 8];
        r.read_exact(&mut magic)?;
        if &magic != MAGIC {
            return Err(r.corrupt(0, "not a slicestream element file (bad magic)"));
        }
        let header_len = u32::from_le_bytes(r.array()?);
        if header_len > MAX_HEADER || u64::from(header_len) > r.len - r.offset {
            return Err(r.corrupt(
                8,
                format!("header length {header_len} is past the file's end"),
            ));
        }
        let mut header = vec![0u8; header_len as usize];
        r.read_exact(&mut header)?;
        let crc = u32::from_le_bytes(r.array()?);
        if crc != crc32c::crc32c(&header) {
            return Err(r.corrupt(12, "the header's checksum does not match"));
        }
        let header: Value = serde_json::from_slice(&header)
            .map_err(|e| r.corrupt(12, format!("the header is not JSON ({e})")))?;
        r.spec = spec_from_json(header.get("spec").unwrap_or(&Value::Null))
            .map_err(|e| e.with_file(path))?;
        r.plan = header
            .get("plan")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        Ok(r)
    }

    /// The spec of the file's elements.
    pub(crate) fn spec(&self) -> &ElementSpec {
        &self.spec
    }

    /// The records read so far.
    pub(crate) fn records(&self) -> u64 {
        self.count
    }

    /// The file's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// What wrote the file (the plan's description).
    pub(crate) fn plan(&self) -> &str {
        &self.plan
    }

    fn corrupt(&self, offset: u64, why: impl std::fmt::Display) -> Error {
        Error::format(format!("element file: {why}"))
            .with_file(&self.path)
            .with_byte_offset(offset)
            .with_record(self.count)
    }

    fn read_exact(&mut self, buf: &mut [u8]) -> Result<()> {
        self.input.read_exact(buf).map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                self.corrupt(self.offset, "truncated")
            } else {
                Error::io(e, &self.path).with_byte_offset(self.offset)
            }
        })?;
        self.offset += buf.len() as u64;
        Ok(())
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut a = [0u8; N];
        self.read_exact(&mut a)?;
        Ok(a)
    }

    /// The next element, `None` after the end (whose count is checked).
    pub(crate) fn next_element(&mut self) -> Result<Option<Element>> {
        if self.ended {
            return Ok(None);
        }
        let start = self.offset;
        let len = u64::from_le_bytes(self.array()?);
        if len == END {
            let count = self.array::<8>()?;
            let crc = u32::from_le_bytes(self.array()?);
            if crc != crc32c::crc32c(&count) || u64::from_le_bytes(count) != self.count {
                return Err(self.corrupt(start, "the end does not match the records read"));
            }
            self.ended = true;
            return Ok(None);
        }
        let crc = u32::from_le_bytes(self.array()?);
        if len > self.len.saturating_sub(self.offset) {
            return Err(self.corrupt(start, format!("record length {len} is past the file's end")));
        }
        let mut payload = alloc::try_vec::<u8>(len as usize, "an element file record")?;
        payload.resize(len as usize, 0);
        self.read_exact(&mut payload)?;
        if crc != crc32c::crc32c(&payload) {
            return Err(self.corrupt(start, "the record's checksum does not match"));
        }
        let element = decode(&payload, &self.spec).map_err(|why| self.corrupt(start, why))?;
        self.count += 1;
        Ok(Some(element))
    }
}

/// The element of one record's payload, or what is wrong with it.
fn decode(payload: &[u8], spec: &ElementSpec) -> std::result::Result<Element, String> {
    let mut at = 0usize;
    let mut take = |n: usize| -> std::result::Result<&[u8], String> {
        let end = at
            .checked_add(n)
            .filter(|&e| e <= payload.len())
            .ok_or_else(|| format!("the payload ends inside a component ({n} bytes at {at})"))?;
        let s = &payload[at..end];
        at = end;
        Ok(s)
    };
    let mut components = Vec::with_capacity(spec.components().len());
    for s in spec.components() {
        let mut shape = Vec::with_capacity(s.rank());
        for _ in 0..s.rank() {
            let d = u64::from_le_bytes(take(8)?.try_into().map_err(|_| "dimension")?);
            shape.push(usize::try_from(d).map_err(|_| format!("dimension {d} is too large"))?);
        }
        let n = shape
            .iter()
            .try_fold(1usize, |n, &d| n.checked_mul(d))
            .ok_or_else(|| format!("shape {shape:?} overflows"))?;
        let tensor = match s.dtype.item_size() {
            Some(item) => {
                let bytes = n
                    .checked_mul(item)
                    .ok_or_else(|| format!("shape {shape:?} overflows"))?;
                Tensor::from_buffer(s.dtype, shape, Buffer::from_slice_ref(take(bytes)?))
            }
            None => {
                let lengths = take(n.checked_mul(8).ok_or("too many values")?)?;
                let mut offsets = Vec::with_capacity(n + 1);
                let mut total = 0i64;
                offsets.push(0i64);
                for l in lengths.chunks_exact(8) {
                    let l = i64::try_from(u64::from_le_bytes(l.try_into().map_err(|_| "length")?))
                        .map_err(|_| "a value length is too large")?;
                    total = total.checked_add(l).ok_or("value lengths overflow")?;
                    offsets.push(total);
                }
                let values = take(usize::try_from(total).map_err(|_| "values too large")?)?;
                Tensor::from_var_parts(
                    s.dtype,
                    shape,
                    ScalarBuffer::from(offsets),
                    Buffer::from_slice_ref(values),
                )
            }
        }
        .map_err(|e| e.to_string())?;
        components.push(tensor);
    }
    if at != payload.len() {
        return Err(format!(
            "{} bytes after the last component",
            payload.len() - at
        ));
    }
    Element::new(spec.structure().clone(), components).map_err(|e| e.to_string())
}
