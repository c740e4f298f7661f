//! Strict, cheap parsing of the two JSON parts of a JWS: the protected header and the claims.
//!
//! Why not jsonwebtoken's `Header` and `decode`? Its `Header` silently keeps the *last* of two
//! members with the same name, ignores `crit`, and allocates a `String` per member plus a map
//! for the rest; `decode` parses the header twice and the claims twice. Here each part is read
//! once, strings are borrowed from the decoded bytes when they contain no escapes, and every
//! rule RFC 7515/7519 leave to the application is applied on the way:
//!
//! - a member name that appears twice is an error (RFC 7515 §4, RFC 7519 §4 allow rejecting,
//!   and rejecting is the only answer that cannot disagree with another parser);
//! - each member we read has exactly one JSON type (`exp` is an integer, never `"1700000000"`:
//!   see advisory GHSA-h395-gr6q-cpjc);
//! - error messages name the member, never its value: a value is part of a credential.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// A member name or string value, borrowed from the input when it has no escapes.
pub(crate) struct Text<'de>(pub(crate) Cow<'de, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// Names seen so far that no typed slot recorded, to catch duplicates among them. Empty (and
/// unallocated) for tokens that carry only the members we know.
#[derive(Default)]
struct Seen<'de>(Vec<Cow<'de, str>>);

impl<'de> Seen<'de> {
    /// Records `name`; false if it was already there.
    fn insert(&mut self, name: Cow<'de, str>) -> bool {
        if self.0.contains(&name) {
            return false;
        }
        self.0.push(name);
        true
    }
}

/// Reads the next value as `T`, replacing any parse error with one that names the member but
/// not its value.
fn typed<'de, A: MapAccess<'de>, T: Deserialize<'de>>(
    map: &mut A,
    what: &'static str,
) -> Result<T, A::Error> {
    map.next_value::<T>()
        .map_err(|_| de::Error::custom(format_args!("{what} has the wrong type")))
}

fn duplicate<E: de::Error>(part: &str) -> E {
    E::custom(format_args!("duplicate {part} member name"))
}

/// Stores `value` in `slot`, refusing a second value for the same name.
fn put<T, E: de::Error>(slot: &mut Option<T>, value: T, part: &str) -> Result<(), E> {
    if slot.is_some() {
        return Err(duplicate(part));
    }
    *slot = Some(value);
    Ok(())
}

// --------------------------------------------------------------------------------------------
// Header
// --------------------------------------------------------------------------------------------

/// Header members that would let the token choose its own verification key: an embedded key
/// (`jwk`), or a URL to fetch keys or certificates from (`jku`, `x5u`), or an embedded chain
/// (`x5c`). We never fetch and never trust a key the token brings (RFC 8725 §3.10).
pub(crate) const KEY_REFERENCE_MEMBERS: [&str; 4] = ["jwk", "jku", "x5u", "x5c"];

/// The protected header, as far as verification cares.
#[derive(Default)]
pub(crate) struct Header<'a> {
    /// `alg`, still as text: `none` and `ES512` must be reported as *not allowed*, not as
    /// unparsable.
    pub(crate) alg: Option<Cow<'a, str>>,
    /// `kid`: which of the verifier's keys to use.
    pub(crate) kid: Option<Cow<'a, str>>,
    /// `typ`: what kind of token this says it is.
    pub(crate) typ: Option<Cow<'a, str>>,
    /// Whether `crit` was present at all: we implement no extension, so any `crit` is one we do
    /// not understand (RFC 7515 §4.1.11).
    pub(crate) crit: bool,
    /// The first key-reference member present (`jwk`, `jku`, `x5u`, `x5c`), if any.
    pub(crate) key_reference: Option<&'static str>,
}

