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

mod lexer;
mod parser;
mod syntax;

pub use parser::MAX_DEPTH;
pub use syntax::{FormulaError, Type, Value};

use syntax::{CmpOp, Node, err};

/// Longest formula accepted, in bytes.
pub const MAX_LEN: usize = 256;

/// A parsed, type-checked formula.
#[derive(Debug, Clone, PartialEq)]
pub struct Formula {
    root: Node,
    ty: Type,
}

/// Parses and type-checks `src`. `type_of` gives the type of each attribute
/// name a formula may use, or `None` for an unknown name.
pub fn parse(src: &str, type_of: &dyn Fn(&str) -> Option<Type>) -> Result<Formula, FormulaError> {
    if src.len() > MAX_LEN {
        return err(MAX_LEN, format!("formula longer than {MAX_LEN} bytes"));
    }
    let root = parser::tree(src)?;
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
