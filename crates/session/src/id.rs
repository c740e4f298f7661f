//! Session IDs: how they are made, how presented ones are checked, how they become Redis keys.
//!
//! An ID is `<tag>.<secret>`: a 2-character **slot tag** derived from the user (see
//! `authbench_store::slot`), a dot, and the base64url form of `id_bytes` random bytes.
//!
//! Four rules, each with a reason:
//!
//! 1. **The secret is random from the OS CSPRNG, at least 128 bits.** It is the whole
//!    credential: it carries no meaning, so the only attack is guessing, and 2^128 makes
//!    guessing hopeless. The tag adds no secrecy and takes none away.
//! 2. **The tag says where the session lives, not who owns it.** A Redis Cluster needs a
//!    user's sessions and the user's index in one hash slot ("log out everywhere" is one
//!    atomic script), and the server only ever receives the ID, so the ID must carry the slot:
//!    12 bits of SHA-256(subject). The cost: a user's IDs share a tag, so two IDs with
//!    different tags are known to belong to different users, and one ID narrows its owner down
//!    to 1/4 096 of the users. The same layout is used on a single Redis (one code path).
//! 3. **Checked for shape before anything else.** A presented ID must have exactly the length,
//!    the dot and the alphabet we issue. Garbage is refused here, in nanoseconds, so an
//!    attacker cannot turn junk into Redis round trips, and nothing an attacker typed ever
//!    reaches a key name except a validated 2-character tag.
//! 4. **Stored under a hash of the secret, never the ID.** The Redis key is derived from
//!    SHA-256(secret bytes). A Redis dump, a `MONITOR` session or a replica then hold no live
//!    credential, and lookup timing leaks nothing about real IDs (the fix for Rack
//!    CVE-2019-16782). No salt is needed: salts defend low-entropy secrets (passwords) against
//!    dictionaries, and a 256-bit random value has no dictionary.

use crate::config::MAX_ID_BYTES;
use crate::error::SessionError;
use authbench_store::{SLOT_TAG_CHARS, is_slot_tag};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Longest input looked at at all. Anything longer is [`SessionError::TooLarge`] before even its
/// characters are checked. 512 bytes is far above the longest ID we could issue (89 characters
/// for [`MAX_ID_BYTES`]) and far below what a hostile client might send.
pub const MAX_PRESENTED_BYTES: usize = 512;

/// Characters of the key hash shown as [`Principal::credential_id`](authbench_core::Principal):
/// 16 base64url characters = 96 bits, unique enough to correlate log lines, useless as a
/// credential.
pub const CREDENTIAL_ID_CHARS: usize = 16;

/// The character between the slot tag and the secret. Not in the base64url alphabet, so the
/// two parts cannot be confused; a JWT has two of them, an ID exactly one.
pub(crate) const TAG_SEPARATOR: u8 = b'.';

/// Makes and checks IDs of one configured size.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IdFormat {
    /// Random bytes per ID.
    bytes: usize,
    /// Characters of a whole ID: tag, dot, and the secret's unpadded base64url form.
    chars: usize,
}

impl IdFormat {
    /// IDs of `bytes` random bytes (already validated by the config).
    pub(crate) fn new(bytes: usize) -> Self {
        Self {
            bytes,
            chars: SLOT_TAG_CHARS + 1 + encoded_len(bytes),
        }
    }

    /// Length of an ID in characters.
    pub(crate) fn chars(&self) -> usize {
        self.chars
    }

    /// A fresh ID for a user whose slot tag is `tag`, from the OS CSPRNG, and the hash its
    /// secret is stored under.
    pub(crate) fn generate(&self, tag: &str) -> Result<(String, KeyHash), SessionError> {
        debug_assert!(is_slot_tag(tag));
        let mut raw = [0u8; MAX_ID_BYTES];
        let raw = &mut raw[..self.bytes];
        getrandom::fill(raw)?;
        let mut id = String::with_capacity(self.chars);
        id.push_str(tag);
        id.push(char::from(TAG_SEPARATOR));
        URL_SAFE_NO_PAD.encode_string(&*raw, &mut id);
        Ok((id, KeyHash::of(raw)))
    }

    /// Checks that `presented` is shaped exactly like an ID we issue and returns its slot tag
    /// and the hash of its secret.
    ///
    /// Pure computation, no I/O: this is what keeps garbage away from Redis.
    pub(crate) fn parse<'a>(&self, presented: &'a str) -> Result<(&'a str, KeyHash), SessionError> {
        if presented.is_empty() {
            return Err(SessionError::Missing);
        }
        if presented.len() > MAX_PRESENTED_BYTES {
            return Err(SessionError::TooLarge {
                len: presented.len(),
                max: MAX_PRESENTED_BYTES,
            });
        }
        if presented.len() != self.chars {
            return Err(SessionError::Malformed("wrong length"));
        }
        if presented.as_bytes()[SLOT_TAG_CHARS] != TAG_SEPARATOR {
            return Err(SessionError::Malformed("no slot tag"));
        }
        // The separator is ASCII, so both slices fall on character boundaries.
        let tag = &presented[..SLOT_TAG_CHARS];
        let secret = &presented[SLOT_TAG_CHARS + 1..];
        if !is_slot_tag(tag) {
            return Err(SessionError::Malformed("bad slot tag"));
        }
        // The engine rejects characters outside the base64url alphabet, padding, and
        // non-canonical final characters, so exactly one string maps to each ID.
        let mut raw = [0u8; MAX_ID_BYTES];
        match URL_SAFE_NO_PAD.decode_slice(secret, &mut raw) {
            Ok(n) if n == self.bytes => Ok((tag, KeyHash::of(&raw[..n]))),
            Ok(_) => Err(SessionError::Malformed("wrong length")),
            Err(_) => Err(SessionError::Malformed("not base64url")),
        }
    }
}

