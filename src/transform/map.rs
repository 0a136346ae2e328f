//! `map` and `map_batch`: a user closure applied to every element (or every batch), in order,
//! sequentially or on the pipeline's pool.

use std::sync::{Arc, OnceLock};

use super::batch::{batched_cardinality, batched_items};
use super::batcher::{stack_rows, Fit};
use super::map_work::{ElementContext, MapFn, Work};
use super::parallel_map::ParallelMap;
use super::sampled_spec;
use crate::dataset::{Cardinality, Context, Dataset, Item, Items, Node, Stream};
use crate::element::{Element, ElementSpec};
use crate::error::Result;

/// How many calls of a map's closure may run at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParallelCalls {
    /// At most this many (1: sequential, on the consumer's thread).
    Fixed(usize),
    /// As many as the pipeline's pool has threads (tf.data's `AUTOTUNE`).
    Autotune,
}

impl From<usize> for ParallelCalls {
    fn from(n: usize) -> Self {
        ParallelCalls::Fixed(n)
    }
}

/// How a map runs: tf.data's `num_parallel_calls` and `deterministic`, and an optional declared
/// output spec.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MapOptions {
    /// Parallel calls (default: 1, sequential).
    pub num_parallel_calls: ParallelCalls,
    /// Keep input order (default `true`); `false` yields results as they finish.
    pub deterministic: bool,
    /// The output spec; every output is checked against it. Default: inferred (see [`Dataset::map`]).
    pub spec: Option<ElementSpec>,
}

impl Default for MapOptions {
    fn default() -> Self {
        MapOptions {
            num_parallel_calls: ParallelCalls::Fixed(1),
            deterministic: true,
            spec: None,
        }
    }
}

impl MapOptions {
    /// Sets `num_parallel_calls` (a number or [`ParallelCalls::Autotune`]).
    pub fn with_num_parallel_calls(mut self, calls: impl Into<ParallelCalls>) -> Self {
        self.num_parallel_calls = calls.into();
        self
    }

    /// Sets `deterministic`.
    pub fn with_deterministic(mut self, deterministic: bool) -> Self {
        self.deterministic = deterministic;
        self
    }

    /// Declares the output spec.
    pub fn with_spec(mut self, spec: ElementSpec) -> Self {
        self.spec = Some(spec);
        self
    }
}

#[derive(Clone)]
struct MapNode {
    input: Arc<dyn Node>,
    work: Arc<Work>,
    options: MapOptions,
    /// The spec inferred from a sample when none was declared.
    inferred: Arc<OnceLock<ElementSpec>>,
}

impl MapNode {
    /// How many calls run at once (1: sequential).
    fn parallel_calls(&self, ctx: &Context) -> usize {
        match self.options.num_parallel_calls {
            ParallelCalls::Fixed(n) => n.max(1),
            ParallelCalls::Autotune => ctx.runtime.num_threads().max(2),
        }
    }

    /// The map's output spec: declared, or inferred from the closure applied to a sample of the
    /// input (one element, read through no buffer).
    fn output_spec(&self) -> Result<ElementSpec> {
        if let Some(s) = &self.options.spec {
            return Ok(s.clone());
        }
        if let Some(s) = self.inferred.get() {
            return Ok(s.clone());
        }
        let spec = sampled_spec(
            self.input.as_ref(),
            self.work.stage,
            "; declare it (MapOptions::with_spec)",
            |e| Ok(self.work.apply(0, 0, e)?.spec()),
        )?;
        Ok(self.inferred.get_or_init(|| spec).clone())
    }

    /// The map run in parallel on the pool (`calls` at once) over `input`.
    fn parallel(&self, input: Items, ctx: &Context, calls: usize) -> Result<ParallelMap> {
        ParallelMap::new(
            input,
            self.work.clone(),
            ctx,
            calls,
            self.options.deterministic,
        )
    }

    /// The map's stream over `input`, sequential or parallel.
    fn open_over(&self, input: Items, ctx: &Context) -> Result<Items> {
        let calls = self.parallel_calls(ctx);
        if calls > 1 {
            return Ok(Box::new(self.parallel(input, ctx, calls)?));
        }
        let work = self.work.clone();
        let epoch = ctx.epoch;
        let mut input = input;
        let mut index = 0u64;
        Ok(Box::new(std::iter::from_fn(move || {
            let item = match input.next()? {
                Ok(item) => item,
                Err(e) => return Some(Err(e)),
            };
            index += 1;
            let (element, reservation) = item.into_parts();
            Some(work.apply(epoch, index - 1, element).map(|e| Item {
                seq: index - 1,
                element: e,
                reservation,
            }))
        })))
    }
}

