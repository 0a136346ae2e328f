//! Arrow to tensors: each column read as a batch tensor (fixed shapes, zero-copy) or row by row
//! (lists whose rows differ in shape).

use std::sync::Arc;

use arrow::array::{Array, ArrayData, ArrayRef, BinaryViewArray, RecordBatch, StringViewArray};
use arrow::buffer::{BooleanBuffer, Buffer, ScalarBuffer};
use arrow::datatypes::{DataType, Field, Schema};

use super::schema::{column_spec, dtype_of, element_spec, tensor_extension_shape, unsupported};
use crate::element::{Batch, Element, ElementSpec, Structure};
use crate::error::{Error, Result};
use crate::tensor::{DType, Tensor};

/// One nesting level of a list column, outermost first.
#[derive(Clone)]
enum Level {
    /// A `FixedSizeList` of this many items per entry.
    Fixed(usize),
    /// A `List` / `LargeList`: `entries + 1` offsets into the next level (not rebased: the next level
    /// starts at `offsets[0]`).
    Offsets(ScalarBuffer<i64>),
}

/// One column of a record batch, read: its rows are `levels` of nesting over `leaf`, the rank-1
/// tensor of every leaf value in the column's range (a view of the Arrow buffer where the layout
/// allows: everything but bool, view strings, and `Utf8`/`Binary` offsets widened to `i64`).
#[derive(Clone)]
pub(crate) struct Column {
    name: String,
    rows: usize,
    levels: Vec<Level>,
    leaf: Tensor,
    /// The row shape from an `arrow.fixed_shape_tensor` extension (replacing the list sizes).
    ext_shape: Option<Vec<usize>>,
}

impl Column {
    /// Reads `array` (a column named by `field`), checking that it holds no nulls.
    pub(crate) fn read(field: &Field, array: &ArrayRef) -> Result<Column> {
        let name = field.name().clone();
        let ext_shape = tensor_extension_shape(field)?;
        let data = array.to_data();
        let rows = data.len();
        let mut levels = Vec::new();
        let leaf = read_levels(&data, field, &name, &mut levels)?;
        if let Some(shape) = &ext_shape {
            // Sizes from the data's type and metadata: checked, an overflow is no match.
            let fixed: Option<usize> = levels.iter().try_fold(1usize, |acc, l| match l {
                Level::Fixed(k) => acc.checked_mul(*k),
                Level::Offsets(_) => None,
            });
            let wanted = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
            if fixed.is_none() || fixed != wanted {
                return Err(Error::format(format!(
                    "the arrow.fixed_shape_tensor shape {shape:?} does not fit lists of {} values",
                    fixed.map_or("varying numbers of".to_string(), |k| k.to_string())
                ))
                .with_component(name));
            }
        }
        Ok(Column {
            name,
            rows,
            levels,
            leaf,
            ext_shape,
        })
    }

    /// The shape of every row when the column's type fixes it.
    fn fixed_row_shape(&self) -> Option<Vec<usize>> {
        if let Some(s) = &self.ext_shape {
            return Some(s.clone());
        }
        self.levels
            .iter()
            .map(|l| match l {
                Level::Fixed(k) => Some(*k),
                Level::Offsets(_) => None,
            })
            .collect()
    }

