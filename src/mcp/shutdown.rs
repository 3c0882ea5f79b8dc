//! The end of serving: the first SIGTERM (what a client or systemd sends) or SIGINT (Ctrl-C).
//! Shared by the stdio server, the team server and the stdio bridge, so all three stop alike.

/// Completes at the first SIGTERM or SIGINT (Ctrl-C elsewhere than Unix). If the handlers cannot
/// be installed it never completes, and the process stops when its client closes stdin instead.
pub async fn signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            return std::future::pending().await;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
