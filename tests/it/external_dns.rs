//! `dns = "external"`: no Route53 zone; `up` prints the certificate's
//! validation CNAMEs and the distribution's name for another DNS provider,
//! waits for the certificate and goes on; `plan` and `down` touch no zone.

use crate::common;

use common::{TestStack, route53};

fn write_external(stack: &TestStack) -> String {
    // A domain under a zone no one made in the emulator: the user's DNS lives elsewhere.
    let domain = format!("{}.elsewhere.example.net", stack.name);
    std::fs::write(
        stack.file(),
        format!(
            "name = \"{}\"\nregion = \"eu-west-1\"\ndomain = \"{domain}\"\ndns = \"external\"\n\n[identity]\nissuer = \"{issuer}\"\nclient_id = \"test-client\"\n",
            stack.name,
            issuer = common::issuer::shared()
        ),
    )
    .unwrap();
    domain
}

/// Every hosted zone whose name ends with `suffix`.
async fn zones_ending(suffix: &str) -> Vec<String> {
    let out = route53()
        .await
        .list_hosted_zones()
        .send()
        .await
        .expect("list zones");
    out.hosted_zones()
        .iter()
        .map(|z| z.name().to_string())
        .filter(|n| n.trim_end_matches('.').ends_with(suffix))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn external_dns_prints_the_records_and_touches_no_zone() {
    let stack = TestStack::new("extdns");
    let domain = write_external(&stack);

    let plan = stack.ok(&["plan"]);
    assert!(!plan.contains("hosted zone"), "{plan}");
    assert!(
        plan.lines()
            .any(|l| l.trim_start().starts_with("certificate") && l.contains("create")),
        "{plan}"
    );
    assert!(
        !plan.lines().any(|l| l.trim_start().starts_with("dns ")),
        "{plan}"
    );

    let out = stack.run(&["up"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("add at your DNS provider"), "{err}");
    let validation = err
        .lines()
        .find(|l| l.trim_start().starts_with('_') && l.contains(" CNAME "))
        .unwrap_or_else(|| panic!("a validation CNAME is printed:\n{err}"));
    assert!(validation.contains(&domain), "{validation}");

    let status = stack.json(&["status"]);
    let dist_domain = status["distribution"]["domain"]
        .as_str()
        .expect("distribution")
        .to_string();
    assert!(
        err.contains(&format!("{domain} CNAME {dist_domain}")),
        "the alias target is printed:\n{err}"
    );
    assert_eq!(status["certificate"]["status"], "ISSUED");
    assert!(status["hosted_zone_id"].is_null(), "{status}");
    assert_eq!(
        zones_ending("elsewhere.example.net").await,
        Vec::<String>::new()
    );

    // Converged: a second up makes no Route53 call at all and changes nothing.
    let report = stack.json(&["up"]);
    let calls = &report["calls"];
    for kind in ["reads_by_operation", "mutations_by_operation"] {
        let ops = calls[kind].as_object().unwrap();
        assert!(
            !ops.keys()
                .any(|k| k.to_ascii_lowercase().starts_with("route")),
            "{kind}: {ops:?}"
        );
    }
    let plan = stack.ok(&["plan"]);
    assert!(plan.contains("nothing to do"), "{plan}");

    let out = stack.run(&["down", "--yes"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("at your DNS provider"), "{err}");
    let status = stack.json(&["status"]);
    assert!(status["distribution"].is_null(), "{status}");
    assert!(status["certificate"].is_null(), "{status}");
}

#[test]
fn route53_dns_without_a_zone_is_a_config_error_naming_both_fixes() {
    let stack = TestStack::new("extdns-cfg");
    std::fs::write(
        stack.file(),
        format!(
            "name = \"{}\"\nregion = \"eu-west-1\"\ndomain = \"color.example.com\"\n\n[identity]\nissuer = \"{issuer}\"\nclient_id = \"test-client\"\n",
            stack.name,
            issuer = common::issuer::shared()
        ),
    )
    .unwrap();
    let out = stack.run(&["plan"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    // Both fixes are named: give the zone, or say DNS is served elsewhere.
    assert!(err.contains("hosted_zone"), "{err}");
    assert!(err.contains("external"), "{err}");
    assert!(err.contains("stack.toml"), "{err}");
}
