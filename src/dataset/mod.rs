//! [`Dataset`]: a lazy, cloneable plan of sources and transformations; iterating it runs one epoch.

mod cardinality;
pub(crate) mod indices;
mod iter;
mod random_access;
mod stage;
pub(crate) mod stream;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

pub use cardinality::Cardinality;
pub use iter::DatasetIter;
pub use random_access::RandomAccess;
pub(crate) use stage::Stage;
pub(crate) use stream::{mix, renumber, Context, Indexing, Item, Items, Node, OutputQueue, Stream};

use crate::element::ElementSpec;
use crate::error::Result;
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
#[must_use = "a Dataset is a lazy plan: it does nothing until iterated"]
pub struct Dataset {
    stage: Arc<Stage>,
    options: Arc<Options>,
    epochs: AtomicU64,
}

impl Clone for Dataset {
    /// Shares the plan; the clone counts its epochs from where this one stands.
    fn clone(&self) -> Self {
        Dataset {
            stage: self.stage.clone(),
            options: self.options.clone(),
            epochs: AtomicU64::new(self.epochs.load(Ordering::Relaxed)),
        }
    }
}

impl std::fmt::Debug for Dataset {
    /// The plan's stages, sources first (`Dataset(range → shuffle → map)`): runs no user code,
    /// opens no file.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Dataset({})", self.stage.describe())
    }
}

impl Dataset {
    /// A dataset whose plan is a new source node (default options).
    pub(crate) fn from_node(node: impl Node) -> Self {
        Dataset {
            stage: Stage::new(node, Vec::new()),
            options: Arc::new(Options::default()),
            epochs: AtomicU64::new(0),
        }
    }

    /// A dataset whose plan is `node` on top of this one's (same options).
    pub(crate) fn derive(&self, node: impl Node) -> Self {
        self.derive_from(&[self], node)
    }

    /// A dataset whose plan is `node` reading `inputs` (the first one's options).
    pub(crate) fn derive_from(&self, inputs: &[&Dataset], node: impl Node) -> Self {
        let inputs = inputs.iter().map(|d| d.stage.clone()).collect();
        Dataset {
            stage: Stage::new(node, inputs),
            options: self.options.clone(),
            epochs: AtomicU64::new(0),
        }
    }

    /// A dataset whose plan is `node` in place of this one's last stage, over that stage's inputs
    /// (a fusion chosen when the plan is built).
    pub(crate) fn replace_last(&self, node: Arc<dyn Node>) -> Self {
        Dataset {
            stage: Stage::from_arc(node, self.stage.inputs().to_vec()),
            options: self.options.clone(),
            epochs: AtomicU64::new(0),
        }
    }

    /// The same plan with these pipeline-wide options (tf.data's `with_options`): memory budget,
    /// thread count.
    pub fn with_options(&self, options: Options) -> Dataset {
        Dataset {
            stage: self.stage.clone(),
            options: Arc::new(options),
            epochs: AtomicU64::new(self.epochs.load(Ordering::Relaxed)),
        }
    }

    /// The options in force.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The plan's last stage, as the input of a new node.
    pub(crate) fn node(&self) -> Arc<dyn Node> {
        self.stage.clone()
    }

    /// The plan's last stage.
    pub(crate) fn stage(&self) -> &Arc<Stage> {
        &self.stage
    }

    /// The spec of each element: structure, dtypes, and shapes with `None` where unknown
    /// (tf.data's `element_spec`).
    ///
    /// Errors only after a [`Dataset::map`] whose output spec was not declared and cannot be inferred
    /// (see there).
    pub fn element_spec(&self) -> Result<ElementSpec> {
        self.stage.spec()
    }

    /// The number of elements, as far as it is known without iterating (tf.data's `cardinality()`).
    pub fn cardinality(&self) -> Cardinality {
        self.stage.cardinality()
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
        let mut ctx = Context::new(epoch, runtime.clone());
        // A plan that ends in `prefetch` counts what waits at its output (DatasetIter::is_ready).
        let queue =
            (self.stage.node().name() == "prefetch").then(|| Arc::new(OutputQueue::default()));
        ctx.output_queue = queue.clone();
        DatasetIter::new(
            self.stage.open(&ctx).map(Stream::into_items),
            runtime,
            queue,
        )
    }

    pub(crate) fn open(&self, ctx: &Context) -> Result<Stream> {
        self.stage.open(ctx)
    }
}

impl IntoIterator for &Dataset {
    type Item = Result<crate::element::Element>;
    type IntoIter = DatasetIter;

    fn into_iter(self) -> DatasetIter {
        self.iter()
    }
}
