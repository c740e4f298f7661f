//! The JWE protected header, parsed strictly.

use serde::Deserialize;
use serde::de::IgnoredAny;

/// The header members we read. serde's derive refuses a second member of any of these names
/// (so `{"alg":"dir","alg":"none"}` is malformed); members we do not know are ignored, as RFC
/// 7516 §4 asks, unless listed in `crit`, which we refuse outright.
#[derive(Deserialize, Default)]
pub(crate) struct Header {
    pub(crate) alg: Option<String>,
    pub(crate) enc: Option<String>,
    pub(crate) kid: Option<String>,
    pub(crate) typ: Option<String>,
    pub(crate) cty: Option<String>,
    /// Compression: refused whatever its value (a decompression bomb, and the CRIME-style
    /// length leak of compress-then-encrypt).
    #[serde(default, deserialize_with = "present")]
    pub(crate) zip: bool,
    #[serde(default, deserialize_with = "present")]
    pub(crate) crit: bool,
    pub(crate) epk: Option<Epk>,
    pub(crate) apu: Option<String>,
    pub(crate) apv: Option<String>,
    // Keys the token would bring itself: refused, never used.
    #[serde(default, deserialize_with = "present")]
    pub(crate) jwk: bool,
    #[serde(default, deserialize_with = "present")]
    pub(crate) jku: bool,
    #[serde(default, deserialize_with = "present")]
    pub(crate) x5u: bool,
    #[serde(default, deserialize_with = "present")]
    pub(crate) x5c: bool,
}

impl Header {
    /// The first key-reference member present, if any.
    pub(crate) fn key_reference(&self) -> Option<&'static str> {
        [
            ("jwk", self.jwk),
            ("jku", self.jku),
            ("x5u", self.x5u),
            ("x5c", self.x5c),
        ]
        .into_iter()
        .find_map(|(name, present)| present.then_some(name))
    }
}

/// `true` for a member that is there at all, whatever its value (`"zip": null` is a `zip`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    IgnoredAny::deserialize(d).map(|_| true)
}

/// The ephemeral public key of `ECDH-ES`: a P-256 JWK, nothing else (`deny_unknown_fields`:
/// an `epk` carrying `d`, or another curve's members, is malformed).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Epk {
    pub(crate) kty: String,
    pub(crate) crv: String,
    pub(crate) x: String,
    pub(crate) y: String,
}

/// Parses a decoded header; the error message never quotes the input.
pub(crate) fn parse(json: &[u8]) -> Result<Header, String> {
    if json.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err("header is not a JSON object".into());
    }
    serde_json::from_slice(json).map_err(|e| {
        // serde_json's messages name members and positions, never values we could leak,
        // except "invalid type: string \"…\"": describe those by category only.
        if e.is_data() {
            "header has a member of the wrong type or a duplicate member".to_owned()
        } else {
            format!("header is not valid JSON ({})", e.classify_name())
        }
    })
}

trait Classify {
    fn classify_name(&self) -> &'static str;
}

impl Classify for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "I/O",
            serde_json::error::Category::Syntax => "syntax",
            serde_json::error::Category::Data => "data",
            serde_json::error::Category::Eof => "truncated",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_wrong_types_and_non_objects_are_refused() {
        assert!(parse(br#"{"alg":"dir","alg":"none"}"#).is_err());
        assert!(parse(br#"{"alg":5}"#).is_err());
        assert!(parse(br#""dir""#).is_err());
        assert!(parse(br#"{"alg":"dir"} x"#).is_err());
        assert!(parse(br#"{"epk":{"kty":"EC","crv":"P-256","x":"a","y":"b","d":"c"}}"#).is_err());
        let h = parse(br#"{"alg":"dir","enc":"A256GCM","zip":"DEF","x5u":"https://x","new":1}"#)
            .expect("parses");
        assert!(h.zip);
        assert!(parse(br#"{"zip":null}"#).expect("parses").zip);
        assert_eq!(h.key_reference(), Some("x5u"));
        let err = parse(br#"{"alg":"secret-value"  ,"enc":7}"#)
            .err()
            .unwrap_or_default();
        assert!(!err.contains("secret-value"), "{err}");
    }
}
