//! The Python literals of an NPY header (`{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`):
//! a small parser of strings, booleans, `None`, integers, tuples, lists and dicts, with positions
//! reported as file offsets and nesting bounded, so that no header can make it panic or recurse deeply.

use crate::error::{Error, Result};

/// Deepest nesting of brackets accepted in a header (real headers nest at most 2 deep).
const MAX_DEPTH: usize = 16;

/// A Python literal, as far as NPY headers use them.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Lit {
    Str(String),
    Bool(bool),
    None,
    Int(i128),
    Tuple(Vec<Lit>),
    List(Vec<Lit>),
    Dict(Vec<(Lit, Lit)>),
}

impl Lit {
    /// Python's repr, for messages.
    pub fn render(&self) -> String {
        let join = |items: &[Lit]| items.iter().map(Lit::render).collect::<Vec<_>>().join(", ");
        match self {
            Lit::Str(s) => format!("{s:?}").replace('"', "'"),
            Lit::Bool(true) => "True".into(),
            Lit::Bool(false) => "False".into(),
            Lit::None => "None".into(),
            Lit::Int(v) => v.to_string(),
            Lit::Tuple(items) if items.len() == 1 => format!("({},)", items[0].render()),
            Lit::Tuple(items) => format!("({})", join(items)),
            Lit::List(items) => format!("[{}]", join(items)),
            Lit::Dict(items) => {
                let parts: Vec<String> = items
                    .iter()
                    .map(|(k, v)| format!("{}: {}", k.render(), v.render()))
                    .collect();
                format!("{{{}}}", parts.join(", "))
            }
        }
    }
}

