//! `anatomy.md`: one JWT of the run taken apart, as `authbench token decode` prints it, and the
//! sizes of every sample token's parts.

use crate::data::Run;
use crate::format::{Align, MISSING, Table, caption, code, fenced, utc, wrap};
use authbench_spec::anatomy::{Anatomy, explain, inspect};
use authbench_spec::record::SampleToken;

/// The configuration whose token the page takes apart, when the run has one.
pub const PREFERRED: &str = "jwt-ES256";

/// Width the token is wrapped at, characters.
pub const WRAP: usize = 80;

fn alg(a: &Anatomy) -> Option<&str> {
    a.header.json.as_ref()?.get("alg")?.as_str()
}

/// The sample the page explains: the `jwt-ES256` one, else the first whose header says ES256,
/// else the first.
fn pick(samples: &[SampleToken]) -> Option<&SampleToken> {
    samples
        .iter()
        .find(|s| s.configuration == PREFERRED)
        .or_else(|| {
            samples
                .iter()
                .find(|s| inspect(&s.token).is_ok_and(|a| alg(&a) == Some("ES256")))
        })
        .or_else(|| samples.first())
}

/// `anatomy.md`.
pub fn md(run: &Run) -> String {
    let samples = &run.record.sample_tokens;
    let Some(sample) = pick(samples) else {
        return caption(
            "Token anatomy: this run recorded no sample token (it measured no JWT configuration)",
        );
    };
    let mut s = String::new();
    let which = if sample.configuration == PREFERRED {
        format!("The run's sample `{}` token", sample.configuration)
    } else {
        format!(
            "The run has no `{PREFERRED}` sample token; its `{}` one instead",
            sample.configuration
        )
    };
    s.push_str(&caption(&format!(
        "{which}, as its server issued it ({} characters on one line, wrapped here at {WRAP}); the key that signed it died with the run",
        sample.token.chars().count()
    )));
    s.push_str(&fenced("text", &wrap(&sample.token, WRAP)));
    s.push('\n');
    match inspect(&sample.token) {
        Ok(a) => {
            s.push_str(&caption(&format!(
                "{} of that token (`anatomy::explain`), its times relative to when the run collected it, {}",
                code("authbench token decode"),
                utc(sample.collected_at)
            )));
            s.push_str(&fenced("text", &explain(&a, sample.collected_at)));
        }
        Err(e) => s.push_str(&caption(&format!(
            "{} cannot take that token apart: {e}",
            code("authbench token decode")
        ))),
    }

    let mut t = Table::new(&[
        ("configuration", Align::Left),
        ("`alg`", Align::Left),
        ("token", Align::Right),
        ("header", Align::Right),
        ("payload", Align::Right),
        ("signature", Align::Right),
        ("signature, decoded (bytes)", Align::Right),
    ]);
    for x in samples {
        match inspect(&x.token) {
            Ok(a) => t.row(vec![
                x.configuration.clone(),
                alg(&a).map_or_else(|| MISSING.to_owned(), code),
                a.total_len.to_string(),
                a.header.encoded_len.to_string(),
                a.payload.encoded_len.to_string(),
                a.signature.encoded_len.to_string(),
                a.signature.decoded_len.to_string(),
            ]),
            Err(_) => t.row(vec![
                x.configuration.clone(),
                "not a compact JWS".into(),
                x.token.len().to_string(),
            ]),
        }
    }
    s.push('\n');
    s.push_str(&caption(
        "Every sample token of the run: total length and its three base64url parts (the two dots make up the difference), characters, which are bytes on the wire; the signature also decoded, bytes",
    ));
    s.push_str(&t.markdown());
    s
}
