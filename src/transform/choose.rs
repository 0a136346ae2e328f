//! `choose_from_datasets` (elements picked from several datasets by a dataset of indices) and
//! `sample_from_datasets` (picked at random by weight), as TensorFlow's `DirectedInterleave`.

use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::dataset::{renumber, Cardinality, Context, Dataset, Items, Node, Stream};
use crate::element::{Element, ElementSpec, TensorSpec};
use crate::error::{Error, Result};
use crate::tensor::DType;

/// How the next input is picked.
enum Choice {
    /// By the indices of a dataset.
    Dataset(Arc<dyn Node>),
    /// At random by weight, from a seeded stream (another each epoch when `rerandomize`).
    Random {
        weights: Vec<f64>,
        seed: u64,
        rerandomize: bool,
    },
}

struct ChooseNode {
    inputs: Vec<Arc<dyn Node>>,
    choice: Choice,
    stop_on_empty_dataset: bool,
    spec: ElementSpec,
    stage: &'static str,
}

/// A random pick among the inputs still running, by their weights (`None`: none has weight).
fn draw(rng: &mut ChaCha8Rng, weights: &[f64], running: &[bool]) -> Option<usize> {
    let total: f64 = weights
        .iter()
        .zip(running)
        .filter(|(_, r)| **r)
        .map(|(w, _)| w)
        .sum();
    if total <= 0.0 {
        return None;
    }
    let u: f64 = rng.random::<f64>() * total;
    let mut acc = 0.0;
    let mut last = None;
    for (i, (w, r)) in weights.iter().zip(running).enumerate() {
        if !*r || *w <= 0.0 {
            continue;
        }
        acc += w;
        last = Some(i);
        if u < acc {
            return Some(i);
        }
    }
    last
}

impl Node for ChooseNode {
    fn name(&self) -> &'static str {
        self.stage
    }

    fn spec(&self) -> Result<ElementSpec> {
        Ok(self.spec.clone())
    }

    fn cardinality(&self) -> Cardinality {
        Cardinality::Unknown
    }

    fn open(&self, ctx: &Context) -> Result<Stream> {
        let mut choice: Option<Items> = None;
        let mut random: Option<(ChaCha8Rng, Vec<f64>)> = None;
        match &self.choice {
            Choice::Dataset(node) => choice = Some(node.open(ctx)?.into_items()),
            Choice::Random {
                weights,
                seed,
                rerandomize,
            } => {
                let epoch = if *rerandomize { ctx.epoch } else { 0 };
                let seed = seed ^ epoch.wrapping_mul(0x9E37_79B9_7F4A_7C15);
                random = Some((ChaCha8Rng::seed_from_u64(seed), weights.clone()));
            }
        }
        let mut inputs: Vec<Option<Items>> = self
            .inputs
            .iter()
            .map(|n| n.open(ctx).map(|s| Some(s.into_items())))
            .collect::<Result<_>>()?;
        let mut active = inputs.len();
        let stop_on_empty = self.stop_on_empty_dataset;
        let stage = self.stage;
        let mut picks = 0u64;
        let mut done = false;
        let stream = std::iter::from_fn(move || loop {
            if done || active == 0 {
                return None;
            }
            let n = picks;
            picks += 1;
            let index = if let Some((rng, weights)) = random.as_mut() {
                let running: Vec<bool> = inputs.iter().map(Option::is_some).collect();
                // Only inputs still running are drawn (TensorFlow draws ended ones too and skips
                // them, which never ends when only weightless inputs are left).
                draw(rng, weights, &running)?
            } else {
                let pick = match choice.as_mut()?.next()? {
                    Ok(item) => item.element,
                    Err(e) => {
                        done = true;
                        return Some(Err(e));
                    }
                };
                match selector(&pick, inputs.len()) {
                    Ok(i) => i,
                    Err(e) => {
                        done = true;
                        return Some(Err(e.with_stage(stage).with_element(n)));
                    }
                }
            };
            let Some(input) = inputs[index].as_mut() else {
                // An input that has ended: its turns are skipped.
                continue;
            };
            match input.next() {
                Some(item) => return Some(item),
                None if stop_on_empty => {
                    done = true;
                    return None;
                }
                None => {
                    inputs[index] = None;
                    active -= 1;
                }
            }
        });
        Ok(Stream::Items(renumber(stream)))
    }
}

/// The input index a choice element names: a scalar `int64` in `0..n`.
fn selector(pick: &Element, n: usize) -> Result<usize> {
    let t = pick.component(0)?;
    if pick.len() != 1 || t.dtype() != DType::I64 || t.rank() != 0 {
        return Err(Error::invalid_argument(format!(
            "a choice is a scalar int64, got {} of shape {:?}",
            t.dtype(),
            t.shape()
        )));
    }
    let i = t.as_slice::<i64>()?[0];
    usize::try_from(i)
        .ok()
        .filter(|&i| i < n)
        .ok_or_else(|| {
            Error::invalid_argument(format!(
                "Selector index out of range: {i} >= {n} (the choice names a dataset that is not there)"
            ))
        })
}