impl<'de> Deserialize<'de> for Header<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Header<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JOSE header object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut h = Header::default();
                let mut seen = Seen::default();
                let mut crit_seen = false;
                while let Some(Text(name)) = map.next_key::<Text<'de>>()? {
                    match &*name {
                        "alg" => {
                            let v: Text<'de> = typed(&mut map, "header member `alg`")?;
                            put(&mut h.alg, v.0, "header")?;
                        }
                        "kid" => {
                            let v: Text<'de> = typed(&mut map, "header member `kid`")?;
                            put(&mut h.kid, v.0, "header")?;
                        }
                        "typ" => {
                            let v: Text<'de> = typed(&mut map, "header member `typ`")?;
                            put(&mut h.typ, v.0, "header")?;
                        }
                        "crit" => {
                            if crit_seen {
                                return Err(duplicate("header"));
                            }
                            crit_seen = true;
                            map.next_value::<IgnoredAny>()?;
                        }
                        other => {
                            if let Some(member) =
                                KEY_REFERENCE_MEMBERS.iter().find(|m| **m == other)
                            {
                                h.key_reference.get_or_insert(member);
                            }
                            if !seen.insert(name) {
                                return Err(duplicate("header"));
                            }
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                h.crit = crit_seen;
                Ok(h)
            }
        }
        d.deserialize_map(V)
    }
}

// --------------------------------------------------------------------------------------------
// Claims
// --------------------------------------------------------------------------------------------

/// `aud`: one string or an array of strings (RFC 7519 §4.1.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Audience<'a> {
    One(Cow<'a, str>),
    Many(Vec<Cow<'a, str>>),
}

impl Audience<'_> {
    /// Whether `ours` is (one of) the audience(s).
    pub(crate) fn contains(&self, ours: &str) -> bool {
        match self {
            Audience::One(a) => a == ours,
            Audience::Many(list) => list.iter().any(|a| a == ours),
        }
    }
}

impl<'de> Deserialize<'de> for Audience<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Audience<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array of strings")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Audience::One(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Audience::One(Cow::Owned(v.to_owned())))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut list = Vec::new();
                while let Some(Text(a)) = seq.next_element::<Text<'de>>()? {
                    list.push(a);
                }
                Ok(Audience::Many(list))
            }
        }
        d.deserialize_any(V)
    }
}

/// A NumericDate (RFC 7519 §2) as whole seconds. We accept non-negative JSON integers only:
/// strings are the GHSA-h395-gr6q-cpjc trap, and fractional seconds (legal, but issued by
/// nobody we verify) would force a rounding choice on every comparison.
struct NumericDate(u64);

impl<'de> Deserialize<'de> for NumericDate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = NumericDate;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a non-negative integer")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(NumericDate(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                u64::try_from(v)
                    .map(NumericDate)
                    .map_err(|_| E::custom("negative NumericDate"))
            }
        }
        d.deserialize_any(V)
    }
}

/// The registered claims of RFC 7519 §4.1, typed.
#[derive(Debug, Default)]
pub(crate) struct Registered<'a> {
    pub(crate) iss: Option<Cow<'a, str>>,
    pub(crate) sub: Option<Cow<'a, str>>,
    pub(crate) aud: Option<Audience<'a>>,
    pub(crate) exp: Option<u64>,
    pub(crate) nbf: Option<u64>,
    pub(crate) iat: Option<u64>,
    pub(crate) jti: Option<Cow<'a, str>>,
}

impl Registered<'_> {
    /// Writes the registered claims back into a JSON object (for [`Verifier::verify`], which
    /// returns every claim).
    ///
    /// [`Verifier::verify`]: crate::Verifier::verify
    pub(crate) fn insert_into(self, map: &mut serde_json::Map<String, serde_json::Value>) {
        use serde_json::Value;
        let text = |s: Cow<'_, str>| Value::String(s.into_owned());
        if let Some(v) = self.iss {
            map.insert("iss".into(), text(v));
        }
        if let Some(v) = self.sub {
            map.insert("sub".into(), text(v));
        }
        match self.aud {
            Some(Audience::One(a)) => {
                map.insert("aud".into(), text(a));
            }
            Some(Audience::Many(list)) => {
                map.insert(
                    "aud".into(),
                    Value::Array(list.into_iter().map(text).collect()),
                );
            }
            None => {}
        }
        for (name, v) in [("exp", self.exp), ("nbf", self.nbf), ("iat", self.iat)] {
            if let Some(v) = v {
                map.insert(name.into(), Value::from(v));
            }
        }
        if let Some(v) = self.jti {
            map.insert("jti".into(), text(v));
        }
    }
}

