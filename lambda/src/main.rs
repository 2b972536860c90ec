//! Lambda runtime glue: logging, configuration at cold start, then serve.

use std::sync::Arc;

use colorid_lambda::App;
use lambda_http::{Body, Error, Request, Response, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_current_span(false)
        .without_time()
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
