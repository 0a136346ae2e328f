//! `take_while`: elements up to (not including) the first for which a predicate fails.

use std::sync::Arc;

use super::call_user;
use super::filter::Predicate;
use crate::dataset::{Cardinality, Context, Dataset, Items, Node, Stream};
use crate::element::{Element, ElementSpec};
use crate::error::Result;

struct TakeWhileNode {
    input: Arc<dyn Node>,
    predicate: Arc<Predicate>,
}

impl Node for TakeWhileNode {
    fn name(&self) -> &'static str {
        "take_while"
    }

    fn spec(&self) -> Result<ElementSpec> {
        self.input.spec()
    }

    fn cardinality(&self) -> Cardinality {
        Cardinality::Unknown
    }

    fn open(&self, ctx: &Context) -> Result<Stream> {
        let mut input = self.input.open(ctx)?.into_items();
        let p = self.predicate.clone();
        let mut index = 0u64;
        let mut done = false;
        let stream: Items = Box::new(std::iter::from_fn(move || {
            if done {
                return None;
            }
            let item = match input.next()? {
                Ok(item) => item,
                Err(e) => return Some(Err(e)),
            };
            let n = index;
            index += 1;
            match call_user("take_while", n, || p(&item.element)) {
                Ok(true) => Some(Ok(item)),
                Ok(false) => {
                    done = true;
                    None
                }
                Err(err) => Some(Err(err)),
            }
        }));
        Ok(Stream::Items(stream))
    }
}

impl Dataset {
    /// Yields elements while `predicate` holds and stops at the first for which it does not
    /// (tf.data's `take_while`).
    pub fn take_while<F>(&self, predicate: F) -> Dataset
    where
        F: Fn(&Element) -> Result<bool> + Send + Sync + 'static,
    {
        self.derive(TakeWhileNode {
            input: self.node().clone(),
            predicate: Arc::new(predicate),
        })
    }
}
