//! `zip`: elements of several datasets side by side, as a tuple or a dict, until the shortest ends.

use std::sync::Arc;

use crate::dataset::{Cardinality, Context, Dataset, Item, Items, Node, Stream};
use crate::element::{Element, ElementSpec, Structure};
use crate::error::{Error, Result};
use crate::runtime::merge_into;

struct ZipNode {
    inputs: Vec<Arc<dyn Node>>,
    /// `None`: a tuple; otherwise the dict's keys, one per input.
    names: Option<Vec<String>>,
}

/// The parts nested as a tuple, or as a dict with these names.
fn nest(names: &Option<Vec<String>>, parts: Vec<Element>) -> Element {
    match names {
        None => Element::tuple_of(parts),
        Some(names) => Element::dict_of(names.iter().cloned().zip(parts).collect()),
    }
}

impl Node for ZipNode {
    fn name(&self) -> &'static str {
        "zip"
    }

    fn spec(&self) -> Result<ElementSpec> {
        let specs: Vec<ElementSpec> = self
            .inputs
            .iter()
            .map(|n| n.spec())
            .collect::<Result<_>>()?;
        let structure = match &self.names {
            None => Structure::Tuple(specs.iter().map(|s| s.structure().clone()).collect()),
            Some(names) => Structure::Dict(
                names
                    .iter()
                    .cloned()
                    .zip(specs.iter().map(|s| s.structure().clone()))
                    .collect(),
            ),
        };
        let components = specs
            .iter()
            .flat_map(|s| s.components().iter().cloned())
            .collect();
        ElementSpec::new(structure, components)
    }

    fn cardinality(&self) -> Cardinality {
        let mut result = Cardinality::Infinite;
        for input in &self.inputs {
            match input.cardinality() {
                Cardinality::Unknown => return Cardinality::Unknown,
                Cardinality::Infinite => {}
                Cardinality::Finite(n) => {
                    result = match result {
                        Cardinality::Finite(m) => Cardinality::Finite(m.min(n)),
                        _ => Cardinality::Finite(n),
                    }
                }
            }
        }
        result
    }

    fn open(&self, ctx: &Context) -> Result<Stream> {
        let mut streams: Vec<Items> = self
            .inputs
            .iter()
            .map(|n| n.open(ctx).map(Stream::into_items))
            .collect::<Result<_>>()?;
        let names = self.names.clone();
        let mut seq = 0u64;
        let stream: Items = Box::new(std::iter::from_fn(move || {
            let mut parts = Vec::with_capacity(streams.len());
            let mut reservation = None;
            for s in streams.iter_mut() {
                match s.next()? {
                    Ok(item) => {
                        let (e, r) = item.into_parts();
                        parts.push(e);
                        merge_into(&mut reservation, r);
                    }
                    Err(e) => return Some(Err(e)),
                }
            }
            let mut item = Item::new(seq, nest(&names, parts));
            item.reservation = reservation;
            seq += 1;
            Some(Ok(item))
        }));
        Ok(Stream::Items(stream))
    }
}

impl Dataset {
    /// Elements of `datasets` side by side as a tuple `(a, b, …)`, ending with the shortest
    /// (tf.data's `Dataset.zip`). Errors when `datasets` is empty.
    pub fn zip(datasets: &[Dataset]) -> Result<Dataset> {
        if datasets.is_empty() {
            return Err(Error::invalid_argument("zip needs at least one dataset").with_stage("zip"));
        }
        let all: Vec<&Dataset> = datasets.iter().collect();
        Ok(datasets[0].derive_from(
            &all,
            ZipNode {
                inputs: datasets.iter().map(|d| d.node().clone()).collect(),
                names: None,
            },
        ))
    }

    /// Elements of `datasets` side by side as a dict `{name: element}`, ending with the shortest.
    /// Errors when the list is empty or a name repeats.
    pub fn zip_dict<S: Into<String>>(datasets: Vec<(S, Dataset)>) -> Result<Dataset> {
        if datasets.is_empty() {
            return Err(Error::invalid_argument("zip needs at least one dataset").with_stage("zip"));
        }
        let first = datasets[0].1.clone();
        let all: Vec<Dataset> = datasets.iter().map(|(_, d)| d.clone()).collect();
        let (names, inputs): (Vec<String>, Vec<Arc<dyn Node>>) = datasets
            .into_iter()
            .map(|(k, d)| (k.into(), d.node().clone()))
            .unzip();
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        if sorted.len() != names.len() {
            return Err(
                Error::invalid_argument(format!("zip_dict names repeat: {names:?}"))
                    .with_stage("zip"),
            );
        }
        Ok(first.derive_from(
            &all.iter().collect::<Vec<_>>(),
            ZipNode {
                inputs,
                names: Some(names),
            },
        ))
    }
}
