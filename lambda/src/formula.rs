//! A small, safe expression language for derived attributes, e.g. `Age >= 65`.
//!
//! Grammar (keywords are case-sensitive):
//!
//! ```text
//! expr    := and ("or" and)*
//! and     := unary ("and" unary)*
//! unary   := "not" unary | compare
//! compare := primary (("==" | "!=" | "<" | "<=" | ">" | ">=") primary)?
//! primary := INTEGER | "string" | true | false | NAME | "(" expr ")"
//! ```
//!
//! Formulas are parsed, type-checked against the known attribute names and
//! only then evaluated; nothing else about the input is ever executed.

use std::fmt;

/// Longest formula accepted, in bytes.
pub const MAX_LEN: usize = 256;
/// Deepest nesting of parentheses and `not` accepted.
pub const MAX_DEPTH: usize = 16;

/// A formula error with the byte offset it refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormulaError {
    /// Byte offset in the formula (0-based).
    pub position: usize,
    /// What is wrong there.
    pub message: String,
}

impl fmt::Display for FormulaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at position {}", self.message, self.position)
    }
}

impl std::error::Error for FormulaError {}

fn err<T>(position: usize, message: impl Into<String>) -> Result<T, FormulaError> {
    Err(FormulaError {
        position,
        message: message.into(),
    })
}

/// The type of a value in a formula.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    /// A whole number.
    Int,
    /// A string.
    Str,
    /// true or false.
    Bool,
}

/// A value a formula works on or produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A whole number.
    Int(i64),
    /// A string.
    Str(String),
    /// true or false.
    Bool(bool),
}

impl Value {
    fn ty(&self) -> Type {
        match self {
            Value::Int(_) => Type::Int,
            Value::Str(_) => Type::Str,
            Value::Bool(_) => Type::Bool,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Int(i64),
    Str(String),
    Name(String),
    Cmp(CmpOp),
    LParen,
    RParen,
}

fn lex(src: &str) -> Result<Vec<(usize, Tok)>, FormulaError> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'(' => {
                out.push((start, Tok::LParen));
                i += 1;
            }
            b')' => {
                out.push((start, Tok::RParen));
                i += 1;
            }
            b'=' | b'!' | b'<' | b'>' => {
                let two = bytes.get(i + 1) == Some(&b'=');
                let op = match (c, two) {
                    (b'=', true) => CmpOp::Eq,
                    (b'!', true) => CmpOp::Ne,
                    (b'<', true) => CmpOp::Le,
                    (b'>', true) => CmpOp::Ge,
                    (b'<', false) => CmpOp::Lt,
                    (b'>', false) => CmpOp::Gt,
                    _ => return err(start, "expected '==' or '!='"),
                };
                i += if two { 2 } else { 1 };
                out.push((start, Tok::Cmp(op)));
            }
            b'0'..=b'9' => {
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
                let n = src[start..i]
                    .parse::<i64>()
                    .or_else(|_| err(start, "integer too large"))?;
                out.push((start, Tok::Int(n)));
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] == b'\\' {
                        return err(i, "escapes are not supported in strings");
                    }
                    i += 1;
                }
                if i >= bytes.len() {
                    return err(start, "unterminated string");
                }
                out.push((start, Tok::Str(src[start + 1..i].to_string())));
                i += 1;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                out.push((start, Tok::Name(src[start..i].to_string())));
            }
            _ => {
                let ch = src[start..].chars().next().unwrap_or('?');
                return err(start, format!("unexpected character '{ch}'"));
            }
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Lit(Value),
    // Each operator node keeps the byte offset of its name or operator for error messages.
    Attr(String, usize),
    Not(Box<Node>, usize),
    And(Box<Node>, Box<Node>, usize),
    Or(Box<Node>, Box<Node>, usize),
    Cmp(CmpOp, Box<Node>, Box<Node>, usize),
}

