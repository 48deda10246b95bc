//! `blastdoor serve [--listen ADDR]`: runs the API gateway from `BLASTDOOR_HOME` (config,
//! secrets, token keys and registry, policies, ledger, approval state) with the approval UI at
//! `/ui`, until SIGINT or SIGTERM, then lets in-flight requests finish. Prints
//! `listening on ADDR` on stderr once it accepts requests.

use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::Context as _;
use blastdoor_server::{App, Paths, Settings};

use crate::home::Home;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The address to listen on (default: `[gateway] listen` from blastdoor.toml,
    /// 127.0.0.1:7878). Port 0 picks a free port; the chosen address is printed.
    #[arg(long)]
    listen: Option<SocketAddr>,
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let home = Home::from_env()?;
    let config = blastdoor_config::load_or_default(&home.config_file())
        .with_context(|| format!("cannot load `{}`", home.config_file().display()))?;
    let mut settings = Settings::from_config(&config);
    let paths = Paths {
        keys_dir: home.keys_dir(),
        secrets_file: home.root().join("secrets.json"),
        token_registry: home.root().join("tokens.json"),
        policies_dir: home.policies_dir(),
        ledger_file: config.ledger.path.clone(),
        home: home.root().to_path_buf(),
        state_db: config.state.path.clone(),
    };
    let listen = args.listen.unwrap_or(config.gateway.listen);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let address = listener.local_addr()?;
        let scheme = if config.gateway.tls.is_some() {
            "https"
        } else {
            "http"
        };
        let ui_base_url = match &config.approvals.ui_base_url {
            Some(url) => url.as_str().trim_end_matches('/').to_owned(),
            None => format!("{scheme}://{}/ui", shown(address)),
        };
        settings.approvals.ui_base_url = ui_base_url.clone();
        let app = App::open(&settings, &paths)?;
        let app = mount_approval_ui(app, &paths, &ui_base_url)?;
        let upstreams: Vec<&str> = settings
            .upstreams
            .iter()
            .map(|upstream| upstream.name.as_str())
            .collect();
        eprintln!(
            "blastdoor gateway: upstreams [{}]; approval UI at {ui_base_url}; metrics at {scheme}://{address}/metrics",
            upstreams.join(", ")
        );
        let shutdown = shutdown_signal()?;
        eprintln!("listening on {address}");
        blastdoor_server::run(vec![listener], app, shutdown).await?;
        eprintln!("blastdoor gateway stopped");
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Where the approval UI (`blastdoor-web`) plugs into the gateway: served at `/ui` on the same
/// listener, for browsers at the origin of `ui_base_url`.
fn mount_approval_ui(app: App, paths: &Paths, ui_base_url: &str) -> anyhow::Result<App> {
    Ok(app.with_approval_ui(paths, origin_of(ui_base_url))?)
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |at| at + 3);
    match url.get(after_scheme..).and_then(|rest| rest.find('/')) {
        Some(slash) => url.get(..after_scheme + slash).unwrap_or(url),
        None => url,
    }
}

/// The address as a browser would reach it: an unspecified one (`0.0.0.0`, `::`) as loopback.
fn shown(mut address: SocketAddr) -> SocketAddr {
    if address.ip().is_unspecified() {
        address.set_ip(match address {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    address
}

/// Completes on SIGINT or SIGTERM. The handlers are installed before this returns (so before
/// `listening on` is printed): a signal sent as soon as the address is known is never missed.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
        let mut terminate = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async move {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}
