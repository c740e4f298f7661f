//! `authbench baseline`: serves one of the off-the-shelf stacks `compare` measures our backends
//! against (plain axum, tower-sessions + its Redis store, the axum JWT example). See the
//! `authbench-baselines` crate for what each does and does not check.

use anyhow::{Context, Result};
use authbench_baselines::{BaselineOptions, DemoUsers, Stack};
use authbench_server::users::DEFAULT_DEMO_PASSWORD;
use clap::Args;
use std::io::Write;
use std::net::SocketAddr;

/// Arguments of `authbench baseline`.
#[derive(Debug, Args)]
pub struct BaselineArgs {
    /// The stack: plain-axum, tower-sessions, tower-sessions-inactivity, axum-jwt-HS256,
    /// axum-jwt-ES256, and the controls axum-jwt-HS256-our-claims, axum-jwt-ES256-our-claims
    /// (the example's code with our claims and answer).
    #[arg(long)]
    stack: Stack,
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Redis, for the tower-sessions stacks (redis://HOST:PORT/).
    #[arg(long)]
    redis_url: Option<String>,
    /// Adds user0 … user{N-1} to alice, bob and admin.
    #[arg(long, default_value_t = 0)]
    users: usize,
    /// The demo users' password.
    #[arg(long, default_value = DEFAULT_DEMO_PASSWORD)]
    demo_password: String,
}

/// Serves the stack until Ctrl-C or SIGTERM; prints `listening on http://ADDR` first.
pub fn run(args: BaselineArgs) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("building the tokio runtime")?;
    runtime.block_on(async move {
        let opts = BaselineOptions {
            stack: args.stack,
            redis_url: args.redis_url,
            users: DemoUsers::new(&args.demo_password, args.users),
        };
        let router = authbench_baselines::router(&opts).await?;
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("binding {}", args.listen))?;
        let addr = listener.local_addr()?;
        tracing::info!(stack = %args.stack, "serving a baseline (not one of our designs)");
        // The one line on stdout: scripts and `compare` read the address from it.
        let mut stdout = std::io::stdout();
        writeln!(stdout, "listening on http://{addr}")?;
        stdout.flush()?;
        authbench_baselines::serve(listener, router, crate::serve::shutdown_signal()).await?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use authbench_spec::Peer;
    use clap::Parser;

    #[derive(Parser)]
    struct Baseline {
        #[command(flatten)]
        args: BaselineArgs,
    }

    #[test]
    fn baseline_reads_back_every_peer_compare_starts() {
        for stack in Stack::ALL {
            for redis_url in [None, Some("redis://127.0.0.1:1/".to_owned())] {
                let peer = Peer {
                    stack,
                    users: 9,
                    redis_url,
                };
                let argv = ["baseline", "--stack", stack.name()]
                    .map(str::to_owned)
                    .into_iter()
                    .chain(peer.baseline_args());
                let a = Baseline::try_parse_from(argv).expect("parses").args;
                assert_eq!(a.stack, peer.stack);
                assert_eq!(a.users, peer.users);
                assert_eq!(a.redis_url, peer.redis_url);
            }
        }
    }
}
