//! `unique`: each distinct element once, in the order first seen (tf.data's `unique`).

use std::collections::HashSet;
use std::sync::Arc;

use crate::dataset::{renumber, Cardinality, Context, Dataset, Node, Stream};
use crate::element::{Element, ElementSpec};
use crate::error::{Error, Result};
use crate::tensor::{DType, Tensor};

struct UniqueNode {
    input: Arc<dyn Node>,
}

/// A tensor as a hash key: its shape, then its values (strings length-prefixed).
fn key(t: &Tensor) -> Result<Vec<u8>> {
    let mut k = Vec::new();
    k.extend_from_slice(&(t.rank() as u64).to_le_bytes());
    for d in t.shape() {
        k.extend_from_slice(&(*d as u64).to_le_bytes());
    }
    match t.buffer() {
        Some(b) => k.extend_from_slice(b.as_slice()),
        None => {
            for i in 0..t.num_elements() {
                let v = t.bytes_at(i)?;
                k.extend_from_slice(&(v.len() as u64).to_le_bytes());
                k.extend_from_slice(v);
            }
        }
    }
    Ok(k)
}

impl Node for UniqueNode {
    fn name(&self) -> &'static str {
        "unique"
    }

    fn spec(&self) -> Result<ElementSpec> {
        self.input.spec()
    }

    fn cardinality(&self) -> Cardinality {
        Cardinality::Unknown
    }

    fn sample(&self, ctx: &Context) -> Result<Option<Element>> {
        self.input.sample(ctx)
    }

    fn open(&self, ctx: &Context) -> Result<Stream> {
        let input = self.input.open(ctx)?.into_items();
        let mut seen: HashSet<Vec<u8>> = HashSet::new();
        let mut index = 0u64;
        let unique = input.filter_map(move |item| {
            let item = match item {
                Ok(item) => item,
                Err(e) => return Some(Err(e)),
            };
            let n = index;
            index += 1;
            let k = match item.element.component(0).and_then(key) {
                Ok(k) => k,
                Err(e) => return Some(Err(e.with_stage("unique").with_element(n))),
            };
            seen.insert(k).then_some(Ok(item))
        });
        Ok(Stream::Items(renumber(unique)))
    }
}

impl Dataset {
    /// Each distinct element once, in the order first seen (tf.data's `unique`). Elements are one
    /// tensor of `int32`, `int64`, `string` or `bytes` (TensorFlow's `tf.string`; of any shape:
    /// equal means the same shape and values);
    /// anything else is refused here, as TensorFlow refuses it. The distinct elements seen are kept
    /// for the epoch (their bytes are not counted in the memory budget).
    pub fn unique(&self) -> Result<Dataset> {
        let spec = self.element_spec()?;
        let stage = |e: Error| e.with_stage("unique");
        let [component] = spec.components() else {
            return Err(stage(Error::invalid_argument(
                "UniqueDataset only supports inputs with a single component.",
            )));
        };
        if !matches!(
            component.dtype,
            DType::I32 | DType::I64 | DType::String | DType::Bytes
        ) {
            return Err(stage(Error::invalid_argument(format!(
                "`tf.data.Dataset.unique` does not support type {} -- only `tf.int32`, `tf.int64`, and `tf.string` are supported.",
                component.dtype
            ))));
        }
        Ok(self.derive(UniqueNode {
            input: self.node().clone(),
        }))
    }
}
