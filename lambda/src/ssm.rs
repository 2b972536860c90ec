//! The one SSM call the function makes at cold start: `GetParameters` with
//! decryption, signed with SigV4 from the credentials Lambda puts in the
//! environment. Signing it here instead of linking the AWS SDK keeps the
//! deployment zip small.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use serde_json::{Value, json};

/// A minimal SSM client.
pub struct SsmClient {
    http: reqwest::Client,
    endpoint: String,
    region: String,
    credentials: Credentials,
}

/// The outcome of `GetParameters`: values by name, and the names SSM did not find.
pub struct Parameters {
    /// Parameter values by name.
    pub values: HashMap<String, String>,
    /// Names SSM reported as invalid (missing or not readable).
    pub invalid: Vec<String>,
}

impl SsmClient {
    /// A client for `endpoint` (e.g. `https://ssm.eu-west-1.amazonaws.com`).
    pub fn new(
        endpoint: &str,
        region: &str,
        access_key_id: &str,
        secret_access_key: &str,
        session_token: Option<String>,
    ) -> Result<Self, String> {
        let http = crate::tls::client_builder()?
            .connect_timeout(Duration::from_secs(2))
            // A cold start must not hang on SSM: fail within seconds and answer 503.
            .timeout(Duration::from_secs(6))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            http,
            endpoint: endpoint.trim_end_matches('/').to_string(),
            region: region.to_string(),
            credentials: Credentials::new(
                access_key_id,
                secret_access_key,
                session_token,
                None,
                "environment",
            ),
        })
    }

    /// From the Lambda environment: `AWS_REGION`, `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`; the endpoint from
    /// `AWS_ENDPOINT_URL_SSM` or `AWS_ENDPOINT_URL` when set.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Self, String> {
        let need = |n: &str| {
            env(n)
                .filter(|v| !v.is_empty())
                .ok_or(format!("{n} is not set"))
        };
        let region = need("AWS_REGION").or_else(|_| need("AWS_DEFAULT_REGION"))?;
        let endpoint = env("AWS_ENDPOINT_URL_SSM")
            .or_else(|| env("AWS_ENDPOINT_URL"))
            .unwrap_or_else(|| format!("https://ssm.{region}.amazonaws.com"));
        Self::new(
            &endpoint,
            &region,
            &need("AWS_ACCESS_KEY_ID")?,
            &need("AWS_SECRET_ACCESS_KEY")?,
            env("AWS_SESSION_TOKEN").filter(|t| !t.is_empty()),
        )
    }

    /// `GetParameters` for `names` with decryption.
    pub async fn get_parameters(&self, names: &[String]) -> Result<Parameters, String> {
        let body = json!({"Names": names, "WithDecryption": true}).to_string();
        let url = format!("{}/", self.endpoint);
        let host = url
            .split("://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_default()
            .to_string();
        let headers = [
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", "AmazonSSM.GetParameters"),
            ("host", host.as_str()),
        ];
        let identity: Identity = self.credentials.clone().into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name("ssm")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| e.to_string())?
            .into();
        let signable = SignableRequest::new(
            "POST",
            &url,
            headers.iter().copied(),
            SignableBody::Bytes(body.as_bytes()),
        )
        .map_err(|e| e.to_string())?;
        let (instructions, _) = sign(signable, &params)
            .map_err(|e| e.to_string())?
            .into_parts();
        let mut req = http::Request::post(&url);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        let mut req = req.body(body).map_err(|e| e.to_string())?;
        instructions.apply_to_request_http1x(&mut req);
        let req = reqwest::Request::try_from(req).map_err(|e| e.to_string())?;
        let resp = self.http.execute(req).await.map_err(|e| e.to_string())?;
        let status = resp.status();
        let out: Value = resp
            .json()
            .await
            .map_err(|e| format!("HTTP {status}: {e}"))?;
        if !status.is_success() {
            // SSM names the error in __type; the message may be under either spelling.
            let kind = out["__type"].as_str().unwrap_or("unknown error");
            let msg = out["message"]
                .as_str()
                .or(out["Message"].as_str())
                .unwrap_or("");
            return Err(format!("HTTP {status}: {kind}: {msg}"));
        }
        let values = out["Parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| {
                Some((
                    p["Name"].as_str()?.to_string(),
                    p["Value"].as_str()?.to_string(),
                ))
            })
            .collect();
        let invalid = out["InvalidParameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|n| n.as_str().map(String::from))
            .collect();
        Ok(Parameters { values, invalid })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_and_credentials_come_from_the_environment() {
        let env = |n: &str| match n {
            "AWS_REGION" => Some("eu-west-1".to_string()),
            "AWS_ACCESS_KEY_ID" => Some("AKID".into()),
            "AWS_SECRET_ACCESS_KEY" => Some("secret".into()),
            _ => None,
        };
        let c = SsmClient::from_env(&env).unwrap();
        assert_eq!(c.endpoint, "https://ssm.eu-west-1.amazonaws.com");
        assert_eq!(c.region, "eu-west-1");
        let local = |n: &str| match n {
            "AWS_ENDPOINT_URL" => Some("http://127.0.0.1:5000/".to_string()),
            other => env(other),
        };
        assert_eq!(
            SsmClient::from_env(&local).unwrap().endpoint,
            "http://127.0.0.1:5000"
        );
        let no_keys = |n: &str| (n == "AWS_REGION").then(|| "eu-west-1".to_string());
        let err = SsmClient::from_env(&no_keys).err().unwrap();
        assert!(err.contains("AWS_ACCESS_KEY_ID"), "{err}");
    }
}
