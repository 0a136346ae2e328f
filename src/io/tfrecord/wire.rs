//! A `tf.train.Example` read straight from its protobuf bytes: no intermediate messages, no map, no
//! per-feature allocation. [`scan_example`] finds the described features' `Feature` messages;
//! [`FeatureValues`] counts and decodes a feature's values into a caller's buffer.
//!
//! Protobuf semantics are kept: a map key given twice takes its last entry, a `Feature` whose
//! `kind` is set twice takes the last list (two of the same kind merge, as messages do), and a
//! list's values may come packed, unpacked, or in several runs.

/// Why bytes are not a valid Example.
pub(crate) type WireError = String;

type R<T> = std::result::Result<T, WireError>;

use arrow_buffer::MutableBuffer;

/// One protobuf field's value.
enum Value<'a> {
    Varint(u64),
    Fixed64,
    Fixed32([u8; 4]),
    Len(&'a [u8]),
}

struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Cursor { buf, pos: 0 }
    }

    fn varint(&mut self) -> R<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let Some(&b) = self.buf.get(self.pos) else {
                return Err(format!("truncated varint at byte {}", self.pos));
            };
            self.pos += 1;
            value |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(value);
            }
        }
        Err(format!("invalid varint ending at byte {}", self.pos))
    }

    fn take(&mut self, n: usize) -> R<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| {
                format!(
                    "a field of {n} bytes at byte {} runs past the end ({} bytes)",
                    self.pos,
                    self.buf.len()
                )
            })?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    /// The next field, `None` at the end.
    fn field(&mut self) -> R<Option<(u64, Value<'a>)>> {
        if self.pos >= self.buf.len() {
            return Ok(None);
        }
        let key = self.varint()?;
        // protobuf keys are 32 bits (field numbers up to 2^29 - 1), as prost checks.
        if key > u64::from(u32::MAX) {
            return Err(format!("invalid key value {key} at byte {}", self.pos));
        }
        let (tag, wire) = (key >> 3, key & 7);
        if tag == 0 {
            return Err(format!("field number 0 at byte {}", self.pos));
        }
        let value = match wire {
            0 => Value::Varint(self.varint()?),
            1 => {
                self.take(8)?;
                Value::Fixed64
            }
            2 => {
                let n = self.varint()?;
                let n = usize::try_from(n).map_err(|_| format!("length {n} too large"))?;
                Value::Len(self.take(n)?)
            }
            5 => {
                let mut b = [0u8; 4];
                b.copy_from_slice(self.take(4)?);
                Value::Fixed32(b)
            }
            w => return Err(format!("unsupported wire type {w} (tag {tag})")),
        };
        Ok(Some((tag, value)))
    }
}

/// Which list a `Feature` holds: 1 bytes, 2 float, 3 int64 (the oneof's tags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListKind {
    Bytes,
    Float,
    Int64,
}

impl ListKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            ListKind::Bytes => "bytes_list",
            ListKind::Float => "float_list",
            ListKind::Int64 => "int64_list",
        }
    }
}

/// Finds, for each of `names`, the bytes of the `Feature` message of its last map entry in the
/// Example `bytes` (`None` when absent). Every entry is checked as protobuf's decoder checks it
/// (keys UTF-8, known fields of their wire types, lists well formed), undescribed features too, so
/// that a record this parser accepts is one `Example::from_bytes` accepts.
pub(crate) fn scan_example<'a>(
    bytes: &'a [u8],
    names: &[&str],
    found: &mut [Option<&'a [u8]>],
) -> R<()> {
    found.iter_mut().for_each(|f| *f = None);
    let mut example = Cursor::new(bytes);
    let wrong = |what: &str| format!("{what} is not length-delimited (invalid wire type)");
    while let Some((tag, value)) = example.field()? {
        let features = match (tag, value) {
            (1, Value::Len(features)) => features,
            (1, _) => return Err(wrong("Example.features")),
            _ => continue, // Unknown fields of Example are skipped, as protobuf does.
        };
        let mut features = Cursor::new(features);
        while let Some((tag, value)) = features.field()? {
            let entry = match (tag, value) {
                (1, Value::Len(entry)) => entry,
                (1, _) => return Err(wrong("a Features.feature entry")),
                _ => continue,
            };
            let (mut key, mut feature): (&[u8], &[u8]) = (&[], &[]);
            let mut e = Cursor::new(entry);
            while let Some((tag, value)) = e.field()? {
                match (tag, value) {
                    (1, Value::Len(k)) => key = k,
                    (2, Value::Len(f)) => feature = f,
                    (1 | 2, _) => return Err(wrong("a feature's name or value")),
                    _ => {}
                }
            }
            let key = std::str::from_utf8(key)
                .map_err(|_| "a feature name is not valid UTF-8".to_string())?;
            match names.iter().position(|n| *n == key) {
                Some(i) => found[i] = Some(feature),
                None => validate_feature(feature)?,
            }
        }
    }
    Ok(())
}

/// Checks a `Feature` message no one reads as protobuf's decoder would (without keeping it).
fn validate_feature(feature: &[u8]) -> R<()> {
    let Some(values) = feature_list(feature)? else {
        return Ok(());
    };
    values.count()?;
    if values.kind == ListKind::Int64 {
        values.int64s_extend(&mut Vec::new())?;
    }
    Ok(())
}

