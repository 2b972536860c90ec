//! Lambda runtime glue: logging, configuration at cold start, then serve.

use std::sync::Arc;

use colorid_lambda::App;
use lambda_http::{Body, Error, Request, Response, run, service_fn};
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
    run(service_fn(move |req: Request| {
        let app = Arc::clone(&app);
        async move { Ok::<Response<Body>, Error>(app.handle(req).await) }
    }))
    .await
}
