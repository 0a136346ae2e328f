//! Datasets whose elements are the rows of a stream of Arrow record batches, read one record batch
//! at a time: `Dataset::from_record_batches` here, and the Parquet and IPC sources.

use std::sync::{Arc, Mutex};

use arrow::array::{RecordBatch, RecordBatchReader};
use arrow::datatypes::Schema;
use arrow::error::ArrowError;

use super::from_arrow::{spec_of_schema, ReadBatch};
use super::schema::column_spec;
use crate::dataset::{Cardinality, Context, Dataset, Node, Stream};
use crate::element::ElementSpec;
use crate::error::{Error, Result};

/// Record batches, each a `Result`.
pub(crate) type BatchStream = Box<dyn Iterator<Item = Result<RecordBatch>> + Send>;

/// What a record batch stream yields: a [`RecordBatch`], or a `Result` of one.
pub trait IntoRecordBatch {
    /// The record batch, or the error that took its place.
    fn into_record_batch(self) -> Result<RecordBatch>;
}

impl IntoRecordBatch for RecordBatch {
    fn into_record_batch(self) -> Result<RecordBatch> {
        Ok(self)
    }
}

impl IntoRecordBatch for std::result::Result<RecordBatch, ArrowError> {
    fn into_record_batch(self) -> Result<RecordBatch> {
        self.map_err(|e| Error::format("reading a record batch failed").with_source(e))
    }
}

impl IntoRecordBatch for Result<RecordBatch> {
    fn into_record_batch(self) -> Result<RecordBatch> {
        self
    }
}

type Opener = dyn Fn() -> Result<BatchStream> + Send + Sync;

/// A source node over record batches: `open` makes the stream of one epoch; every batch must have
/// the columns of `schema` (same names, same per-row specs).
pub(crate) struct RecordBatchNode {
    pub(crate) name: &'static str,
    pub(crate) schema: Arc<Schema>,
    pub(crate) spec: ElementSpec,
    pub(crate) cardinality: Cardinality,
    pub(crate) open: Arc<Opener>,
}

impl RecordBatchNode {
    /// A node over batches of `schema`, checking every column against the supported types now.
    pub(crate) fn new(
        name: &'static str,
        schema: Arc<Schema>,
        cardinality: Cardinality,
        open: Arc<Opener>,
    ) -> Result<Self> {
        let spec = spec_of_schema(&schema).map_err(|e| e.with_stage(name))?;
        Ok(RecordBatchNode {
            name,
            schema,
            spec,
            cardinality,
            open,
        })
    }
}

/// Errors (naming the column) when `schema` does not have the columns of `expected`.
pub(crate) fn check_same_columns(expected: &Schema, schema: &Schema, batch: u64) -> Result<()> {
    let changed = |column: &str, what: String| {
        Error::incompatible(format!(
            "the schema changed at record batch {batch}: {what}"
        ))
        .with_component(column)
    };
    let (a, b) = (expected.fields(), schema.fields());
    for (i, f) in b.iter().enumerate() {
        let Some(e) = a.get(i) else {
            return Err(changed(f.name(), "a column was added".to_string()));
        };
        if e.name() != f.name() {
            return Err(changed(
                f.name(),
                format!("column {i} was {:?} and is now {:?}", e.name(), f.name()),
            ));
        }
        if e.data_type() != f.data_type() || e.metadata() != f.metadata() {
            let (se, sf) = (column_spec(e), column_spec(f)?);
            if se.as_ref().ok() != Some(&sf) {
                return Err(changed(
                    f.name(),
                    format!(
                        "the column was {} and is now {}",
                        se.map_or_else(|_| e.data_type().to_string(), |s| s.to_string()),
                        sf
                    ),
                ));
            }
        }
    }
    if let Some(missing) = a.get(b.len()) {
        return Err(changed(missing.name(), "the column is missing".to_string()));
    }
    Ok(())
}

impl Node for RecordBatchNode {
    fn name(&self) -> &'static str {
        self.name
    }

    fn spec(&self) -> Result<ElementSpec> {
        Ok(self.spec.clone())
    }

    fn cardinality(&self) -> Cardinality {
        self.cardinality
    }

    fn open(&self, _ctx: &Context) -> Result<Stream> {
        let name = self.name;
        let batches = (self.open)().map_err(|e| e.with_stage(name))?;
        Ok(Stream::elements(rows_of(
            name,
            self.schema.clone(),
            self.spec.clone(),
            batches,
        )))
    }
}

