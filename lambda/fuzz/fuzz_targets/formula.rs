//! Untrusted formulas through the parser, type checker and evaluator.
#![no_main]

use colorid_lambda::attribute_names::{formula_name_problem, formula_type};
use colorid_lambda::formula::{self, Value};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else { return };
    // The name check runs on the same untrusted text.
    let _ = formula_name_problem(src);
    let Ok(f) = formula::parse(src, &formula_type) else { return };
    let value_of = |name: &str| match name {
        "Age" => Some(Value::Int(70)),
        "Email" => None,
        other => Some(Value::Str(other.to_string())),
    };
    let _ = f.eval(&value_of);
});
