//! An in-memory SSM Parameter Store answering the SDK's calls as AWS does
//! (aws-smithy-mocks rules over shared state): what colorid's secrets and state
//! record need, with AWS's own refusals as JSON error bodies the SDK parses.
//! Sources, per operation: https://docs.aws.amazon.com/systems-manager/latest/APIReference/

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_sdk_ssm::Client;
use aws_sdk_ssm::operation::delete_parameter::DeleteParameterOutput;
use aws_sdk_ssm::operation::delete_parameters::DeleteParametersOutput;
use aws_sdk_ssm::operation::get_parameter::GetParameterOutput;
use aws_sdk_ssm::operation::get_parameters::GetParametersOutput;
use aws_sdk_ssm::operation::get_parameters_by_path::GetParametersByPathOutput;
use aws_sdk_ssm::operation::put_parameter::PutParameterOutput;
use aws_sdk_ssm::types::{Parameter, ParameterType};
use aws_smithy_mocks::{MockResponse, Rule, mock};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;

/// One stored parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub value: String,
    pub secure: bool,
    pub tags: Vec<(String, String)>,
    pub version: i64,
}

#[derive(Default)]
struct Store {
    params: BTreeMap<String, Param>,
    /// `Operation name` of every call, in order.
    calls: Vec<String>,
    /// Names whose next PutParameters are answered as a name deleted moments ago.
    held: BTreeMap<String, usize>,
}

/// The fake Parameter Store; clones share it.
#[derive(Clone, Default)]
pub struct FakeSsm(Arc<Mutex<Store>>);

/// An SSM error as the service sends it (awsJson 1.1: `__type` and `message`).
pub fn error(code: &str, message: &str) -> HttpResponse {
    let body = serde_json::json!({ "__type": code, "message": message }).to_string();
    HttpResponse::new(
        StatusCode::try_from(400).expect("a valid status"),
        SdkBody::from(body),
    )
}

fn not_found() -> HttpResponse {
    error("ParameterNotFound", "")
}

/// GetParameters and DeleteParameters take at most 10 names.
fn too_many_names() -> HttpResponse {
    error(
        "ValidationException",
        "1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length less than or equal to 10",
    )
}

impl FakeSsm {
    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stores a parameter as if written earlier.
    pub fn insert(&self, name: &str, value: &str, secure: bool) {
        self.store().params.insert(
            name.to_string(),
            Param {
                value: value.to_string(),
                secure,
                tags: Vec::new(),
                version: 1,
            },
        );
    }

    /// The parameter stored under `name`.
    pub fn get(&self, name: &str) -> Option<Param> {
        self.store().params.get(name).cloned()
    }

    /// Every stored name, sorted.
    pub fn names(&self) -> Vec<String> {
        self.store().params.keys().cloned().collect()
    }

    /// The calls made so far, `Operation name` each (names joined by `,`).
    pub fn calls(&self) -> Vec<String> {
        self.store().calls.clone()
    }

    /// How many calls so far start with `prefix` (an operation, or one with its name).
    pub fn count(&self, prefix: &str) -> usize {
        self.store()
            .calls
            .iter()
            .filter(|c| c.starts_with(prefix))
            .count()
    }

    /// The calls that change something (not Get…).
    pub fn writes(&self) -> Vec<String> {
        self.calls()
            .into_iter()
            .filter(|c| !c.starts_with("Get"))
            .collect()
    }

    /// The next `times` PutParameters of `name` are refused as SSM refuses a name
    /// deleted within the last 30 s (API_DeleteParameter: "wait for at least 30
    /// seconds to create a parameter with the same name").
    pub fn hold(&self, name: &str, times: usize) {
        self.store().held.insert(name.to_string(), times);
    }

    fn record(&self, op: &str, name: &str) {
        self.store().calls.push(format!("{op} {name}"));
    }

    fn parameter(name: &str, p: &Param, decrypt: bool) -> Parameter {
        let kind = if p.secure {
            ParameterType::SecureString
        } else {
            ParameterType::String
        };
        // Without decryption, a SecureString's value is its ciphertext.
        let value = if p.secure && !decrypt {
            format!("AQICAH-ciphertext-of-{}", p.value.len())
        } else {
            p.value.clone()
        };
        Parameter::builder()
            .name(name)
            .r#type(kind)
            .value(value)
            .version(p.version)
            .build()
    }

