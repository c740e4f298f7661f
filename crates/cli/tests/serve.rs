//! `authbench serve` as a process: it prints its address, serves, and stops cleanly on
//! SIGTERM (taking its private Redis down with it).

use authbench_spec::{Alg, Backend, Configuration, JweAlg};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Server {
    child: Child,
    addr: String,
}

/// `authbench serve` on a free port, with `config`'s flags.
fn serve(config: &Configuration) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_authbench"));
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(config.serve_args());
    command
}

impl Server {
    fn start(config: &Configuration) -> Server {
        let mut child = serve(config)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn authbench serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read the address line");
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        Server { child, addr }
    }

    fn request(&self, raw: &str) -> String {
        let mut stream = TcpStream::connect(&self.addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream.write_all(raw.as_bytes()).unwrap();
        let mut out = String::new();
        stream.read_to_string(&mut out).expect("read response");
        out
    }

    /// SIGTERM, then the exit status must be success (graceful shutdown).
    fn terminate(mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let exit = self.child.wait().expect("wait");
        assert!(exit.success(), "serve exited with {exit}");
    }
}

fn login(server: &Server) -> String {
    let body = r#"{"username":"alice","password":"correct horse battery staple"}"#;
    let resp = server.request(&format!(
        "POST /login HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    ));
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    let json = &resp[resp.find("\r\n\r\n").expect("body") + 4..];
    let v: serde_json::Value = serde_json::from_str(json).expect("JSON");
    v["token"].as_str().expect("token").to_owned()
}

fn me(server: &Server, token: &str) -> String {
    server.request(&format!(
        "GET /me HTTP/1.1\r\nhost: x\r\nconnection: close\r\nauthorization: Bearer {token}\r\n\r\n"
    ))
}

#[test]
fn jwt_server_needs_no_redis_and_stops_on_sigterm() {
    let server = Server::start(&Configuration::new(Backend::jwt(Alg::EdDSA)));
    let health = server.request("GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    let token = login(&server);
    assert!(me(&server, &token).contains("\"subject\":\"alice\""));
    server.terminate();
}

#[test]
fn session_server_starts_a_private_redis() {
    let mut session = Configuration::new(Backend::Session);
    session.users = 100;
    let server = Server::start(&session);
    let token = login(&server);
    let resp = me(&server, &token);
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(resp.contains("\"tenant\":\"acme\""), "{resp}");
    server.terminate();
}

/// `serve --backend jwe` with a public-key mode and no signature is refused at start with an
/// error that says why and what to do; `--jwe-nested` serves, and so does the explicit
/// insecure opt-in, which warns. `dir` needs neither.
#[test]
fn jwe_public_key_modes_need_a_nested_signature_or_the_insecure_flag() {
    for alg in [JweAlg::RsaOaep256, JweAlg::EcdhEsA256kw] {
        let bare = Configuration::new(Backend::Jwe { alg, nested: None });
        let out = serve(&bare).output().expect("run authbench serve");
        assert!(!out.status.success(), "{alg}: must not start");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("authenticates nothing") && stderr.contains("--jwe-nested"),
            "{alg}: {stderr}"
        );

        let nested = Server::start(&Configuration::new(Backend::Jwe {
            alg,
            nested: Some(Alg::ES256),
        }));
        let token = login(&nested);
        assert!(
            me(&nested, &token).contains("\"subject\":\"alice\""),
            "{alg}"
        );
        nested.terminate();

        let mut opted_in = bare.clone();
        opted_in.unauthenticated_jwe = true;
        let insecure = Server::start(&opted_in);
        let token = login(&insecure);
        assert!(
            me(&insecure, &token).contains("\"subject\":\"alice\""),
            "{alg}"
        );
        insecure.terminate();
    }
    // The flag where it means nothing is a mistake, said so.
    let mut dir = Configuration::new(Backend::Jwe {
        alg: JweAlg::Dir,
        nested: None,
    });
    dir.unauthenticated_jwe = true;
    let out = serve(&dir).output().expect("run authbench serve");
    assert!(!out.status.success());
    dir.unauthenticated_jwe = false;
    let dir = Server::start(&dir);
    let token = login(&dir);
    assert!(me(&dir, &token).contains("\"subject\":\"alice\""));
    dir.terminate();
}