/// A parser of the Python literals in a header; positions are reported as file offsets.
pub(super) struct Parser<'a> {
    text: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Parser<'a> {
    /// A parser of `text`, which starts at file offset `base`.
    pub fn new(text: &'a [u8], base: usize) -> Self {
        Parser { text, pos: 0, base }
    }

    fn error(&self, message: impl Into<String>) -> Error {
        format_at(
            self.base + self.pos,
            format!("bad NPY header: {}", message.into()),
        )
    }

    fn skip_ws(&mut self) {
        while self.pos < self.text.len()
            && matches!(self.text[self.pos], b' ' | b'\t' | b'\n' | b'\r')
        {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    /// The whole header: one dict with string keys, then only whitespace (and NULs, which some
    /// writers pad with). Returns `(key, key offset, value)`.
    pub fn parse_dict_header(&mut self) -> Result<Vec<(String, usize, Lit)>> {
        self.skip_ws();
        if self.peek() != Some(b'{') {
            return Err(self.error("expected a dict starting with '{'"));
        }
        self.pos += 1;
        let mut out: Vec<(String, usize, Lit)> = Vec::new();
        loop {
            self.skip_ws();
            if self.peek() == Some(b'}') {
                self.pos += 1;
                break;
            }
            let key_at = self.pos;
            let key = match self.value(1)? {
                Lit::Str(s) => s,
                other => {
                    return Err(format_at(
                        self.base + key_at,
                        format!("bad NPY header: key {} is not a string", other.render()),
                    ))
                }
            };
            if out.iter().any(|(k, _, _)| *k == key) {
                return Err(format_at(
                    self.base + key_at,
                    format!("bad NPY header: key {key:?} appears twice"),
                ));
            }
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.error("expected ':' after a key"));
            }
            self.pos += 1;
            let value = self.value(1)?;
            out.push((key, key_at, value));
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {}
                _ => return Err(self.error("expected ',' or '}' in the dict")),
            }
        }
        while self.pos < self.text.len()
            && matches!(self.text[self.pos], b' ' | b'\t' | b'\n' | b'\r' | 0)
        {
            self.pos += 1;
        }
        if self.pos != self.text.len() {
            return Err(self.error("unexpected text after the header dict"));
        }
        Ok(out)
    }

    fn value(&mut self, depth: usize) -> Result<Lit> {
        if depth > MAX_DEPTH {
            return Err(self.error(format!("nested deeper than {MAX_DEPTH} levels")));
        }
        self.skip_ws();
        match self.peek() {
            None => Err(self.error("the header ends where a value was expected")),
            Some(q @ (b'\'' | b'"')) => self.string(q),
            Some(b'(') => self.sequence(b')', depth),
            Some(b'[') => self.sequence(b']', depth),
            Some(b'{') => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_ws();
                    if self.peek() == Some(b'}') {
                        self.pos += 1;
                        return Ok(Lit::Dict(items));
                    }
                    let k = self.value(depth + 1)?;
                    self.skip_ws();
                    if self.peek() != Some(b':') {
                        return Err(self.error("expected ':' in a dict"));
                    }
                    self.pos += 1;
                    let v = self.value(depth + 1)?;
                    items.push((k, v));
                    self.skip_ws();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {}
                        _ => return Err(self.error("expected ',' or '}' in a dict")),
                    }
                }
            }
            Some(c) if c.is_ascii_digit() || c == b'-' || c == b'+' => self.integer(),
            Some(c) if c.is_ascii_alphabetic() => {
                let start = self.pos;
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_')
                {
                    self.pos += 1;
                }
                match &self.text[start..self.pos] {
                    b"True" => Ok(Lit::Bool(true)),
                    b"False" => Ok(Lit::Bool(false)),
                    b"None" => Ok(Lit::None),
                    word => {
                        self.pos = start;
                        Err(self.error(format!("unknown name {:?}", String::from_utf8_lossy(word))))
                    }
                }
            }
            Some(c) => Err(self.error(format!("unexpected character {:?}", c as char))),
        }
    }

    /// A tuple (`close` = `)`) or list (`]`). As in Python, `(x)` without a trailing comma is `x`.
    fn sequence(&mut self, close: u8, depth: usize) -> Result<Lit> {
        self.pos += 1;
        let mut items = Vec::new();
        let mut trailing_comma = false;
        loop {
            self.skip_ws();
            if self.peek() == Some(close) {
                self.pos += 1;
                break;
            }
            items.push(self.value(depth + 1)?);
            self.skip_ws();
            trailing_comma = false;
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    trailing_comma = true;
                }
                Some(c) if c == close => {}
                _ => return Err(self.error(format!("expected ',' or '{}'", close as char))),
            }
        }
        Ok(match close {
            b')' if items.len() == 1 && !trailing_comma => items.remove(0),
            b')' => Lit::Tuple(items),
            _ => Lit::List(items),
        })
    }

    fn string(&mut self, quote: u8) -> Result<Lit> {
        let start = self.pos;
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None | Some(b'\n') => {
                    self.pos = start;
                    return Err(self.error("unterminated string"));
                }
                Some(c) if c == quote => {
                    self.pos += 1;
                    break;
                }
                Some(b'\\') => {
                    let escaped = self.text.get(self.pos + 1).copied();
                    let Some(e) = escaped else {
                        return Err(self.error("unterminated string"));
                    };
                    out.push(match e {
                        b'n' => b'\n',
                        b't' => b'\t',
                        b'0' => 0,
                        other => other,
                    });
                    self.pos += 2;
                }
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
        Ok(Lit::Str(String::from_utf8_lossy(&out).into_owned()))
    }

    /// An integer, with Python 2's `L` suffix accepted (old numpy wrote `(3L, 4L)`).
    fn integer(&mut self) -> Result<Lit> {
        let start = self.pos;
        let negative = self.peek() == Some(b'-');
        if matches!(self.peek(), Some(b'-' | b'+')) {
            self.pos += 1;
        }
        let digits_start = self.pos;
        let mut value: i128 = 0;
        while let Some(c) = self.peek().filter(u8::is_ascii_digit) {
            value = match value
                .checked_mul(10)
                .and_then(|v| v.checked_add(i128::from(c - b'0')))
            {
                Some(v) => v,
                None => {
                    self.pos = start;
                    return Err(self.error("integer too large"));
                }
            };
            self.pos += 1;
        }
        if self.pos == digits_start {
            self.pos = start;
            return Err(self.error("expected digits"));
        }
        if matches!(self.peek(), Some(b'L' | b'l')) {
            self.pos += 1;
        }
        if self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'.')
        {
            return Err(self.error("expected an integer"));
        }
        Ok(Lit::Int(if negative { -value } else { value }))
    }
}

/// A format error at byte `offset` of the file.
pub(super) fn format_at(offset: usize, message: String) -> Error {
    Error::format(message).with_byte_offset(offset as u64)
}
