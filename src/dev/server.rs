//! The dev server: the site, `/config.json` and `/api/*` (the function
//! in-process) through the local edge ([`crate::edge`]), and, without a real
//! issuer, the test identity provider under `/idp`, beside the edge as a
//! real provider would be.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use colorid_lambda::deployment::Plain;
use colorid_lambda::{App, Settings};
use tokio::net::TcpListener;

use super::{edge, test_idp};
use crate::discovery;
use crate::error::{Error, Result};
use crate::keys;
use crate::site::SiteConfig;

/// What `colorid dev` serves and how.
#[derive(Debug, Clone)]
pub struct DevOptions {
    /// The stack's name, shown in `/config.json`.
    pub stack: String,
    /// The stack, whose distribution the edge serves through.
    pub stack_config: crate::config::Stack,
    /// The folder with the site.
    pub site_dir: PathBuf,
    /// The address to listen on.
    pub host: IpAddr,
    /// The port (0: any free port).
    pub port: u16,
    /// A real provider's issuer and client id; `None` serves the test provider.
    pub issuer: Option<(String, String)>,
    /// The function's plain settings (`stack::function_environment::plain_settings` of
    /// the stack; tests change them).
    pub function: Plain,
    /// With `--local`: the deployed secrets `(app secret, signing key PEM)`
    /// instead of fresh ones, and the site from the bucket instead of `site_dir`.
    pub deployed: Option<super::deployed::Deployed>,
}

/// A bound, not yet running dev server.
pub struct DevServer {
    listener: TcpListener,
    router: Router,
    /// The test provider's token endpoints on a second origin, when asked for.
    token_server: Option<(TcpListener, Router)>,
    /// That second origin.
    pub token_origin: Option<String>,
    /// The origin to open, e.g. `http://127.0.0.1:8080`.
    pub origin: String,
    /// The issuer tokens must come from.
    pub issuer: String,
    /// Whether the built-in test provider is served.
    pub test_idp: bool,
}

/// Binds `at`; the listener and its origin (`http://ip:port`).
async fn listen(at: SocketAddr) -> Result<(TcpListener, String)> {
    let listener = TcpListener::bind(at)
        .await
        .map_err(|e| Error::io(format!("cannot listen on {at}"), e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::io("cannot read the bound address", e))?;
    Ok((listener, format!("http://{addr}")))
}

/// Binds the port and assembles everything; [`DevServer::run`] serves.
pub async fn bind(opts: DevOptions) -> Result<DevServer> {
    let listener = TcpListener::bind(SocketAddr::new(opts.host, opts.port))
        .await
        .map_err(|e| Error::io(format!("cannot listen on {}:{}", opts.host, opts.port), e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::io("cannot read the bound address", e))?;
    // An unspecified address (0.0.0.0) is reachable at loopback from this machine.
    let shown = if addr.ip().is_unspecified() {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        addr.ip()
    };
    let origin = format!("http://{}", SocketAddr::new(shown, addr.port()));

    let mut token_listener = None;
    let (idp, issuer, client_id, provider) = match &opts.issuer {
        Some((issuer, client_id)) => {
            let provider = discovery::read(issuer, &opts.stack_config.file).await?;
            (None, issuer.clone(), client_id.clone(), provider)
        }
        None => {
            let mut idp = test_idp::TestIdp::new(&origin).map_err(|e| {
                Error::internal(format!(
                    "cannot create the test identity provider's key: {e}"
                ))
            })?;
            if test_idp::token_origin::wanted() {
                let (listener, token_origin) = listen(SocketAddr::new(shown, 0)).await?;
                idp = idp.with_token_origin(&token_origin);
                token_listener = Some((listener, token_origin));
            }
            let issuer = idp.issuer().to_string();
            // The document it will serve, checked as `up` checks a real provider's.
            let provider = discovery::parse(
                &issuer,
                &discovery::url_of(&issuer),
                &idp.discovery_document(),
            )
            .map_err(|e| Error::internal(format!("the test identity provider's discovery: {e}")))?;
            (
                Some(Arc::new(idp)),
                issuer,
                test_idp::CLIENT_ID.to_string(),
                provider,
            )
        }
    };
    let (app_secret, signing_pem, verify_secret) = match &opts.deployed {
        Some(d) => (
            d.app_secret.clone(),
            d.signing_key_pem.clone(),
            d.origin_verify.clone(),
        ),
        None => (
            keys::random_token(),
            keys::EcKey::generate().pem,
            keys::random_token(),
        ),
    };
    let mut settings = Settings::new(
        issuer.clone(),
        client_id.clone(),
        app_secret,
        signing_pem,
        origin.clone(),
        // The edge sends the distribution's X-Origin-Verify; the function checks it.
        vec![verify_secret.clone()],
    );
    opts.function
        .apply(&mut settings)
        .map_err(|e| Error::usage(format!("the identity function's settings: {e}")))?;
    let app = App::new(settings)
        .map_err(|e| Error::internal(format!("the identity function's settings: {e}")))?;

    let config = SiteConfig {
        issuer: issuer.clone(),
        client_id: client_id.clone(),
        required_level: opts.function.required_level.clone(),
        stack: opts.stack.clone(),
        test_identity_provider: idp.is_some(),
        ..SiteConfig::of(&opts.stack_config)
    };
    let edge = edge::build(edge::EdgeInputs {
        stack: &opts.stack_config,
        connect_src: &provider.connect_src,
        verify_secret: &verify_secret,
        config_json: config.to_json(),
        app: Arc::new(app),
        deployed: opts.deployed.as_ref(),
    })?;
    let mut router = Router::new();
    if let Some(idp) = &idp {
        router = router.nest("/idp", idp.clone().router());
    }
    // Loopback only answers loopback names (DNS rebinding), unless --host opened it.
    let router = router
        .fallback_service(
            Router::new()
                .fallback(crate::edge::serve)
                .with_state(Arc::new(edge)),
        )
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(super::host::AllowedHosts::for_bound(addr.ip())),
            super::host::check,
        ));
    let allowed = Arc::new(super::host::AllowedHosts::for_bound(addr.ip()));
    let (token_server, token_origin) = match (token_listener, &idp) {
        (Some((l, o)), Some(idp)) => {
            let r = test_idp::token_origin::router(idp.clone()).layer(
                axum::middleware::from_fn_with_state(allowed, super::host::check),
            );
            (Some((l, r)), Some(o))
        }
        _ => (None, None),
    };
    Ok(DevServer {
        listener,
        router,
        token_server,
        token_origin,
        origin,
        issuer,
        test_idp: idp.is_some(),
    })
}

