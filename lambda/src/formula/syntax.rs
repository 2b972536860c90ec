//! What a formula is made of: its types and values, its errors, and the
//! tree the parser builds and the checker and evaluator walk.

use std::fmt;

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

pub(super) fn err<T>(position: usize, message: impl Into<String>) -> Result<T, FormulaError> {
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
    pub(super) fn ty(&self) -> Type {
        match self {
            Value::Int(_) => Type::Int,
            Value::Str(_) => Type::Str,
            Value::Bool(_) => Type::Bool,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Node {
    Lit(Value),
    // Each operator node keeps the byte offset of its name or operator for error messages.
    Attr(String, usize),
    Not(Box<Node>, usize),
    And(Box<Node>, Box<Node>, usize),
    Or(Box<Node>, Box<Node>, usize),
    Cmp(CmpOp, Box<Node>, Box<Node>, usize),
}
