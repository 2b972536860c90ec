//! `colorid dev --local`: the deployed stack rather than the working copy —
//! the site as `publish` left it in the (emulated) bucket, the distribution's
//! configuration as the emulator holds it, and the stack's secrets from
//! (emulated) SSM.

use aws_sdk_cloudfront::types::DistributionConfig;
use aws_sdk_s3::Client as S3Client;

use crate::error::{AwsContext, Error, Result};
use crate::stack::Ctx;
use crate::stack::bucket_policy::Reader;
use crate::stack::secret_value::SecretName;

/// Where the deployed site lives.
#[derive(Clone)]
pub struct DeployedSite {
    pub s3: S3Client,
    pub bucket: String,
}

/// The deployed stack `colorid --local dev` serves: its secrets, its bucket
/// and its distribution.
#[derive(Clone)]
pub struct Deployed {
    pub app_secret: String,
    pub signing_key_pem: String,
    /// The value the function expects in `X-Origin-Verify`.
    pub origin_verify: String,
    pub site: DeployedSite,
    /// The distribution's configuration as the emulator holds it.
    pub distribution: DistributionConfig,
    /// Who the bucket policy lets read the bucket.
    pub reader: Reader,
}

/// The deployed secrets the function uses.
pub struct Secrets {
    pub app_secret: String,
    pub signing_key_pem: String,
    pub origin_verify: String,
}

impl std::fmt::Debug for Deployed {
    // Never print the secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deployed")
            .field("bucket", &self.site.bucket)
            .finish_non_exhaustive()
    }
}

/// The deployed secrets the function uses.
pub async fn read_secrets(ctx: &Ctx) -> Result<Secrets> {
    let path = ctx.names.parameter_path();
    let names = [
        SecretName::AppSecret,
        SecretName::SigningKey,
        SecretName::OriginVerify,
    ]
    .map(|s| format!("{path}/{}", s.leaf()));
    let out = ctx
        .aws
        .ssm()
        .get_parameters()
        .set_names(Some(names.to_vec()))
        .with_decryption(true)
        .send()
        .await
        .aws("read the stack's secrets under", &path)?;
    let value = |name: &str| {
        out.parameters()
            .iter()
            .find(|p| p.name() == Some(name))
            .and_then(|p| p.value())
            .map(str::to_string)
            .ok_or_else(|| {
                Error::conflict_fix(
                    format!("the parameter {name} is missing."),
                    "run `colorid --local up` first",
                )
            })
    };
    Ok(Secrets {
        app_secret: value(&names[0])?,
        signing_key_pem: value(&names[1])?,
        origin_verify: value(&names[2])?,
    })
}
