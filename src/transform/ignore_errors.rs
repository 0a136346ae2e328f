//! `ignore_errors`: elements whose computation failed are dropped (and counted); the pipeline's
//! own errors still end the epoch unless asked otherwise.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::dataset::{renumber, Cardinality, Context, Dataset, Node, Stream};
use crate::element::{Element, ElementSpec};
use crate::error::Result;

/// What [`Dataset::ignore_errors_with`] skips and says.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct IgnoreErrorsOptions {
    /// Print each skipped error to standard error (tf.data's `log_warning`).
    pub log_warning: bool,
    /// Skip the pipeline's own errors too (a corrupt or unreadable file, a missing one): the
    /// stage that failed usually ends there, and so does the epoch, without an error.
    pub pipeline_errors: bool,
}

impl IgnoreErrorsOptions {
    /// `log_warning`.
    pub fn with_log_warning(mut self, log: bool) -> Self {
        self.log_warning = log;
        self
    }

    /// `pipeline_errors`.
    pub fn with_pipeline_errors(mut self, skip: bool) -> Self {
        self.pipeline_errors = skip;
        self
    }
}

struct IgnoreErrorsNode {
    input: Arc<dyn Node>,
    options: IgnoreErrorsOptions,
}

impl Node for IgnoreErrorsNode {
    fn name(&self) -> &'static str {
        "ignore_errors"
    }

    fn spec(&self) -> Result<ElementSpec> {
        self.input.spec()
    }

    fn cardinality(&self) -> Cardinality {
        // As tf.data: unknown, since elements may be dropped.
        match self.input.cardinality() {
            Cardinality::Infinite => Cardinality::Infinite,
            _ => Cardinality::Unknown,
        }
    }

    fn sample(&self, ctx: &Context) -> Result<Option<Element>> {
        self.input.sample(ctx)
    }

    fn open(&self, ctx: &Context) -> Result<Stream> {
        let mut input = self.input.open(ctx)?.into_items();
        let counters = ctx.stage.clone();
        let options = self.options.clone();
        Ok(Stream::Items(renumber(std::iter::from_fn(move || loop {
            match input.next()? {
                Ok(item) => return Some(Ok(item)),
                Err(e) => {
                    let skip = (e.is_element_error() && e.continues()) || options.pipeline_errors;
                    if !skip {
                        return Some(Err(e));
                    }
                    if let Some(c) = &counters {
                        c.skipped.fetch_add(1, Ordering::Relaxed);
                    }
                    if options.log_warning {
                        eprintln!("slicestream: ignore_errors: skipped an element: {e}");
                    }
                }
            }
        }))))
    }
}

impl Dataset {
    /// Drops the elements whose computation failed (tf.data's `ignore_errors`): an error of a
    /// `map` function, or a batch whose elements do not fit together, is skipped, counted in the
    /// stage's [`crate::runtime::StageStats::errors_skipped`], and the stream goes on with the
    /// next element; with `log_warning`, each is printed to standard error.
    ///
    /// The pipeline's own errors (a corrupt or unreadable file) are not skipped (see
    /// [`Dataset::ignore_errors_with`]), and neither is an error that crossed a stage that
    /// cannot go on after it (e.g. a `prefetch` between the failing `map` and this): those still
    /// end the epoch with the error, never silently.
    ///
    /// ```
    /// use slicestream::{Dataset, Element, Error, Tensor};
    /// let ds = Dataset::range(0, 6, 1)?
    ///     .map(|e| {
    ///         let x = e.component(0)?.as_slice::<i64>()?[0];
    ///         if x % 3 == 1 { Err(Error::invalid_argument("bad record")) } else { Ok(e) }
    ///     })
    ///     .ignore_errors(false);
    /// let kept: Vec<i64> = ds.iter()
    ///     .map(|e| Ok(e?.component(0)?.as_slice::<i64>()?[0]))
    ///     .collect::<slicestream::Result<_>>()?;
    /// assert_eq!(kept, vec![0, 2, 3, 5]);
    /// # Ok::<(), slicestream::Error>(())
    /// ```
    #[must_use = "a dataset is lazy: iterate it"]
    pub fn ignore_errors(&self, log_warning: bool) -> Dataset {
        self.ignore_errors_with(IgnoreErrorsOptions::default().with_log_warning(log_warning))
    }

    /// [`Dataset::ignore_errors`] with options: also skip the pipeline's own errors.
    #[must_use = "a dataset is lazy: iterate it"]
    pub fn ignore_errors_with(&self, options: IgnoreErrorsOptions) -> Dataset {
        self.derive(IgnoreErrorsNode {
            input: self.node().clone(),
            options,
        })
    }
}
