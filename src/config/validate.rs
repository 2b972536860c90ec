//! Checks every field of the raw stack file and builds the [`Stack`]; each
//! problem is collected with its span, so one run reports them all.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use toml::Spanned;

use super::domain::Where;
use super::raw::*;
use super::secret_entry::RawSecret;
use super::*;
use crate::names;

/// The largest `reserved_concurrency` accepted (AWS refuses more than the account allows).
const MAX_RESERVED_CONCURRENCY: i64 = 100_000;

const PRICE_CLASSES: [&str; 3] = ["PriceClass_100", "PriceClass_200", "PriceClass_All"];

pub(super) struct Validator<'a> {
    pub(super) text: &'a str,
    pub(super) problems: Vec<Problem>,
    /// The stack goes to the local emulator (`--local`): a loopback http issuer is allowed.
    pub(super) local: bool,
}

impl Validator<'_> {
    pub(super) fn into_error(self, path: &Path) -> ConfigError {
        ConfigError {
            file: path.to_path_buf(),
            problems: self.problems,
        }
    }

    pub(super) fn position(&self, offset: usize) -> (usize, usize, String) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
        let column = before[line_start..].chars().count() + 1;
        let source_line = self.text[line_start..]
            .lines()
            .next()
            .unwrap_or("")
            .to_string();
        (line, column, source_line)
    }

    /// The key written on the line of `span`, for serde errors that do not name the field.
    pub(super) fn key_at(&self, span: &Range<usize>) -> String {
        let (_, _, line) = self.position(span.start);
        let trimmed = line.trim();
        if let Some((key, _)) = trimmed.split_once('=') {
            key.trim().to_string()
        } else if trimmed.starts_with('[') {
            trimmed.trim_matches(|c| c == '[' || c == ']').to_string()
        } else {
            "(stack)".to_string()
        }
    }

    /// Replaces the source line of the last problem, which may hold a secret.
    pub(super) fn hide_last_line(&mut self) {
        if let Some(p) = self.problems.last_mut() {
            p.source_line = HIDDEN_LINE.to_string();
        }
    }

    /// Whether the line at `offset` may hold a secret: it mentions one (`secrets`,
    /// `app_secret`, a quoted or dotted key, an inline table), or the last table
    /// header above it does (a `[secrets]` value, a multi-line PEM). Read from the
    /// text, not the parse, so a syntax error is covered too.
    fn may_hold_secret(&self, offset: usize) -> bool {
        let offset = offset.min(self.text.len());
        let start = self.text[..offset].rfind('\n').map_or(0, |i| i + 1);
        let line = self.text[start..].lines().next().unwrap_or("");
        let names_secret = |l: &str| {
            let l = l.to_ascii_lowercase();
            l.contains("secret") || SECRET_FIELDS.iter().any(|f| l.contains(f))
        };
        names_secret(line)
            || self.text[..start]
                .lines()
                .rev()
                .map(str::trim)
                .find(|l| l.starts_with('[') && !l.contains('='))
                .is_some_and(names_secret)
    }

    pub(super) fn push(&mut self, span: &Range<usize>, field: &str, message: String, hint: &str) {
        let (line, column, mut source_line) = self.position(span.start);
        if self.may_hold_secret(span.start) {
            source_line = HIDDEN_LINE.to_string();
        }
        self.problems.push(Problem {
            line,
            column,
            field: field.to_string(),
            message,
            hint: hint.to_string(),
            source_line,
        });
    }

    pub(super) fn validate(&mut self, path: &Path, base: &Path, raw: RawStack) -> Stack {
        let name = raw.name.get_ref().clone();
        if let Err(why) = names::check_stack_name(&name) {
            self.push(
                &raw.name.span(),
                "name",
                format!("{name:?} {why}"),
                "use 1 to 32 lowercase letters, digits and single hyphens, starting with a letter, e.g. \"colorid-demo\"",
            );
        }
        let region = raw.region.get_ref().clone();
        if let Err(problem) = names::check_region(&region) {
            self.push(
                &raw.region.span(),
                "region",
                format!("{region:?} {}", problem.message()),
                problem.hint(),
            );
        }
        let origin_access = match &raw.origin_access {
            Some(access) => {
                let access_span = access.span();
                let access = *access.get_ref();
                if access == OriginAccess::Identity
                    && !names::origin_access_identity_supported(&region)
                {
                    self.push(
                        &access_span,
                        "origin_access",
                        format!(
                            "\"identity\" cannot work in {region}: CloudFront origin access identities cannot read S3 buckets in opt-in regions opened after December 2022"
                        ),
                        "use origin_access = \"control\" (the default, and AWS's recommendation), or a `region` that predates 2023",
                    );
                }
                access
            }
            None => OriginAccess::Control,
        };
        let Where {
            domain,
            dns,
            hosted_zone,
            hosted_zone_id,
            certificate_names,
        } = self.validate_where(&raw);
        let price_class = match &raw.price_class {
            Some(p) if !PRICE_CLASSES.contains(&p.get_ref().as_str()) => {
                self.push(
                    &p.span(),
                    "price_class",
                    format!("{:?} is not a CloudFront price class", p.get_ref()),
                    "use \"PriceClass_100\" (North America and Europe), \"PriceClass_200\" or \"PriceClass_All\"",
                );
                String::new()
            }
            Some(p) => p.get_ref().clone(),
            None => "PriceClass_100".to_string(),
        };
        let bucket = raw.bucket.as_ref().map(|b| {
            if let Err(why) = names::check_bucket_name(b.get_ref()) {
                self.push(
                    &b.span(),
                    "bucket",
                    format!("{:?} {why}", b.get_ref()),
                    "use 3-63 lowercase letters, digits and hyphens, or remove `bucket` to let colorid derive a name",
                );
            }
            b.get_ref().clone()
        });
        let site_dir = raw
            .site_dir
            .as_ref()
            .map(|s| base.join(s.get_ref()))
            .unwrap_or_else(|| base.join("site"));
        let identity = self.validate_identity(&raw.identity);
        let secrets = Secrets {
            app_secret: self.secret_source(
                base,
                "secrets.app_secret",
                raw.secrets.app_secret.as_ref(),
            ),
            signing_key: self.secret_source(
                base,
                "secrets.signing_key",
                raw.secrets.signing_key.as_ref(),
            ),
            origin_verify: self.secret_source(
                base,
                "secrets.origin_verify",
                raw.secrets.origin_verify.as_ref(),
            ),
        };
        let function = self.validate_function(&raw.function);
        let api = self.validate_api(&raw.api);
        let publish = match raw.publish {
            Some(p) => {
                let span = p.span();
                let settings = p.into_inner();
                for problem in settings.validate() {
                    self.push(&span, &problem.field, problem.message, &problem.hint);
                }
                settings
            }
            None => PublishSettings::default(),
        };
        Stack {
            file: path.to_path_buf(),
            name,
            region,
            domain,
            dns,
            hosted_zone,
            hosted_zone_id,
            site_dir,
            origin_access,
            price_class,
            certificate_names,
            bucket,
            identity,
            secrets,
            function,
            publish,
            api,
        }
    }

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

    pub(super) fn secret_source(
        &mut self,
        base: &Path,
        field: &str,
        raw: Option<&Spanned<RawSecret>>,
    ) -> SecretSource {
        let Some(raw) = raw else {
            return SecretSource::Generate;
        };
        let source = match raw.get_ref() {
            RawSecret::Source(source) => source,
            RawSecret::Literal => {
                self.push(
                    &raw.span(),
                    field,
                    "a secret's value is never written in stack.toml (the value is not shown here)".to_string(),
                    "put the value in an environment variable or a file and write { env = \"VARIABLE\" } or { file = \"path\" }, or remove the line to let `up` generate the secret; treat the value as leaked if the file was shared",
                );
                self.hide_last_line();
                return SecretSource::Generate;
            }
        };
        match (&source.env, &source.file) {
            (Some(env), None) => {
                let ok = !env.is_empty()
                    && env.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && !env.starts_with(|c: char| c.is_ascii_digit());
                if !ok {
                    self.push(
                        &raw.span(),
                        field,
                        format!("{env:?} is not an environment variable name"),
                        "use letters, digits and underscores, e.g. { env = \"COLORID_APP_SECRET\" }",
                    );
                }
                SecretSource::Env(env.clone())
            }
            (None, Some(file)) if !file.is_empty() => SecretSource::File(base.join(file)),
            _ => {
                self.push(
                    &raw.span(),
                    field,
                    "needs exactly one of `env` or `file`".to_string(),
                    "write { env = \"VARIABLE\" } or { file = \"path\" }, or remove it to let `up` generate the secret",
                );
                SecretSource::Generate
            }
        }
    }

    pub(super) fn validate_function(&mut self, raw: &RawFunction) -> Function {
        let memory_mb = match &raw.memory_mb {
            Some(m) if !(128..=10240).contains(m.get_ref()) => {
                self.push(
                    &m.span(),
                    "function.memory_mb",
                    format!("{} is outside Lambda's range", m.get_ref()),
                    "use 128 to 10240 (MB); 256 is plenty for the identity function",
                );
                256
            }
            Some(m) => *m.get_ref() as i32,
            None => 256,
        };
        let timeout_seconds = match &raw.timeout_seconds {
            Some(t) if !(1..=30).contains(t.get_ref()) => {
                self.push(
                    &t.span(),
                    "function.timeout_seconds",
                    format!("{} is outside 1..=30", t.get_ref()),
                    "CloudFront waits at most 30 s for the origin by default; use 1 to 30 (10 is the default)",
                );
                10
            }
            Some(t) => *t.get_ref() as i32,
            None => 10,
        };
        let reserved_concurrency = match &raw.reserved_concurrency {
            Some(r) if !(1..=MAX_RESERVED_CONCURRENCY).contains(r.get_ref()) => {
                self.push(
                    &r.span(),
                    "function.reserved_concurrency",
                    format!("{} is outside 1..={MAX_RESERVED_CONCURRENCY}", r.get_ref()),
                    "use a small cap such as 10 (Lambda keeps 100 of the account's concurrency unreserved), or remove the field",
                );
                None
            }
            Some(r) => Some(*r.get_ref() as i32),
            None => None,
        };
        let log_retention_days = match &raw.log_retention_days {
            Some(d) if !LOG_RETENTION_DAYS.contains(d.get_ref()) => {
                self.push(
                    &d.span(),
                    "function.log_retention_days",
                    format!("{} is not a retention CloudWatch Logs accepts", d.get_ref()),
                    "use one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653 (30 is the default)",
                );
                30
            }
            Some(d) => *d.get_ref() as i32,
            None => 30,
        };
        Function {
            memory_mb,
            timeout_seconds,
            reserved_concurrency,
            log_retention_days,
            source: raw.source.as_ref().map(std::path::PathBuf::from),
        }
    }
}

pub(super) fn is_claim_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ':' | '.' | '/'))
}
