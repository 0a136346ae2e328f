//! `map` and `map_batch`: a user closure applied to every element (or every batch).

use std::sync::{Arc, OnceLock};

use super::call_user;
use crate::dataset::{Cardinality, Context, Dataset, Elements, Node, Stream};
use crate::element::{Element, ElementSpec, TensorSpec};
use crate::error::{Error, Result};
use crate::sources::check_against_spec;

pub(crate) type MapFn = dyn Fn(Element) -> Result<Element> + Send + Sync;

struct MapNode {
    input: Arc<dyn Node>,
    f: Arc<MapFn>,
    stage: &'static str,
    /// The declared output spec; outputs are checked against it.
    declared: Option<ElementSpec>,
    /// The spec inferred from the first output when none was declared.
    inferred: OnceLock<ElementSpec>,
    /// `map_batch`: the output must keep the input's batch size.
    keep_batch_size: bool,
}

/// The spec of `element` with every dimension unknown (rank and dtype kept).
pub(crate) fn loose_spec(element: &Element) -> ElementSpec {
    element
        .spec()
        .map_components(|s| Ok(TensorSpec::with_unknown(s.dtype, vec![None; s.rank()])))
        .unwrap_or_else(|_| element.spec())
}

/// Runs `f` on the first element of `input` (epoch 0) to learn the dtypes and ranks it yields.
pub(crate) fn probe_spec(
    input: &Arc<dyn Node>,
    stage: &str,
    f: impl FnOnce(Element) -> Result<Element>,
) -> Result<ElementSpec> {
    let first = input.open(&Context { epoch: 0 })?.into_elements().next();
    match first {
        Some(Ok(e)) => Ok(loose_spec(&call_user(stage, 0, || f(e))?)),
        Some(Err(e)) => Err(e),
        None => Err(Error::invalid_argument(format!(
            "{stage}: the output spec cannot be inferred from an empty input; declare it (map_with_spec)"
        ))
        .with_stage(stage)),
    }
}

impl Node for MapNode {
    fn spec(&self) -> Result<ElementSpec> {
        if let Some(s) = &self.declared {
            return Ok(s.clone());
        }
        if let Some(s) = self.inferred.get() {
            return Ok(s.clone());
        }
        let f = self.f.clone();
        let spec = probe_spec(&self.input, self.stage, move |e| f(e))?;
        Ok(self.inferred.get_or_init(|| spec).clone())
    }

    fn cardinality(&self) -> Cardinality {
        self.input.cardinality()
    }

    fn open(&self, ctx: &Context) -> Result<Stream> {
        let mut input = self.input.open(ctx)?.into_elements();
        let f = self.f.clone();
        let stage = self.stage;
        let declared = self.declared.clone();
        let keep = self.keep_batch_size;
        let mut index = 0u64;
        let stream: Elements = Box::new(std::iter::from_fn(move || {
            let e = match input.next()? {
                Ok(e) => e,
                Err(e) => return Some(Err(e)),
            };
            let i = index;
            index += 1;
            let rows = e.batch_size();
            Some(call_user(stage, i, || {
                if keep && rows.is_none() {
                    return Err(Error::incompatible(
                        "map_batch needs batched elements: every component with the same first dimension",
                    ));
                }
                let out = f(e)?;
                if keep && out.batch_size() != rows {
                    return Err(Error::incompatible(format!(
                        "map_batch must keep the batch size: the input had {:?} rows, the output {:?}",
                        rows,
                        out.batch_size()
                    )));
                }
                if let Some(spec) = &declared {
                    check_against_spec(&out, spec)?;
                }
                Ok(out)
            }))
        }));
        Ok(Stream::Elements(stream))
    }
}

impl Dataset {
    fn map_node(
        &self,
        stage: &'static str,
        declared: Option<ElementSpec>,
        keep_batch_size: bool,
        f: Arc<MapFn>,
    ) -> Dataset {
        Dataset::from_node(MapNode {
            input: self.node().clone(),
            f,
            stage,
            declared,
            inferred: OnceLock::new(),
            keep_batch_size,
        })
    }

    /// Applies `f` to every element (tf.data's `map`). An `Err` from `f`, or a panic in it, ends the
    /// epoch with an error naming `map` and the element index.
    ///
    /// The output spec is inferred when first asked for ([`Dataset::element_spec`]) by running `f` on
    /// the input's first element: dtypes and ranks are known, dimensions unknown. Declare it with
    /// [`Dataset::map_with_spec`] to keep known dimensions (and to have every output checked).
    ///
    /// ```
    /// use slicestream::{Dataset, Element, Tensor};
    /// let ds = Dataset::range(0, 3, 1)?.map(|e| {
    ///     let x = e.component(0)?.as_slice::<i64>()?[0];
    ///     Ok(Element::single(Tensor::scalar(x * 10)))
    /// });
    /// let got: Vec<i64> = ds.iter().map(|e| e.unwrap().component(0).unwrap().as_slice::<i64>().unwrap()[0]).collect();
    /// assert_eq!(got, [0, 10, 20]);
    /// # Ok::<(), slicestream::Error>(())
    /// ```
    pub fn map<F>(&self, f: F) -> Dataset
    where
        F: Fn(Element) -> Result<Element> + Send + Sync + 'static,
    {
        self.map_node("map", None, false, Arc::new(f))
    }

    /// [`Dataset::map`] with the output spec declared: every output is checked against it (an
    /// element that does not fit is an error naming the component).
    pub fn map_with_spec<F>(&self, spec: ElementSpec, f: F) -> Dataset
    where
        F: Fn(Element) -> Result<Element> + Send + Sync + 'static,
    {
        self.map_node("map", Some(spec), false, Arc::new(f))
    }

    /// Applies `f` to whole batches, the vectorized path: use after [`Dataset::batch`]. `f` must keep
    /// the batch size (the first dimension of every component); anything else is an error.
    pub fn map_batch<F>(&self, f: F) -> Dataset
    where
        F: Fn(Element) -> Result<Element> + Send + Sync + 'static,
    {
        self.map_node("map_batch", None, true, Arc::new(f))
    }

    /// [`Dataset::map_batch`] with the output spec declared and checked.
    pub fn map_batch_with_spec<F>(&self, spec: ElementSpec, f: F) -> Dataset
    where
        F: Fn(Element) -> Result<Element> + Send + Sync + 'static,
    {
        self.map_node("map_batch", Some(spec), true, Arc::new(f))
    }
}
