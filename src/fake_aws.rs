//! Unit tests of the resource modules against in-memory AWS: a run's context
//! whose every call is answered by aws-smithy-mocks rules (an in-memory SSM
//! always, so the state record works), with its progress lines kept.

use std::path::Path;
use std::sync::{Arc, Mutex};

use aws_smithy_mocks::{MockResponseInterceptor, Rule, RuleMode};

use crate::aws::Aws;
use crate::names::Names;
use crate::progress::Progress;
use crate::stack::Ctx;
use crate::state::StateStore;

pub mod cloudfront;
pub mod ssm;

pub use cloudfront::FakeCloudFront;
pub use ssm::FakeSsm;

/// A stack with every default, named `demo`, on a domain.
pub const STACK: &str = r#"
name = "demo"
region = "eu-west-1"
domain = "color.example.com"
hosted_zone = "example.com"

[identity]
issuer = "https://auth.example.com/"
client_id = "abc"
"#;

/// One run against the fakes.
pub struct Run {
    pub ctx: Ctx,
    pub ssm: FakeSsm,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Run {
    /// Opens a run of the stack `text` (as `colorid` opens one: the state record
    /// read first); `rules` answer before the SSM fake's (rule mode MatchAny: the
    /// first matching rule that has answers left answers).
    pub async fn open(text: &str, ssm: FakeSsm, rules: &[Rule]) -> Run {
        let mut mocks = MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny);
        for rule in rules.iter().chain(ssm.rules().iter()) {
            mocks = mocks.with_rule(rule);
        }
        let stack =
            crate::config::parse(Path::new("/tmp/stack.toml"), text).expect("a valid stack");
        let aws = Aws::mocked(mocks);
        let names = Names::new(&stack.name);
        let (progress, lines) = Progress::captured();
        let state = StateStore::load(aws.ssm(), &names)
            .await
            .expect("the state record reads");
        Run {
            ctx: Ctx {
                stack,
                aws,
                names,
                progress,
                state,
            },
            ssm,
            lines,
        }
    }

    /// The progress lines printed so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}