/// Characters of the unpadded base64 form of `bytes` bytes: ⌈8·bytes / 6⌉.
fn encoded_len(bytes: usize) -> usize {
    (bytes * 8).div_ceil(6)
}

/// SHA-256 of a session ID's bytes, base64url (43 characters): the name of the session in
/// Redis. Safe to store and, shortened, to log; it cannot be turned back into the ID.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct KeyHash(String);

impl KeyHash {
    /// Hashes raw ID bytes.
    pub(crate) fn of(raw: &[u8]) -> Self {
        Self(sha256_b64(raw))
    }

    /// The full hash, the member stored in a user's index.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// The loggable short form, [`CREDENTIAL_ID_CHARS`] long.
    pub(crate) fn credential_id(&self) -> &str {
        credential_id_of(&self.0)
    }
}

/// The loggable short form of a full key hash.
pub(crate) fn credential_id_of(hash: &str) -> &str {
    hash.get(..CREDENTIAL_ID_CHARS).unwrap_or(hash)
}

/// SHA-256 of `data`, base64url without padding.
pub(crate) fn sha256_b64(data: &[u8]) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data);
    URL_SAFE_NO_PAD.encode(digest.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_match_base64url() {
        assert_eq!(encoded_len(16), 22);
        assert_eq!(encoded_len(32), 43);
        assert_eq!(encoded_len(64), 86);
        let f = IdFormat::new(32);
        let (id, _) = f.generate("Ab").expect("rng");
        assert_eq!(
            id.len(),
            46,
            "2-character tag, dot, 43 characters of secret"
        );
        assert_eq!(f.chars(), 46);
        assert!(id.starts_with("Ab."));
    }

    #[test]
    fn parse_accepts_what_generate_makes_and_hashes_alike() {
        let f = IdFormat::new(32);
        let (id, hash) = f.generate("x_").expect("rng");
        assert_eq!(f.parse(&id).expect("well formed"), ("x_", hash.clone()));
        assert_eq!(hash.as_str().len(), 43);
        assert_eq!(hash.credential_id().len(), CREDENTIAL_ID_CHARS);
        assert!(!hash.as_str().contains(&id[3..]));
    }

    #[test]
    fn parse_refuses_bad_shapes_without_io() {
        let f = IdFormat::new(32);
        let (id, _) = f.generate("AA").expect("rng");
        assert!(matches!(f.parse(""), Err(SessionError::Missing)));
        assert!(matches!(
            f.parse(&"A".repeat(MAX_PRESENTED_BYTES + 1)),
            Err(SessionError::TooLarge { .. })
        ));
        assert!(matches!(f.parse(&id[1..]), Err(SessionError::Malformed(_))));
        assert!(matches!(
            f.parse(&format!("{id}A")),
            Err(SessionError::Malformed(_))
        ));
        // Right length, wrong alphabet: `+` and `/` are standard base64, not base64url.
        let plus = format!("AA.+{}", &id[4..]);
        assert!(matches!(f.parse(&plus), Err(SessionError::Malformed(_))));
        // No dot, a bad tag, a dot in the wrong place.
        for bad in [
            format!("AAA{}", &id[3..]),
            format!("A+.{}", &id[3..]),
            format!("A.A{}", &id[3..]),
            format!("{}.", &id[..id.len() - 1]),
        ] {
            assert!(
                matches!(f.parse(&bad), Err(SessionError::Malformed(_))),
                "{bad}"
            );
        }
        // Non-ASCII of the right byte length, in the tag and in the secret.
        assert!(matches!(
            f.parse(&format!("é.{}", &id[3..])),
            Err(SessionError::Malformed(_))
        ));
        let accented = format!("AA.é{}", &id[5..]);
        assert_eq!(accented.len(), id.len());
        assert!(matches!(
            f.parse(&accented),
            Err(SessionError::Malformed(_))
        ));
    }

    #[test]
    fn non_canonical_final_character_is_refused() {
        // 32 bytes = 256 bits = 42 full characters + 4 bits; the last character's two low bits
        // are padding and must be zero. "A…AB" sets one of them.
        let f = IdFormat::new(32);
        let canonical = format!("AA.{}", "A".repeat(43));
        assert!(f.parse(&canonical).is_ok());
        let sneaky = format!("AA.{}B", "A".repeat(42));
        assert!(matches!(f.parse(&sneaky), Err(SessionError::Malformed(_))));
    }

    #[test]
    fn sha256_matches_a_known_vector() {
        // SHA-256("abc") = ba7816bf…15ad, base64url-encoded.
        assert_eq!(
            sha256_b64(b"abc"),
            "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"
        );
    }
}
