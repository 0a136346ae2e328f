//! A small language for the element functions of pipeline files: `x*2`, `x->(x,x*x)`,
//! `(x,y)->(y,x)`, `{a,b}->{a:a*2,b}`, `x->fill([x],x)`, `x->cast_float32`, `x % 2 == 0`, `true`.
//!
//! A function is `PARAMS->BODY` or a bare `BODY`. PARAMS is a name (the whole element), a tuple of
//! names `(x,y)` (a tuple element's items) or a set of keys `{a,b}` (a dict element's values). A bare
//! body binds its free names: the whole element for a single tensor, `x, y, z, w` by position for a
//! tuple, keys for a dict. BODY is an expression, a tuple `(e1, e2)` or a dict `{k: e, k2}` (`k2`
//! stands for `k2: k2`). Expressions: numbers, `true`/`false`, names, `+ - * / % //` (`%` and `//`
//! floor modulo and floor division, as TensorFlow's), comparisons `== != < > <= >=`, `max(a, b)` /
//! `min(a, b)`, `fill([dims], value)`, `cast_DTYPE(e)`, `as_string(e)`, `string_to_number(e)`
//! (`tf.strings.to_number` to float32) and `len(e)` (the first dimension, int32); as a body,
//! `cast_float32`, `as_string` or `string_to_number` alone applies to the single parameter.

use slicestream::error::{Error, Result};

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/` (true division: integers give floats)
    Div,
    /// `%` (floor modulo)
    Mod,
    /// `//` (floor division, as Python's and TensorFlow's `//`)
    FloorDiv,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `>`
    Gt,
    /// `<=`
    Le,
    /// `>=`
    Ge,
    /// `max(l, r)` (tf.maximum: elementwise, NaN if either is NaN)
    Max,
    /// `min(l, r)` (tf.minimum)
    Min,
}

impl BinOp {
    /// Whether the result is a bool.
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Gt | BinOp::Le | BinOp::Ge
        )
    }
}

/// An expression yielding one tensor.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A parameter.
    Var(String),
    /// An integer literal (takes the dtype of the tensor it meets).
    Int(i64),
    /// A float literal.
    Float(f64),
    /// `true` / `false`.
    Bool(bool),
    /// `-e`
    Neg(Box<Expr>),
    /// `l op r`, elementwise with scalar broadcasting.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `fill([d0, d1, …], value)`.
    Fill(Vec<Expr>, Box<Expr>),
    /// `name(arg)`: `cast_DTYPE`, `as_string`.
    Call(String, Box<Expr>),
}

/// The output structure of a function.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// One tensor.
    Expr(Expr),
    /// A tuple.
    Tuple(Vec<Body>),
    /// A dict.
    Dict(Vec<(String, Body)>),
}

/// How the element is bound to names.
#[derive(Debug, Clone, PartialEq)]
pub enum Params {
    /// The whole element.
    Single(String),
    /// A tuple element's items by position.
    Tuple(Vec<String>),
    /// A dict element's values by key.
    Dict(Vec<String>),
    /// No parameter list: free names bound by the element's shape.
    Implicit,
}

/// A parsed element function.
#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    /// How the element binds.
    pub params: Params,
    /// What it yields.
    pub body: Body,
    /// The source text.
    pub source: String,
}

/// Parses a function's text.
pub fn parse_function(text: &str) -> Result<Function> {
    let tokens = tokenize(text)?;
    let mut p = Parser {
        tokens,
        pos: 0,
        text,
        depth: 0,
    };
    let arrow = p.tokens.iter().position(|t| *t == Tok::Arrow);
    let params = match arrow {
        None => Params::Implicit,
        Some(_) => p.params()?,
    };
    if arrow.is_some() {
        p.expect(&Tok::Arrow)?;
    }
    let mut body = p.body()?;
    if p.pos != p.tokens.len() {
        return Err(p.error("unexpected text after the function body"));
    }
    // `x->cast_float32` / `x->as_string` / `x->string_to_number`: a bare function name applies to
    // the single parameter.
    if let (Params::Single(x), Body::Expr(Expr::Var(name))) = (&params, &body) {
        if name != x
            && (name.starts_with("cast_") || name == "as_string" || name == "string_to_number")
        {
            body = Body::Expr(Expr::Call(name.clone(), Box::new(Expr::Var(x.clone()))));
        }
    }
    Ok(Function {
        params,
        body,
        source: text.to_string(),
    })
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Int(i64),
    Float(f64),
    Op(BinOp),
    Minus,
    Arrow,
    LParen,
    RParen,
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    Comma,
    Colon,
}

