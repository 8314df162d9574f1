//! Waiting for the signal to stop. The Functions host kills its handler outright on
//! dispose, so nothing depends on this; it makes local runs (Ctrl-C) and orchestrators that
//! send SIGTERM end cleanly, after in-flight requests.

/// Completes on SIGINT or SIGTERM, listening from its first poll.
pub async fn signal() {
    listen().await
}

/// Listens for SIGINT and SIGTERM from the moment it is called (not from the first poll),
/// and completes when one arrives. A command that announces itself (a `READY` line) calls
/// this first, so a signal sent as soon as the line is read is never the default action
/// that kills the process. Needs a Tokio runtime.
pub fn listen() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let interrupt = signal(SignalKind::interrupt()).ok();
        let terminate = signal(SignalKind::terminate()).ok();
        async move {
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = wait(interrupt) => tracing::info!("SIGINT received, shutting down"),
                _ = wait(terminate) => tracing::info!("SIGTERM received, shutting down"),
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            if tokio::signal::ctrl_c().await.is_ok() {
                tracing::info!("SIGINT received, shutting down");
            } else {
                std::future::pending::<()>().await;
            }
        }
    }
}
