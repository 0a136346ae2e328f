//! [`Structure`]: how an element's components nest (a single tensor, a tuple, a dict), as in tf.data.

use std::fmt;

use crate::error::{Error, Result};

/// The nesting of an element's components. Leaves are numbered depth-first; each has a path made of
/// the dict keys and tuple positions on the way to it, joined by `/` (`"image"`, `"a/0"`). A lone
/// tensor's path is `"0"`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Structure {
    /// One tensor.
    Tensor,
    /// A tuple: components named `"0"`, `"1"`, … by position.
    Tuple(Vec<Structure>),
    /// A dict: named components, in the order given (TensorFlow's element_spec lists keys sorted;
    /// the JSON fixtures do too).
    Dict(Vec<(String, Structure)>),
}

impl Structure {
    /// A tuple of `n` tensors.
    pub fn tuple_of_tensors(n: usize) -> Self {
        Structure::Tuple(vec![Structure::Tensor; n])
    }

    /// A dict of tensors with these names.
    pub fn dict_of_tensors<S: Into<String>>(names: impl IntoIterator<Item = S>) -> Self {
        Structure::Dict(
            names
                .into_iter()
                .map(|n| (n.into(), Structure::Tensor))
                .collect(),
        )
    }

    /// The number of leaves (tensors).
    pub fn num_leaves(&self) -> usize {
        match self {
            Structure::Tensor => 1,
            Structure::Tuple(items) => items.iter().map(Structure::num_leaves).sum(),
            Structure::Dict(items) => items.iter().map(|(_, s)| s.num_leaves()).sum(),
        }
    }

    /// The path of every leaf, depth-first.
    pub fn paths(&self) -> Vec<String> {
        let mut out = Vec::with_capacity(self.num_leaves());
        match self {
            Structure::Tensor => out.push("0".to_string()),
            _ => self.collect_paths("", &mut out),
        }
        out
    }

    fn collect_paths(&self, prefix: &str, out: &mut Vec<String>) {
        let join = |name: &str| {
            if prefix.is_empty() {
                name.to_string()
            } else {
                format!("{prefix}/{name}")
            }
        };
        match self {
            Structure::Tensor => out.push(prefix.to_string()),
            Structure::Tuple(items) => {
                for (i, s) in items.iter().enumerate() {
                    s.collect_paths(&join(&i.to_string()), out);
                }
            }
            Structure::Dict(items) => {
                for (k, s) in items {
                    s.collect_paths(&join(k), out);
                }
            }
        }
    }

    /// The index (depth-first) of the leaf at `path`.
    pub fn leaf_index(&self, path: &str) -> Result<usize> {
        self.find_leaf(path).ok_or_else(|| {
            Error::not_found(format!(
                "no component {path:?}; the components are {:?}",
                self.paths()
            ))
        })
    }

    /// Walks `path` down the structure without building the list of paths (the common lookup).
    fn find_leaf(&self, path: &str) -> Option<usize> {
        if let Structure::Tensor = self {
            return (path == "0").then_some(0);
        }
        let (head, rest) = match path.split_once('/') {
            Some((h, r)) => (h, Some(r)),
            None => (path, None),
        };
        // No allocation and one parse: this runs for every `view` of a batch.
        let found = |s: &Structure, start: usize| match (s, rest) {
            (Structure::Tensor, None) => Some(start),
            (Structure::Tensor, Some(_)) => None,
            (_, Some(rest)) => s.find_leaf_nested(rest).map(|i| start + i),
            (_, None) => None,
        };
        match self {
            Structure::Tuple(items) => {
                let index = head.parse::<usize>().ok()?;
                let item = items.get(index)?;
                let start = items[..index].iter().map(Structure::num_leaves).sum();
                found(item, start)
            }
            Structure::Dict(items) => {
                let mut start = 0;
                for (k, s) in items {
                    if k == head {
                        return found(s, start);
                    }
                    start += s.num_leaves();
                }
                None
            }
            Structure::Tensor => None,
        }
    }

    /// `find_leaf` below the top level, where a lone tensor has the empty path.
    fn find_leaf_nested(&self, path: &str) -> Option<usize> {
        match self {
            Structure::Tensor => path.is_empty().then_some(0),
            _ => self.find_leaf(path),
        }
    }

    /// The top-level items: `(name, structure, range of leaf indices)`.
    pub fn top_level(&self) -> Vec<(String, Structure, std::ops::Range<usize>)> {
        let mut out = Vec::new();
        let mut start = 0;
        let mut push = |name: String, s: &Structure| {
            let n = s.num_leaves();
            out.push((name, s.clone(), start..start + n));
            start += n;
        };
        match self {
            Structure::Tensor => push("0".to_string(), self),
            Structure::Tuple(items) => {
                for (i, s) in items.iter().enumerate() {
                    push(i.to_string(), s);
                }
            }
            Structure::Dict(items) => {
                for (k, s) in items {
                    push(k.clone(), s);
                }
            }
        }
        out
    }
}

impl fmt::Display for Structure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Structure::Tensor => f.write_str("tensor"),
            Structure::Tuple(items) => {
                f.write_str("(")?;
                for (i, s) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{s}")?;
                }
                if items.len() == 1 {
                    f.write_str(",")?;
                }
                f.write_str(")")
            }
            Structure::Dict(items) => {
                f.write_str("{")?;
                for (i, (k, s)) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k:?}: {s}")?;
                }
                f.write_str("}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Structure;

    #[test]
    fn leaf_index_finds_every_path_and_nothing_else() {
        let s = Structure::Dict(vec![
            (
                "a".into(),
                Structure::Tuple(vec![Structure::Tensor, Structure::Tensor]),
            ),
            ("b".into(), Structure::Tensor),
            (
                "c".into(),
                Structure::Dict(vec![(
                    "d".into(),
                    Structure::Tuple(vec![Structure::Tensor]),
                )]),
            ),
        ]);
        let paths = s.paths();
        assert_eq!(paths, ["a/0", "a/1", "b", "c/d/0"]);
        for (i, p) in paths.iter().enumerate() {
            assert_eq!(s.leaf_index(p).unwrap(), i, "{p}");
        }
        for bad in ["a", "a/2", "b/0", "c/d", "x", "", "0"] {
            assert!(s.leaf_index(bad).is_err(), "{bad}");
        }
        let t = Structure::Tuple(vec![
            Structure::Tensor,
            Structure::Tuple(vec![Structure::Tensor]),
        ]);
        assert_eq!(t.leaf_index("1/0").unwrap(), 1);
        assert_eq!(Structure::Tensor.leaf_index("0").unwrap(), 0);
        assert!(Structure::Tensor.leaf_index("1").is_err());
    }
}
