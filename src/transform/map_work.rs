//! What a map does to one element — the user's closure, where it runs, and the checks of its output
//! — shared by the sequential `map` and the parallel engine.

use std::sync::Arc;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::call_user;
use crate::dataset::stream::mix;
use crate::element::{Element, ElementSpec};
use crate::error::{Error, Result};
use crate::sources::check_against_spec;

/// Where an element is in the run, for closures that need randomness or positions
/// ([`Dataset::map_with_context`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ElementContext {
    /// The epoch (see [`Dataset::iter_epoch`]).
    pub epoch: u64,
    /// The element's index in the map's input this epoch.
    pub index: u64,
}

impl ElementContext {
    /// A random generator determined by `(seed, epoch, index)` alone: the same for any number of
    /// threads and any scheduling.
    pub fn rng(&self, seed: u64) -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(mix(seed ^ mix(self.epoch ^ mix(self.index))))
    }
}

pub(crate) type MapFn = dyn Fn(&ElementContext, Element) -> Result<Element> + Send + Sync;

/// What a map does to one element (shared by the sequential and the parallel paths).
pub(crate) struct Work {
    pub(crate) f: Arc<MapFn>,
    pub(crate) stage: &'static str,
    pub(crate) keep_batch_size: bool,
    pub(crate) declared: Option<ElementSpec>,
}

impl Work {
    /// Applies the closure to element `index`, checking what it must keep; errors name the stage
    /// and index, panics become errors, and every error is marked continuing (the map can go on).
    pub(crate) fn apply(&self, epoch: u64, index: u64, e: Element) -> Result<Element> {
        call_user(self.stage, index, || {
            let rows = e.batch_size();
            if self.keep_batch_size && rows.is_none() {
                return Err(Error::incompatible(
                    "map_batch needs batched elements: every component with the same first dimension",
                ));
            }
            let out = (self.f)(&ElementContext { epoch, index }, e)?;
            if self.keep_batch_size && out.batch_size() != rows {
                return Err(Error::incompatible(format!(
                    "map_batch must keep the batch size: the input had {:?} rows, the output {:?}",
                    rows,
                    out.batch_size()
                )));
            }
            if let Some(spec) = &self.declared {
                check_against_spec(&out, spec)?;
            }
            Ok(out)
        })
        // One element failed: the map goes on with the next.
        .map_err(Error::continuing)
    }
}