    /// Rows `start..end` as one tensor `[end - start, ...row shape]`: a view of the leaf when the
    /// rows share a shape (always, for fixed-size columns).
    ///
    /// Errors (naming the column) when rows of a list column differ in shape.
    pub(crate) fn batch(&self, start: usize, end: usize) -> Result<Tensor> {
        let shape = match self.fixed_row_shape() {
            Some(s) => s,
            None => {
                let mut shape = None;
                for i in start..end {
                    let (s, _) = self.locate(i)?;
                    match &shape {
                        None => shape = Some(s),
                        Some(first) if *first != s => {
                            return Err(Error::incompatible(format!(
                                "Cannot batch tensors with different shapes: row {start} has shape {first:?} and row {i} has shape {s:?}"
                            ))
                            .with_component(self.name.clone()))
                        }
                        _ => {}
                    }
                }
                match shape {
                    Some(s) => s,
                    // No rows: the unknown dimensions are 0.
                    None => self
                        .levels
                        .iter()
                        .map(|l| match l {
                            Level::Fixed(k) => *k,
                            Level::Offsets(_) => 0,
                        })
                        .collect(),
                }
            }
        };
        let per_row = shape
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(d))
            .ok_or_else(|| {
                crate::tensor::alloc::too_large(&format!("rows of shape {shape:?}"), None)
                    .with_component(self.name.clone())
            })?;
        let first = if start < end {
            self.locate(start)?.1.start
        } else {
            0
        };
        let values = self
            .leaf
            .slice_rows(first, first + (end - start) * per_row)
            .map_err(|e| e.with_component(self.name.clone()))?;
        let mut full = Vec::with_capacity(shape.len() + 1);
        full.push(end - start);
        full.extend_from_slice(&shape);
        values.reshape(full)
    }

    /// Row `i` as a tensor of its own shape (a view of the leaf).
    pub(crate) fn row(&self, i: usize) -> Result<Tensor> {
        let (shape, range) = self.locate(i)?;
        let shape = self.ext_shape.clone().unwrap_or(shape);
        self.leaf
            .slice_rows(range.start, range.end)
            .and_then(|t| t.reshape(shape))
            .map_err(|e| e.with_component(self.name.clone()))
    }

    /// The shape of row `i` and the range of its leaf values; errors when a row is not rectangular
    /// (its lists at one level differ in length).
    fn locate(&self, i: usize) -> Result<(Vec<usize>, std::ops::Range<usize>)> {
        if i >= self.rows {
            return Err(Error::invalid_argument(format!(
                "row {i} out of range for {} rows",
                self.rows
            )));
        }
        let (mut a, mut b) = (i, i + 1);
        let mut shape = Vec::with_capacity(self.levels.len());
        for level in &self.levels {
            match level {
                Level::Fixed(k) => {
                    shape.push(*k);
                    (a, b) = (a * k, b * k);
                }
                Level::Offsets(o) => {
                    let base = o[0];
                    let len = |j: usize| (o[j + 1] - o[j]) as usize;
                    let d = if a < b { len(a) } else { 0 };
                    if let Some(j) = (a..b).find(|&j| len(j) != d) {
                        return Err(Error::incompatible(format!(
                            "row {i} is ragged: its lists hold {d} and {} values; a tensor's rows must be rectangular",
                            len(j)
                        ))
                        .with_component(self.name.clone()));
                    }
                    shape.push(d);
                    (a, b) = ((o[a] - base) as usize, (o[b] - base) as usize);
                }
            }
        }
        Ok((shape, a..b))
    }

    /// The number of rows.
    pub(crate) fn len(&self) -> usize {
        self.rows
    }
}

/// Walks the list levels of `data` down to its scalar leaf, pushing one [`Level`] per list; returns
/// the leaf values in the column's range as a rank-1 tensor.
fn read_levels(
    data: &ArrayData,
    field: &Field,
    column: &str,
    levels: &mut Vec<Level>,
) -> Result<Tensor> {
    if data.null_count() > 0 {
        return Err(Error::incompatible(format!(
            "{} null values (Arrow type {}); tensors hold no nulls: fill or drop them first",
            data.null_count(),
            data.data_type()
        ))
        .with_component(column));
    }
    let len = data.len();
    match data.data_type() {
        DataType::FixedSizeList(item, k) => {
            let k = usize::try_from(*k).map_err(|_| bad_list(column))?;
            levels.push(Level::Fixed(k));
            let child = child_of(data, column)?;
            let (start, count) = (data.offset() * k, len * k);
            if start + count > child.len() {
                return Err(bad_list(column));
            }
            read_levels(&child.slice(start, count), item, column, levels)
        }
        DataType::List(item) | DataType::LargeList(item) => {
            let offsets = offsets_i64(data, column)?;
            let child = child_of(data, column)?;
            let ordered = offsets[0] >= 0 && offsets.windows(2).all(|w| w[0] <= w[1]);
            if !ordered || offsets[len] as usize > child.len() {
                return Err(bad_list(column));
            }
            let (first, last) = (offsets[0] as usize, offsets[len] as usize);
            levels.push(Level::Offsets(offsets));
            read_levels(&child.slice(first, last - first), item, column, levels)
        }
        dt => {
            let dtype = dtype_of(dt, Some(field)).ok_or_else(|| unsupported(column, dt))?;
            leaf_tensor(data, dtype).map_err(|e| e.with_component(column))
        }
    }
}

fn bad_list(column: &str) -> Error {
    Error::format("list offsets or sizes that do not fit the list's values").with_component(column)
}

fn child_of(data: &ArrayData, column: &str) -> Result<ArrayData> {
    data.child_data()
        .first()
        .cloned()
        .ok_or_else(|| Error::format("a list array without its values").with_component(column))
}

/// The `len + 1` offsets of a list or string array as `i64` (a view for 64-bit offsets, a copy for
/// 32-bit ones).
fn offsets_i64(data: &ArrayData, column: &str) -> Result<ScalarBuffer<i64>> {
    let (offset, n) = (data.offset(), data.len() + 1);
    let buffer = data
        .buffers()
        .first()
        .ok_or_else(|| Error::format("an array without offsets").with_component(column))?;
    let wide = matches!(
        data.data_type(),
        DataType::LargeList(_) | DataType::LargeUtf8 | DataType::LargeBinary
    );
    let size = if wide { 8 } else { 4 };
    if buffer.len() < (offset + n) * size {
        return Err(Error::format("offsets shorter than the array").with_component(column));
    }
    let bytes = buffer.slice_with_length(offset * size, n * size);
    Ok(if wide {
        if bytes.as_ptr().align_offset(8) == 0 {
            ScalarBuffer::new(bytes, 0, n)
        } else {
            let v: Vec<i64> = bytes
                .as_slice()
                .chunks_exact(8)
                .map(|c| i64::from_ne_bytes(c.try_into().unwrap_or([0; 8])))
                .collect();
            ScalarBuffer::from(v)
        }
    } else {
        let v: Vec<i64> = bytes
            .as_slice()
            .chunks_exact(4)
            .map(|c| i32::from_ne_bytes(c.try_into().unwrap_or([0; 4])) as i64)
            .collect();
        ScalarBuffer::from(v)
    })
}

