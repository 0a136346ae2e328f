//! `cache`: the first complete pass over the input is kept (in memory, or in an element file on
//! disk) and every later pass reads it instead of the input.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::dataset::{Cardinality, Context, Dataset, Item, Items, Node, Stream};
use crate::element::{Element, ElementSpec};
use crate::error::{Error, Result};
use crate::io::element_file::{ElementFileReader, ElementFileWriter};

/// Where a cache keeps the first pass.
enum Store {
    /// In memory: the elements of the first complete pass.
    Memory(Arc<Mutex<Option<Arc<Vec<Element>>>>>),
    /// An element file at this path (complete once it exists).
    File(PathBuf),
}

struct CacheNode {
    input: Arc<dyn Node>,
    store: Store,
    /// Whether a pass is filling the cache now (a second pass at the same time reads the input).
    filling: Arc<Mutex<bool>>,
    /// The plan the cache belongs to, written into a cache file and checked when one is read.
    plan: String,
}

/// Clears the filling flag when the pass that fills the cache ends, however it ends.
struct Filling(Arc<Mutex<bool>>);

impl Drop for Filling {
    fn drop(&mut self) {
        if let Ok(mut f) = self.0.lock() {
            *f = false;
        }
    }
}

impl CacheNode {
    /// Claims the right to fill the cache for this pass, if no other pass has it.
    fn claim(&self) -> Option<Filling> {
        let mut filling = self.filling.lock().ok()?;
        if *filling {
            return None;
        }
        *filling = true;
        Some(Filling(self.filling.clone()))
    }

    /// Reads a complete cache file, checking that it was written for this plan.
    fn read_file(&self, path: &Path) -> Result<Items> {
        let mut reader = ElementFileReader::open(path)?;
        let spec = self.input.spec()?;
        if reader.spec() != &spec || reader.plan() != self.plan {
            return Err(Error::incompatible(format!(
                "the cache file holds elements {} of the plan {:?}, not {spec} of {:?}: remove it \
                 or name another file",
                reader.spec(),
                reader.plan(),
                self.plan
            ))
            .with_file(path));
        }
        let mut seq = 0u64;
        Ok(Box::new(std::iter::from_fn(move || {
            match reader.next_element() {
                Ok(Some(e)) => {
                    seq += 1;
                    Some(Ok(Item::new(seq - 1, e)))
                }
                Ok(None) => None,
                Err(e) => Some(Err(e)),
            }
        })))
    }
}

impl Node for CacheNode {
    fn name(&self) -> &'static str {
        "cache"
    }

    fn spec(&self) -> Result<ElementSpec> {
        self.input.spec()
    }

    fn cardinality(&self) -> Cardinality {
        self.input.cardinality()
    }

    fn sample(&self, ctx: &Context) -> Result<Option<Element>> {
        self.input.sample(ctx)
    }

    fn open(&self, ctx: &Context) -> Result<Stream> {
        match &self.store {
            Store::Memory(kept) => {
                let done = kept.lock().ok().and_then(|k| k.clone());
                if let Some(elements) = done {
                    let mut i = 0usize;
                    return Ok(Stream::Items(Box::new(std::iter::from_fn(move || {
                        let e = elements.get(i)?.clone();
                        i += 1;
                        Some(Ok(Item::new(i as u64 - 1, e)))
                    }))));
                }
                let mut input = self.input.open(ctx)?.into_items();
                let Some(claim) = self.claim() else {
                    return Ok(Stream::Items(input));
                };
                let (mut kept_now, mut failed) = (Vec::new(), false);
                let keep = kept.clone();
                Ok(Stream::Items(Box::new(std::iter::from_fn(move || {
                    let _hold = &claim;
                    match input.next() {
                        Some(Ok(item)) => {
                            if !failed {
                                kept_now.push(item.element.clone());
                            }
                            Some(Ok(item))
                        }
                        Some(Err(e)) => {
                            failed = true;
                            Some(Err(e))
                        }
                        None => {
                            if !failed {
                                if let Ok(mut k) = keep.lock() {
                                    *k = Some(Arc::new(std::mem::take(&mut kept_now)));
                                }
                            }
                            failed = true;
                            None
                        }
                    }
                }))))
            }
            Store::File(path) => {
                if path.exists() {
                    return Ok(Stream::Items(self.read_file(path)?));
                }
                let mut input = self.input.open(ctx)?.into_items();
                let Some(claim) = self.claim() else {
                    return Ok(Stream::Items(input));
                };
                let mut writer = Some(ElementFileWriter::create(
                    path,
                    &self.input.spec()?,
                    &self.plan,
                )?);
                Ok(Stream::Items(Box::new(std::iter::from_fn(move || {
                    let _hold = &claim;
                    match input.next() {
                        Some(Ok(item)) => {
                            if let Some(w) = writer.as_mut() {
                                if let Err(e) = w.write(&item.element) {
                                    writer = None;
                                    return Some(Err(e.with_stage("cache")));
                                }
                            }
                            Some(Ok(item))
                        }
                        Some(Err(e)) => {
                            // The pass failed: no cache (the temporary file goes with the writer).
                            writer = None;
                            Some(Err(e))
                        }
                        None => match writer.take().map(ElementFileWriter::finish) {
                            Some(Err(e)) => Some(Err(e.with_stage("cache"))),
                            _ => None,
                        },
                    }
                }))))
            }
        }
    }
}

impl Dataset {
    /// Keeps the first complete pass over this dataset in memory; every later pass (a later
    /// epoch, a `repeat`) reads it instead of the input (tf.data's `cache()`). A pass that does
    /// not finish (an error, an iterator dropped early) keeps nothing, and the next pass reads
    /// the input again. Two passes at once: the second reads the input. The kept elements are not
    /// counted by the memory budget.
    #[must_use = "a dataset is lazy: iterate it"]
    pub fn cache(&self) -> Dataset {
        self.derive(CacheNode {
            input: self.node().clone(),
            store: Store::Memory(Arc::new(Mutex::new(None))),
            filling: Arc::new(Mutex::new(false)),
            plan: self.stage().describe(),
        })
    }

    /// Keeps the first complete pass over this dataset in the element file `path`
    /// (docs/formats.md), which later passes, and later processes, read instead of the input
    /// (tf.data's `cache(filename)`). The file is written under a temporary name and renamed when
    /// the pass ends, so a pass that does not finish leaves no file that looks complete.
    ///
    /// Errors when iterated: a cache file that another plan or spec wrote (remove it or name
    /// another), a corrupt or truncated one (naming the byte offset), and I/O failures.
    #[must_use = "a dataset is lazy: iterate it"]
    pub fn cache_to_file(&self, path: impl AsRef<Path>) -> Dataset {
        self.derive(CacheNode {
            input: self.node().clone(),
            store: Store::File(path.as_ref().to_path_buf()),
            filling: Arc::new(Mutex::new(false)),
            plan: self.stage().describe(),
        })
    }
}