fn tokenize(text: &str) -> Result<Vec<Tok>> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let bad = |i: usize| {
        Error::invalid_argument(format!(
            "cannot read function {} at character {i}",
            quoted_head(text)
        ))
    };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let two = |t: Tok, out: &mut Vec<Tok>, i: &mut usize| {
            out.push(t);
            *i += 2;
        };
        match c {
            ' ' | '\t' | '\n' => i += 1,
            '-' if next == Some('>') => two(Tok::Arrow, &mut out, &mut i),
            '=' if next == Some('=') => two(Tok::Op(BinOp::Eq), &mut out, &mut i),
            '!' if next == Some('=') => two(Tok::Op(BinOp::Ne), &mut out, &mut i),
            '<' if next == Some('=') => two(Tok::Op(BinOp::Le), &mut out, &mut i),
            '>' if next == Some('=') => two(Tok::Op(BinOp::Ge), &mut out, &mut i),
            '/' if next == Some('/') => two(Tok::Op(BinOp::FloorDiv), &mut out, &mut i),
            '<' => {
                out.push(Tok::Op(BinOp::Lt));
                i += 1
            }
            '>' => {
                out.push(Tok::Op(BinOp::Gt));
                i += 1
            }
            '+' | '*' | '/' | '%' | '-' | '(' | ')' | '{' | '}' | '[' | ']' | ',' | ':' => {
                out.push(match c {
                    '+' => Tok::Op(BinOp::Add),
                    '*' => Tok::Op(BinOp::Mul),
                    '/' => Tok::Op(BinOp::Div),
                    '%' => Tok::Op(BinOp::Mod),
                    '-' => Tok::Minus,
                    '(' => Tok::LParen,
                    ')' => Tok::RParen,
                    '{' => Tok::LBrace,
                    '}' => Tok::RBrace,
                    '[' => Tok::LBracket,
                    ']' => Tok::RBracket,
                    ',' => Tok::Comma,
                    _ => Tok::Colon,
                });
                i += 1
            }
            c if c.is_ascii_digit() || c == '.' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_ascii_digit() || chars[i] == '.' || chars[i] == 'e')
                {
                    i += 1;
                }
                let s: String = chars[start..i].iter().collect();
                if s.contains('.') || s.contains('e') {
                    out.push(Tok::Float(s.parse().map_err(|_| bad(start))?));
                } else {
                    out.push(Tok::Int(s.parse().map_err(|_| bad(start))?));
                }
            }
            c if c.is_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                out.push(Tok::Ident(chars[start..i].iter().collect()));
            }
            _ => return Err(bad(i)),
        }
    }
    Ok(out)
}

/// How deeply a function's body may nest (parentheses, unary minus, calls, tuples and dicts, and
/// each link of a chain of binary operators): evaluating and dropping the tree recurse, on threads
/// with small stacks, so the parser refuses deeper text with an error instead of letting it abort.
pub const MAX_NESTING: usize = 200;

/// `text` quoted for an error message: its first 80 characters, then how many more there are.
fn quoted_head(text: &str) -> String {
    const SHOWN: usize = 80;
    match text.char_indices().nth(SHOWN) {
        None => format!("{text:?}"),
        Some((end, _)) => {
            let rest = text[end..].chars().count();
            format!("{:?}… ({rest} more characters)", &text[..end])
        }
    }
}

struct Parser<'a> {
    tokens: Vec<Tok>,
    pos: usize,
    text: &'a str,
    /// The nesting of the tree being built at this point (see [`MAX_NESTING`]).
    depth: usize,
}

