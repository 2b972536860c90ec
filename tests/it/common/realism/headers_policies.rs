//! CloudFront's response headers policy API, which the emulator lacks (it answers
//! 404 to every path of it), kept here as AWS documents it: create (a name is
//! taken once), list, get, get-config, update and delete with the ETag just read
//! (If-Match), no delete while a distribution's cache behavior names the policy,
//! and no distribution naming a policy that does not exist.
//!
//! API_CreateResponseHeadersPolicy (ResponseHeadersPolicyAlreadyExists, 409),
//! API_UpdateResponseHeadersPolicy and API_DeleteResponseHeadersPolicy ("You
//! cannot delete a response headers policy if it's attached to a cache behavior":
//! ResponseHeadersPolicyInUse, 409; PreconditionFailed, 412; InvalidIfMatchVersion,
//! 400), API_CreateDistribution (NoSuchResponseHeadersPolicy, 404).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::http::Method;
use axum::response::Response;

use super::{CF_NS, Realism, Rule, Seen, blocks, cloudfront_error, xml_response, xml_value};

/// AWS's managed response headers policies (their ids are the same in every account).
const MANAGED: &[&str] = &[
    "67f7725c-6f97-4210-82d7-5512b31e9d03", // Managed-SecurityHeadersPolicy
    "60669652-455b-4ae9-85a4-c4c02393f86c", // Managed-SimpleCORS
    "5cc3b908-e619-4b99-88e5-2cf7f45965bd", // Managed-CORS-With-Preflight
    "e61eb60c-9c35-4d20-a928-2b84e02af89c", // Managed-CORS-and-SecurityHeadersPolicy
    "eaab4381-ed33-4a86-88ca-d9558dc6cd63", // Managed-CORS-with-preflight-and-SecurityHeadersPolicy
];

pub const SOURCE: &str = "https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_DeleteResponseHeadersPolicy.html";

/// One custom policy: its config as sent (the inner XML), and its version.
struct Policy {
    config: String,
    version: u32,
    modified: u64,
}

/// The account's custom policies and which distributions use them.
#[derive(Default)]
pub struct HeadersPolicies {
    policies: BTreeMap<String, Policy>,
    /// Distribution id → the policy ids its cache behaviors name.
    used_by: HashMap<String, HashSet<String>>,
}

pub enum Op {
    List,
    Create,
    Get(String),
    GetConfig(String),
    Update(String),
    Delete(String),
}

impl Op {
    pub fn route(method: &Method, path: &str) -> Option<Op> {
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        let id = |i: &str| i.to_string();
        Some(match (method.as_str(), parts.as_slice()) {
            ("GET", [_, "response-headers-policy"]) => Op::List,
            ("POST", [_, "response-headers-policy"]) => Op::Create,
            ("GET", [_, "response-headers-policy", i]) => Op::Get(id(i)),
            ("GET", [_, "response-headers-policy", i, "config"]) => Op::GetConfig(id(i)),
            ("PUT", [_, "response-headers-policy", i]) => Op::Update(id(i)),
            ("DELETE", [_, "response-headers-policy", i]) => Op::Delete(id(i)),
            _ => return None,
        })
    }
}

fn etag(id: &str, version: u32) -> String {
    let mut h = DefaultHasher::new();
    (id, version).hash(&mut h);
    format!("E{:013X}", h.finish() >> 12)
}

/// The inner XML of the sent `<ResponseHeadersPolicyConfig xmlns=…>`.
fn sent_config(body: &Bytes) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let open = text.find("<ResponseHeadersPolicyConfig")?;
    let start = open + text[open..].find('>')? + 1;
    let end = text.rfind("</ResponseHeadersPolicyConfig>")?;
    (start <= end).then(|| text[start..end].to_string())
}

fn name_of(config: &str) -> &str {
    xml_value(config, "Name").unwrap_or_default()
}

fn rfc3339(secs: u64) -> String {
    let t = aws_smithy_types::DateTime::from_secs(secs as i64);
    t.fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap_or_default()
}

