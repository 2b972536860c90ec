//! Authentication assurance levels (NIST SP 800-63B), ordered AAL1 < AAL2 < AAL3.

use std::collections::HashMap;

use serde_json::{Map, Value};

/// An assurance level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Single factor.
    Aal1,
    /// Two factors.
    Aal2,
    /// Hardware-backed, phishing-resistant.
    Aal3,
}

impl Level {
    /// Parses `AAL1`, `AAL2` or `AAL3` (any case).
    pub fn parse(s: &str) -> Option<Level> {
        match s.to_ascii_uppercase().as_str() {
            "AAL1" => Some(Level::Aal1),
            "AAL2" => Some(Level::Aal2),
            "AAL3" => Some(Level::Aal3),
            _ => None,
        }
    }

    /// The canonical name.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Aal1 => "AAL1",
            Level::Aal2 => "AAL2",
            Level::Aal3 => "AAL3",
        }
    }
}

/// The level a token's claims show: the level claim's value through the map,
/// or the value itself when it already names a level.
pub fn of_claims(
    claims: &Map<String, Value>,
    claim: &str,
    map: &HashMap<String, String>,
) -> Option<Level> {
    let value = match claims.get(claim)? {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    match map.get(&value) {
        Some(mapped) => Level::parse(mapped),
        None => Level::parse(&value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn maps_and_orders_levels() {
        let map = HashMap::from([(
            "urn:mace:incommon:iap:silver".to_string(),
            "AAL2".to_string(),
        )]);
        let claims = json!({"acr": "urn:mace:incommon:iap:silver", "loa": 3});
        let claims = claims.as_object().unwrap();
        assert_eq!(of_claims(claims, "acr", &map), Some(Level::Aal2));
        assert_eq!(of_claims(claims, "loa", &map), None);
        assert_eq!(of_claims(claims, "missing", &map), None);
        let direct = json!({"acr": "aal3"});
        assert_eq!(
            of_claims(direct.as_object().unwrap(), "acr", &map),
            Some(Level::Aal3)
        );
        assert!(Level::Aal1 < Level::Aal2 && Level::Aal2 < Level::Aal3);
    }
}
