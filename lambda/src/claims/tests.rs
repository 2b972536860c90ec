use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value, json};

use super::*;

/// What verification accepted before the members were read without a map:
/// the whole set as a map, a member named twice refused.
fn as_unique_map(payload: &[u8]) -> Option<Map<String, Value>> {
    struct Unique(Map<String, Value>);
    impl<'de> Deserialize<'de> for Unique {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Unique;
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    f.write_str("a JSON object")
                }
                fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Unique, A::Error> {
                    let mut map = Map::new();
                    while let Some((name, value)) = m.next_entry::<String, Value>()? {
                        if map.insert(name, value).is_some() {
                            return Err(de::Error::custom("duplicate"));
                        }
                    }
                    Ok(Unique(map))
                }
            }
            d.deserialize_map(V)
        }
    }
    serde_json::from_slice::<Unique>(payload).ok().map(|u| u.0)
}

/// Payloads at the edges of JSON: each is accepted by both readings or by neither.
#[test]
fn accepts_what_a_map_of_unique_members_accepts() {
    let deep = |n: usize| format!(r#"{{"x":{}1{}}}"#, "[".repeat(n), "]".repeat(n));
    let cases = [
        r#"{}"#.to_string(),
        r#" {"sub":"a"} "#.into(),
        r#"{"sub":"a"} x"#.into(),
        r#"{"sub":"a",}"#.into(),
        r#"["sub"]"#.into(),
        r#""sub""#.into(),
        r#"null"#.into(),
        r#"{"sub":"a","sub":"b"}"#.into(),
        r#"{"sub":"a","s\u0075b":"b"}"#.into(),
        r#"{"x":1,"y":2,"x":3}"#.into(),
        r#"{"x":1,"\u0078":3}"#.into(),
        r#"{"acr":1,"acr":2}"#.into(),
        r#"{"x":{"y":1,"y":2}}"#.into(),
        r#"{"x":1e400}"#.into(),
        r#"{"exp":1e400}"#.into(),
        r#"{"x":-1e308,"y":18446744073709551616,"z":-9223372036854775809}"#.into(),
        r#"{"x":01}"#.into(),
        r#"{"x":1.}"#.into(),
        r#"{"x":"\ud800"}"#.into(),
        r#"{"x":"\ud83d\ude00","y":"\u00e9"}"#.into(),
        r#"{"sub":"\ud800"}"#.into(),
        r#"{"x":"\q"}"#.into(),
        "{\"x\":\"a\u{1}\"}".into(),
        r#"{"x":[1,"a",{"b":[null,true]}],"aud":["a",2]}"#.into(),
        r#"{"x":tru}"#.into(),
        deep(126),
        deep(127),
        deep(128),
        format!(r#"{{"aud":{}"a"{}}}"#, "[".repeat(127), "]".repeat(127)),
        format!(r#"{{"aud":{}"a"{}}}"#, "[".repeat(128), "]".repeat(128)),
    ];
    for payload in &cases {
        let by_map = as_unique_map(payload.as_bytes());
        let read = Members::parse(payload.as_bytes(), Some("acr"));
        assert_eq!(read.is_ok(), by_map.is_some(), "{payload}");
        if let Err(reason) = read {
            assert_eq!(reason, Reason::MalformedPayload);
        }
    }
    // Bytes that are no UTF-8, in a string and outside one.
    for payload in [
        &b"{\"x\":\"\xff\"}"[..],
        b"{\"sub\":\"\xc3\"}",
        b"{\"x\":1}\xff",
    ] {
        assert!(as_unique_map(payload).is_none());
        assert_eq!(
            Members::parse(payload, None).err(),
            Some(Reason::MalformedPayload)
        );
    }
}

#[test]
fn each_kept_member_has_its_own_place() {
    for (i, name) in KEPT.iter().enumerate() {
        assert_eq!(place(name), Some(i), "{name}");
    }
    assert_eq!(place("email"), None);
}

#[test]
fn the_checked_members_are_read_in_their_forms() {
    let payload = json!({
        "iss": "https://i", "sub": "a\"b", "aud": ["c", "d"], "exp": 10, "nbf": -1,
        "iat": 1.5, "azp": null, "client_id": true, "cid": {"x": "y"}, "appid": ["a", 1],
        "token_use": "id", "typ": "ID", "scope": "", "scp": [], "email": "e"
    })
    .to_string();
    let level = |claim: &str| {
        Members::parse(payload.as_bytes(), Some(claim))
            .unwrap()
            .level_text()
    };
    let m = Members::parse(payload.as_bytes(), Some("email")).unwrap();
    assert_eq!(m.get("iss"), Some(&Member::Str("https://i".into())));
    assert!(matches!(m.get("iss"), Some(Member::Str(Cow::Borrowed(_)))));
    // An escaped string is unescaped into a copy.
    assert!(matches!(m.get("sub"), Some(Member::Str(Cow::Owned(s))) if s == "a\"b"));
    assert_eq!(
        m.get("aud"),
        Some(&Member::Strs(vec!["c".into(), "d".into()]))
    );
    assert_eq!(m.get("exp"), Some(&Member::Num(10.into())));
    assert_eq!(m.get("nbf"), Some(&Member::Num((-1).into())));
    assert_eq!(m.get("iat").and_then(Member::as_str), None);
    assert!(matches!(m.get("iat"), Some(Member::Num(n)) if n.as_f64() == Some(1.5)));
    for name in ["azp", "client_id", "cid", "appid"] {
        assert_eq!(m.get(name), Some(&Member::Other), "{name}");
    }
    assert_eq!(m.get("scp"), Some(&Member::Strs(Vec::new())));
    assert_eq!(
        m.get("email"),
        None,
        "the level claim is not a checked member"
    );
    assert_eq!(m.level_text().as_deref(), Some("e"));
    assert_eq!(level("iss").as_deref(), Some("https://i"));
    assert_eq!(level("exp").as_deref(), Some("10"));
    assert_eq!(level("iat").as_deref(), Some("1.5"));
    assert_eq!(level("aud"), None);
    assert_eq!(level("azp"), None);
    assert_eq!(level("nothing"), None);
    assert_eq!(
        Members::parse(payload.as_bytes(), None)
            .unwrap()
            .level_text(),
        None
    );
}

/// The full set parsed from the kept payload is the set as sent.
#[test]
fn verified_claims_keep_the_whole_set() {
    let sent = json!({"iss": "https://i", "sub": "s", "email": "e", "n": [1, {"a": null}]});
    let claims = Claims::new("https://i".into(), "s", None, sent.to_string().as_bytes());
    assert_eq!(Value::Object(claims.all()), sent);
    assert_eq!(
        (claims.iss(), claims.sub(), claims.level()),
        ("https://i", "s", None)
    );
}
