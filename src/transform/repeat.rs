//! `repeat`: the input again and again, each repetition a new epoch of it.

use std::sync::Arc;

use crate::dataset::indices::indices as index_stream;
use crate::dataset::{renumber, Cardinality, Context, Dataset, Indexing, Node, Stream};
use crate::element::ElementSpec;
use crate::error::{Error, Result};

struct RepeatNode {
    input: Arc<dyn Node>,
    /// `None`: forever.
    count: Option<u64>,
}

impl Node for RepeatNode {
    fn name(&self) -> &'static str {
        "repeat"
    }

    fn spec(&self) -> Result<ElementSpec> {
        self.input.spec()
    }

    fn cardinality(&self) -> Cardinality {
        let n = self.input.cardinality();
        match self.count {
            None => match n {
                Cardinality::Finite(0) => Cardinality::Finite(0),
                _ => Cardinality::Infinite,
            },
            Some(0) => Cardinality::Finite(0),
            Some(c) => match n {
                Cardinality::Finite(n) => Cardinality::Finite(n.saturating_mul(c)),
                other => other,
            },
        }
    }

    fn indexing(&self) -> Indexing {
        Indexing::Passes
    }

    fn open(&self, ctx: &Context) -> Result<Stream> {
        if self.count == Some(0) {
            return Ok(Stream::Items(Box::new(std::iter::empty())));
        }
        let count = self.count;
        let input = self.input.clone();
        let ctx = ctx.clone();
        let first = input.open(&ctx.repetition(0))?;
        let mut rep = 0u64;
        let mut yielded_this_rep = false;
        // Each repetition re-opens the input with its own epoch; when repeating forever, an empty
        // repetition ends it (as in tf.data: `repeat()` of an empty dataset is empty, not endless).
        macro_rules! next_rep {
            () => {{
                if count.is_none() && !yielded_this_rep {
                    return None;
                }
                rep += 1;
                if count.is_some_and(|c| rep >= c) {
                    return None;
                }
                yielded_this_rep = false;
                input.open(&ctx.repetition(rep))
            }};
        }
        Ok(match first {
            Stream::Indexed {
                source,
                mut indices,
            } => {
                let src = source.clone();
                Stream::Indexed {
                    source,
                    indices: index_stream(std::iter::from_fn(move || loop {
                        if let Some(i) = indices.next() {
                            yielded_this_rep = true;
                            return Some(i);
                        }
                        match next_rep!() {
                            Ok(Stream::Indexed {
                                source,
                                indices: next,
                            }) if Arc::ptr_eq(&source, &src) => indices = next,
                            Ok(_) => {
                                return Some(Err(Error::incompatible(
                                    "repeat: the input changed its source between repetitions",
                                )
                                .with_stage("repeat")))
                            }
                            Err(e) => return Some(Err(e)),
                        }
                    })),
                }
            }
            Stream::Items(mut elements) => {
                Stream::Items(renumber(std::iter::from_fn(move || loop {
                    if let Some(e) = elements.next() {
                        yielded_this_rep = true;
                        return Some(e);
                    }
                    match next_rep!() {
                        Ok(next) => elements = next.into_items(),
                        Err(e) => return Some(Err(e)),
                    }
                })))
            }
        })
    }
}

impl Dataset {
    /// The dataset `count` times (tf.data's `repeat(count)`). Each repetition is a new epoch of the
    /// input, so a shuffle with `reshuffle_each_iteration` gives a new order each time.
    pub fn repeat(&self, count: u64) -> Dataset {
        self.derive(RepeatNode {
            input: self.node().clone(),
            count: Some(count),
        })
    }

    /// The dataset forever (tf.data's `repeat()`); an empty input gives an empty dataset.
    pub fn repeat_forever(&self) -> Dataset {
        self.derive(RepeatNode {
            input: self.node().clone(),
            count: None,
        })
    }
}
