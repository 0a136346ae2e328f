//! [`Dataset`]: a lazy, cloneable plan of sources and transformations; iterating it runs one epoch.

mod cardinality;
mod iter;
mod random_access;
pub(crate) mod stream;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

pub use cardinality::Cardinality;
pub use iter::DatasetIter;
pub use random_access::RandomAccess;
pub(crate) use stream::{Context, Elements, Node, Stream};

use crate::element::ElementSpec;
use crate::error::Result;
use crate::runtime::instrument::Instrumented;
use crate::runtime::{Options, Runtime};

/// A lazy plan of a source and transformations, with tf.data's semantics.
///
/// Nothing runs until it is iterated; each iteration ([`Dataset::iter`] or `for e in &ds`) is a new
/// epoch (reshuffled where asked) and yields `Result<Element>`. After an `Err` the iteration ends.
/// Cloning is cheap and shares the plan.
///
/// ```
/// use slicestream::{Dataset, Tensor};
/// let ds = Dataset::range(0, 10, 1)?.batch(4, false)?;
/// let sizes: Vec<usize> = ds.iter().map(|b| b.unwrap().component(0).unwrap().shape()[0]).collect();
/// assert_eq!(sizes, [4, 4, 2]);
/// # Ok::<(), slicestream::Error>(())
/// ```
pub struct Dataset {
    node: Arc<dyn Node>,
    options: Arc<Options>,
    epochs: AtomicU64,
}

impl Clone for Dataset {
    /// Shares the plan; the clone counts its epochs from where this one stands.
    fn clone(&self) -> Self {
        Dataset {
            node: self.node.clone(),
            options: self.options.clone(),
            epochs: AtomicU64::new(self.epochs.load(Ordering::Relaxed)),
        }
    }
}

impl std::fmt::Debug for Dataset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let spec = match self.element_spec() {
            Ok(s) => s.to_string(),
            Err(e) => format!("<{e}>"),
        };
        write!(
            f,
            "Dataset(element_spec={spec}, cardinality={})",
            self.cardinality()
        )
    }
}

impl Dataset {
    /// A dataset whose plan is a new source node (default options).
    pub(crate) fn from_node(node: impl Node) -> Self {
        Dataset {
            node: Arc::new(Instrumented::new(Arc::new(node))),
            options: Arc::new(Options::default()),
            epochs: AtomicU64::new(0),
        }
    }

    /// A dataset whose plan is `node` on top of this one's (same options).
    pub(crate) fn derive(&self, node: impl Node) -> Self {
        Dataset {
            node: Arc::new(Instrumented::new(Arc::new(node))),
            options: self.options.clone(),
            epochs: AtomicU64::new(0),
        }
    }

    /// The same plan with these pipeline-wide options (tf.data's `with_options`): memory budget,
    /// thread count.
    pub fn with_options(&self, options: Options) -> Dataset {
        Dataset {
            node: self.node.clone(),
            options: Arc::new(options),
            epochs: AtomicU64::new(self.epochs.load(Ordering::Relaxed)),
        }
    }

    /// The options in force.
    pub fn options(&self) -> &Options {
        &self.options
    }

    pub(crate) fn node(&self) -> &Arc<dyn Node> {
        &self.node
    }

    /// The spec of each element: structure, dtypes, and shapes with `None` where unknown
    /// (tf.data's `element_spec`).
    ///
    /// Errors only after a [`Dataset::map`] whose output spec was not declared and cannot be inferred
    /// (see there).
    pub fn element_spec(&self) -> Result<ElementSpec> {
        self.node.spec()
    }

    /// The number of elements, as far as it is known without iterating (tf.data's `cardinality()`).
    pub fn cardinality(&self) -> Cardinality {
        self.node.cardinality()
    }

    /// Starts a new epoch.
    pub fn iter(&self) -> DatasetIter {
        let epoch = self.epochs.fetch_add(1, Ordering::Relaxed);
        self.iter_epoch(epoch)
    }

    /// Iterates epoch number `epoch` (0-based): the same epoch of the same plan with the same seeds
    /// always yields the same elements.
    pub fn iter_epoch(&self, epoch: u64) -> DatasetIter {
        let runtime = Runtime::new((*self.options).clone());
        let ctx = Context::new(epoch, runtime.clone());
        DatasetIter::new(self.node.open(&ctx).map(Stream::into_elements), runtime)
    }

    pub(crate) fn open(&self, ctx: &Context) -> Result<Stream> {
        self.node.open(ctx)
    }
}

impl IntoIterator for &Dataset {
    type Item = Result<crate::element::Element>;
    type IntoIter = DatasetIter;

    fn into_iter(self) -> DatasetIter {
        self.iter()
    }
}
