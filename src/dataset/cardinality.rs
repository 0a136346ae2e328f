//! [`Cardinality`]: how many elements a dataset has, as tf.data's `cardinality()` reports it.

use std::fmt;

/// The number of elements of a dataset: known, infinite, or unknown before iterating
/// (tf.data's `cardinality()`: a count, `INFINITE` = -1, `UNKNOWN` = -2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cardinality {
    /// Exactly this many elements.
    Finite(u64),
    /// Never ends (`repeat()` forever).
    Infinite,
    /// Not known before iterating (after `filter`, `flat_map`, `take_while`, …).
    Unknown,
}

impl Cardinality {
    /// TensorFlow's encoding: the count, -1 for infinite, -2 for unknown.
    pub fn as_tf(self) -> i64 {
        match self {
            Cardinality::Finite(n) => n as i64,
            Cardinality::Infinite => -1,
            Cardinality::Unknown => -2,
        }
    }

    /// The count, when finite.
    pub fn finite(self) -> Option<u64> {
        match self {
            Cardinality::Finite(n) => Some(n),
            _ => None,
        }
    }
}

impl fmt::Display for Cardinality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cardinality::Finite(n) => write!(f, "{n}"),
            Cardinality::Infinite => f.write_str("infinite"),
            Cardinality::Unknown => f.write_str("unknown"),
        }
    }
}