impl Node for MapNode {
    fn name(&self) -> &'static str {
        self.work.stage
    }

    fn spec(&self) -> Result<ElementSpec> {
        self.output_spec()
    }

    fn cardinality(&self) -> Cardinality {
        self.input.cardinality()
    }

    fn sample(&self, ctx: &Context) -> Result<Option<Element>> {
        match self.input.sample(ctx)? {
            Some(e) => Ok(Some(self.work.apply(ctx.epoch, 0, e)?)),
            None => Ok(None),
        }
    }

    fn fuse_batch(&self, batch_size: usize, drop_remainder: bool) -> Option<Arc<dyn Node>> {
        // A parallel map per element fuses with the batch after it (tf.data's map_and_batch).
        let parallel = match self.options.num_parallel_calls {
            ParallelCalls::Fixed(n) => n > 1,
            ParallelCalls::Autotune => true,
        };
        if !parallel || self.work.keep_batch_size {
            return None;
        }
        Some(Arc::new(MapAndBatchNode {
            map: self.clone(),
            batch_size,
            drop_remainder,
        }))
    }

    fn open(&self, ctx: &Context) -> Result<Stream> {
        let input = self.input.open(ctx)?.into_items();
        Ok(Stream::Items(self.open_over(input, ctx)?))
    }

    fn continues_after_errors(&self) -> bool {
        true
    }
}

/// A parallel `map` and the `batch` after it as one stage (tf.data's `map_and_batch`), chosen when
/// the plan is built: each batch is read, mapped and stacked by one worker of the pool. Under a
/// memory budget (whose chunks may be smaller than a batch) it runs as the map then the batch.
struct MapAndBatchNode {
    map: MapNode,
    batch_size: usize,
    drop_remainder: bool,
}

impl Node for MapAndBatchNode {
    fn name(&self) -> &'static str {
        self.map.work.stage
    }

    fn spec(&self) -> Result<ElementSpec> {
        let batch = self.drop_remainder.then_some(self.batch_size);
        self.map
            .output_spec()?
            .map_components(|s| Ok(s.batched(batch)))
    }

    fn cardinality(&self) -> Cardinality {
        batched_cardinality(
            self.map.input.cardinality(),
            self.batch_size,
            self.drop_remainder,
        )
    }

    fn sample(&self, ctx: &Context) -> Result<Option<Element>> {
        match self.map.sample(ctx)? {
            Some(e) => Ok(Some(stack_rows(&[e])?)),
            None => Ok(None),
        }
    }

    fn open(&self, ctx: &Context) -> Result<Stream> {
        let (size, drop) = (self.batch_size, self.drop_remainder);
        let calls = self.map.parallel_calls(ctx);
        if ctx.runtime.budget.limit().is_some() {
            let input = self.map.input.open(ctx)?.into_items();
            let mapped = self.map.open_over(input, ctx)?;
            return Ok(Stream::Items(batched_items(
                mapped,
                size,
                drop,
                Fit::SameShape,
                "batch",
                stack_rows,
            )));
        }
        let batches = match self.map.input.open(ctx)? {
            // Over a random-access source the workers read the elements they map.
            Stream::Indexed { source, indices } => self
                .map
                .parallel(Box::new(std::iter::empty()), ctx, calls)?
                .batching(size, drop)
                .reading(source, indices),
            Stream::Items(items) => self.map.parallel(items, ctx, calls)?.batching(size, drop),
        };
        Ok(Stream::Items(Box::new(batches)))
    }
}

impl Dataset {
    fn map_node(
        &self,
        stage: &'static str,
        keep_batch_size: bool,
        options: MapOptions,
        f: Arc<MapFn>,
    ) -> Dataset {
        self.derive(MapNode {
            input: self.node().clone(),
            work: Arc::new(Work {
                f,
                stage,
                keep_batch_size,
                declared: options.spec.clone(),
            }),
            options,
            inferred: Arc::new(OnceLock::new()),
        })
    }

