//! Batches to Arrow: each component becomes one column over the component's own buffers.

use std::sync::Arc;

use arrow::array::{make_array, ArrayData, ArrayRef, RecordBatch};
use arrow::buffer::{BooleanBuffer, Buffer, ScalarBuffer};
use arrow::datatypes::{DataType, Field, SchemaRef};

use super::schema::arrow_schema;
#[cfg(feature = "polars")]
use super::schema::column_field;
use super::FrameOptions;
use crate::element::{Batch, Element, ElementSpec};
use crate::error::{Error, ErrorKind, Result};
use crate::tensor::{DType, Tensor};

/// Converts batches of one [`ElementSpec`] to Arrow [`RecordBatch`]es of one schema, without copying
/// values (the one copy: `bool`, bit-packed by Arrow).
///
/// The schema is fixed by the per-row spec given to [`RecordBatchConverter::new`]: a component whose
/// row shape is fully known is a `FixedSizeList<T, prod(shape)>` column carrying the
/// `arrow.fixed_shape_tensor` extension (`{"shape":[8,8]}`), one with unknown dimensions nests
/// `LargeList` (unknown) and `FixedSizeList` (known) levels, and a scalar is a primitive, `LargeUtf8`
/// or `LargeBinary` column. Every batch converted must fit that spec.
///
/// ```
/// use slicestream::frames::RecordBatchConverter;
/// use slicestream::{Element, Tensor};
/// let batch = Element::dict([
///     ("image", Tensor::from_vec([2, 2, 2], vec![0u8; 8])?),
///     ("label", Tensor::from_vec1(vec![3i64, 4])),
/// ]);
/// let rb = RecordBatchConverter::for_batch(&batch)?.convert(&batch)?;
/// assert_eq!(rb.num_rows(), 2);
/// assert_eq!(rb.schema().field(0).metadata()["ARROW:extension:metadata"], r#"{"shape":[2,2]}"#);
/// # Ok::<(), slicestream::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct RecordBatchConverter {
    spec: ElementSpec,
    schema: SchemaRef,
}

impl RecordBatchConverter {
    /// A converter for batches whose rows have `row_spec` (the dataset's element spec).
    ///
    /// Errors for `bfloat16` components unless `options` say how to carry them, and for rows of more
    /// than 2^31 - 1 values.
    pub fn new(row_spec: &ElementSpec, options: &FrameOptions) -> Result<Self> {
        Ok(RecordBatchConverter {
            spec: row_spec.clone(),
            schema: Arc::new(arrow_schema(row_spec, options)?),
        })
    }

    /// A converter for batches shaped like `batch` (its row shapes taken as fully known).
    pub fn for_batch(batch: &Batch) -> Result<Self> {
        Self::new(&row_spec_of(batch)?, &FrameOptions::default())
    }

    /// The schema of every record batch this converter makes.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// The per-row spec batches must fit.
    pub fn row_spec(&self) -> &ElementSpec {
        &self.spec
    }

    /// The batch as a record batch whose buffers are the batch's buffers.
    ///
    /// Errors (naming the component) when the batch's structure, a dtype or a row shape does not fit
    /// the spec, or components disagree on the number of rows.
    pub fn convert(&self, batch: &Batch) -> Result<RecordBatch> {
        let rows = check_batch(batch, &self.spec)?;
        let columns = batch
            .components()
            .iter()
            .zip(self.schema.fields())
            .map(|(t, f)| tensor_to_array(t, f))
            .collect::<Result<Vec<_>>>()?;
        let options = arrow::array::RecordBatchOptions::new().with_row_count(Some(rows));
        RecordBatch::try_new_with_options(self.schema.clone(), columns, &options)
            .map_err(|e| Error::incompatible("cannot assemble the record batch").with_source(e))
    }
}