/// The spec every input fits (dimensions that differ unknown), or an error naming the input.
fn common_spec(datasets: &[Dataset], stage: &str) -> Result<ElementSpec> {
    let Some(first) = datasets.first() else {
        return Err(
            Error::invalid_argument(format!("{stage} needs at least one dataset"))
                .with_stage(stage.to_string()),
        );
    };
    let mut spec = first.element_spec()?;
    for (i, d) in datasets.iter().enumerate().skip(1) {
        spec = spec.most_specific_compatible(&d.element_spec()?).map_err(|e| {
            Error::incompatible(format!(
                "All datasets must have compatible element specs: dataset {i} does not fit the others ({e})"
            ))
            .with_stage(stage.to_string())
        })?;
    }
    Ok(spec)
}

fn build(
    datasets: &[Dataset],
    choice: Choice,
    extra: Option<&Dataset>,
    stop_on_empty_dataset: bool,
    stage: &'static str,
) -> Result<Dataset> {
    let spec = common_spec(datasets, stage)?;
    let mut all: Vec<&Dataset> = datasets.iter().collect();
    all.extend(extra);
    Ok(datasets[0].derive_from(
        &all,
        ChooseNode {
            inputs: datasets.iter().map(|d| d.node().clone()).collect(),
            choice,
            stop_on_empty_dataset,
            spec,
            stage,
        },
    ))
}

impl Dataset {
    /// Element `k` comes from `datasets[choice_k]`, where `choice_k` is element `k` of
    /// `choice_dataset` (scalar `int64`s) — tf.data's `choose_from_datasets`. When a chosen dataset
    /// has ended: with `stop_on_empty_dataset` (TensorFlow's default) the result ends; else that
    /// dataset's turns are skipped, and the result ends when all have ended or the choices do.
    ///
    /// Errors when `datasets` is empty, their specs are not compatible, or `choice_dataset` is not
    /// of scalar `int64`s; a choice out of range is an error at iteration.
    pub fn choose_from_datasets(
        datasets: &[Dataset],
        choice_dataset: &Dataset,
        stop_on_empty_dataset: bool,
    ) -> Result<Dataset> {
        const STAGE: &str = "choose_from_datasets";
        let choice_spec = choice_dataset.element_spec()?;
        if choice_spec != ElementSpec::single(TensorSpec::new(DType::I64, &[])) {
            return Err(Error::invalid_argument(format!(
                "Invalid `choice_dataset`. Elements of `choice_dataset` must be scalar `tf.int64` tensors but are {choice_spec}"
            ))
            .with_stage(STAGE));
        }
        build(
            datasets,
            Choice::Dataset(choice_dataset.node().clone()),
            Some(choice_dataset),
            stop_on_empty_dataset,
            STAGE,
        )
    }

    /// Elements drawn from `datasets` at random, dataset `i` with probability `weights[i]` over
    /// their sum (uniform without weights) — tf.data's `sample_from_datasets`. The draws are one
    /// seeded stream (ChaCha8, `seed` or one at random now), the same whatever the number of
    /// threads; `rerandomize_each_iteration` draws anew each epoch. `stop_on_empty_dataset` as for
    /// [`Dataset::choose_from_datasets`] (TensorFlow's default here is `false`).
    ///
    /// Errors when the weights are not one finite, non-negative number per dataset with a positive
    /// sum.
    pub fn sample_from_datasets(
        datasets: &[Dataset],
        weights: Option<&[f64]>,
        seed: Option<u64>,
        stop_on_empty_dataset: bool,
        rerandomize_each_iteration: bool,
    ) -> Result<Dataset> {
        const STAGE: &str = "sample_from_datasets";
        let n = datasets.len();
        let weights: Vec<f64> = match weights {
            None => vec![1.0; n],
            Some(w) => w.to_vec(),
        };
        if weights.len() != n {
            return Err(Error::invalid_argument(format!(
                "`weights` must have one weight per dataset: {} weights for {n} datasets",
                weights.len()
            ))
            .with_stage(STAGE));
        }
        if let Some((i, w)) = weights
            .iter()
            .enumerate()
            .find(|(_, w)| !w.is_finite() || **w < 0.0)
        {
            return Err(Error::invalid_argument(format!(
                "weight {i} is {w}: weights are finite and non-negative"
            ))
            .with_stage(STAGE));
        }
        let total: f64 = weights.iter().sum();
        if total <= 0.0 || !total.is_finite() {
            return Err(Error::invalid_argument(format!(
                "the weights sum to {total}: they must sum to a positive number"
            ))
            .with_stage(STAGE));
        }
        let choice = Choice::Random {
            weights,
            seed: seed.unwrap_or_else(rand::random),
            rerandomize: rerandomize_each_iteration,
        };
        build(datasets, choice, None, stop_on_empty_dataset, STAGE)
    }
}