impl DevServer {
    /// Serves until `shutdown` completes.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<()> {
        let token_server = self
            .token_server
            .map(|(l, r)| tokio::spawn(async move { axum::serve(l, r).await }));
        let served = axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(|e| Error::io("the dev server stopped", e));
        if let Some(t) = token_server {
            t.abort();
        }
        served
    }
}

/// What `--host` off loopback opens to other machines: the site's files and,
/// without a real issuer, the test provider.
fn network_warning(opts: &DevOptions) -> Option<String> {
    if opts.host.is_loopback() {
        return None;
    }
    let served = match &opts.deployed {
        Some(_) => "the site published to the stack's bucket".to_string(),
        None => format!(
            "every file of {} that `publish` would upload",
            opts.site_dir.display()
        ),
    };
    let idp = if opts.issuer.is_none() {
        ", and its test identity provider lets anyone sign in as any test user"
    } else {
        ""
    };
    Some(format!(
        "warning: listening on {}, not loopback: other machines can reach the dev server and {served}{idp}",
        opts.host
    ))
}

/// Binds, prints where to go, and serves until Ctrl-C.
pub async fn serve(opts: DevOptions) -> Result<()> {
    if let Some(warning) = network_warning(&opts) {
        eprintln!("{warning}");
    }
    let site_dir = opts.site_dir.display().to_string();
    let server = bind(opts).await?;
    crate::out!("colorid dev: serving {site_dir}");
    if server.test_idp {
        crate::out!("  identity:  {} ({})", server.issuer, test_idp::WARNING);
        if let Some(o) = &server.token_origin {
            crate::out!(
                "  token:     {o}/idp/token (the provider's token endpoint, on its own origin)"
            );
        }
    } else {
        crate::out!("  identity:  {}", server.issuer);
    }
    crate::out!("  open:      {}/", server.origin);
    crate::out!("Press Ctrl-C to stop.");
    server
        .run(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_network_warning_says_the_site_files_are_served() {
        let dir = std::path::Path::new("/srv/site");
        let text = "name = \"w\"\nregion = \"eu-west-1\"\nsite_dir = \"/srv/site\"\n[identity]\nissuer = \"https://issuer.example.com/\"\nclient_id = \"c\"\n";
        let stack = crate::config::parse(&dir.join("stack.toml"), text).unwrap();
        let mut opts = DevOptions {
            stack: "w".into(),
            function: crate::stack::function_environment::plain_settings(&stack),
            stack_config: stack,
            site_dir: dir.to_path_buf(),
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            issuer: None,
            deployed: None,
        };
        assert_eq!(network_warning(&opts), None);
        opts.host = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        let warning = network_warning(&opts).unwrap();
        assert!(warning.contains("every file of /srv/site"), "{warning}");
        assert!(warning.contains("test identity provider"), "{warning}");
    }
}