impl RecordBatchConverter {
    /// Rows (elements of the row spec, whose unknown dimensions may differ from row to row) as one
    /// record batch: the values are copied once into new column buffers (list columns need their
    /// rows one after another).
    ///
    /// Errors (naming the component) when a row does not fit the spec.
    pub fn convert_rows(&self, rows: &[Element]) -> Result<RecordBatch> {
        let paths = self.spec.paths();
        for (i, row) in rows.iter().enumerate() {
            check_row(row, &self.spec, &paths).map_err(|e| e.with_element(i as u64))?;
        }
        let columns = self
            .schema
            .fields()
            .iter()
            .enumerate()
            .map(|(c, f)| {
                let tensors: Vec<&Tensor> = rows.iter().map(|r| &r.components()[c]).collect();
                rows_to_array(&tensors, f)
            })
            .collect::<Result<Vec<_>>>()?;
        let options = arrow::array::RecordBatchOptions::new().with_row_count(Some(rows.len()));
        RecordBatch::try_new_with_options(self.schema.clone(), columns, &options)
            .map_err(|e| Error::incompatible("cannot assemble the record batch").with_source(e))
    }
}

fn check_row(row: &Element, spec: &ElementSpec, paths: &[String]) -> Result<()> {
    if row.structure() != spec.structure() {
        return Err(structure_mismatch(spec, row.structure(), "row"));
    }
    for ((t, s), path) in row.components().iter().zip(spec.components()).zip(paths) {
        if !s.matches(t) {
            let context = format!(
                "the row is {} {:?}, the column holds {s}",
                t.dtype(),
                t.shape()
            );
            return Err(s.mismatch(t, context).with_component(path.clone()));
        }
    }
    Ok(())
}

/// The error of a row or batch (`what`) whose structure is not the columns'.
fn structure_mismatch(spec: &ElementSpec, found: &crate::element::Structure, what: &str) -> Error {
    Error::new(ErrorKind::StructureMismatch {
        expected: spec.structure().to_string(),
        found: found.to_string(),
    })
    .with_context(format!(
        "the {what} has structure {found} but the columns are {}",
        spec.structure()
    ))
}

/// The batch as an Arrow record batch (see [`RecordBatchConverter`]): zero-copy but for `bool`.
pub fn to_record_batch(batch: &Batch) -> Result<RecordBatch> {
    RecordBatchConverter::for_batch(batch)?.convert(batch)
}

/// The per-row spec of a batch: each component's shape without its leading dimension.
///
/// Errors (naming the component) for a scalar component, which has no rows.
pub fn row_spec_of(batch: &Batch) -> Result<ElementSpec> {
    let paths = batch.paths();
    batch.spec().map_components(|s| s.unbatched()).map_err(|e| {
        let bad = batch
            .components()
            .iter()
            .position(|t| t.rank() == 0)
            .map(|i| paths[i].clone())
            .unwrap_or_default();
        e.with_component(bad)
    })
}

/// Checks the batch against the per-row spec; returns its number of rows.
pub(crate) fn check_batch(batch: &Batch, spec: &ElementSpec) -> Result<usize> {
    if batch.structure() != spec.structure() {
        return Err(structure_mismatch(spec, batch.structure(), "batch"));
    }
    let mut rows = None;
    for ((t, s), path) in batch
        .components()
        .iter()
        .zip(spec.components())
        .zip(spec.paths())
    {
        let fits = t.rank() == s.rank() + 1
            && t.dtype() == s.dtype
            && s.shape
                .iter()
                .zip(&t.shape()[1..])
                .all(|(s, &d)| s.is_none_or(|s| s == d));
        if !fits {
            let kind = if t.dtype() != s.dtype {
                ErrorKind::DTypeMismatch {
                    expected: s.dtype,
                    found: t.dtype(),
                }
            } else {
                let mut expected = vec![None];
                expected.extend(s.shape.iter().copied());
                ErrorKind::ShapeMismatch {
                    expected,
                    found: t.shape().to_vec(),
                }
            };
            return Err(Error::new(kind)
                .with_context(format!(
                    "a batch of rows of {s} must be {} [n, ...], got {} {:?}",
                    s.dtype,
                    t.dtype(),
                    t.shape()
                ))
                .with_component(path));
        }
        match rows {
            None => rows = Some(t.shape()[0]),
            Some(r) if r != t.shape()[0] => {
                return Err(Error::incompatible(format!(
                    "components have {r} and {} rows; a batch's components have the same number",
                    t.shape()[0]
                ))
                .with_component(path))
            }
            _ => {}
        }
    }
    Ok(rows.unwrap_or(0))
}

