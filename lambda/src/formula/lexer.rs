//! Formula text to tokens, each with its byte offset.

use crate::formula::syntax::{CmpOp, FormulaError, err};

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Int(i64),
    Str(String),
    Name(String),
    Cmp(CmpOp),
    LParen,
    RParen,
}

pub(super) fn lex(src: &str) -> Result<Vec<(usize, Tok)>, FormulaError> {
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