impl Parser<'_> {
    fn error(&self, what: &str) -> Error {
        Error::invalid_argument(format!(
            "cannot read function {}: {what} (token {})",
            quoted_head(self.text),
            self.pos
        ))
    }

    /// One level deeper, or an error past [`MAX_NESTING`].
    fn deepen(&mut self) -> Result<()> {
        if self.depth >= MAX_NESTING {
            return Err(self.error(&format!("nested more than {MAX_NESTING} levels deep")));
        }
        self.depth += 1;
        Ok(())
    }

    /// Runs `parse` one level deeper, then comes back to this level (also after an error).
    fn nested<T>(&mut self, parse: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        let level = self.depth;
        let out = self.deepen().and_then(|()| parse(self));
        self.depth = level;
        out
    }

    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos)
    }

    fn eat(&mut self, t: &Tok) -> bool {
        if self.peek() == Some(t) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, t: &Tok) -> Result<()> {
        if self.eat(t) {
            Ok(())
        } else {
            Err(self.error(&format!("expected {t:?}")))
        }
    }

    fn ident(&mut self) -> Result<String> {
        match self.peek() {
            Some(Tok::Ident(s)) => {
                let s = s.clone();
                self.pos += 1;
                Ok(s)
            }
            _ => Err(self.error("expected a name")),
        }
    }

    fn names(&mut self, close: &Tok) -> Result<Vec<String>> {
        let mut names = Vec::new();
        while !self.eat(close) {
            names.push(self.ident()?);
            if !self.eat(&Tok::Comma) {
                self.expect(close)?;
                break;
            }
        }
        Ok(names)
    }

    fn params(&mut self) -> Result<Params> {
        if self.eat(&Tok::LParen) {
            Ok(Params::Tuple(self.names(&Tok::RParen)?))
        } else if self.eat(&Tok::LBrace) {
            Ok(Params::Dict(self.names(&Tok::RBrace)?))
        } else {
            Ok(Params::Single(self.ident()?))
        }
    }

    fn body(&mut self) -> Result<Body> {
        self.nested(Self::body_here)
    }

    fn body_here(&mut self) -> Result<Body> {
        if self.eat(&Tok::LBrace) {
            let mut items = Vec::new();
            while !self.eat(&Tok::RBrace) {
                let key = self.ident()?;
                let value = if self.eat(&Tok::Colon) {
                    self.body()?
                } else {
                    Body::Expr(Expr::Var(key.clone()))
                };
                items.push((key, value));
                if !self.eat(&Tok::Comma) {
                    self.expect(&Tok::RBrace)?;
                    break;
                }
            }
            return Ok(Body::Dict(items));
        }
        if self.peek() == Some(&Tok::LParen) {
            // A tuple if a top-level comma follows inside the parentheses, else a grouped expression.
            let save = self.pos;
            self.pos += 1;
            let first = self.body()?;
            if self.eat(&Tok::Comma) {
                let mut items = vec![first];
                while !self.eat(&Tok::RParen) {
                    items.push(self.body()?);
                    if !self.eat(&Tok::Comma) {
                        self.expect(&Tok::RParen)?;
                        break;
                    }
                }
                return Ok(Body::Tuple(items));
            }
            self.pos = save;
        }
        Ok(Body::Expr(self.comparison()?))
    }

    fn comparison(&mut self) -> Result<Expr> {
        let left = self.sum()?;
        if let Some(Tok::Op(op)) = self.peek().cloned() {
            if op.is_comparison() {
                self.pos += 1;
                let right = self.sum()?;
                return Ok(Expr::Binary(op, Box::new(left), Box::new(right)));
            }
        }
        Ok(left)
    }

    fn sum(&mut self) -> Result<Expr> {
        // Each link of the chain makes the (left-deep) tree one level deeper.
        self.nested(Self::sum_chain)
    }

    fn sum_chain(&mut self) -> Result<Expr> {
        let mut left = self.term()?;
        loop {
            let op = match self.peek() {
                Some(Tok::Op(BinOp::Add)) => BinOp::Add,
                Some(Tok::Minus) => BinOp::Sub,
                _ => return Ok(left),
            };
            self.pos += 1;
            self.deepen()?;
            left = Expr::Binary(op, Box::new(left), Box::new(self.term()?));
        }
    }

    fn term(&mut self) -> Result<Expr> {
        self.nested(Self::term_chain)
    }

    fn term_chain(&mut self) -> Result<Expr> {
        let mut left = self.factor()?;
        loop {
            let op = match self.peek() {
                Some(Tok::Op(op @ (BinOp::Mul | BinOp::Div | BinOp::Mod | BinOp::FloorDiv))) => *op,
                _ => return Ok(left),
            };
            self.pos += 1;
            self.deepen()?;
            left = Expr::Binary(op, Box::new(left), Box::new(self.factor()?));
        }
    }

    fn factor(&mut self) -> Result<Expr> {
        self.nested(Self::factor_here)
    }

    fn factor_here(&mut self) -> Result<Expr> {
        match self.peek().cloned() {
            Some(Tok::Int(v)) => {
                self.pos += 1;
                Ok(Expr::Int(v))
            }
            Some(Tok::Float(v)) => {
                self.pos += 1;
                Ok(Expr::Float(v))
            }
            Some(Tok::Minus) => {
                self.pos += 1;
                Ok(Expr::Neg(Box::new(self.factor()?)))
            }
            Some(Tok::LParen) => {
                self.pos += 1;
                let e = self.comparison()?;
                self.expect(&Tok::RParen)?;
                Ok(e)
            }
            Some(Tok::Ident(name)) => {
                self.pos += 1;
                match name.as_str() {
                    "true" => return Ok(Expr::Bool(true)),
                    "false" => return Ok(Expr::Bool(false)),
                    _ => {}
                }
                if !self.eat(&Tok::LParen) {
                    return Ok(Expr::Var(name));
                }
                if name == "max" || name == "min" {
                    let left = self.comparison()?;
                    self.expect(&Tok::Comma)?;
                    let right = self.comparison()?;
                    self.expect(&Tok::RParen)?;
                    let op = if name == "max" {
                        BinOp::Max
                    } else {
                        BinOp::Min
                    };
                    return Ok(Expr::Binary(op, Box::new(left), Box::new(right)));
                }
                if name == "fill" {
                    self.expect(&Tok::LBracket)?;
                    let mut dims = Vec::new();
                    while !self.eat(&Tok::RBracket) {
                        dims.push(self.comparison()?);
                        if !self.eat(&Tok::Comma) {
                            self.expect(&Tok::RBracket)?;
                            break;
                        }
                    }
                    self.expect(&Tok::Comma)?;
                    let value = self.comparison()?;
                    self.expect(&Tok::RParen)?;
                    return Ok(Expr::Fill(dims, Box::new(value)));
                }
                let arg = self.comparison()?;
                self.expect(&Tok::RParen)?;
                Ok(Expr::Call(name, Box::new(arg)))
            }
            _ => Err(self.error("expected a value")),
        }
    }
}