/// The claims a particular caller wants besides the registered ones.
///
/// The backend wants `tenant` and `roles`, typed; the standalone verifier wants everything else
/// as JSON. Both go through the same visitor, so duplicate and type rules are the same.
pub(crate) trait PrivateClaims<'de>: Default {
    /// Reads member `name` if this type wants it (returning `true`), or leaves it (returning
    /// `false`: the caller then skips the value). Must refuse a second member of a name it took.
    fn member<A: MapAccess<'de>>(&mut self, name: &str, map: &mut A) -> Result<bool, A::Error>;
}

/// No private claims wanted (the unit tests' view of a token).
#[cfg(test)]
#[derive(Default)]
pub(crate) struct NoPrivateClaims;

#[cfg(test)]
impl<'de> PrivateClaims<'de> for NoPrivateClaims {
    fn member<A: MapAccess<'de>>(&mut self, _: &str, _: &mut A) -> Result<bool, A::Error> {
        Ok(false)
    }
}

/// Every non-registered claim, as JSON.
impl<'de> PrivateClaims<'de> for serde_json::Map<String, serde_json::Value> {
    fn member<A: MapAccess<'de>>(&mut self, name: &str, map: &mut A) -> Result<bool, A::Error> {
        if self.contains_key(name) {
            return Err(duplicate("claim"));
        }
        let value: serde_json::Value = map.next_value()?;
        self.insert(name.to_owned(), value);
        Ok(true)
    }
}

/// What the backend's access tokens carry besides the registered claims.
#[derive(Default, Debug)]
pub(crate) struct AccessClaims {
    pub(crate) tenant: Option<String>,
    pub(crate) roles: Option<Vec<String>>,
    /// The refresh-token family the token was issued from (`refresh` strategy only).
    pub(crate) sid: Option<String>,
    /// The user's revocation epoch read at issue (`denylist` and `epoch` only).
    pub(crate) epoch: Option<u64>,
}

impl<'de> PrivateClaims<'de> for AccessClaims {
    fn member<A: MapAccess<'de>>(&mut self, name: &str, map: &mut A) -> Result<bool, A::Error> {
        match name {
            "tenant" => {
                let v: String = typed(map, "claim `tenant`")?;
                put(&mut self.tenant, v, "claim")?;
            }
            "roles" => {
                let v: Vec<String> = typed(map, "claim `roles`")?;
                put(&mut self.roles, v, "claim")?;
            }
            "sid" => {
                let v: String = typed(map, "claim `sid`")?;
                put(&mut self.sid, v, "claim")?;
            }
            "epoch" => {
                let v: u64 = typed(map, "claim `epoch`")?;
                put(&mut self.epoch, v, "claim")?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// A claims set: registered claims plus whatever `P` collects.
pub(crate) struct Claims<'a, P> {
    pub(crate) registered: Registered<'a>,
    pub(crate) private: P,
}

impl<'de, P: PrivateClaims<'de>> Deserialize<'de> for Claims<'de, P> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(ClaimsVisitor(std::marker::PhantomData))
    }
}

struct ClaimsVisitor<P>(std::marker::PhantomData<P>);

