//! `flat_map`: each element (or window) mapped to a dataset, whose elements are yielded in turn.

use std::sync::{Arc, OnceLock};

use super::call_user;
use super::sampled_spec;
use crate::dataset::{renumber, Cardinality, Context, Dataset, Items, Node, Stream};
use crate::element::{Element, ElementSpec, TensorSpec};
use crate::error::Result;

/// Makes, per epoch, the stream of datasets to flatten.
pub(crate) type DatasetsFn =
    dyn Fn(&Context) -> Result<Box<dyn Iterator<Item = Result<Dataset>> + Send>> + Send + Sync;

pub(crate) struct FlatMapNode {
    /// The transformation's name in stats, errors and `Debug` (`flat_map`, `group_by_window`, …).
    pub(crate) name: &'static str,
    pub(crate) datasets: Arc<DatasetsFn>,
    pub(crate) spec: Arc<dyn Fn() -> Result<ElementSpec> + Send + Sync>,
    pub(crate) cached: OnceLock<ElementSpec>,
}

impl Node for FlatMapNode {
    fn name(&self) -> &'static str {
        self.name
    }

    fn spec(&self) -> Result<ElementSpec> {
        if let Some(s) = self.cached.get() {
            return Ok(s.clone());
        }
        let s = (self.spec)()?;
        Ok(self.cached.get_or_init(|| s).clone())
    }

    fn cardinality(&self) -> Cardinality {
        Cardinality::Unknown
    }

    fn open(&self, ctx: &Context) -> Result<Stream> {
        let mut outer = (self.datasets)(ctx)?;
        let ctx = ctx.clone();
        let name = self.name;
        let mut inner: Option<Items> = None;
        Ok(Stream::Items(renumber(std::iter::from_fn(move || loop {
            if let Some(it) = inner.as_mut() {
                if let Some(e) = it.next() {
                    return Some(e);
                }
                inner = None;
            }
            match outer.next()? {
                Ok(ds) => match ds.open(&ctx) {
                    Ok(s) => inner = Some(s.into_items()),
                    Err(e) => return Some(Err(e.with_stage(name))),
                },
                Err(e) => return Some(Err(e)),
            }
        }))))
    }
}

/// A spec with every dimension unknown (dtypes and ranks kept).
pub(crate) fn loosen(spec: &ElementSpec) -> Result<ElementSpec> {
    spec.map_components(|s| Ok(TensorSpec::with_unknown(s.dtype, vec![None; s.rank()])))
}

impl Dataset {
    /// Maps each element to a dataset and yields the elements of each in turn (tf.data's
    /// `flat_map`). The spec is inferred from the dataset made for the first element (dimensions
    /// unknown). An `Err` or a panic in `f` ends the epoch with an error naming the element.
    pub fn flat_map<F>(&self, f: F) -> Dataset
    where
        F: Fn(Element) -> Result<Dataset> + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        let (f2, input2) = (f.clone(), self.node().clone());
        let spec = Arc::new(move || {
            sampled_spec(input2.as_ref(), "flat_map", "", |e| {
                call_user("flat_map", 0, || f2(e)?.element_spec())
            })
        });
        self.flat_map_node(f, spec)
    }

    /// [`Dataset::flat_map`] whose datasets have the declared `spec` (checked against each
    /// dataset `f` makes), so that nothing is read to know it.
    pub fn flat_map_with_spec<F>(&self, spec: ElementSpec, f: F) -> Dataset
    where
        F: Fn(Element) -> Result<Dataset> + Send + Sync + 'static,
    {
        let declared = spec.clone();
        let f = Arc::new(move |e: Element| -> Result<Dataset> {
            let ds = f(e)?;
            super::interleave::check_compatible(&declared, &ds.element_spec()?)?;
            Ok(ds)
        });
        self.flat_map_node(f, Arc::new(move || Ok(spec.clone())))
    }

    fn flat_map_node(
        &self,
        f: Arc<dyn Fn(Element) -> Result<Dataset> + Send + Sync>,
        spec: Arc<dyn Fn() -> Result<ElementSpec> + Send + Sync>,
    ) -> Dataset {
        let input = self.node().clone();
        let datasets: Arc<DatasetsFn> = Arc::new(move |ctx: &Context| {
            let elements = input.open(ctx)?.into_items();
            let f = f.clone();
            let mut index = 0u64;
            Ok(Box::new(elements.map(move |item| {
                let i = index;
                index += 1;
                let e = item?.element;
                call_user("flat_map", i, || f(e))
            })))
        });
        self.derive(FlatMapNode {
            name: "flat_map",
            datasets,
            spec,
            cached: OnceLock::new(),
        })
    }
}