    /// The rules answering SSM calls from this store (rule mode MatchAny).
    pub fn rules(&self) -> Vec<Rule> {
        let get = {
            let fake = self.clone();
            mock!(Client::get_parameter).then_compute_response(move |input| {
                let name = input.name().unwrap_or_default();
                fake.record("GetParameter", name);
                let decrypt = input.with_decryption() == Some(true);
                match fake.get(name) {
                    Some(p) => MockResponse::Output(
                        GetParameterOutput::builder()
                            .parameter(Self::parameter(name, &p, decrypt))
                            .build(),
                    ),
                    None => MockResponse::Http(not_found()),
                }
            })
        };
        let get_many = {
            let fake = self.clone();
            mock!(Client::get_parameters).then_compute_response(move |input| {
                let names = input.names();
                fake.record("GetParameters", &names.join(","));
                if names.len() > 10 {
                    return MockResponse::Http(too_many_names());
                }
                let decrypt = input.with_decryption() == Some(true);
                let mut out = GetParametersOutput::builder();
                for name in names {
                    out = match fake.get(name) {
                        Some(p) => out.parameters(Self::parameter(name, &p, decrypt)),
                        None => out.invalid_parameters(name),
                    };
                }
                MockResponse::Output(out.build())
            })
        };
        let put = {
            let fake = self.clone();
            mock!(Client::put_parameter).then_compute_response(move |input| {
                let name = input.name().unwrap_or_default().to_string();
                fake.record("PutParameter", &name);
                let secure = input.r#type() == Some(&ParameterType::SecureString);
                let overwrite = input.overwrite() == Some(true);
                let tags: Vec<(String, String)> = input
                    .tags()
                    .iter()
                    .map(|t| (t.key().to_string(), t.value().to_string()))
                    .collect();
                let mut store = fake.store();
                if let Some(left) = store.held.get_mut(&name)
                    && *left > 0
                {
                    *left -= 1;
                    return MockResponse::Http(error(
                        "TooManyUpdates",
                        "There are concurrent updates for the resource that you are trying to modify. Please try again.",
                    ));
                }
                if overwrite && !tags.is_empty() {
                    return MockResponse::Http(error(
                        "ValidationException",
                        "Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.",
                    ));
                }
                let version = match store.params.get(&name) {
                    Some(_) if !overwrite => {
                        return MockResponse::Http(error(
                            "ParameterAlreadyExists",
                            "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.",
                        ));
                    }
                    Some(p) if p.secure != secure => {
                        return MockResponse::Http(error(
                            "HierarchyTypeMismatchException",
                            "Parameter Store does not support changing a parameter type in a hierarchy. For example, you can't change a parameter from a String type to a SecureString type. You must create a new, unique parameter.",
                        ));
                    }
                    Some(p) => p.version + 1,
                    None => 1,
                };
                let kept_tags = store
                    .params
                    .get(&name)
                    .map(|p| p.tags.clone())
                    .unwrap_or(tags);
                store.params.insert(
                    name,
                    Param {
                        value: input.value().unwrap_or_default().to_string(),
                        secure,
                        tags: kept_tags,
                        version,
                    },
                );
                MockResponse::Output(PutParameterOutput::builder().version(version).build())
            })
        };
        let delete = {
            let fake = self.clone();
            mock!(Client::delete_parameter).then_compute_response(move |input| {
                let name = input.name().unwrap_or_default();
                fake.record("DeleteParameter", name);
                match fake.store().params.remove(name) {
                    Some(_) => MockResponse::Output(DeleteParameterOutput::builder().build()),
                    None => MockResponse::Http(not_found()),
                }
            })
        };
        let delete_many = {
            let fake = self.clone();
            mock!(Client::delete_parameters).then_compute_response(move |input| {
                let names = input.names();
                fake.record("DeleteParameters", &names.join(","));
                if names.len() > 10 {
                    return MockResponse::Http(too_many_names());
                }
                let mut store = fake.store();
                let mut out = DeleteParametersOutput::builder();
                for name in names {
                    out = match store.params.remove(name) {
                        Some(_) => out.deleted_parameters(name),
                        None => out.invalid_parameters(name),
                    };
                }
                MockResponse::Output(out.build())
            })
        };
        let by_path = {
            let fake = self.clone();
            mock!(Client::get_parameters_by_path).then_compute_response(move |input| {
                let path = input.path().unwrap_or_default();
                fake.record("GetParametersByPath", path);
                let prefix = format!("{}/", path.trim_end_matches('/'));
                let recursive = input.recursive() == Some(true);
                let decrypt = input.with_decryption() == Some(true);
                let page = input.max_results().unwrap_or(10).clamp(1, 10) as usize;
                let start: usize = input
                    .next_token()
                    .map(|t| t.parse().expect("a token this fake gave"))
                    .unwrap_or(0);
                let store = fake.store();
                let under: Vec<(&String, &Param)> = store
                    .params
                    .iter()
                    .filter(|(n, _)| {
                        n.strip_prefix(&prefix)
                            .is_some_and(|rest| recursive || !rest.contains('/'))
                    })
                    .collect();
                let mut out = GetParametersByPathOutput::builder();
                for (name, p) in under.iter().skip(start).take(page) {
                    out = out.parameters(Self::parameter(name, p, decrypt));
                }
                if start + page < under.len() {
                    out = out.next_token((start + page).to_string());
                }
                MockResponse::Output(out.build())
            })
        };
        vec![get, get_many, put, delete, delete_many, by_path]
    }
}
