//! Where the site is served: its `domain`, with `dns`, `hosted_zone`,
//! `hosted_zone_id` and `certificate_names`; or, with no `domain`, the
//! distribution's own `*.cloudfront.net` name, which takes none of them.

use super::raw::RawStack;
use super::stack::Dns;
use super::validator::Validator;
use crate::names;

/// The longest name ACM takes as a certificate's first (common) name.
const CERTIFICATE_FIRST_NAME_MAX: usize = 64;

/// The validated naming fields.
pub(super) struct Where {
    pub(super) domain: Option<String>,
    pub(super) dns: Dns,
    pub(super) hosted_zone: String,
    pub(super) hosted_zone_id: Option<String>,
    pub(super) certificate_names: Vec<String>,
}

impl Validator<'_> {
    pub(super) fn validate_where(&mut self, raw: &RawStack) -> Where {
        let dns = raw.dns.as_ref().map_or(Dns::Route53, |d| *d.get_ref());
        let Some(raw_domain) = &raw.domain else {
            self.refuse_without_domain(raw);
            return Where {
                domain: None,
                dns,
                hosted_zone: String::new(),
                hosted_zone_id: None,
                certificate_names: Vec::new(),
            };
        };
        let zone = raw
            .hosted_zone
            .as_ref()
            .map_or_else(String::new, |z| normalize_dns(z.get_ref()));
        match &raw.hosted_zone {
        Some(z) => {
            if let Err(why) = names::check_dns_name(&zone, false) {
                self.push(
                    &z.span(),
                    "hosted_zone",
                    format!("{zone:?} {why}"),
                    "use the Route53 hosted zone's name, e.g. \"example.com\"",
                );
            }
        }
        None if dns == Dns::Route53 => self.push(
            &raw_domain.span(),
            "hosted_zone",
            "is missing: with Route53 DNS (the default) colorid writes the records into this zone".into(),
            "add hosted_zone = \"example.com\" (the Route53 zone holding the domain), or set dns = \"external\" to add the records at another DNS provider yourself",
        ),
        None => {}
    }
        // With another provider and no zone given, names are not tied to a zone.
        let zone_checked = !zone.is_empty();
        let hosted_zone_id = raw.hosted_zone_id.as_ref().and_then(|id| {
        match names::check_hosted_zone_id(id.get_ref().trim()) {
            Ok(bare) => Some(bare.to_string()),
            Err(why) => {
                self.push(
                    &id.span(),
                    "hosted_zone_id",
                    format!("{:?} {why}", id.get_ref()),
                    "copy the id from the Route53 console or `aws route53 list-hosted-zones-by-name`, e.g. \"Z0123456789ABCDEFGHIJ\", or remove the field",
                );
                None
            }
        }
    });
        let domain = normalize_dns(raw_domain.get_ref());
        if let Err(why) = names::check_dns_name(&domain, false) {
            self.push(
                &raw_domain.span(),
                "domain",
                format!("{domain:?} {why}"),
                "use the site's host name, e.g. \"color.example.com\"",
            );
        } else if domain.len() > CERTIFICATE_FIRST_NAME_MAX {
            // ACM: "the length of the domain name (technically, the Common Name)
            // that you provide cannot exceed 64 octets (characters), including
            // periods" (https://docs.aws.amazon.com/acm/latest/APIReference/API_RequestCertificate.html).
            self.push(
            &raw_domain.span(),
            "domain",
            format!(
                "{domain:?} has {} characters; a certificate's first name (the domain) may have at most {CERTIFICATE_FIRST_NAME_MAX}",
                domain.len()
            ),
            "use a shorter domain, and put longer names in `certificate_names` (up to 253 characters each)",
        );
        } else if zone_checked && !names::within_zone(&domain, &zone) {
            self.push(
            &raw_domain.span(),
            "domain",
            format!("{domain:?} is not inside the hosted zone {zone:?}"),
            &format!(
                "use a name ending in \".{zone}\", or set `hosted_zone` to the zone that holds {domain}"
            ),
        );
        }
        let mut certificate_names = Vec::new();
        for (i, n) in raw.certificate_names.iter().enumerate() {
            let field = format!("certificate_names[{i}]");
            let value = normalize_dns(n.get_ref());
            if let Err(why) = names::check_dns_name(&value, true) {
                self.push(
                &n.span(),
                &field,
                format!("{value:?} {why}"),
                "use a host name such as \"www.color.example.com\" or a wildcard \"*.color.example.com\"",
            );
            } else if zone_checked && !names::within_zone(value.trim_start_matches("*."), &zone) {
                self.push(
                &n.span(),
                &field,
                format!("{value:?} is not inside the hosted zone {zone:?}"),
                "the certificate is validated through the hosted zone, so every name must lie in it",
            );
            } else if value == domain || certificate_names.contains(&value) {
                self.push(
                    &n.span(),
                    &field,
                    format!("{value:?} is listed twice"),
                    "remove the duplicate; `domain` is always on the certificate",
                );
            } else {
                certificate_names.push(value);
            }
        }
        if certificate_names.len() > 9 {
            self.push(
                &raw.certificate_names[9].span(),
                "certificate_names",
                format!(
                    "{} extra names; ACM allows 10 names per certificate by default",
                    certificate_names.len()
                ),
                "keep at most 9 extra names (the domain is the tenth)",
            );
        }
        Where {
            domain: Some(domain),
            dns,
            hosted_zone: zone,
            hosted_zone_id,
            certificate_names,
        }
    }

    /// With no `domain` there is no zone to write to and no certificate to name.
    fn refuse_without_domain(&mut self, raw: &RawStack) {
        const SERVED: &str = "with no `domain` the site is served on the distribution's own *.cloudfront.net name (no certificate, no DNS records)";
        let fix = |field: &str| {
            format!(
                "add domain = \"color.example.com\" (the site's host name) to serve on your own name, or remove `{field}`"
            )
        };
        for (field, span) in [
            ("hosted_zone", raw.hosted_zone.as_ref().map(|z| z.span())),
            (
                "hosted_zone_id",
                raw.hosted_zone_id.as_ref().map(|z| z.span()),
            ),
            (
                "certificate_names",
                raw.certificate_names.first().map(|n| n.span()),
            ),
        ] {
            if let Some(span) = span {
                self.push(&span, field, format!("is set, but {SERVED}"), &fix(field));
            }
        }
    }
}

