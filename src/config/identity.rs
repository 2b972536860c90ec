//! `[identity]`: the provider the function trusts, the assurance levels it
//! maps, the claims it requires verified and the scopes the site asks for.

use std::collections::BTreeMap;

use toml::Spanned;

use super::raw::RawIdentity;
use super::stack::{DEFAULT_SCOPES, Identity, LEVELS};
use super::validator::{Validator, is_claim_name};
use crate::names;

impl Validator<'_> {
    pub(super) fn validate_identity(&mut self, raw: &Spanned<RawIdentity>) -> Identity {
        let id = raw.get_ref();
        let issuer = id.issuer.get_ref().clone();
        if let Err(why) = names::check_issuer(&issuer, self.local) {
            self.push(
                &id.issuer.span(),
                "identity.issuer",
                format!("{issuer:?} {why}"),
                "use the provider's issuer URL exactly as its /.well-known/openid-configuration says, e.g. \"https://auth.civic.com/oauth/\"",
            );
        }
        let client_id = id.client_id.get_ref().trim().to_string();
        if client_id.is_empty() || client_id.len() > 256 || client_id.chars().any(char::is_control)
        {
            self.push(
                &id.client_id.span(),
                "identity.client_id",
                "must be 1 to 256 printable characters".to_string(),
                "copy the public client id from your identity provider's dashboard",
            );
        }
        let required_level = id.required_level.as_ref().map(|l| {
            if !LEVELS.contains(&l.get_ref().as_str()) {
                self.push(
                    &l.span(),
                    "identity.required_level",
                    format!("{:?} is not an assurance level", l.get_ref()),
                    "use \"AAL1\", \"AAL2\" or \"AAL3\", or remove the field",
                );
            }
            l.get_ref().clone()
        });
        let mut level_map = BTreeMap::new();
        for (k, v) in &id.level_map {
            if !LEVELS.contains(&v.get_ref().as_str()) {
                self.push(
                    &v.span(),
                    &format!("identity.level_map.{k}"),
                    format!("{:?} is not an assurance level", v.get_ref()),
                    "map each claim value to \"AAL1\", \"AAL2\" or \"AAL3\"",
                );
            }
            level_map.insert(k.clone(), v.get_ref().clone());
        }
        let level_claim = match &id.level_claim {
            Some(c) if !is_claim_name(c.get_ref()) => {
                self.push(
                    &c.span(),
                    "identity.level_claim",
                    format!("{:?} is not a claim name", c.get_ref()),
                    "use the name of the token claim that carries the level, usually \"acr\"",
                );
                String::new()
            }
            Some(c) => c.get_ref().clone(),
            None => "acr".to_string(),
        };
        let mut verified_claims = Vec::new();
        for (i, c) in id.verified_claims.iter().enumerate() {
            if !is_claim_name(c.get_ref()) {
                self.push(
                    &c.span(),
                    &format!("identity.verified_claims[{i}]"),
                    format!("{:?} is not a claim name", c.get_ref()),
                    "list token claim names such as \"email\" or \"birthdate\"",
                );
            }
            verified_claims.push(c.get_ref().clone());
        }
        let scopes = self.validate_scopes(id.scopes.as_ref());
        let api_audience = id.api_audience.as_ref().map(|a| {
            let v = a.get_ref();
            // Cognito's resource server identifier rule, which covers Auth0's, Okta's and Entra's.
            let printable = v.bytes().all(|b| (0x21..=0x7e).contains(&b) && b != b'"' && b != b'\\');
            if v.is_empty() || v.len() > 256 || !printable {
                self.push(
                    &a.span(),
                    "identity.api_audience",
                    format!("{v:?} is not an API identifier"),
                    "use the identifier of the API at your provider (1 to 256 printable characters, no spaces), e.g. \"https://api.example.com\", or remove the field to accept ID tokens only",
                );
            }
            v.clone()
        });
        Identity {
            issuer,
            client_id,
            required_level,
            level_claim,
            level_map,
            verified_claims,
            scopes,
            sign_in_on_load: id.sign_in_on_load,
            api_audience,
        }
    }

    fn validate_scopes(&mut self, raw: Option<&Spanned<Vec<Spanned<String>>>>) -> Vec<String> {
        let Some(raw) = raw else {
            return DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect();
        };
        for (i, s) in raw.get_ref().iter().enumerate() {
            if !is_scope_token(s.get_ref()) {
                self.push(
                    &s.span(),
                    &format!("identity.scopes[{i}]"),
                    format!("{:?} is not a scope", s.get_ref()),
                    "write scope names such as \"openid\", \"profile\" or \"email\", one per string",
                );
            }
        }
        let scopes: Vec<String> = raw.get_ref().iter().map(|s| s.get_ref().clone()).collect();
        if !scopes.iter().any(|s| s == "openid") {
            self.push(
                &raw.span(),
                "identity.scopes",
                "does not include \"openid\"".to_string(),
                "OpenID Connect needs \"openid\"; use [\"openid\"] for an anonymous sign-in",
            );
        }
        scopes
    }
}

/// Whether `s` is an RFC 6749 scope-token (printable ASCII, no space, `"` or `\`).
fn is_scope_token(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| (0x21..=0x7e).contains(&b) && b != b'"' && b != b'\\')
}