    /// Applies `f` to every element (tf.data's `map`), sequentially. An `Err` from `f`, or a panic in
    /// it, ends the epoch with an error naming `map` and the element index.
    ///
    /// The output spec is inferred when first asked for ([`Dataset::element_spec`]) by running `f` on
    /// the input's first element: dtypes and ranks are known, dimensions unknown. Declare it with
    /// [`MapOptions::with_spec`] (or [`Dataset::map_with_spec`]) to keep known dimensions and have
    /// every output checked. For parallel calls use [`Dataset::map_with`].
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
        self.map_with(MapOptions::default(), f)
    }

    /// [`Dataset::map`] with the output spec declared: every output is checked against it (an
    /// element that does not fit is an error naming the component).
    pub fn map_with_spec<F>(&self, spec: ElementSpec, f: F) -> Dataset
    where
        F: Fn(Element) -> Result<Element> + Send + Sync + 'static,
    {
        self.map_with(MapOptions::default().with_spec(spec), f)
    }

    /// [`Dataset::map`] with options: `num_parallel_calls` runs `f` on the pipeline's own pool
    /// (never rayon's global one); results come back in input order unless `deterministic` is false.
    ///
    /// A parallel map followed directly by [`Dataset::batch`] runs fused, as tf.data's
    /// `map_and_batch` (decided when `batch` is called): each batch is mapped and stacked by one
    /// worker of the pool, so stacking is parallel too (not under a memory budget, whose chunks may
    /// be smaller than a batch). The output is the same; in the stats the map stage then counts
    /// batches.
    ///
    /// ```
    /// use slicestream::{Dataset, Element, Tensor};
    /// use slicestream::transform::{MapOptions, ParallelCalls};
    /// let ds = Dataset::range(0, 100, 1)?.map_with(
    ///     MapOptions::default().with_num_parallel_calls(ParallelCalls::Autotune),
    ///     |e| Ok(Element::single(Tensor::scalar(e.component(0)?.as_slice::<i64>()?[0] * 2))),
    /// );
    /// let got: Vec<i64> = ds.iter().map(|e| e.unwrap().component(0).unwrap().as_slice::<i64>().unwrap()[0]).collect();
    /// assert_eq!(got, (0..100).map(|x| x * 2).collect::<Vec<_>>());
    /// # Ok::<(), slicestream::Error>(())
    /// ```
    pub fn map_with<F>(&self, options: MapOptions, f: F) -> Dataset
    where
        F: Fn(Element) -> Result<Element> + Send + Sync + 'static,
    {
        self.map_node(
            "map",
            false,
            options,
            Arc::new(move |_: &ElementContext, e| f(e)),
        )
    }

    /// [`Dataset::map_with`] whose closure also gets the element's [`ElementContext`] (epoch and
    /// index), e.g. for random augmentation that is the same for any number of threads:
    /// `ctx.rng(seed)`.
    pub fn map_with_context<F>(&self, options: MapOptions, f: F) -> Dataset
    where
        F: Fn(&ElementContext, Element) -> Result<Element> + Send + Sync + 'static,
    {
        self.map_node("map", false, options, Arc::new(f))
    }

    /// Applies `f` to whole batches, the vectorized path: use after [`Dataset::batch`]. `f` must keep
    /// the batch size (the first dimension of every component); anything else is an error.
    pub fn map_batch<F>(&self, f: F) -> Dataset
    where
        F: Fn(Element) -> Result<Element> + Send + Sync + 'static,
    {
        self.map_batch_with(MapOptions::default(), f)
    }

    /// [`Dataset::map_batch`] with the output spec declared and checked.
    pub fn map_batch_with_spec<F>(&self, spec: ElementSpec, f: F) -> Dataset
    where
        F: Fn(Element) -> Result<Element> + Send + Sync + 'static,
    {
        self.map_batch_with(MapOptions::default().with_spec(spec), f)
    }

    /// [`Dataset::map_batch`] with options (parallel calls, order, declared spec).
    pub fn map_batch_with<F>(&self, options: MapOptions, f: F) -> Dataset
    where
        F: Fn(Element) -> Result<Element> + Send + Sync + 'static,
    {
        self.map_node(
            "map_batch",
            true,
            options,
            Arc::new(move |_: &ElementContext, e| f(e)),
        )
    }
}
