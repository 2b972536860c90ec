//! Lambda runtime glue: logging, configuration at cold start, then serve.

use std::sync::Arc;

use colorid_lambda::{App, invocation};
use lambda_http::lambda_runtime::{self, LambdaEvent};
use lambda_http::request::LambdaRequest;
use lambda_http::{Error, service_fn};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

#[tokio::main]
async fn main() -> Result<(), Error> {
    // RUST_LOG as `level` or `target=level,...`; `Targets` rather than `EnvFilter`,
    // whose regex engine would add several hundred KB to the zip.
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| v.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(LevelFilter::INFO));
    tracing_subscriber::fmt()
        .json()
        .with_current_span(false)
        .without_time()
        .finish()
        .with(filter)
        .init();

    let app = match App::from_dev_env() {
        Some(app) => app,
        None => App::from_env_and_ssm().await,
    };
    let app = Arc::new(app);
    // The function URL's events, converted by `invocation` (not lambda_http's `run`).
    lambda_runtime::run(service_fn(move |event: LambdaEvent<LambdaRequest>| {
        let app = Arc::clone(&app);
        async move {
            let resp = app.handle(invocation::request_of(event)).await;
            Ok::<_, Error>(invocation::response_of(resp))
        }
    }))
    .await
}