/// The rows of `batches` as elements, one record batch converted at a time; ends after an error.
fn rows_of(
    name: &'static str,
    schema: Arc<Schema>,
    spec: ElementSpec,
    mut batches: BatchStream,
) -> impl Iterator<Item = Result<crate::Element>> + Send {
    let mut current: Option<(ReadBatch, usize)> = None;
    let mut index = 0u64;
    let mut batch_index = 0u64;
    let mut failed = false;
    std::iter::from_fn(move || loop {
        if failed {
            return None;
        }
        if let Some((batch, next)) = &mut current {
            if *next < batch.len() {
                let row = batch.row(*next);
                *next += 1;
                let i = index;
                index += 1;
                failed = row.is_err();
                return Some(row.map_err(|e| e.with_stage(name).with_element(i)));
            }
            current = None;
        }
        let rb = match batches.next()? {
            Ok(rb) => rb,
            Err(e) => {
                failed = true;
                return Some(Err(e.with_stage(name).with_element(index)));
            }
        };
        let read = check_same_columns(&schema, &rb.schema(), batch_index)
            .and_then(|_| ReadBatch::new(&rb, &spec));
        batch_index += 1;
        match read {
            Ok(b) => current = Some((b, 0)),
            Err(e) => {
                failed = true;
                return Some(Err(e.with_stage(name).with_element(index)));
            }
        }
    })
}

impl Dataset {
    /// A dataset of the rows of a stream of Arrow record batches — a `RecordBatchReader`, or any
    /// iterator of `RecordBatch` or `Result<RecordBatch, _>` — read one record batch at a time.
    ///
    /// The first record batch is read now, for the spec (its schema's columns; see
    /// [`element_spec`](super::element_spec)): `FixedSizeList` columns, with or without the
    /// `arrow.fixed_shape_tensor` extension, are tensors of their shape, `List` / `LargeList` columns
    /// tensors with unknown dimensions. Each row is a view of the record batch's buffers (no copy
    /// but bool, view strings and 32-bit offsets); `batch` then stacks rows (one copy) — or convert
    /// whole record batches with [`from_record_batch`](super::from_record_batch).
    ///
    /// The iterator is used once: the first epoch consumes it and a later one is an error. Errors
    /// (naming the column): unsupported types (listing the supported ones), nulls, a
    /// `fixed_shape_tensor` shape that does not fit its lists, a schema change between record
    /// batches, and an empty iterator (no schema to take the spec from: use
    /// [`Dataset::from_record_batch_reader`]).
    ///
    /// ```
    /// use arrow::array::{Int64Array, RecordBatch};
    /// use slicestream::Dataset;
    /// use std::sync::Arc;
    /// let rb = RecordBatch::try_from_iter([("y", Arc::new(Int64Array::from(vec![1, 2, 3])) as _)])?;
    /// let ds = Dataset::from_record_batches(vec![rb.clone(), rb])?;
    /// assert_eq!(ds.iter().count(), 6);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_record_batches<I>(batches: I) -> Result<Dataset>
    where
        I: IntoIterator,
        I::Item: IntoRecordBatch + 'static,
        I::IntoIter: Send + 'static,
    {
        const NAME: &str = "from_record_batches";
        let mut iter = batches.into_iter();
        let first = iter
            .next()
            .ok_or_else(|| {
                Error::invalid_argument(
                    "no record batches: the spec cannot be known (from_record_batch_reader takes \
                     the schema from the reader)",
                )
            })
            .and_then(IntoRecordBatch::into_record_batch)
            .map_err(|e| e.with_stage(NAME))?;
        let schema = first.schema();
        let stream: BatchStream = Box::new(
            std::iter::once(Ok(first)).chain(iter.map(IntoRecordBatch::into_record_batch)),
        );
        Self::from_batch_stream_once(NAME, schema, stream)
    }

    /// A dataset of the rows of a `RecordBatchReader`, its spec taken from the reader's schema (so an
    /// empty reader is an empty dataset). Otherwise as [`Dataset::from_record_batches`].
    pub fn from_record_batch_reader(
        reader: impl RecordBatchReader + Send + 'static,
    ) -> Result<Dataset> {
        let schema = reader.schema();
        let stream: BatchStream = Box::new(reader.map(IntoRecordBatch::into_record_batch));
        Self::from_batch_stream_once("from_record_batches", schema, stream)
    }

    fn from_batch_stream_once(
        name: &'static str,
        schema: Arc<Schema>,
        stream: BatchStream,
    ) -> Result<Dataset> {
        let slot = Mutex::new(Some(stream));
        let open: Arc<Opener> = Arc::new(move || {
            slot.lock()
                .map_err(|_| Error::invalid_argument("the record batch stream was poisoned"))?
                .take()
                .ok_or_else(|| {
                    Error::invalid_argument(
                        "the record batch stream was used up by an earlier epoch; it can be \
                         iterated once (files can be read again: from_parquet, from_ipc)",
                    )
                })
        });
        let node = RecordBatchNode::new(name, schema, Cardinality::Unknown, open)?;
        Ok(Dataset::from_node(node))
    }
}