/// The list a `Feature` message holds (the last kind set), as the bodies of its runs; `None` when
/// no kind is set.
pub(crate) fn feature_list<'a>(feature: &'a [u8]) -> R<Option<FeatureValues<'a>>> {
    let mut kind: Option<ListKind> = None;
    let mut bodies: Vec<&'a [u8]> = Vec::new();
    let mut c = Cursor::new(feature);
    while let Some((tag, value)) = c.field()? {
        let k = match tag {
            1 => ListKind::Bytes,
            2 => ListKind::Float,
            3 => ListKind::Int64,
            _ => continue,
        };
        let Value::Len(body) = value else {
            return Err(format!("feature list field {tag} is not length-delimited"));
        };
        if kind != Some(k) {
            bodies.clear();
            kind = Some(k);
        }
        bodies.push(body);
    }
    Ok(kind.map(|kind| FeatureValues { kind, bodies }))
}

/// The values of one list (all its runs).
pub(crate) struct FeatureValues<'a> {
    pub kind: ListKind,
    pub bodies: Vec<&'a [u8]>,
}

impl<'a> FeatureValues<'a> {
    /// How many values the list holds.
    pub(crate) fn count(&self) -> R<usize> {
        let mut n = 0;
        for body in &self.bodies {
            let mut c = Cursor::new(body);
            while let Some((tag, value)) = c.field()? {
                if tag != 1 {
                    continue;
                }
                n += match (self.kind, value) {
                    (ListKind::Float, Value::Len(p)) => {
                        if p.len() % 4 != 0 {
                            return Err(format!("packed floats of {} bytes", p.len()));
                        }
                        p.len() / 4
                    }
                    (ListKind::Float, Value::Fixed32(_)) => 1,
                    (ListKind::Int64, Value::Len(p)) => p.iter().filter(|&&b| b < 0x80).count(),
                    (ListKind::Int64, Value::Varint(_)) => 1,
                    (ListKind::Bytes, Value::Len(_)) => 1,
                    _ => {
                        return Err(format!(
                            "a {} value of the wrong wire type",
                            self.kind.name()
                        ))
                    }
                };
            }
        }
        Ok(n)
    }

    /// Appends the floats to `out` as native `f32` bytes: on little-endian machines each packed run
    /// is one copy of the wire bytes.
    pub(crate) fn floats_extend(&self, out: &mut MutableBuffer) -> R<()> {
        for body in &self.bodies {
            let mut c = Cursor::new(body);
            while let Some((tag, value)) = c.field()? {
                match (tag, value) {
                    (1, Value::Len(p)) if cfg!(target_endian = "little") => {
                        out.extend_from_slice(p)
                    }
                    (1, Value::Len(p)) => {
                        for s in p.chunks_exact(4) {
                            out.push(f32::from_le_bytes([s[0], s[1], s[2], s[3]]));
                        }
                    }
                    (1, Value::Fixed32(b)) => out.push(f32::from_le_bytes(b)),
                    _ => {}
                }
            }
        }
        Ok(())
    }

    /// Appends the int64s to `out`.
    pub(crate) fn int64s_extend(&self, out: &mut Vec<i64>) -> R<()> {
        for body in &self.bodies {
            let mut c = Cursor::new(body);
            while let Some((tag, value)) = c.field()? {
                match (tag, value) {
                    (1, Value::Len(p)) => {
                        let mut packed = Cursor::new(p);
                        while packed.pos < p.len() {
                            out.push(packed.varint()? as i64);
                        }
                    }
                    (1, Value::Varint(v)) => out.push(v as i64),
                    _ => {}
                }
            }
        }
        Ok(())
    }

    /// Calls `f` on each bytes value, in order.
    pub(crate) fn each_bytes(&self, mut f: impl FnMut(&'a [u8]) -> R<()>) -> R<()> {
        for body in &self.bodies {
            let mut c = Cursor::new(body);
            while let Some((tag, value)) = c.field()? {
                if let (1, Value::Len(v)) = (tag, value) {
                    f(v)?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::tfrecord::{Example, Feature};

    #[test]
    fn finds_and_decodes_what_prost_wrote() {
        let e = Example::new([
            ("x", Feature::floats([1.5, -2.0])),
            ("y", Feature::int64s([7, -1, 300])),
            ("z", Feature::bytes([b"ab".to_vec(), Vec::new()])),
        ])
        .to_bytes();
        let mut found = [None; 3];
        scan_example(&e, &["y", "q", "z"], &mut found).unwrap();
        assert!(found[1].is_none());
        let v = feature_list(found[0].unwrap()).unwrap().unwrap();
        assert_eq!(v.count().unwrap(), 3);
        let mut out = Vec::new();
        v.int64s_extend(&mut out).unwrap();
        assert_eq!(out, [7, -1, 300]);
        let v = feature_list(found[2].unwrap()).unwrap().unwrap();
        let mut got = Vec::new();
        v.each_bytes(|b| {
            got.push(b.to_vec());
            Ok(())
        })
        .unwrap();
        assert_eq!(got, [b"ab".to_vec(), Vec::new()]);
        assert!(scan_example(&e[..e.len() - 1], &["x"], &mut [None]).is_err());
    }
}
