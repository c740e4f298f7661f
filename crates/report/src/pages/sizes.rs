//! `sizes.md` and `sizes.svg`: credential size and bytes on the wire.

use crate::chart::{Bar, BarChart, BarSeries, PALETTE, RefLine};
use crate::data::Run;
use crate::format::{Align, Table, caption, div, int, percent, ratio};
use anyhow::Result;
use authbench_spec::record::wire::{Form, Protocol, WireRow};

/// The per-cookie size browsers must support (RFC 6265 §6.1), bytes: a larger cookie may be
/// dropped silently.
pub const COOKIE_LIMIT_BYTES: f64 = 4096.0;

/// The common limit on one request header line, bytes: nginx's default
/// `large_client_header_buffers 4 8k`; Apache's `LimitRequestFieldSize` is 8190.
pub const HEADER_LINE_LIMIT_BYTES: f64 = 8192.0;

/// One row of the wire section, if measured.
pub fn wire_row<'a>(
    run: &'a Run,
    configuration: &str,
    protocol: Protocol,
    form: Form,
) -> Option<&'a WireRow> {
    run.record
        .wire
        .as_ref()?
        .rows
        .iter()
        .find(|w| w.protocol == protocol && w.form == form && (w.configuration == configuration))
}

/// `wire.md`: bytes per request over HTTP/1.1 and HTTP/2, per credential and form.
pub fn wire_md(run: &Run) -> String {
    let Some(wire) = &run.record.wire else {
        return "*This run did not measure HTTP/2 (runs before schema 4).*\n".to_owned();
    };
    let configurations: Vec<&str> = std::iter::once("-")
        .chain(run.record.sizes.iter().map(|z| z.configuration.as_str()))
        .collect();
    let cell = |c: &str, p: Protocol, f: Form, pick: fn(&WireRow) -> u64| {
        // The credential-less row stands for every form.
        let f = if c == "-" { Form::None } else { f };
        wire_row(run, c, p, f).map_or_else(
            || crate::format::MISSING.to_owned(),
            |w| int(pick(w) as f64),
        )
    };
    let name = |c: &str| {
        if c == "-" {
            "(no credential)".to_owned()
        } else {
            c.to_owned()
        }
    };
    let mut header = Table::new(&[
        ("configuration", Align::Left),
        ("HTTP/1.1", Align::Right),
        ("h2, first request", Align::Right),
        ("h2, same token again", Align::Right),
        ("h2, never-indexed", Align::Right),
        ("h2, another user's token", Align::Right),
    ]);
    let mut cookie = Table::new(&[
        ("configuration", Align::Left),
        ("HTTP/1.1", Align::Right),
        ("h2, first request", Align::Right),
        ("h2, same cookie again", Align::Right),
        ("h2, another user's cookie", Align::Right),
    ]);
    for &c in &configurations {
        header.row(vec![
            name(c),
            cell(c, Protocol::Http1, Form::Authorization, |w| {
                w.same_credential_bytes
            }),
            cell(c, Protocol::Http2, Form::Authorization, |w| {
                w.first_request_bytes
            }),
            cell(c, Protocol::Http2, Form::Authorization, |w| {
                w.same_credential_bytes
            }),
            cell(c, Protocol::Http2, Form::AuthorizationSensitive, |w| {
                w.same_credential_bytes
            }),
            cell(c, Protocol::Http2, Form::Authorization, |w| {
                w.new_credential_bytes
            }),
        ]);
        cookie.row(vec![
            name(c),
            cell(c, Protocol::Http1, Form::Cookie, |w| {
                w.same_credential_bytes
            }),
            cell(c, Protocol::Http2, Form::Cookie, |w| w.first_request_bytes),
            cell(c, Protocol::Http2, Form::Cookie, |w| {
                w.same_credential_bytes
            }),
            cell(c, Protocol::Http2, Form::Cookie, |w| w.new_credential_bytes),
        ]);
    }
    let mut s = caption(&format!(
        "Bytes the client wrote per request ({}, hyper's HTTP/1.1 and HTTP/2 client and server over an in-memory pipe, HPACK by the h2 crate with its default 4096-byte table), credential in `authorization: Bearer …`: the connection's first request (HTTP/2 preface and SETTINGS included), then the median of requests 2 to {} with the same token, with the token marked sensitive (never indexed, RFC 7541 §7.1.3), and with another user's token on each",
        wire.request, wire.requests_per_connection
    ));
    s.push_str(&header.markdown());
    s.push('\n');
    s.push_str(&caption(&format!(
        "The same, the credential in `cookie: {}=…`",
        authbench_spec::COOKIE_NAME
    )));
    s.push_str(&cookie.markdown());
    s
}

