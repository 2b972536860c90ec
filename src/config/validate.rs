//! Checks the stack file's top-level fields and `[function]`, and builds the
//! [`Stack`] from them and the sections checked in their own modules.

use std::path::Path;

use super::domain::Where;
use super::raw::{RawFunction, RawStack};
use super::stack::{Function, LOG_RETENTION_DAYS, OriginAccess, Secrets, Stack};
use super::validator::Validator;
use crate::names;
use crate::publish::PublishSettings;

/// The largest `reserved_concurrency` accepted (AWS refuses more than the account allows).
const MAX_RESERVED_CONCURRENCY: i64 = 100_000;

const PRICE_CLASSES: [&str; 3] = ["PriceClass_100", "PriceClass_200", "PriceClass_All"];

impl Validator<'_> {
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
