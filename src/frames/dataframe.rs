//! Batches to polars [`DataFrame`]s and back, through the C Data Interface bridge ([`super::ffi`]).

use std::sync::Arc;

use arrow::datatypes::Field;
use polars::prelude::{Column as PlColumn, DataFrame, IdxSize, Series};

use super::ffi::{arrow_to_series, series_chunk_to_arrow};
use super::from_arrow::Column;
use super::schema::{column_spec, structure_from_names};
use super::to_arrow::{check_batch, polars_fields, row_spec_of, tensor_to_array};
use super::FrameOptions;
use crate::dataset::{Dataset, RandomAccess};
use crate::element::{Batch, Element, ElementSpec, Structure};
use crate::error::{Error, Result};

/// Converts batches of one [`ElementSpec`] to polars [`DataFrame`]s, sharing the batches' buffers.
///
/// One column per component, named by its path. Fixed-shape tensors become `Array` columns with the
/// row shape (`Array(UInt8, (8, 8))`: nested for rank > 1), unknown dimensions `List` levels, scalars
/// primitive, `String` or `Binary` columns. What is copied: `bool` (bit-packed, as Arrow and polars
/// keep it) and strings of at most 12 bytes (inlined in their views; see
/// [`PolarsStrings`](super::PolarsStrings)).
///
/// ```
/// use slicestream::frames::to_dataframe;
/// use slicestream::{Element, Tensor};
/// let batch = Element::dict([("x", Tensor::from_vec([3, 2], vec![1.0f32; 6])?)]);
/// let df = to_dataframe(&batch)?;
/// assert_eq!(df.height(), 3);
/// assert_eq!(df.columns()[0].dtype().to_string(), "array[f32, 2]");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct DataFrameConverter {
    spec: ElementSpec,
    fields: Vec<Field>,
}

impl DataFrameConverter {
    /// A converter for batches whose rows have `row_spec`.
    ///
    /// Errors for `bfloat16` components unless `options` say how to carry them.
    pub fn new(row_spec: &ElementSpec, options: &FrameOptions) -> Result<Self> {
        Ok(DataFrameConverter {
            spec: row_spec.clone(),
            fields: polars_fields(row_spec, options)?,
        })
    }

    /// The batch as a data frame over the batch's buffers.
    ///
    /// Errors (naming the component) when the batch does not fit the spec.
    pub fn convert(&self, batch: &Batch) -> Result<DataFrame> {
        let rows = check_batch(batch, &self.spec)?;
        let columns = batch
            .components()
            .iter()
            .zip(&self.fields)
            .map(|(t, f)| {
                let array = tensor_to_array(t, f)?;
                arrow_to_series(f, &array).map(PlColumn::from)
            })
            .collect::<Result<Vec<_>>>()?;
        DataFrame::new(rows, columns).map_err(|e| {
            Error::incompatible(format!("cannot assemble the data frame: {e}")).with_source(e)
        })
    }
}

/// The batch as a polars data frame (see [`DataFrameConverter`]), with default options.
pub fn to_dataframe(batch: &Batch) -> Result<DataFrame> {
    to_dataframe_with(batch, &FrameOptions::default())
}

/// The batch as a polars data frame with these options.
pub fn to_dataframe_with(batch: &Batch, options: &FrameOptions) -> Result<DataFrame> {
    DataFrameConverter::new(&row_spec_of(batch)?, options)?.convert(batch)
}

/// The whole data frame as one batch (see [`Dataset::from_polars`] for what is copied).
pub fn from_dataframe(df: &DataFrame) -> Result<Batch> {
    let source = PolarsSource::new(df)?;
    source.slice(0, df.height())
}

/// The rows of a polars data frame, read by index: a batch of consecutive rows within one chunk of
/// every column is a view of the frame's buffers.
pub(crate) struct PolarsSource {
    series: Vec<Series>,
    structure: Arc<Structure>,
    spec: ElementSpec,
    height: usize,
}

impl PolarsSource {
    pub(crate) fn new(df: &DataFrame) -> Result<Self> {
        let series: Vec<Series> = df
            .columns()
            .iter()
            .map(|c| c.as_materialized_series().clone())
            .collect();
        let names: Vec<String> = series.iter().map(|s| s.name().to_string()).collect();
        let specs = series
            .iter()
            .map(|s| column_spec(&arrow_field_of(s)?))
            .collect::<Result<Vec<_>>>()?;
        let structure = structure_from_names(&names)?;
        let spec = ElementSpec::new(structure.clone(), specs)?;
        Ok(PolarsSource {
            series,
            structure: Arc::new(structure),
            spec,
            height: df.height(),
        })
    }

