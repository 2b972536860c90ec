//! Authentication assurance levels (NIST SP 800-63B), ordered AAL1 < AAL2 < AAL3.

use std::collections::HashMap;

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

/// The level a token's level claim shows (its value as text, see
/// [`Members::level_text`](crate::claims::Members::level_text)): the value
/// through the map, or the value itself when it already names a level.
pub fn of_value(value: Option<&str>, map: &HashMap<String, String>) -> Option<Level> {
    let value = value?;
    match map.get(value) {
        Some(mapped) => Level::parse(mapped),
        None => Level::parse(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::Members;
    use serde_json::json;

    #[test]
    fn maps_and_orders_levels() {
        let map = HashMap::from([(
            "urn:mace:incommon:iap:silver".to_string(),
            "AAL2".to_string(),
        )]);
        let claims =
            json!({"acr": "urn:mace:incommon:iap:silver", "loa": 3, "sub": "AAL1"}).to_string();
        let of_claim = |claim: &str| {
            let members = Members::parse(claims.as_bytes(), Some(claim)).unwrap();
            of_value(members.level_text().as_deref(), &map)
        };
        assert_eq!(of_claim("acr"), Some(Level::Aal2));
        assert_eq!(of_claim("loa"), None);
        assert_eq!(of_claim("missing"), None);
        // A claim the checks read serves as the level claim too.
        assert_eq!(of_claim("sub"), Some(Level::Aal1));
        assert_eq!(of_value(Some("aal3"), &map), Some(Level::Aal3));
        let numbered = HashMap::from([("3".to_string(), "AAL3".to_string())]);
        assert_eq!(of_value(Some("3"), &numbered), Some(Level::Aal3));
        assert!(Level::Aal1 < Level::Aal2 && Level::Aal2 < Level::Aal3);
    }
}