impl<'de, P: PrivateClaims<'de>> Visitor<'de> for ClaimsVisitor<P> {
    type Value = Claims<'de, P>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JWT claims object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut r = Registered::default();
        let mut private = P::default();
        let mut seen = Seen::default();
        while let Some(Text(name)) = map.next_key::<Text<'de>>()? {
            match &*name {
                "iss" => put(
                    &mut r.iss,
                    typed::<_, Text<'de>>(&mut map, "claim `iss`")?.0,
                    "claim",
                )?,
                "sub" => put(
                    &mut r.sub,
                    typed::<_, Text<'de>>(&mut map, "claim `sub`")?.0,
                    "claim",
                )?,
                "jti" => put(
                    &mut r.jti,
                    typed::<_, Text<'de>>(&mut map, "claim `jti`")?.0,
                    "claim",
                )?,
                "aud" => put(&mut r.aud, typed(&mut map, "claim `aud`")?, "claim")?,
                "exp" => put(
                    &mut r.exp,
                    typed::<_, NumericDate>(&mut map, "claim `exp`")?.0,
                    "claim",
                )?,
                "nbf" => put(
                    &mut r.nbf,
                    typed::<_, NumericDate>(&mut map, "claim `nbf`")?.0,
                    "claim",
                )?,
                "iat" => put(
                    &mut r.iat,
                    typed::<_, NumericDate>(&mut map, "claim `iat`")?.0,
                    "claim",
                )?,
                other => {
                    if !private.member(other, &mut map)? {
                        if !seen.insert(name) {
                            return Err(duplicate("claim"));
                        }
                        map.next_value::<IgnoredAny>()?;
                    }
                }
            }
        }
        Ok(Claims {
            registered: r,
            private,
        })
    }
}

/// Whether `json` (after optional whitespace) starts an object. Checked before parsing so a
/// header or payload that is a bare string never reaches serde, whose "invalid type" message
/// would quote the string.
pub(crate) fn starts_object(json: &[u8]) -> bool {
    json.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

/// Parses `json` as exactly one `T` (trailing bytes are an error), mapping errors to a message
/// that cannot contain input text.
pub(crate) fn from_json<'de, T: Deserialize<'de>>(json: &'de [u8]) -> Result<T, String> {
    let mut de = serde_json::Deserializer::from_slice(json);
    let value = T::deserialize(&mut de).map_err(describe)?;
    de.end().map_err(describe)?;
    Ok(value)
}

fn describe(e: serde_json::Error) -> String {
    // serde_json's syntax messages ("expected value", "trailing characters") never quote the
    // input; our own data messages name members only. Type errors from serde itself could quote
    // a value, but every member we read goes through `typed`, which replaces them.
    e.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_rejects_duplicates_and_flags_crit_and_key_references() {
        assert!(from_json::<Header<'_>>(br#"{"alg":"HS256","alg":"none"}"#).is_err());
        assert!(from_json::<Header<'_>>(br#"{"x":1,"x":2,"alg":"HS256"}"#).is_err());
        let h = from_json::<Header<'_>>(br#"{"alg":"HS256","crit":["exp"],"jku":"https://x"}"#)
            .expect("parses");
        assert!(h.crit);
        assert_eq!(h.key_reference, Some("jku"));
        assert!(from_json::<Header<'_>>(br#"{"alg":5}"#).is_err());
    }

    #[test]
    fn claims_types_and_duplicates() {
        let c: Claims<'_, NoPrivateClaims> =
            from_json(br#"{"exp":10,"aud":["a","b"],"iss":"x\u0041"}"#).expect("parses");
        assert_eq!(c.registered.exp, Some(10));
        assert_eq!(c.registered.iss.as_deref(), Some("xA"));
        assert!(c.registered.aud.as_ref().is_some_and(|a| a.contains("b")));
        for bad in [
            &br#"{"exp":"10"}"#[..],
            br#"{"exp":1.5}"#,
            br#"{"exp":-1}"#,
            br#"{"exp":1,"exp":2}"#,
            br#"{"foo":1,"foo":1}"#,
            br#"{"aud":[1]}"#,
            br#"{"exp":1} x"#,
        ] {
            assert!(
                from_json::<Claims<'_, NoPrivateClaims>>(bad).is_err(),
                "{bad:?}"
            );
        }
        let err = from_json::<Claims<'_, NoPrivateClaims>>(br#"{"sub":"secret-value-1"}"#)
            .map(|_| ())
            .and_then(|_| {
                from_json::<Claims<'_, NoPrivateClaims>>(br#"{"exp":"secret-value-2"}"#).map(|_| ())
            });
        assert!(!err.unwrap_err().contains("secret-value"));
    }
}