/// The batch component `tensor` (shape `[n, ...]`) as an array of `field`'s type (which
/// [`column_field`] made from its spec). No value is copied but bools (bit-packed); unknown
/// dimensions cost one offsets buffer per level (`n * ... + 1` values).
pub(crate) fn tensor_to_array(tensor: &Tensor, field: &Field) -> Result<ArrayRef> {
    let column = field.name().as_str();
    let rows = tensor.shape().first().copied().unwrap_or(1);
    let shapes = Shapes::Uniform(&tensor.shape()[1..]);
    let data = build(tensor, &shapes, field.data_type(), 0, rows, column)?;
    Ok(make_array(data))
}

/// Rows of one component, each a tensor of its own shape (unknown dimensions may differ between
/// rows), as an array of `field`'s type: one copy of the values into a new buffer.
pub(crate) fn rows_to_array(rows: &[&Tensor], field: &Field) -> Result<ArrayRef> {
    let column = field.name().as_str();
    let flat = rows
        .iter()
        .map(|t| t.reshape(vec![t.num_elements()]))
        .collect::<Result<Vec<_>>>()?;
    let leaf = match flat.first() {
        Some(_) => Tensor::concat_rows(&flat)?,
        None => {
            let spec = super::schema::column_spec(field)?;
            Tensor::zeros(spec.dtype, [0])?
        }
    };
    let shapes: Vec<&[usize]> = rows.iter().map(|t| t.shape()).collect();
    let data = build(
        &leaf,
        &Shapes::PerRow(&shapes),
        field.data_type(),
        0,
        rows.len(),
        column,
    )?;
    Ok(make_array(data))
}

/// The row shapes of a column: one for every row (a batch tensor), or one per row.
enum Shapes<'a> {
    Uniform(&'a [usize]),
    PerRow(&'a [&'a [usize]]),
}

impl Shapes<'_> {
    /// Dimension `j` of every row, or `None` when some row has no such dimension.
    fn dim(&self, j: usize) -> Option<Vec<usize>> {
        match self {
            Shapes::Uniform(s) => s.get(j).map(|&d| vec![d]),
            Shapes::PerRow(rows) => rows.iter().map(|s| s.get(j).copied()).collect(),
        }
    }

    /// The entries of level `j` of row `r`: the product of its first `j` dimensions.
    fn entries(&self, r: usize, j: usize) -> usize {
        match self {
            Shapes::Uniform(s) => s[..j].iter().product(),
            Shapes::PerRow(rows) => rows[r][..j].iter().product(),
        }
    }

    /// The product of dimensions `j..` of every row, when every row has rank `j + rest.len()`.
    fn rest_product(&self, j: usize) -> Option<Vec<usize>> {
        match self {
            Shapes::Uniform(s) => s.get(j..).map(|d| vec![d.iter().product()]),
            Shapes::PerRow(rows) => rows
                .iter()
                .map(|s| s.get(j..).map(|d| d.iter().product()))
                .collect(),
        }
    }

    fn rank_is(&self, rank: usize) -> bool {
        match self {
            Shapes::Uniform(s) => s.len() == rank,
            Shapes::PerRow(rows) => rows.iter().all(|s| s.len() == rank),
        }
    }
}