/// The values of a scalar array (no nulls) as a rank-1 tensor.
fn leaf_tensor(data: &ArrayData, dtype: DType) -> Result<Tensor> {
    let (offset, len) = (data.offset(), data.len());
    let first_buffer = || {
        data.buffers()
            .first()
            .cloned()
            .ok_or_else(|| Error::format("an array without its values buffer"))
    };
    match data.data_type() {
        DataType::Boolean => {
            let buffer = first_buffer()?;
            if buffer.len() * 8 < offset + len {
                return Err(Error::format("bool bits shorter than the array"));
            }
            let bits = BooleanBuffer::new(buffer, offset, len);
            Ok(Tensor::from_vec1(bits.iter().collect::<Vec<bool>>()))
        }
        DataType::Utf8View => {
            let a = StringViewArray::from(data.clone());
            Tensor::from_strings([len], a.iter().map(|s| s.unwrap_or_default()))
        }
        DataType::BinaryView => {
            let a = BinaryViewArray::from(data.clone());
            Tensor::from_byte_strings([len], a.iter().map(|s| s.unwrap_or_default()))
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Binary | DataType::LargeBinary => {
            let offsets = offsets_i64(data, "")?;
            let values = data
                .buffers()
                .get(1)
                .cloned()
                .ok_or_else(|| Error::format("a string array without its values"))?;
            Tensor::from_var_parts(dtype, [len], offsets, values)
        }
        _ => {
            let item = dtype
                .item_size()
                .ok_or_else(|| Error::format(format!("{dtype} is not fixed-width")))?;
            let buffer: Buffer = first_buffer()?;
            if buffer.len() < (offset + len) * item {
                return Err(Error::format("values buffer shorter than the array"));
            }
            Tensor::from_buffer(
                dtype,
                [len],
                buffer.slice_with_length(offset * item, len * item),
            )
        }
    }
}

/// A record batch read column by column, with the structure its schema describes.
pub(crate) struct ReadBatch {
    pub(crate) structure: Arc<Structure>,
    pub(crate) columns: Vec<Column>,
}

impl ReadBatch {
    /// Reads every column of `rb`, whose schema gave `spec`.
    pub(crate) fn new(rb: &RecordBatch, spec: &ElementSpec) -> Result<Self> {
        let schema = rb.schema();
        let columns = schema
            .fields()
            .iter()
            .zip(rb.columns())
            .map(|(f, a)| Column::read(f, a))
            .collect::<Result<Vec<_>>>()?;
        Ok(ReadBatch {
            structure: Arc::new(spec.structure().clone()),
            columns,
        })
    }

    /// The number of rows.
    pub(crate) fn len(&self) -> usize {
        self.columns.first().map_or(0, Column::len)
    }

    /// Row `i` as an element (views of the columns).
    pub(crate) fn row(&self, i: usize) -> Result<Element> {
        let components = self
            .columns
            .iter()
            .map(|c| c.row(i))
            .collect::<Result<_>>()?;
        Element::from_shared(self.structure.clone(), components)
    }

    /// Rows `start..end` as a batch (views when every column's rows share a shape).
    pub(crate) fn batch(&self, start: usize, end: usize) -> Result<Batch> {
        let components = self
            .columns
            .iter()
            .map(|c| c.batch(start, end))
            .collect::<Result<_>>()?;
        Element::from_shared(self.structure.clone(), components)
    }
}

/// The record batch as one batch: each column a tensor `[rows, ...row shape]` over the Arrow buffers
/// (no copy but bool, view strings and 32-bit string offsets).
///
/// Errors (naming the column) for unsupported Arrow types (the message lists the supported ones),
/// nulls, `arrow.fixed_shape_tensor` shapes that disagree with the list size, and list columns whose
/// rows differ in shape.
pub fn from_record_batch(rb: &RecordBatch) -> Result<Batch> {
    let spec = element_spec(&rb.schema())?;
    ReadBatch::new(rb, &spec)?.batch(0, rb.num_rows())
}

/// The spec of the rows of record batches of `schema` (see [`super::element_spec`]); also checks
/// every column against the supported types.
pub(crate) fn spec_of_schema(schema: &Schema) -> Result<ElementSpec> {
    for f in schema.fields() {
        column_spec(f)?;
    }
    element_spec(schema)
}
