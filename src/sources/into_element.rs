//! [`IntoTensor`] and [`IntoElement`]: what the sources accept (tensors, ndarrays, vectors, tuples,
//! dicts), converted without copying where the value owns its data.

use std::collections::BTreeMap;

use ndarray::{ArrayBase, Dimension, OwnedRepr};

use crate::element::Element;
use crate::error::Result;
use crate::tensor::{Tensor, TensorElement};

/// A value that becomes one tensor: a [`Tensor`], an owned ndarray, a `Vec` of numbers (rank 1), or a
/// `Vec` of strings.
pub trait IntoTensor {
    /// The tensor (no copy for a `Vec` or a standard-layout owned ndarray).
    fn into_tensor(self) -> Result<Tensor>;
}

impl IntoTensor for Tensor {
    fn into_tensor(self) -> Result<Tensor> {
        Ok(self)
    }
}

impl<T: TensorElement> IntoTensor for Vec<T> {
    fn into_tensor(self) -> Result<Tensor> {
        Ok(Tensor::from_vec1(self))
    }
}

impl IntoTensor for Vec<String> {
    fn into_tensor(self) -> Result<Tensor> {
        let n = self.len();
        Tensor::from_strings(vec![n], self)
    }
}

impl IntoTensor for Vec<&str> {
    fn into_tensor(self) -> Result<Tensor> {
        let n = self.len();
        Tensor::from_strings(vec![n], self)
    }
}

impl<T: TensorElement, D: Dimension> IntoTensor for ArrayBase<OwnedRepr<T>, D> {
    fn into_tensor(self) -> Result<Tensor> {
        Ok(Tensor::from(self))
    }
}

/// A value that becomes one element: anything [`IntoTensor`] (a single tensor), a tuple of them, a
/// `BTreeMap` of named tensors (a dict, keys sorted as TensorFlow sorts them), or an [`Element`].
pub trait IntoElement {
    /// The element.
    fn into_element(self) -> Result<Element>;
}

impl IntoElement for Element {
    fn into_element(self) -> Result<Element> {
        Ok(self)
    }
}

impl<T: IntoTensor> IntoElement for T {
    fn into_element(self) -> Result<Element> {
        Ok(Element::single(self.into_tensor()?))
    }
}

impl<S: Into<String>> IntoElement for BTreeMap<S, Tensor>
where
    S: Ord,
{
    fn into_element(self) -> Result<Element> {
        Ok(Element::dict(self))
    }
}

macro_rules! tuple_into_element {
    ($($name:ident),+) => {
        impl<$($name: IntoTensor),+> IntoElement for ($($name,)+) {
            #[allow(non_snake_case)]
            fn into_element(self) -> Result<Element> {
                let ($($name,)+) = self;
                Ok(Element::tuple(vec![$($name.into_tensor()?),+]))
            }
        }
    };
}

tuple_into_element!(A);
tuple_into_element!(A, B);
tuple_into_element!(A, B, C);
tuple_into_element!(A, B, C, D);
tuple_into_element!(A, B, C, D, E);
