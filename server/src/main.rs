use clap::Parser;
use kv_manager::config::{Cli, Command};
use kv_manager::{Config, build, serve};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        // Colours for a terminal only: a log file or a collector gets plain lines.
        .with_ansi(std::io::stdout().is_terminal())
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn")),
        )
        .init();
    let cli = Cli::parse();
    let args = match cli.command {
        Some(Command::Serve(args)) => args,
        Some(Command::Import(args)) => return kv_manager::cli::import(args).await,
        Some(Command::Export(args)) => return kv_manager::cli::export(args).await,
        Some(Command::Rewind(args)) => return kv_manager::cli::rewind(args).await,
        Some(Command::Backup(args)) => return kv_manager::cli::backup(args).await,
        Some(Command::Restore(args)) => return kv_manager::cli::restore(args).await,
        Some(Command::Token(command)) => return kv_manager::cli::token(command).await,
        Some(Command::Service(command)) => return kv_manager::cli::service(command).await,
        Some(Command::Webhook(command)) => return kv_manager::cli::webhook(command).await,
        Some(Command::Alert(command)) => return kv_manager::cli::alert(command).await,
        Some(Command::Db(command)) => return kv_manager::cli::db(command).await,
        Some(Command::Health(args)) => return kv_manager::cli::health(args).await,
        None => cli.serve,
    };
    let config = Config::resolve(&args)?;
    // Before anything else starts: a certificate or key that does not load stops it here.
    let tls = config.tls.as_ref().map(kv_manager::tls::Tls::load).transpose()?;
    let (router, state) = build(&config).await?;
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(url = %format!("{scheme}://{}", listener.local_addr()?), database = %kv_manager::config::redacted_url(&config.database_url), "kv-manager listening");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let stopped = async {
        let _ = stopped.await;
    };
    let mut server = match tls {
        Some(tls) => tokio::spawn(kv_manager::router::serve_tls(listener, router, tls, stopped)),
        None => tokio::spawn(serve(listener, router, stopped)),
    };
    tokio::select! {
        () = shutdown_signal() => {}
        // The server ended by itself: an error of its listener.
        result = &mut server => return result?,
    }
    // No new connection from here; requests in flight go on while the jobs stop at a
    // checkpoint (they end `interrupted`, resumable), then WebSockets are closed with a reason.
    let _ = stop.send(());
    let started = std::time::Instant::now();
    let grace = config.shutdown_grace;
    match state.jobs.shutdown(grace).await {
        Ok(0) => {}
        Ok(jobs) => {
            tracing::info!(jobs, "jobs stopped for the shutdown are interrupted; resume them once the server is back")
        }
        Err(err) => tracing::warn!(%err, "marking the stopped jobs interrupted failed"),
    }
    match tokio::time::timeout(grace.saturating_sub(started.elapsed()), &mut server).await {
        Ok(result) => result??,
        Err(_) => tracing::warn!(
            grace_secs = grace.as_secs(),
            "requests still open when the shutdown grace ran out were dropped"
        ),
    }
    // What was counted since the last flush reaches the rollups before the process ends.
    if let Err(err) = state.kv.metrics().flush().await {
        tracing::warn!(%err, "writing the last metric rollups failed");
    }
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
