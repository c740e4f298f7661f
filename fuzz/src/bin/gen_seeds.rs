//! Writes the fuzz-only keys (when `keys/` lacks them) and the seed corpus in `seeds/<target>/`.
//!
//! `cargo run --release --bin gen_seeds` from `fuzz/`. The committed seeds were made this way;
//! rerunning it rewrites them (ES256 and RS256-PSS signatures differ each time, nothing else).

use std::fs;
use std::path::{Path, PathBuf};

use authbench_core::{Authenticator, Identity};
use authbench_fuzz::{KEY_FILES, NOW, backend, key_path, ready, signing_keys, verifiers};
use authbench_jwt::{Alg, SigningKey, dangerous, sign};
use serde_json::json;

fn write_keys() {
    fs::create_dir_all(key_path("")).expect("keys/");
    for (alg, file) in KEY_FILES {
        let path = key_path(file);
        if path.exists() {
            continue;
        }
        let text = match alg {
            // Fuzz-only; 48 bytes, above the 32-byte minimum.
            Alg::HS256 => "authbench-fuzz-only-hs256-secret-do-not-use-0001\n".to_owned(),
            _ => SigningKey::generate(alg)
                .expect("generate")
                .private_key_pem()
                .expect("pem"),
        };
        fs::write(&path, text).expect("write key");
    }
}

fn seeds_dir(target: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("seeds")
        .join(target);
    fs::create_dir_all(&dir).expect("seeds dir");
    dir
}

fn write(target: &str, name: &str, bytes: impl AsRef<[u8]>) {
    fs::write(seeds_dir(target).join(name), bytes).expect("write seed");
}

fn claims() -> serde_json::Value {
    json!({
        "iss": "authbench", "aud": "authbench-api", "sub": "alice", "tenant": "acme",
        "roles": ["user"], "iat": NOW, "exp": NOW + 900, "jti": "AAAAAAAAAAAAAAAAAAAAAA"
    })
}

fn main() {
    write_keys();
    let issued = ready(backend().issue(&Identity {
        subject: "alice".into(),
        tenant: "acme".into(),
        roles: vec!["user".into(), "admin".into()],
    }))
    .expect("issue")
    .token;

    // jwt_token: valid tokens for each key, then the classic bad ones.
    write("jwt_token", "backend_hs256", &issued);
    ready(backend().verify(&issued)).expect("the issued seed verifies");
    let all = verifiers().last().expect("multi-key verifier");
    for (key, verifier) in signing_keys().iter().zip(verifiers()) {
        let token = sign(&claims(), key, Some("at+jwt")).expect("sign");
        verifier.verify(&token).expect("the valid seed verifies");
        all.verify(&token).expect("the valid seed verifies by kid");
        write("jwt_token", &format!("valid_{}", key.alg()), &token);
    }
    let hs = &signing_keys()[0];
    let bad: [(&str, &[u8], serde_json::Value); 5] = [
        ("alg_none", br#"{"alg":"none","typ":"at+jwt"}"#, claims()),
        (
            "crit",
            br#"{"alg":"HS256","typ":"at+jwt","crit":["x"]}"#,
            claims(),
        ),
        (
            "dup_alg",
            br#"{"alg":"HS256","alg":"none","typ":"at+jwt"}"#,
            claims(),
        ),
        (
            "expired",
            br#"{"alg":"HS256","typ":"at+jwt"}"#,
            json!({"iss":"authbench","aud":"authbench-api","exp": NOW - 60}),
        ),
        (
            "jku",
            br#"{"alg":"HS256","typ":"at+jwt","jku":"http://x/"}"#,
            claims(),
        ),
    ];
    for (name, header, payload) in bad {
        let token = dangerous::sign_raw(header, payload.to_string().as_bytes(), hs).expect("sign");
        write("jwt_token", name, token);
    }
    for (name, text) in [
        ("three_dots", "a.b.c"),
        ("empty_parts", ".."),
        ("padded", "eyJhbGciOiJIUzI1NiJ9==.e30.AA"),
        ("garbage", "not a token"),
    ] {
        write("jwt_token", name, text);
    }

    // jwt_claims: header \0 claims, signed by the harness.
    let access = claims().to_string();
    let pairs: [(&str, String, String); 7] = [
        (
            "access",
            r#"{"alg":"HS256","typ":"at+jwt"}"#.into(),
            access.clone(),
        ),
        (
            "kid",
            format!(r#"{{"alg":"HS256","typ":"at+jwt","kid":"{}"}}"#, hs.kid()),
            access.clone(),
        ),
        (
            "aud_array",
            r#"{"alg":"HS256","typ":"application/at+jwt"}"#.into(),
            json!({"iss":"authbench","aud":["x","authbench-api"],"sub":"bob","tenant":"globex",
                   "roles":[],"iat":NOW,"nbf":NOW,"exp":NOW+1,"jti":"j"})
            .to_string(),
        ),
        (
            "dup_exp",
            r#"{"alg":"HS256","typ":"at+jwt"}"#.into(),
            r#"{"iss":"authbench","aud":"authbench-api","exp":1,"exp":9999999999}"#.into(),
        ),
        (
            "floats",
            r#"{"alg":"HS256","typ":"at+jwt"}"#.into(),
            r#"{"iss":"authbench","aud":"authbench-api","exp":2.0e9,"iat":-1,"nbf":1e400}"#.into(),
        ),
        (
            "escapes",
            r#"{"alg":"HS\u0032\u00356","typ":"at+jwt"}"#.into(),
            r#"{"iss":"auth\u0062ench","aud":"authbench-api","sub":"\ud800","exp":2000000900}"#
                .into(),
        ),
        (
            "nested",
            r#"{"alg":"HS256","typ":"at+jwt","x":[[[[{}]]]]}"#.into(),
            r#"{"iss":"authbench","aud":"authbench-api","exp":2000000900,"roles":[1,{"a":null}]}"#
                .into(),
        ),
    ];
    for (name, header, payload) in pairs {
        let mut seed = header.into_bytes();
        seed.push(0);
        seed.extend_from_slice(payload.as_bytes());
        if name == "access" {
            let (h, p) = authbench_fuzz::split_signed(&seed);
            let token = dangerous::sign_raw(h, p, hs).expect("sign");
            ready(backend().verify(&token)).expect("the access claims seed verifies");
        }
        write("jwt_claims", name, seed);
    }

    // credential: header lines (`a` = authorization, `c` = cookie).
    let es = &signing_keys()[1];
    let es_token = sign(&claims(), es, Some("at+jwt")).expect("sign");
    let lines = [
        ("bearer", format!("a: Bearer {issued}\n")),
        (
            "bearer_case",
            format!("authorization: bEaReR    {es_token}\n"),
        ),
        (
            "cookie",
            format!("c: theme=dark; __Host-authbench={issued}; lang=ja\n"),
        ),
        (
            "both",
            format!("c: __Host-authbench={es_token}\na: Bearer {issued}\n"),
        ),
        ("two_auth", "a: Bearer x\na: Bearer y\n".to_owned()),
        (
            "two_cookies",
            "c: __Host-authbench=a\nc: x=1; __Host-authbench=b\n".to_owned(),
        ),
        ("basic", "a: Basic YWxpY2U6cHc=\n".to_owned()),
        ("obs_text", "c: __Host-authbench=\u{e9}t\u{e9}\n".to_owned()),
        (
            "empty_cookie",
            "c: __Host-authbench=\nx-other: 1\n".to_owned(),
        ),
    ];
    for (name, text) in lines {
        write("credential", name, text);
    }
    println!("keys in {}, seeds in seeds/", key_path("").display());
}
