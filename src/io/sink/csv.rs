//! [`CsvSink`]: rows written as CSV lines, tensors flattened into columns.

use std::fmt::Write as _;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use half::{bf16, f16};

use super::{protocol, Sink};
use crate::element::{Element, ElementSpec, Structure};
use crate::error::{Error, Result};
use crate::io::csv::csv_error;
use crate::io::FaultFile;
use crate::io::TempFile;
use crate::tensor::{DType, Tensor, TensorElement};

struct Column {
    path: String,
    dtype: DType,
    shape: Vec<Option<usize>>,
}

/// The column names of a component: its path for a scalar, `path_i_j…` (row-major) otherwise.
fn column_names(path: &str, shape: &[usize]) -> Vec<String> {
    let n: usize = shape.iter().product();
    (0..n)
        .map(|flat| {
            let mut name = path.to_string();
            let mut rest = flat;
            let mut index = vec![0; shape.len()];
            for (k, &d) in shape.iter().enumerate().rev() {
                index[k] = rest % d.max(1);
                rest /= d.max(1);
            }
            for i in index {
                let _ = write!(name, "_{i}");
            }
            name
        })
        .collect()
}

/// Writes rows as CSV, streaming, to a temporary file renamed by [`Sink::finish`].
///
/// Columns: a header line (unless [`CsvSink::with_header`]`(false)`), then one field per value.
/// A scalar component is one column named by its path (`label`, `0`, `features/x`); a tensor of
/// shape `[8, 8]` is 64 columns `image_0_0`, `image_0_1`, …, `image_7_7` (row-major). Reading the
/// file back with [`CsvGroup`](crate::io::csv::CsvGroup)`::new("image", names).with_shape([8, 8])` gives the
/// tensor again.
///
/// Values: integers in decimal, floats in the shortest form that reads back to the same value
/// (`NaN`, `inf`, `-inf` for non-finite ones), bool as `true` / `false`, strings as UTF-8 text and
/// bytes as they are (quoted when they hold the delimiter, a quote or a line break).
///
/// A component whose shape the spec leaves unknown takes the first row's (the header is written
/// then); every row must have the same. With no rows at all such a component is an error at
/// `finish`.
pub struct CsvSink {
    path: PathBuf,
    delimiter: u8,
    header: bool,
    out: Option<(TempFile, csv::Writer<BufWriter<FaultFile>>)>,
    structure: Option<Structure>,
    columns: Vec<Column>,
    header_done: bool,
    scratch: String,
    rows: u64,
}

impl std::fmt::Debug for CsvSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvSink")
            .field("path", &self.path)
            .field("rows", &self.rows)
            .finish()
    }
}

impl CsvSink {
    /// A sink writing `path` (created at [`Sink::begin`], appearing at [`Sink::finish`]).
    pub fn create(path: impl AsRef<Path>) -> CsvSink {
        CsvSink {
            path: path.as_ref().to_path_buf(),
            delimiter: b',',
            header: true,
            out: None,
            structure: None,
            columns: Vec::new(),
            header_done: false,
            scratch: String::new(),
            rows: 0,
        }
    }

    /// The field delimiter (default `,`).
    pub fn with_delimiter(mut self, delimiter: u8) -> Self {
        self.delimiter = delimiter;
        self
    }

    /// Whether to write a header line (default `true`).
    pub fn with_header(mut self, header: bool) -> Self {
        self.header = header;
        self
    }

    /// The final path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn writer(&mut self) -> Result<&mut csv::Writer<BufWriter<FaultFile>>> {
        match &mut self.out {
            Some((_, w)) => Ok(w),
            None => Err(protocol("write before begin")),
        }
    }

    /// Writes the header once every column's shape is known.
    fn write_header(&mut self) -> Result<()> {
        if self.header_done {
            return Ok(());
        }
        let mut names = Vec::new();
        for c in &self.columns {
            let Some(shape) = c.shape.iter().copied().collect::<Option<Vec<usize>>>() else {
                return Ok(());
            };
            names.extend(column_names(&c.path, &shape));
        }
        self.header_done = true;
        if self.header {
            let path = self.path.clone();
            self.writer()?
                .write_record(&names)
                .map_err(|e| csv_error(e, &path))?;
        }
        Ok(())
    }

    fn check_row(&mut self, row: &Element) -> Result<()> {
        match &self.structure {
            Some(s) if s == row.structure() => {}
            Some(s) => {
                return Err(Error::incompatible(format!(
                    "a row of structure {} does not fit the sink's {s}",
                    row.structure()
                ))
                .with_file(&self.path))
            }
            None => return Err(protocol("begin was not called")),
        }
        for (c, t) in self.columns.iter_mut().zip(row.components()) {
            let fits = t.dtype() == c.dtype
                && t.rank() == c.shape.len()
                && c.shape
                    .iter()
                    .zip(t.shape())
                    .all(|(s, &d)| s.is_none_or(|s| s == d));
            if !fits {
                return Err(Error::incompatible(format!(
                    "a row of {} {:?} does not fit the CSV columns of {} {:?}",
                    t.dtype(),
                    t.shape(),
                    c.dtype,
                    c.shape
                ))
                .with_component(c.path.clone())
                .with_file(&self.path));
            }
            c.shape = t.shape().iter().map(|&d| Some(d)).collect();
        }
        self.write_header()
    }
}