/// A parsed, type-checked formula.
#[derive(Debug, Clone, PartialEq)]
pub struct Formula {
    root: Node,
    ty: Type,
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    pos: usize,
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(_, t)| t)
    }

    fn offset(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end, |(o, _)| *o)
    }

    fn is_keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Name(n)) if n == kw)
    }

    fn expr(&mut self, depth: usize) -> Result<Node, FormulaError> {
        let mut left = self.and(depth)?;
        while self.is_keyword("or") {
            let at = self.offset();
            self.pos += 1;
            let right = self.and(depth)?;
            left = Node::Or(Box::new(left), Box::new(right), at);
        }
        Ok(left)
    }

    fn and(&mut self, depth: usize) -> Result<Node, FormulaError> {
        let mut left = self.unary(depth)?;
        while self.is_keyword("and") {
            let at = self.offset();
            self.pos += 1;
            let right = self.unary(depth)?;
            left = Node::And(Box::new(left), Box::new(right), at);
        }
        Ok(left)
    }

    fn unary(&mut self, depth: usize) -> Result<Node, FormulaError> {
        if self.is_keyword("not") {
            if depth >= MAX_DEPTH {
                return err(self.offset(), "formula nested too deeply");
            }
            let at = self.offset();
            self.pos += 1;
            return Ok(Node::Not(Box::new(self.unary(depth + 1)?), at));
        }
        let left = self.primary(depth)?;
        if let Some(Tok::Cmp(op)) = self.peek() {
            let op = *op;
            let at = self.offset();
            self.pos += 1;
            let right = self.primary(depth)?;
            if let Some(Tok::Cmp(_)) = self.peek() {
                return err(self.offset(), "comparisons cannot be chained; use 'and'");
            }
            return Ok(Node::Cmp(op, Box::new(left), Box::new(right), at));
        }
        Ok(left)
    }

    fn primary(&mut self, depth: usize) -> Result<Node, FormulaError> {
        let at = self.offset();
        let Some(tok) = self.peek().cloned() else {
            return err(at, "unexpected end of formula");
        };
        self.pos += 1;
        match tok {
            Tok::Int(n) => Ok(Node::Lit(Value::Int(n))),
            Tok::Str(s) => Ok(Node::Lit(Value::Str(s))),
            Tok::Name(n) if n == "true" => Ok(Node::Lit(Value::Bool(true))),
            Tok::Name(n) if n == "false" => Ok(Node::Lit(Value::Bool(false))),
            Tok::Name(n) if matches!(n.as_str(), "and" | "or" | "not") => {
                err(at, format!("expected a value, found '{n}'"))
            }
            Tok::Name(n) => Ok(Node::Attr(n, at)),
            Tok::LParen => {
                if depth >= MAX_DEPTH {
                    return err(at, "formula nested too deeply");
                }
                let inner = self.expr(depth + 1)?;
                if self.peek() != Some(&Tok::RParen) {
                    return err(self.offset(), "expected ')'");
                }
                self.pos += 1;
                Ok(inner)
            }
            Tok::RParen => err(at, "unexpected ')'"),
            Tok::Cmp(_) => err(at, "expected a value, found an operator"),
        }
    }
}

/// Parses and type-checks `src`. `type_of` gives the type of each attribute
/// name a formula may use, or `None` for an unknown name.
pub fn parse(src: &str, type_of: &dyn Fn(&str) -> Option<Type>) -> Result<Formula, FormulaError> {
    if src.len() > MAX_LEN {
        return err(MAX_LEN, format!("formula longer than {MAX_LEN} bytes"));
    }
    let toks = lex(src)?;
    let mut p = Parser {
        toks,
        pos: 0,
        end: src.len(),
    };
    let root = p.expr(0)?;
    if p.pos < p.toks.len() {
        return err(p.offset(), "unexpected input after the end of the formula");
    }
    let ty = check(&root, type_of)?;
    Ok(Formula { root, ty })
}

fn check(node: &Node, type_of: &dyn Fn(&str) -> Option<Type>) -> Result<Type, FormulaError> {
    match node {
        Node::Lit(v) => Ok(v.ty()),
        Node::Attr(name, at) => {
            type_of(name).map_or_else(|| err(*at, format!("unknown attribute '{name}'")), Ok)
        }
        Node::Not(inner, at) => match check(inner, type_of)? {
            Type::Bool => Ok(Type::Bool),
            _ => err(*at, "'not' needs a true/false value"),
        },
        Node::And(a, b, at) | Node::Or(a, b, at) => {
            let kw = if matches!(node, Node::And(..)) {
                "and"
            } else {
                "or"
            };
            if check(a, type_of)? != Type::Bool || check(b, type_of)? != Type::Bool {
                return err(*at, format!("'{kw}' needs true/false values on both sides"));
            }
            Ok(Type::Bool)
        }
        Node::Cmp(op, a, b, at) => {
            let (ta, tb) = (check(a, type_of)?, check(b, type_of)?);
            if ta != tb {
                return err(*at, format!("cannot compare {ta:?} with {tb:?}"));
            }
            if ta == Type::Bool && !matches!(op, CmpOp::Eq | CmpOp::Ne) {
                return err(*at, "true/false values can only be compared with == or !=");
            }
            Ok(Type::Bool)
        }
    }
}

impl Formula {
    /// The type of the formula's result.
    pub fn result_type(&self) -> Type {
        self.ty
    }

