//! Tokens to the formula's tree, by the grammar in the module's header,
//! with nesting bounded by [`MAX_DEPTH`].

use crate::formula::lexer::{Tok, lex};
use crate::formula::syntax::{FormulaError, Node, Value, err};

/// Deepest nesting of parentheses and `not` accepted.
pub const MAX_DEPTH: usize = 16;

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

/// The tree of `src`, or the first syntax error.
pub(super) fn tree(src: &str) -> Result<Node, FormulaError> {
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
    Ok(root)
}