/// `sizes.md`.
pub fn md(run: &Run) -> String {
    let sizes = &run.record.sizes;
    let session = sizes
        .iter()
        .find(|z| z.configuration == "session")
        .map(|z| z.token_bytes as f64);
    let mut t = Table::new(&[
        ("configuration", Align::Left),
        ("token (bytes)", Align::Right),
        ("`authorization` line (bytes)", Align::Right),
        ("`cookie` line (bytes)", Align::Right),
        ("`GET /me` request head (bytes)", Align::Right),
        ("share of the 4096-byte cookie limit", Align::Right),
        ("token ÷ session token", Align::Right),
    ]);
    for z in sizes {
        t.row(vec![
            z.configuration.clone(),
            z.token_bytes.to_string(),
            z.header_line_bytes.to_string(),
            z.cookie_line_bytes.to_string(),
            int(z.request_head_bytes),
            percent(z.cookie_limit_share),
            ratio(session.map_or(f64::NAN, |s| div(z.token_bytes as f64, s))),
        ]);
    }
    let mut s = caption(
        "Credential size and bytes on the wire per configuration, bytes; header lines include the name and the CRLF; the request head is the whole `GET /me` head as the load generator sent it (mean over the credential pool)",
    );
    s.push_str(&t.markdown());
    s
}

/// `sizes.svg`.
pub fn svg(run: &Run) -> Result<String> {
    let sizes = &run.record.sizes;
    let series = |name: &str, color, f: fn(&authbench_spec::record::TokenSize) -> f64| BarSeries {
        name: name.to_owned(),
        color,
        bars: sizes
            .iter()
            .map(|z| {
                Some(Bar {
                    value: f(z),
                    range: None,
                })
            })
            .collect(),
    };
    BarChart {
        title: "Credential size and bytes on the wire".into(),
        x_desc: "configuration".into(),
        categories: sizes.iter().map(|z| z.configuration.clone()).collect(),
        y_desc: "bytes (log scale)".into(),
        log: true,
        series: vec![
            // The header and cookie lines are the token plus a fixed name (the table has
            // them); two bars per configuration keep every value label readable.
            series("token", PALETTE[1], |z| z.token_bytes as f64),
            series("GET /me request head", PALETTE[3], |z| z.request_head_bytes),
        ],
        error_label: None,
        lines: vec![
            RefLine {
                value: COOKIE_LIMIT_BYTES,
                label: "cookie limit, RFC 6265: 4096 bytes".into(),
            },
            RefLine {
                value: HEADER_LINE_LIMIT_BYTES,
                label: "header line limit, nginx / Apache defaults: 8 KiB".into(),
            },
        ],
        value_labels: Some(int),
    }
    .svg()
}

/// `facts.md`: single figures of the run that hand-written chapters quote inline, each between
/// mdBook anchor lines so that a chapter includes just the figure
/// (`results/facts.md:session_id_chars`), with no line break around it. A figure the run lacks
/// is [`MISSING`](crate::format::MISSING).
pub fn facts_md(run: &Run) -> String {
    let size = |name: &str| {
        run.record
            .sizes
            .iter()
            .find(|z| z.configuration == name)
            .map_or_else(
                || crate::format::MISSING.to_owned(),
                |z| z.token_bytes.to_string(),
            )
    };
    let mut s = String::from(
        "Figures of the run quoted inline by the hand-written chapters (mdBook anchors), written by `authbench report`.\n",
    );
    for (anchor, value) in [
        ("session_id_chars", size("session")),
        ("jwt_hs256_chars", size("jwt-HS256")),
        ("jwt_es256_chars", size("jwt-ES256")),
        ("jwt_rs256_chars", size("jwt-RS256")),
    ] {
        s.push_str(&format!(
            "ANCHOR: {anchor}\n{value}\nANCHOR_END: {anchor}\n"
        ));
    }
    s
}
