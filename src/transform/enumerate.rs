//! `enumerate`: each element paired with its index, `(index, element)`.

use std::sync::Arc;

use crate::dataset::{Cardinality, Context, Dataset, Item, Node, Stream};
use crate::element::{Element, ElementSpec, Structure, TensorSpec};
use crate::error::Result;
use crate::tensor::{DType, Tensor};

struct EnumerateNode {
    input: Arc<dyn Node>,
    start: i64,
}

impl Node for EnumerateNode {
    fn name(&self) -> &'static str {
        "enumerate"
    }

    fn spec(&self) -> Result<ElementSpec> {
        let inner = self.input.spec()?;
        let structure = Structure::Tuple(vec![Structure::Tensor, inner.structure().clone()]);
        let mut components = vec![TensorSpec::new(DType::I64, &[])];
        components.extend(inner.components().iter().cloned());
        ElementSpec::new(structure, components)
    }

    fn cardinality(&self) -> Cardinality {
        self.input.cardinality()
    }

    fn open(&self, ctx: &Context) -> Result<Stream> {
        let input = self.input.open(ctx)?.into_items();
        let mut next = self.start;
        Ok(Stream::Items(Box::new(input.map(move |item| {
            let Item {
                seq,
                element,
                reservation,
            } = item?;
            let i = next;
            next += 1;
            let element = Element::tuple_of(vec![Element::single(Tensor::scalar(i)), element]);
            Ok(Item {
                seq,
                element,
                reservation,
            })
        }))))
    }
}

impl Dataset {
    /// Each element as `(index, element)` with an `int64` index counting from `start`
    /// (tf.data's `enumerate`).
    pub fn enumerate(&self, start: i64) -> Dataset {
        self.derive(EnumerateNode {
            input: self.node().clone(),
            start,
        })
    }
}
