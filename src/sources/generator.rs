//! `from_generator`: elements from a user iterator, made anew each epoch, checked against a spec.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use crate::dataset::{Cardinality, Context, Dataset, Node, Stream};
use crate::element::{Element, ElementSpec};
use crate::error::{panic_message, Error, ErrorKind, Result};

type Factory = dyn Fn() -> Box<dyn Iterator<Item = Result<Element>> + Send> + Send + Sync;

struct Generator {
    spec: ElementSpec,
    factory: Arc<Factory>,
}

/// Checks that `element` fits `spec`, naming the first component that does not.
pub(crate) fn check_against_spec(element: &Element, spec: &ElementSpec) -> Result<()> {
    if element.structure() != spec.structure() {
        return Err(Error::new(ErrorKind::StructureMismatch {
            expected: spec.structure().to_string(),
            found: element.structure().to_string(),
        })
        .with_context(format!(
            "element has structure {} but the spec says {}",
            element.structure(),
            spec.structure()
        )));
    }
    for ((t, s), path) in element
        .components()
        .iter()
        .zip(spec.components())
        .zip(spec.paths())
    {
        if !s.matches(t) {
            let context = format!(
                "component is {} {:?}, the spec says {s}",
                t.dtype(),
                t.shape()
            );
            return Err(s.mismatch(t, context).with_component(path));
        }
    }
    Ok(())
}

impl Node for Generator {
    fn name(&self) -> &'static str {
        "from_generator"
    }

    fn spec(&self) -> Result<ElementSpec> {
        Ok(self.spec.clone())
    }

    fn cardinality(&self) -> Cardinality {
        Cardinality::Unknown
    }

    fn open(&self, _ctx: &Context) -> Result<Stream> {
        let factory = self.factory.clone();
        let inner = catch_unwind(AssertUnwindSafe(|| factory())).map_err(|p| {
            Error::new(ErrorKind::Panic(panic_message(p.as_ref()))).with_stage("from_generator")
        })?;
        let spec = self.spec.clone();
        let mut inner = inner;
        let mut index = 0u64;
        let mut failed = false;
        let stream = std::iter::from_fn(move || {
            if failed {
                return None;
            }
            let item = match catch_unwind(AssertUnwindSafe(|| inner.next())) {
                Ok(item) => item?,
                Err(p) => Err(Error::new(ErrorKind::Panic(panic_message(p.as_ref())))),
            };
            let item = item.and_then(|e| check_against_spec(&e, &spec).map(|_| e));
            let i = index;
            index += 1;
            if item.is_err() {
                failed = true;
            }
            Some(item.map_err(|e| e.with_stage("from_generator").with_element(i)))
        });
        Ok(Stream::elements(stream))
    }
}

impl Dataset {
    /// A dataset whose elements come from an iterator that `factory` makes anew for each epoch
    /// (tf.data's `from_generator` with an `output_signature`). Every element is checked against
    /// `spec`; a mismatch, an `Err` from the iterator or a panic in it ends the epoch with an error
    /// naming the element index.
    pub fn from_generator<F, I>(spec: ElementSpec, factory: F) -> Dataset
    where
        F: Fn() -> I + Send + Sync + 'static,
        I: IntoIterator<Item = Result<Element>> + 'static,
        I::IntoIter: Send,
    {
        let factory: Arc<Factory> = Arc::new(move || Box::new(factory().into_iter()));
        Dataset::from_node(Generator { spec, factory })
    }
}