fn fields<T: TensorElement>(
    t: &Tensor,
    out: &mut csv::Writer<BufWriter<FaultFile>>,
    scratch: &mut String,
    show: impl Fn(&mut String, T),
) -> std::result::Result<(), csv::Error> {
    for &v in t
        .as_slice::<T>()
        .map_err(|_| std::io::Error::other("dtype"))?
    {
        scratch.clear();
        show(scratch, v);
        out.write_field(scratch.as_bytes())?;
    }
    Ok(())
}

fn display<T: std::fmt::Display>(s: &mut String, v: T) {
    let _ = write!(s, "{v}");
}

fn write_tensor(
    t: &Tensor,
    out: &mut csv::Writer<BufWriter<FaultFile>>,
    scratch: &mut String,
) -> std::result::Result<(), csv::Error> {
    match t.dtype() {
        DType::Bool => fields::<bool>(t, out, scratch, display),
        DType::U8 => fields::<u8>(t, out, scratch, display),
        DType::U16 => fields::<u16>(t, out, scratch, display),
        DType::U32 => fields::<u32>(t, out, scratch, display),
        DType::U64 => fields::<u64>(t, out, scratch, display),
        DType::I8 => fields::<i8>(t, out, scratch, display),
        DType::I16 => fields::<i16>(t, out, scratch, display),
        DType::I32 => fields::<i32>(t, out, scratch, display),
        DType::I64 => fields::<i64>(t, out, scratch, display),
        DType::F16 => fields::<f16>(t, out, scratch, |s, v| display(s, v.to_f32())),
        DType::BF16 => fields::<bf16>(t, out, scratch, |s, v| display(s, v.to_f32())),
        DType::F32 => fields::<f32>(t, out, scratch, display),
        DType::F64 => fields::<f64>(t, out, scratch, display),
        DType::String | DType::Bytes => {
            for i in 0..t.num_elements() {
                let v = t
                    .bytes_at(i)
                    .map_err(|e| std::io::Error::other(e.to_string()))?;
                out.write_field(v)?;
            }
            Ok(())
        }
    }
}

impl Sink for CsvSink {
    fn begin(&mut self, row_spec: &ElementSpec) -> Result<()> {
        if self.structure.is_some() {
            return Err(protocol("begin was called twice"));
        }
        let (temp, file) = TempFile::create(&self.path)?;
        let writer = csv::WriterBuilder::new()
            .delimiter(self.delimiter)
            .flexible(false)
            .from_writer(BufWriter::with_capacity(1 << 16, file));
        self.out = Some((temp, writer));
        self.structure = Some(row_spec.structure().clone());
        self.columns = row_spec
            .paths()
            .into_iter()
            .zip(row_spec.components())
            .map(|(path, s)| Column {
                path,
                dtype: s.dtype,
                shape: s.shape.clone(),
            })
            .collect();
        self.write_header()
    }

    fn write_row(&mut self, row: &Element) -> Result<()> {
        self.check_row(row)?;
        let path = self.path.clone();
        let mut scratch = std::mem::take(&mut self.scratch);
        let out = self.writer()?;
        let result = row
            .components()
            .iter()
            .try_for_each(|t| write_tensor(t, out, &mut scratch))
            .and_then(|_| out.write_record(None::<&[u8]>));
        self.scratch = scratch;
        result.map_err(|e| csv_error(e, &path).with_record(self.rows))?;
        self.rows += 1;
        Ok(())
    }

    fn rows_written(&self) -> u64 {
        self.rows
    }

    fn finish(mut self) -> Result<u64> {
        if self.out.is_none() {
            return Err(protocol("finish without begin"));
        }
        if !self.header_done {
            return Err(Error::invalid_argument(
                "no rows were written, and the spec leaves a component's shape (so the CSV columns) unknown",
            )
            .with_file(&self.path));
        }
        let (temp, writer) = self
            .out
            .take()
            .ok_or_else(|| protocol("finish without begin"))?;
        let io = |e: std::io::Error| Error::io(e, temp.target());
        let buffered = writer.into_inner().map_err(|e| io(e.into_error()))?;
        let file = buffered.into_inner().map_err(|e| io(e.into_error()))?;
        temp.persist(file)?;
        Ok(self.rows)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn column_names_are_row_major() {
        assert_eq!(super::column_names("label", &[]), ["label"]);
        assert_eq!(
            super::column_names("x", &[2, 2]),
            ["x_0_0", "x_0_1", "x_1_0", "x_1_1"]
        );
    }
}