fn policy_xml(id: &str, p: &Policy, xmlns: bool) -> String {
    let ns = if xmlns {
        format!(" xmlns=\"{CF_NS}\"")
    } else {
        String::new()
    };
    format!(
        "<ResponseHeadersPolicy{ns}><Id>{id}</Id><LastModifiedTime>{}</LastModifiedTime><ResponseHeadersPolicyConfig>{}</ResponseHeadersPolicyConfig></ResponseHeadersPolicy>",
        rfc3339(p.modified),
        p.config
    )
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn missing() -> Response {
    cloudfront_error(
        404,
        "NoSuchResponseHeadersPolicy",
        "The response headers policy does not exist.",
    )
}

impl Realism {
    /// Answers a call of the response headers policy API.
    pub(super) fn headers_policy_api(&self, op: &Op, seen: &Seen<'_>, body: &Bytes) -> Response {
        self.hit(Rule::CloudFrontResponseHeadersPolicyApi);
        let mut w = self.world.lock().unwrap();
        let hp = &mut w.headers_policies;
        let if_match = seen.if_match();
        match op {
            Op::List => {
                let items: String = hp
                    .policies
                    .iter()
                    .map(|(id, p)| {
                        format!(
                            "<ResponseHeadersPolicySummary><Type>custom</Type>{}</ResponseHeadersPolicySummary>",
                            policy_xml(id, p, false)
                        )
                    })
                    .collect();
                xml_response(
                    200,
                    None,
                    &format!(
                        "<ResponseHeadersPolicyList xmlns=\"{CF_NS}\"><MaxItems>100</MaxItems><Quantity>{}</Quantity><Items>{items}</Items></ResponseHeadersPolicyList>",
                        hp.policies.len()
                    ),
                )
            }
            Op::Create => {
                let Some(config) = sent_config(body) else {
                    return cloudfront_error(
                        400,
                        "MalformedInput",
                        "No ResponseHeadersPolicyConfig.",
                    );
                };
                if hp
                    .policies
                    .values()
                    .any(|p| name_of(&p.config) == name_of(&config))
                {
                    return cloudfront_error(
                        409,
                        "ResponseHeadersPolicyAlreadyExists",
                        "A response headers policy with this name already exists. You must provide a unique name.",
                    );
                }
                let mut h = DefaultHasher::new();
                (name_of(&config), hp.policies.len(), Instant::now()).hash(&mut h);
                let x = h.finish();
                let id = format!(
                    "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
                    x >> 32,
                    (x >> 16) & 0xffff,
                    x & 0xfff,
                    (x >> 20) & 0xfff,
                    x & 0xffff_ffff_ffff
                );
                let policy = Policy {
                    config,
                    version: 0,
                    modified: now(),
                };
                let answer = policy_xml(&id, &policy, true);
                hp.policies.insert(id.clone(), policy);
                xml_response(201, Some(&etag(&id, 0)), &answer)
            }
            Op::Get(id) | Op::GetConfig(id) => match hp.policies.get(id) {
                Some(p) => {
                    let xml = match op {
                        Op::Get(_) => policy_xml(id, p, true),
                        _ => format!(
                            "<ResponseHeadersPolicyConfig xmlns=\"{CF_NS}\">{}</ResponseHeadersPolicyConfig>",
                            p.config
                        ),
                    };
                    xml_response(200, Some(&etag(id, p.version)), &xml)
                }
                None => missing(),
            },
            Op::Update(id) | Op::Delete(id) => {
                if if_match.is_empty() {
                    return cloudfront_error(
                        400,
                        "InvalidIfMatchVersion",
                        "The If-Match version is missing or not valid for the resource.",
                    );
                }
                let in_use = hp.used_by.values().any(|ids| ids.contains(id));
                let Some(p) = hp.policies.get_mut(id) else {
                    return missing();
                };
                if if_match != etag(id, p.version) {
                    return cloudfront_error(
                        412,
                        "PreconditionFailed",
                        "The If-Match version is missing or not valid for the resource.",
                    );
                }
                if let Op::Delete(_) = op {
                    if in_use {
                        return cloudfront_error(
                            409,
                            "ResponseHeadersPolicyInUse",
                            "Cannot delete the response headers policy because it is attached to one or more cache behaviors in a CloudFront distribution.",
                        );
                    }
                    hp.policies.remove(id);
                    return xml_response(204, None, "");
                }
                let Some(config) = sent_config(body) else {
                    return cloudfront_error(
                        400,
                        "MalformedInput",
                        "No ResponseHeadersPolicyConfig.",
                    );
                };
                p.config = config;
                p.version += 1;
                p.modified = now();
                let answer = policy_xml(id, p, true);
                xml_response(200, Some(&etag(id, p.version)), &answer)
            }
        }
    }

    /// A distribution config that names a policy the account does not hold is refused.
    pub(super) fn unknown_headers_policy(&self, config: &str) -> Option<Response> {
        if !self.on(Rule::CloudFrontResponseHeadersPolicyApi) {
            return None;
        }
        let w = self.world.lock().unwrap();
        let unknown = blocks(config, "ResponseHeadersPolicyId")
            .into_iter()
            .any(|id| !MANAGED.contains(&id) && !w.headers_policies.policies.contains_key(id));
        drop(w);
        unknown.then(|| {
            self.hit(Rule::CloudFrontResponseHeadersPolicyApi);
            cloudfront_error(
                404,
                "NoSuchResponseHeadersPolicy",
                "The response headers policy does not exist.",
            )
        })
    }
}

impl HeadersPolicies {
    /// Remembers which policies distribution `id` uses (`None`: it was deleted).
    pub fn distribution_uses(&mut self, id: &str, config: Option<&str>) {
        match config {
            Some(c) => {
                let ids = blocks(c, "ResponseHeadersPolicyId")
                    .into_iter()
                    .map(str::to_string)
                    .collect();
                self.used_by.insert(id.to_string(), ids);
            }
            None => {
                self.used_by.remove(id);
            }
        }
    }
}
