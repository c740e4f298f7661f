//! The processes a run measures: `authbench serve` children, and logging users in on them
//! (through the set-up client, [`crate::client`]).
//!
//! Each configuration runs in its own server process, so the CPU time it spends per request can
//! be read from `/proc` apart from the load generator's and Redis's.

use crate::client::HttpClient;
use anyhow::{Context, Result, bail};
use authbench_loadgen::CredentialForm;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a server may take to print its address (it hashes the demo password first).
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// A running `authbench serve` (or `authbench baseline`) child, stopped with SIGTERM on drop.
#[derive(Debug)]
pub struct ServerProcess {
    /// Configuration name, e.g. `jwt-ES256`.
    pub name: String,
    /// How the load generator presents this server's credentials: a bearer token for ours, the
    /// session cookie for the tower-sessions baselines (tower-sessions reads nothing else).
    pub credential_form: CredentialForm,
    child: Child,
    addr: SocketAddr,
}

impl ServerProcess {
    /// Starts `binary serve --listen 127.0.0.1:0 <args>` and waits for its address line.
    pub fn start(binary: &Path, name: &str, args: &[String]) -> Result<Self> {
        Self::start_command(binary, "serve", name, args, &[], CredentialForm::Bearer)
    }

    /// [`start`](Self::start) with extra environment variables for the child (the soak's
    /// `MALLOC_ARENA_MAX`).
    pub fn start_with_env(
        binary: &Path,
        name: &str,
        args: &[String],
        env: &[(String, String)],
    ) -> Result<Self> {
        Self::start_command(binary, "serve", name, args, env, CredentialForm::Bearer)
    }

    /// Starts `binary baseline --listen 127.0.0.1:0 --stack <stack> <args>`: one of the
    /// off-the-shelf stacks (see `authbench-baselines`), served the same way.
    pub fn start_baseline(
        binary: &Path,
        name: &str,
        stack: authbench_baselines::Stack,
        args: &[String],
    ) -> Result<Self> {
        let mut all = vec!["--stack".to_owned(), stack.name().to_owned()];
        all.extend_from_slice(args);
        let form = if stack.uses_cookie() {
            CredentialForm::Cookie
        } else {
            CredentialForm::Bearer
        };
        Self::start_command(binary, "baseline", name, &all, &[], form)
    }

    fn start_command(
        binary: &Path,
        subcommand: &str,
        name: &str,
        args: &[String],
        env: &[(String, String)],
        credential_form: CredentialForm,
    ) -> Result<Self> {
        let mut child = Command::new(binary)
            .arg(subcommand)
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            // The outage phase makes servers warn on every request by design; errors only.
            .env("RUST_LOG", "error")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {} {subcommand}", binary.display()))?;
        let stdout = child.stdout.take().context("child stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(STARTUP_TIMEOUT)
            .with_context(|| format!("{name}: the server printed no address"))?;
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .with_context(|| format!("{name}: unexpected first line {line:?}"))?
            .parse()
            .with_context(|| format!("{name}: bad address in {line:?}"))?;
        Ok(Self {
            name: name.to_owned(),
            credential_form,
            child,
            addr,
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Its process ID, for CPU accounting.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        // SIGTERM lets the server finish in-flight requests; fall back to SIGKILL.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `POST /login` as `user`: the token of a 200 answer, or the status of any other.
pub fn login(client: &mut HttpClient, user: &str, password: &str) -> Result<Result<String, u16>> {
    let body = serde_json::json!({"username": user, "password": password}).to_string();
    let resp = client.request(
        "POST",
        "/login",
        &[("content-type", "application/json")],
        &body,
    )?;
    if resp.status != 200 {
        return Ok(Err(resp.status));
    }
    let v: serde_json::Value = serde_json::from_slice(&resp.body)?;
    let token = v["token"].as_str().context("token in the login answer")?;
    Ok(Ok(token.to_owned()))
}

/// Logs `users` in on `server` with `threads` parallel clients; returns the tokens (in user
/// order) and the elapsed time. Every login is a real `/login`: argon2 and all.
pub fn login_all(
    server: &ServerProcess,
    users: &[String],
    password: &str,
    threads: usize,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(Vec<String>, Duration)> {
    let started = Instant::now();
    let chunks: Vec<&[String]> = users
        .chunks(users.len().div_ceil(threads.max(1)).max(1))
        .collect();
    let results: Vec<Result<Vec<String>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .iter()
            .map(|chunk| {
                scope.spawn(move || {
                    let mut client = HttpClient::new(server.addr());
                    let mut tokens = Vec::with_capacity(chunk.len());
                    for user in chunk.iter() {
                        match login(&mut client, user, password)? {
                            Ok(token) => tokens.push(token),
                            Err(status) => {
                                bail!("{}: login of {user} answered {status}", server.name)
                            }
                        }
                        progress(1);
                    }
                    Ok(tokens)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("login thread panicked")))
            })
            .collect()
    });
    let mut tokens = Vec::with_capacity(users.len());
    for r in results {
        tokens.extend(r?);
    }
    Ok((tokens, started.elapsed()))
}
