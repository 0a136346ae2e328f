//! `filter`: only the elements for which a predicate holds.

use std::sync::Arc;

use super::call_user;
use crate::dataset::indices;
use crate::dataset::{Cardinality, Context, Dataset, Indexing, Node, Stream};
use crate::element::{Element, ElementSpec};
use crate::error::Result;

pub(crate) type Predicate = dyn Fn(&Element) -> Result<bool> + Send + Sync;

struct FilterNode {
    input: Arc<dyn Node>,
    predicate: Arc<Predicate>,
}

impl Node for FilterNode {
    fn name(&self) -> &'static str {
        "filter"
    }

    fn spec(&self) -> Result<ElementSpec> {
        self.input.spec()
    }

    fn cardinality(&self) -> Cardinality {
        Cardinality::Unknown
    }

    fn indexing(&self) -> Indexing {
        Indexing::Passes
    }

    fn sample(&self, ctx: &Context) -> Result<Option<Element>> {
        // Any input element has the output's spec: no need to find one the predicate keeps.
        self.input.sample(ctx)
    }

    fn open(&self, ctx: &Context) -> Result<Stream> {
        let p = self.predicate.clone();
        Ok(match self.input.open(ctx)? {
            // Over a random-access source the filter keeps indices, so batches stay one gather.
            Stream::Indexed { source, indices } => {
                let src = source.clone();
                let mut index = 0u64;
                Stream::Indexed {
                    source,
                    indices: indices::indices(indices.filter_map(move |i| {
                        let i = match i {
                            Ok(i) => i,
                            Err(e) => return Some(Err(e)),
                        };
                        let n = index;
                        index += 1;
                        match call_user("filter", n, || p(&src.get(i)?)) {
                            Ok(true) => Some(Ok(i)),
                            Ok(false) => None,
                            Err(e) => Some(Err(e)),
                        }
                    })),
                }
            }
            Stream::Items(input) => {
                let mut index = 0u64;
                Stream::Items(Box::new(input.filter_map(move |item| {
                    let item = match item {
                        Ok(item) => item,
                        Err(e) => return Some(Err(e)),
                    };
                    let n = index;
                    index += 1;
                    match call_user("filter", n, || p(&item.element)) {
                        Ok(true) => Some(Ok(item)),
                        Ok(false) => None,
                        Err(err) => Some(Err(err)),
                    }
                })))
            }
        })
    }
}

impl Dataset {
    /// Keeps the elements for which `predicate` returns `true` (tf.data's `filter`). An `Err` or a
    /// panic in the predicate ends the epoch with an error naming `filter` and the element index.
    pub fn filter<F>(&self, predicate: F) -> Dataset
    where
        F: Fn(&Element) -> Result<bool> + Send + Sync + 'static,
    {
        self.derive(FilterNode {
            input: self.node().clone(),
            predicate: Arc::new(predicate),
        })
    }
}