/// The array of `data_type` at nesting level `j` (row dimension `j`), `len` entries long.
fn build(
    leaf: &Tensor,
    shapes: &Shapes<'_>,
    data_type: &DataType,
    j: usize,
    len: usize,
    column: &str,
) -> Result<ArrayData> {
    let mismatch = || {
        let shape = match shapes {
            Shapes::Uniform(s) => format!("{s:?}"),
            Shapes::PerRow(_) => "of these rows".to_string(),
        };
        Error::incompatible(format!(
            "rows of shape {shape} do not fit the column type {data_type}"
        ))
        .with_component(column)
    };
    let arrow_err = |e| Error::incompatible("cannot build the Arrow column").with_source(e);
    match data_type {
        DataType::FixedSizeList(item, size) => {
            let size = *size as usize;
            let nested = matches!(
                item.data_type(),
                DataType::FixedSizeList(..) | DataType::LargeList(_) | DataType::List(_)
            );
            let (next, per_row) = if nested {
                (j + 1, shapes.dim(j))
            } else {
                (usize::MAX, shapes.rest_product(j))
            };
            if per_row.ok_or_else(mismatch)?.iter().any(|&k| k != size) {
                return Err(mismatch());
            }
            let child = if nested {
                build(leaf, shapes, item.data_type(), next, len * size, column)?
            } else if leaf.num_elements() == len * size {
                leaf_data(leaf, item.data_type()).map_err(|e| e.with_component(column))?
            } else {
                return Err(mismatch());
            };
            ArrayData::builder(data_type.clone())
                .len(len)
                .child_data(vec![child])
                .build()
                .map_err(arrow_err)
        }
        DataType::LargeList(item) => {
            let dims = shapes.dim(j).ok_or_else(mismatch)?;
            let mut offsets: Vec<i64> = Vec::with_capacity(len + 1);
            offsets.push(0);
            let mut total = 0usize;
            match shapes {
                Shapes::Uniform(_) => {
                    for _ in 0..len {
                        total += dims[0];
                        offsets.push(total as i64);
                    }
                }
                Shapes::PerRow(_) => {
                    for (r, &d) in dims.iter().enumerate() {
                        for _ in 0..shapes.entries(r, j) {
                            total += d;
                            offsets.push(total as i64);
                        }
                    }
                }
            }
            if offsets.len() != len + 1 {
                return Err(mismatch());
            }
            let child = build(leaf, shapes, item.data_type(), j + 1, total, column)?;
            ArrayData::builder(data_type.clone())
                .len(len)
                .add_buffer(Buffer::from_vec(offsets))
                .child_data(vec![child])
                .build()
                .map_err(arrow_err)
        }
        scalar => {
            if !shapes.rank_is(j) || len != leaf.num_elements() {
                return Err(mismatch());
            }
            leaf_data(leaf, scalar).map_err(|e| e.with_component(column))
        }
    }
}

/// The values of `tensor`, flat, as an array of the scalar type `data_type`.
fn leaf_data(tensor: &Tensor, data_type: &DataType) -> Result<ArrayData> {
    let n = tensor.num_elements();
    let arrow_err = |e| Error::incompatible("cannot build the Arrow column").with_source(e);
    let builder = ArrayData::builder(data_type.clone()).len(n);
    let builder = match (tensor.dtype(), data_type) {
        (DType::Bool, DataType::Boolean) => {
            let bytes = tensor.as_slice::<bool>()?;
            let bits = BooleanBuffer::collect_bool(n, |i| bytes[i]);
            builder.add_buffer(bits.into_inner())
        }
        (DType::String | DType::Bytes, DataType::Utf8View | DataType::BinaryView) => {
            let (views, buffers) = views_of(tensor)?;
            builder.add_buffer(views).add_buffers(buffers)
        }
        (DType::String, DataType::LargeUtf8) | (DType::Bytes, DataType::LargeBinary) => {
            let (offsets, values) = tensor
                .var_parts()
                .ok_or_else(|| Error::invalid_argument("not a string tensor"))?;
            builder
                .add_buffer(offsets.inner().clone())
                .add_buffer(values.clone())
        }
        (DType::BF16, DataType::UInt16) => builder.add_buffer(fixed_buffer(tensor)?),
        (dtype, dt)
            if dtype.item_size().is_some() && super::schema::dtype_of(dt, None) == Some(dtype) =>
        {
            builder.add_buffer(fixed_buffer(tensor)?)
        }
        (dtype, dt) => {
            return Err(Error::incompatible(format!(
                "a {dtype} tensor cannot be a column of Arrow type {dt}"
            )))
        }
    };
    if tensor.dtype().is_variable_width() {
        // SAFETY: a `string` / `bytes` tensor's offsets are non-negative, non-decreasing and within
        // its values buffer, and a `string` tensor's values are UTF-8 between consecutive offsets:
        // every `Tensor` constructor checks or guarantees it (`from_var_parts` validates,
        // `from_strings` copies `&str`s, slicing, gathering and concatenating keep it), and
        // `views_of` makes each view from one such value and the buffer slice that holds it. These
        // are exactly what arrow-rs's full validation would check, in O(bytes); skipping it keeps
        // the conversion O(1) per column (views: one pass over the offsets). Debug builds (the
        // tests) still run the full validation.
        let data = unsafe { builder.build_unchecked() };
        #[cfg(debug_assertions)]
        data.validate_full().map_err(arrow_err)?;
        return Ok(data);
    }
    builder.build().map_err(arrow_err)
}

