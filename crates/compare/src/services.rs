//! The processes a run measures: `authbench serve` children and a tiny HTTP client to log in.
//!
//! Each configuration runs in its own server process, so the CPU time it spends per request can
//! be read from `/proc` apart from the load generator's and Redis's.

use anyhow::{Context, Result, bail};
use authbench_loadgen::CredentialForm;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
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

/// A minimal keep-alive HTTP/1.1 client for the set-up phase (logins), not for measuring.
pub struct HttpClient {
    addr: SocketAddr,
    stream: Option<TcpStream>,
}

/// A response: status, headers and body.
#[derive(Debug)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Response {
    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl HttpClient {
    /// A client for `addr`; connects lazily.
    pub fn new(addr: SocketAddr) -> Self {
        Self { addr, stream: None }
    }

    /// Sends one request, reconnecting once if the kept-alive connection was closed.
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Result<Response> {
        match self.try_request(method, path, headers, body) {
            Ok(r) => Ok(r),
            Err(_) => {
                self.stream = None;
                self.try_request(method, path, headers, body)
            }
        }
    }

    fn try_request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Result<Response> {
        if self.stream.is_none() {
            let s = TcpStream::connect_timeout(&self.addr, Duration::from_secs(5))?;
            s.set_nodelay(true)?;
            s.set_read_timeout(Some(Duration::from_secs(30)))?;
            self.stream = Some(s);
        }
        let stream = self.stream.as_mut().context("connected")?;
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nhost: {}\r\ncontent-length: {}\r\n",
            self.addr,
            body.len()
        );
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        head.push_str(body);
        stream.write_all(head.as_bytes())?;

        // Read the head, then exactly Content-Length bytes.
        let mut buf = Vec::with_capacity(1024);
        let mut chunk = [0u8; 4096];
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let n = stream.read(&mut chunk)?;
            if n == 0 {
                bail!("connection closed");
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = std::str::from_utf8(&buf[..head_end]).context("response head not UTF-8")?;
        let status: u16 = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .context("no status code")?;
        let headers: Vec<(String, String)> = head
            .lines()
            .skip(1)
            .filter_map(|l| {
                let (k, v) = l.split_once(':')?;
                Some((k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            })
            .collect();
        let length: usize = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let mut body = buf[head_end..].to_vec();
        while body.len() < length {
            let n = stream.read(&mut chunk)?;
            if n == 0 {
                bail!("connection closed mid-body");
            }
            body.extend_from_slice(&chunk[..n]);
        }
        body.truncate(length);
        Ok(Response {
            status,
            headers,
            body,
        })
    }
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
                        let body =
                            serde_json::json!({"username": user, "password": password}).to_string();
                        let resp = client.request(
                            "POST",
                            "/login",
                            &[("content-type", "application/json")],
                            &body,
                        )?;
                        if resp.status != 200 {
                            bail!("{}: login of {user} answered {}", server.name, resp.status);
                        }
                        let v: serde_json::Value = serde_json::from_slice(&resp.body)?;
                        let token = v["token"].as_str().context("token in the login answer")?;
                        tokens.push(token.to_owned());
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