    /// One column's rows as a [`Column`] over (a view of) the series' single chunk.
    fn column(s: &Series) -> Result<Column> {
        let s = if s.n_chunks() == 1 {
            s.clone()
        } else {
            s.rechunk()
        };
        let (field, array) = series_chunk_to_arrow(&s, 0)?;
        Column::read(&field, &array)
    }

    fn columns_of(&self, f: impl Fn(&Series) -> Result<Series>) -> Result<Vec<Column>> {
        self.series
            .iter()
            .map(|s| f(s).and_then(|s| Self::column(&s)))
            .collect()
    }

    fn assemble(&self, columns: &[Column], rows: usize) -> Result<Batch> {
        let components = columns
            .iter()
            .map(|c| c.batch(0, rows))
            .collect::<Result<_>>()?;
        Element::from_shared(self.structure.clone(), components)
    }
}

/// The arrow-rs field polars exports for this series.
fn arrow_field_of(s: &Series) -> Result<Field> {
    let (field, _) = series_chunk_to_arrow(&s.slice(0, 0).rechunk(), 0)?;
    Ok(field)
}

impl RandomAccess for PolarsSource {
    fn spec(&self) -> ElementSpec {
        self.spec.clone()
    }

    fn len(&self) -> usize {
        self.height
    }

    fn get(&self, index: usize) -> Result<Element> {
        if index >= self.height {
            return Err(Error::invalid_argument(format!(
                "row {index} out of range for {} rows",
                self.height
            )));
        }
        let at = |e: Error| e.with_stage("from_polars").with_element(index as u64);
        let columns = self
            .columns_of(|s| Ok(s.slice(index as i64, 1)))
            .map_err(at)?;
        let components = columns
            .iter()
            .map(|c| c.row(0))
            .collect::<Result<_>>()
            .map_err(at)?;
        Element::from_shared(self.structure.clone(), components)
    }

    fn slice(&self, start: usize, end: usize) -> Result<Batch> {
        if start > end || end > self.height {
            return Err(Error::invalid_argument(format!(
                "rows {start}..{end} out of range for {} rows",
                self.height
            )));
        }
        let at = |e: Error| e.with_stage("from_polars").with_element(start as u64);
        let columns = self
            .columns_of(|s| Ok(s.slice(start as i64, end - start)))
            .map_err(at)?;
        self.assemble(&columns, end - start).map_err(at)
    }

    fn gather(&self, indices: &[usize]) -> Result<Batch> {
        let idx = indices
            .iter()
            .map(|&i| {
                IdxSize::try_from(i)
                    .ok()
                    .filter(|_| i < self.height)
                    .ok_or_else(|| {
                        Error::invalid_argument(format!(
                            "row {i} out of range for {} rows",
                            self.height
                        ))
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        let columns = self
            .columns_of(|s| {
                s.take_slice(&idx).map_err(|e| {
                    Error::incompatible(format!("polars cannot gather rows: {e}"))
                        .with_component(s.name().to_string())
                        .with_source(e)
                })
            })
            .map_err(|e| e.with_stage("from_polars"))?;
        self.assemble(&columns, indices.len())
            .map_err(|e| e.with_stage("from_polars"))
    }
}

impl Dataset {
    /// A dataset of the rows of a polars data frame (cheap: the frame's columns are shared, not
    /// copied), read by index like [`Dataset::from_tensor_slices`].
    ///
    /// Components are the columns, nested by their names (see
    /// [`structure_from_names`]); `Array` columns are tensors of the
    /// array's shape, `List` columns tensors with an unknown dimension.
    ///
    /// What is copied: nothing for numeric and `Array` columns when a batch lies within one chunk of
    /// every column (an unshuffled `batch` is a slice of the chunks; a batch across a chunk boundary
    /// is rechunked, one copy); a shuffled batch is one gather (polars `take`); `String` / `Binary`
    /// values (polars keeps views, tensors contiguous values) and `Boolean` (bits to bytes) are copied
    /// per batch.
    ///
    /// Errors (naming the column) for column types slicestream cannot hold, listing the supported
    /// ones; nulls are an error when the rows holding them are read.
    ///
    /// ```
    /// use polars::prelude::*;
    /// use slicestream::Dataset;
    /// let df = DataFrame::new(3, vec![Column::new("label".into(), [1i64, 2, 3])])?;
    /// let ds = Dataset::from_polars(&df)?.batch(2, false)?;
    /// assert_eq!(ds.iter().count(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_polars(df: &DataFrame) -> Result<Dataset> {
        let source = PolarsSource::new(df).map_err(|e| e.with_stage("from_polars"))?;
        Ok(Dataset::from_random_access_named(
            "from_polars",
            Arc::new(source),
        ))
    }
}