fn fixed_buffer(tensor: &Tensor) -> Result<Buffer> {
    tensor
        .buffer()
        .cloned()
        .ok_or_else(|| Error::invalid_argument("not a fixed-width tensor"))
}

/// Arrow's string-view layout over a string tensor: one 16-byte view per value, the values buffer
/// shared (split into slices of at most 4 GiB, the reach of a view's offset).
fn views_of(tensor: &Tensor) -> Result<(Buffer, Vec<Buffer>)> {
    let (offsets, values) = tensor
        .var_parts()
        .ok_or_else(|| Error::invalid_argument("not a string tensor"))?;
    let bytes = values.as_slice();
    let n = offsets.len().saturating_sub(1);
    if bytes.len() <= u32::MAX as usize {
        // The usual case: one buffer, the whole values buffer, offsets fit a view's 32 bits.
        let views: Vec<u128> = offsets[..n]
            .iter()
            .zip(&offsets[1..])
            .map(|(&a, &z)| view(&bytes[a as usize..z as usize], 0, a as u32))
            .collect();
        let buffers = if views.is_empty() {
            vec![]
        } else {
            vec![values.clone()]
        };
        return Ok((ScalarBuffer::from(views).into_inner(), buffers));
    }
    let mut views = Vec::with_capacity(n);
    let mut buffers: Vec<Buffer> = Vec::new();
    let mut base = 0usize;
    for (&a, &z) in offsets[..n].iter().zip(&offsets[1..]) {
        let (a, z) = (a as usize, z as usize);
        let value = &bytes[a..z];
        if value.len() <= arrow::array::MAX_INLINE_VIEW_LEN as usize {
            views.push(view(value, 0, 0));
            continue;
        }
        if buffers.is_empty() || z - base > u32::MAX as usize {
            // A new buffer where the reach of a view's 32-bit offset ends.
            base = a;
            let len = (bytes.len() - base).min(u32::MAX as usize);
            buffers.push(values.slice_with_length(base, len));
        }
        let block = u32::try_from(buffers.len() - 1)
            .map_err(|_| Error::invalid_argument("too many string buffers"))?;
        views.push(view(value, block, (a - base) as u32));
    }
    Ok((ScalarBuffer::from(views).into_inner(), buffers))
}

/// The view of `value`, stored at `offset` of buffer `block` when longer than 12 bytes (Arrow's
/// layout: length, then either the value inline or its 4-byte prefix, block and offset).
#[inline]
fn view(value: &[u8], block: u32, offset: u32) -> u128 {
    let len = value.len();
    if len <= arrow::array::MAX_INLINE_VIEW_LEN as usize {
        let mut inline = [0u8; 16];
        inline[..4].copy_from_slice(&(len as u32).to_le_bytes());
        inline[4..4 + len].copy_from_slice(value);
        return u128::from_le_bytes(inline);
    }
    let prefix = u32::from_le_bytes([value[0], value[1], value[2], value[3]]);
    (len as u128)
        | (u128::from(prefix) << 32)
        | (u128::from(block) << 64)
        | (u128::from(offset) << 96)
}

/// The per-component fields of the polars layout (nested `FixedSizeList`, view strings, no
/// extension metadata).
#[cfg(feature = "polars")]
pub(crate) fn polars_fields(spec: &ElementSpec, options: &FrameOptions) -> Result<Vec<Field>> {
    spec.paths()
        .iter()
        .zip(spec.components())
        .map(|(p, s)| column_field(p, s, false, options))
        .collect()
}