    /// The attribute names the formula reads.
    pub fn attributes(&self) -> Vec<&str> {
        fn walk<'a>(n: &'a Node, out: &mut Vec<&'a str>) {
            match n {
                Node::Lit(_) => {}
                Node::Attr(a, _) => {
                    if !out.contains(&a.as_str()) {
                        out.push(a);
                    }
                }
                Node::Not(x, _) => walk(x, out),
                Node::And(a, b, _) | Node::Or(a, b, _) | Node::Cmp(_, a, b, _) => {
                    walk(a, out);
                    walk(b, out);
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.root, &mut out);
        out
    }

    /// Evaluates the formula; `None` when an attribute it reads has no value.
    pub fn eval(&self, value_of: &dyn Fn(&str) -> Option<Value>) -> Option<Value> {
        eval(&self.root, value_of)
    }
}

fn eval(node: &Node, value_of: &dyn Fn(&str) -> Option<Value>) -> Option<Value> {
    Some(match node {
        Node::Lit(v) => v.clone(),
        Node::Attr(name, _) => value_of(name)?,
        Node::Not(x, _) => match eval(x, value_of)? {
            Value::Bool(b) => Value::Bool(!b),
            _ => return None,
        },
        Node::And(a, b, _) => match (eval(a, value_of)?, eval(b, value_of)?) {
            (Value::Bool(x), Value::Bool(y)) => Value::Bool(x && y),
            _ => return None,
        },
        Node::Or(a, b, _) => match (eval(a, value_of)?, eval(b, value_of)?) {
            (Value::Bool(x), Value::Bool(y)) => Value::Bool(x || y),
            _ => return None,
        },
        Node::Cmp(op, a, b, _) => {
            let (x, y) = (eval(a, value_of)?, eval(b, value_of)?);
            let ord = match (&x, &y) {
                (Value::Int(p), Value::Int(q)) => p.cmp(q),
                (Value::Str(p), Value::Str(q)) => p.cmp(q),
                (Value::Bool(p), Value::Bool(q)) => p.cmp(q),
                // A value of the wrong type (checked types differ from data) has no result.
                _ => return None,
            };
            Value::Bool(match op {
                CmpOp::Eq => ord.is_eq(),
                CmpOp::Ne => ord.is_ne(),
                CmpOp::Lt => ord.is_lt(),
                CmpOp::Le => ord.is_le(),
                CmpOp::Gt => ord.is_gt(),
                CmpOp::Ge => ord.is_ge(),
            })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types(name: &str) -> Option<Type> {
        match name {
            "Age" => Some(Type::Int),
            "Email" | "Level" => Some(Type::Str),
            _ => None,
        }
    }

    fn run(src: &str, age: i64) -> Option<Value> {
        let f = parse(src, &types).expect("parses");
        f.eval(&|n| match n {
            "Age" => Some(Value::Int(age)),
            "Level" => Some(Value::Str("AAL2".into())),
            _ => None,
        })
    }

    #[test]
    fn evaluates_comparisons_and_logic() {
        assert_eq!(run("Age >= 65", 65), Some(Value::Bool(true)));
        assert_eq!(run("Age >= 65", 64), Some(Value::Bool(false)));
        assert_eq!(
            run("not (Age < 18) and Level == \"AAL2\"", 30),
            Some(Value::Bool(true))
        );
        assert_eq!(run("Age < 18 or Age > 60", 30), Some(Value::Bool(false)));
        assert_eq!(run("true != false", 0), Some(Value::Bool(true)));
        assert_eq!(run("Age", 41), Some(Value::Int(41)));
        // and binds tighter than or
        assert_eq!(run("true or false and false", 0), Some(Value::Bool(true)));
    }

    #[test]
    fn missing_attribute_gives_no_value() {
        assert_eq!(run("Email == \"a@b\"", 1), None);
    }

    #[test]
    fn errors_name_the_position() {
        let e = parse("Age >= ", &types).unwrap_err();
        assert_eq!(e.position, 7);
        let e = parse("Age >= 65 )", &types).unwrap_err();
        assert_eq!(e.position, 10);
        let e = parse("Age = 65", &types).unwrap_err();
        assert_eq!(e.position, 4);
        let e = parse("Age >= 6 5", &types).unwrap_err();
        assert_eq!(e.position, 9);
        let e = parse("Height > 3", &types).unwrap_err();
        assert_eq!(
            (e.position, e.message.as_str()),
            (0, "unknown attribute 'Height'")
        );
        let e = parse("Age >= \"x", &types).unwrap_err();
        assert_eq!(e.position, 7);
        assert_eq!(parse("Age >= \"65\"", &types).unwrap_err().position, 4);
        assert!(parse("1 < 2 < 3", &types).is_err());
        assert!(parse("not 5", &types).is_err());
        assert!(parse("Age; drop", &types).is_err());
        assert!(parse("99999999999999999999", &types).is_err());
    }

    #[test]
    fn bounds_length_and_depth() {
        let deep = format!(
            "{}true{}",
            "(".repeat(MAX_DEPTH + 1),
            ")".repeat(MAX_DEPTH + 1)
        );
        assert!(parse(&deep, &types).unwrap_err().message.contains("deeply"));
        let ok = format!("{}true{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert!(parse(&ok, &types).is_ok());
        let nots = format!("{}true", "not ".repeat(MAX_DEPTH + 1));
        assert!(parse(&nots, &types).is_err());
        let long = format!("Age > {}", "1".repeat(MAX_LEN));
        assert!(parse(&long, &types).unwrap_err().message.contains("longer"));
    }
}
