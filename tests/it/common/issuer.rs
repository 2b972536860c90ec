//! A loopback identity provider's discovery document, for `up`, `plan` and
//! `dev --issuer` to read (they refuse a provider they cannot read): one
//! shared by every test stack ([`shared`]), or one per test whose document
//! the test rewrites ([`Issuer::start`]). Stops when dropped.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// What the document URL answers.
#[derive(Clone)]
enum Answer {
    Json(Value),
    Raw(StatusCode, String),
}

/// A discovery document served at `<url>/.well-known/openid-configuration`.
pub struct Issuer {
    /// The issuer, `http://127.0.0.1:<port>`.
    pub url: String,
    answer: Arc<Mutex<Answer>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

/// The issuer every test stack names (`TestStack::write`): all its endpoints on its own origin.
pub fn shared() -> &'static str {
    static SHARED: std::sync::OnceLock<Issuer> = std::sync::OnceLock::new();
    &SHARED.get_or_init(Issuer::start).url
}

impl Issuer {
    /// A provider whose endpoints all live on the issuer's origin.
    pub fn start() -> Issuer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the issuer");
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let answer = Arc::new(Mutex::new(Answer::Json(Self::document(&url, &url))));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let state = answer.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("issuer runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let app = axum::Router::new()
                    .route(
                        "/.well-known/openid-configuration",
                        axum::routing::get(serve),
                    )
                    .with_state(state);
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await
                    .unwrap();
            });
        });
        Issuer {
            url,
            answer,
            stop: Some(stop),
        }
    }

    /// A discovery document for `issuer` whose token and revocation endpoints live at `token_origin`.
    pub fn document(issuer: &str, token_origin: &str) -> Value {
        json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/authorize"),
            "token_endpoint": format!("{token_origin}/token"),
            "revocation_endpoint": format!("{token_origin}/revoke"),
            "jwks_uri": format!("{issuer}/jwks"),
            "end_session_endpoint": format!("{issuer}/logout"),
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256"],
        })
    }

    /// Serves `doc` from now on.
    pub fn set(&self, doc: Value) {
        *self.answer.lock().unwrap() = Answer::Json(doc);
    }

    /// Answers `status` with `body` from now on.
    pub fn set_raw(&self, status: u16, body: &str) {
        *self.answer.lock().unwrap() =
            Answer::Raw(StatusCode::from_u16(status).unwrap(), body.to_string());
    }

    /// The document's URL.
    pub fn document_url(&self) -> String {
        format!("{}/.well-known/openid-configuration", self.url)
    }
}

impl Drop for Issuer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn serve(State(answer): State<Arc<Mutex<Answer>>>) -> Response {
    let answer = answer.lock().unwrap().clone();
    match answer {
        Answer::Json(doc) => axum::Json(doc).into_response(),
        Answer::Raw(status, body) => (status, body).into_response(),
    }
}
