//! `scan` (a map with a running state) and `reduce` (the final state of a fold), as tf.data's.

use std::sync::Arc;

use super::{call_user, sampled_spec};
use crate::dataset::{Cardinality, Context, Dataset, Items, Node, Stream};
use crate::element::{Element, ElementSpec};
use crate::error::{Error, Result};

/// A scan function: (state, element) → (new state, output).
type ScanFn = dyn Fn(Element, Element) -> Result<(Element, Element)> + Send + Sync;

struct ScanNode {
    input: Arc<dyn Node>,
    initial: Element,
    f: Arc<ScanFn>,
    spec: ElementSpec,
}

/// Errors unless `state` has the initial state's structure, dtypes and shapes (TensorFlow relaxes a
/// changing shape to an unknown one; slicestream's specs have no unknown rank, so it refuses).
fn check_state(initial: &ElementSpec, state: &Element, stage: &str) -> Result<()> {
    let found = state.spec();
    if found != *initial {
        return Err(Error::incompatible(format!(
            "The element types for the new state must match the initial state: the initial state is {initial}, the new state is {found}"
        ))
        .with_stage(stage.to_string()));
    }
    Ok(())
}

impl Node for ScanNode {
    fn name(&self) -> &'static str {
        "scan"
    }

    fn spec(&self) -> Result<ElementSpec> {
        Ok(self.spec.clone())
    }

    fn cardinality(&self) -> Cardinality {
        self.input.cardinality()
    }

    fn open(&self, ctx: &Context) -> Result<Stream> {
        let mut input = self.input.open(ctx)?.into_items();
        let f = self.f.clone();
        let state_spec = self.initial.spec();
        let mut state = Some(self.initial.clone());
        let mut index = 0u64;
        let stream: Items = Box::new(std::iter::from_fn(move || {
            let current = state.take()?;
            let mut item = match input.next()? {
                Ok(item) => item,
                Err(e) => return Some(Err(e)),
            };
            let n = index;
            index += 1;
            let step = call_user("scan", n, || f(current, item.element.clone())).and_then(
                |(next, out)| {
                    check_state(&state_spec, &next, "scan").map_err(|e| e.with_element(n))?;
                    Ok((next, out))
                },
            );
            match step {
                Ok((next, out)) => {
                    state = Some(next);
                    item.element = out;
                    Some(Ok(item))
                }
                // The state is gone with the error: the epoch ends here.
                Err(e) => Some(Err(e)),
            }
        }));
        Ok(Stream::Items(stream))
    }
}

impl Dataset {
    /// A map with a running state (tf.data's `scan`): `f(state, element)` returns the new state and
    /// the output; the state starts as `initial_state` and must keep its structure, dtypes and
    /// shapes. The output spec is inferred from `f` applied to the initial state and a sample of the
    /// input (see [`Dataset::scan_with_spec`] to declare it).
    ///
    /// Errors when the input is empty (nothing to infer from), or `f` fails or changes the state's
    /// spec on the sample; at iteration, an error or a changed state ends the epoch.
    pub fn scan<F>(&self, initial_state: Element, f: F) -> Result<Dataset>
    where
        F: Fn(Element, Element) -> Result<(Element, Element)> + Send + Sync + 'static,
    {
        let state_spec = initial_state.spec();
        let spec = sampled_spec(
            self.node().as_ref(),
            "scan",
            " (declare it with scan_with_spec)",
            |e| {
                let (next, out) = call_user("scan", 0, || f(initial_state.clone(), e))?;
                check_state(&state_spec, &next, "scan")?;
                Ok(out.spec())
            },
        )?;
        self.scan_with_spec(initial_state, spec, f)
    }

    /// [`Dataset::scan`] with the output spec declared: nothing is sampled.
    pub fn scan_with_spec<F>(
        &self,
        initial_state: Element,
        spec: ElementSpec,
        f: F,
    ) -> Result<Dataset>
    where
        F: Fn(Element, Element) -> Result<(Element, Element)> + Send + Sync + 'static,
    {
        Ok(self.derive(ScanNode {
            input: self.node().clone(),
            initial: initial_state,
            f: Arc::new(f),
            spec,
        }))
    }

    /// Folds the dataset into one element (tf.data's `reduce`): `f(state, element)` is the new state,
    /// which must keep the initial state's structure, dtypes and shapes. An empty dataset gives
    /// `initial_state`; an error of the input or of `f` is returned.
    ///
    /// ```
    /// use slicestream::{Dataset, Element, Tensor};
    /// let sum = Dataset::range(0, 5, 1)?.reduce(Element::single(Tensor::scalar(0i64)), |s, x| {
    ///     let (s, x) = (s.component(0)?.as_slice::<i64>()?[0], x.component(0)?.as_slice::<i64>()?[0]);
    ///     Ok(Element::single(Tensor::scalar(s + x)))
    /// })?;
    /// assert_eq!(sum.component(0)?.as_slice::<i64>()?, &[10]);
    /// # Ok::<(), slicestream::Error>(())
    /// ```
    pub fn reduce<F>(&self, initial_state: Element, f: F) -> Result<Element>
    where
        F: Fn(Element, Element) -> Result<Element>,
    {
        let spec = initial_state.spec();
        let mut state = initial_state;
        for (n, e) in self.iter().enumerate() {
            let e = e?;
            let next = call_user("reduce", n as u64, || f(state, e))?;
            check_state(&spec, &next, "reduce").map_err(|e| e.with_element(n as u64))?;
            state = next;
        }
        Ok(state)
    }

    /// The one element of a dataset that has exactly one (tf.data's `get_single_element`); an error
    /// when it has none or more than one.
    pub fn get_single_element(&self) -> Result<Element> {
        let mut it = self.iter();
        let first = it.next().ok_or_else(|| {
            Error::invalid_argument("Dataset was empty.").with_stage("get_single_element")
        })??;
        if it.next().is_some() {
            return Err(
                Error::invalid_argument("Dataset had more than one element.")
                    .with_stage("get_single_element"),
            );
        }
        Ok(first)
    }
}
