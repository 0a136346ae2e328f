//! `random`: an infinite stream of pseudorandom int64 values.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::dataset::{mix, Cardinality, Context, Dataset, Node, Stream};
use crate::element::{Element, ElementSpec, TensorSpec};
use crate::error::Result;
use crate::tensor::{DType, Tensor};

struct RandomNode {
    seed: u64,
    rerandomize_each_iteration: bool,
}

impl Node for RandomNode {
    fn name(&self) -> &'static str {
        "random"
    }

    fn spec(&self) -> Result<ElementSpec> {
        Ok(ElementSpec::single(TensorSpec::new(DType::I64, &[])))
    }

    fn cardinality(&self) -> Cardinality {
        Cardinality::Infinite
    }

    fn open(&self, ctx: &Context) -> Result<Stream> {
        let seed = if self.rerandomize_each_iteration {
            mix(self.seed ^ mix(ctx.epoch))
        } else {
            self.seed
        };
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        Ok(Stream::elements(std::iter::from_fn(move || {
            Some(Ok(Element::single(Tensor::scalar(rng.random::<i64>()))))
        })))
    }
}

impl Dataset {
    /// An infinite dataset of pseudorandom int64 scalars, uniform over the int64 range (tf.data's
    /// `Dataset.random`). The same `seed` gives the same values (ChaCha8; not TensorFlow's
    /// generator, so not TensorFlow's values); without one, a seed is drawn now. With
    /// `rerandomize_each_iteration`, each epoch (and each repetition of a `repeat`) draws other
    /// values, the same ones for the same seed.
    ///
    /// ```
    /// use slicestream::Dataset;
    /// let a = Dataset::random(Some(7), false).take(3);
    /// let first: Vec<_> = a.iter().collect::<slicestream::Result<_>>()?;
    /// let again: Vec<_> = a.iter().collect::<slicestream::Result<_>>()?;
    /// assert_eq!(first, again);
    /// # Ok::<(), slicestream::Error>(())
    /// ```
    #[must_use = "a dataset is lazy: iterate it"]
    pub fn random(seed: Option<u64>, rerandomize_each_iteration: bool) -> Dataset {
        Dataset::from_node(RandomNode {
            seed: seed.unwrap_or_else(rand::random),
            rerandomize_each_iteration,
        })
    }
}