pub(super) fn normalize_dns(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {

    const NO_DOMAIN: &str = r#"name = "demo"
region = "eu-west-1"

[identity]
issuer = "https://auth.civic.com/oauth/"
client_id = "abc"
"#;

    use crate::config::tests::check;

    #[test]
    fn a_stack_may_leave_out_its_domain() {
        let s = check(NO_DOMAIN).expect("valid");
        assert_eq!(s.domain, None);
        assert!(!s.uses_route53() && !s.has_certificate());
        assert!(s.aliases().is_empty());
        assert_eq!(s.site_url(None), None);
        assert_eq!(
            s.site_url(Some("d111111abcdef8.cloudfront.net")).as_deref(),
            Some("https://d111111abcdef8.cloudfront.net")
        );
        // The dns setting has nothing to act on without a domain.
        let external = NO_DOMAIN.replace("region", "dns = \"external\"\nregion");
        assert_eq!(check(&external).expect("valid").domain, None);
    }

    #[test]
    fn a_domain_wins_over_the_distribution_name() {
        let text = NO_DOMAIN.replace(
            "region",
            "domain = \"color.example.com\"\nhosted_zone = \"example.com\"\nregion",
        );
        let s = check(&text).expect("valid");
        assert!(s.uses_route53() && s.has_certificate());
        assert_eq!(
            s.site_url(Some("d111111abcdef8.cloudfront.net")).as_deref(),
            Some("https://color.example.com")
        );
    }

    #[test]
    fn zone_and_certificate_fields_without_a_domain_are_refused_with_their_lines() {
        let text = NO_DOMAIN.replace(
            "region = \"eu-west-1\"\n",
            "region = \"eu-west-1\"\nhosted_zone = \"example.com\"\nhosted_zone_id = \"Z0123456789ABC\"\ncertificate_names = [\"www.example.com\"]\n",
        );
        let err = check(&text).unwrap_err();
        let found: Vec<(usize, &str)> = err
            .problems
            .iter()
            .map(|p| (p.line, p.field.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                (3, "hosted_zone"),
                (4, "hosted_zone_id"),
                (5, "certificate_names")
            ]
        );
        for p in &err.problems {
            assert!(p.message.contains("*.cloudfront.net"), "{}", p.message);
            assert!(p.hint.contains("add domain = "), "{}", p.hint);
            assert!(
                p.hint.contains(&format!("remove `{}`", p.field)),
                "{}",
                p.hint
            );
        }
        let shown = err.to_string();
        assert!(shown.contains("/tmp/stack.toml:3:"), "{shown}");
        // An empty list names nothing: fine.
        let empty = NO_DOMAIN.replace("region", "certificate_names = []\nregion");
        check(&empty).expect("valid");
    }
}
