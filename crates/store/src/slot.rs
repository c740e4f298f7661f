//! The key layout rule every backend follows, so the same keys work on one Redis and on a
//! Redis Cluster: **all keys of one operation share a hash slot, and different users spread over
//! the slots.**
//!
//! # Why
//!
//! A Redis Cluster splits the key space into 16 384 hash slots, spread over the masters. A Lua
//! script (or an `MGET`) runs on one node, so every key it touches must be in one slot, or the
//! node answers `CROSSSLOT`. And every key a script touches must be *named* in `KEYS`: a key
//! computed inside the script (from a record's field, an index's members) may live on another
//! node, and the client cannot route what it cannot see. So every operation of ours names all
//! its keys up front, and they all carry the same **hash tag**: the part of a key between the
//! first `{` and the next `}`, which is all Redis hashes when it is present.
//!
//! # The tag: a short hash of the user
//!
//! Whatever one operation touches belongs to one user (a session and its owner's index; a
//! denied `jti` and its owner's not-before; a refresh-token family, its tokens and its owner's
//! index). So the tag is derived from the user: [`UserSlot::tag`] is the first
//! [`SLOT_TAG_CHARS`] characters of base64url(SHA-256(subject)), 12 bits, 4 096 values.
//!
//! - **Spread.** 4 096 tags land on 4 096 of the 16 384 slots, evenly across masters; one hot
//!   user loads one slot, never the whole cluster on one node.
//! - **The server must find the tag from the credential alone** when the credential does not
//!   name its user (a session ID, a refresh token): those carry the tag in clear, `<tag>.<rest>`
//!   (see the session and JWT crates). A tag that is not [`is_slot_tag`] is rejected before any
//!   Redis call.
//! - **What the tag tells.** A user's credentials share a tag, so two session IDs with
//!   different tags belong to different users, and one seen ID narrows its owner down to
//!   1/4 096 of the users (anyone can hash a guessed user name). It is not a credential, and
//!   with more than a few thousand users each tag is shared by many of them. An unkeyed hash is
//!   chosen deliberately: every server instance must compute the same tag with no shared
//!   secret to configure and lose (a mismatch would split a user's index and make "log out
//!   everywhere" miss sessions). Deployments that need unlinkable credentials cannot have
//!   per-user indexes in a cluster without a second lookup; this is the trade-off.
//! - **Same on one node.** Single-node Redis ignores tags, so one layout and one code path
//!   serve both.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::StoreError;

/// Characters of a slot tag: 2 base64url characters, 12 bits, 4 096 tags.
pub const SLOT_TAG_CHARS: usize = 2;

/// A user's key material: base64url(SHA-256(subject)) and the slot tag taken from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSlot {
    /// 43 base64url characters; the tag is its first [`SLOT_TAG_CHARS`].
    hash: String,
}

impl UserSlot {
    /// Hashes `subject` (odd user names never shape key names).
    pub fn of(subject: &str) -> Self {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, subject.as_bytes());
        Self {
            hash: URL_SAFE_NO_PAD.encode(digest.as_ref()),
        }
    }

    /// base64url(SHA-256(subject)): names the user's own keys (index, epoch).
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// The slot tag: every key of this user carries `{tag}`.
    pub fn tag(&self) -> &str {
        &self.hash[..SLOT_TAG_CHARS]
    }
}

/// Whether `s` is a well-formed slot tag: exactly [`SLOT_TAG_CHARS`] base64url characters.
/// Every such string is a tag some user may have.
pub fn is_slot_tag(s: &str) -> bool {
    s.len() == SLOT_TAG_CHARS
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `<kind_prefix>{<tag>}:<rest>`, e.g. `authbench:session:{Ab}:<hash>`.
pub fn tagged_key(kind_prefix: &str, tag: &str, rest: &str) -> String {
    let mut key = String::with_capacity(kind_prefix.len() + tag.len() + rest.len() + 3);
    key.push_str(kind_prefix);
    key.push('{');
    key.push_str(tag);
    key.push_str("}:");
    key.push_str(rest);
    key
}

/// Refuses a key prefix that would defeat the tags: a `{` or `}` in it would make Redis hash
/// part of the prefix instead of our tag, and every user would land on one slot.
///
/// # Errors
///
/// [`StoreError::Config`] naming the problem.
pub fn check_key_prefix(prefix: &str) -> Result<(), StoreError> {
    if prefix.contains(['{', '}']) {
        return Err(StoreError::Config(format!(
            "key prefix {prefix:?} contains `{{` or `}}`: that would replace the per-user hash \
             tags and put every user on one Redis Cluster slot"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_a_prefix_of_the_user_hash() {
        let alice = UserSlot::of("alice");
        assert_eq!(alice.hash().len(), 43);
        assert_eq!(alice.tag(), &alice.hash()[..2]);
        assert!(is_slot_tag(alice.tag()));
        assert_eq!(UserSlot::of("alice"), alice, "deterministic");
        assert_eq!(
            tagged_key("p:session:", alice.tag(), "x"),
            format!("p:session:{{{}}}:x", alice.tag())
        );
    }

    #[test]
    fn tag_shape_is_checked() {
        assert!(is_slot_tag("A_"));
        for bad in ["", "A", "ABC", "A.", "{}", "é"] {
            assert!(!is_slot_tag(bad), "{bad:?}");
        }
        assert!(check_key_prefix("authbench").is_ok());
        assert!(check_key_prefix("a{b}").is_err());
    }

    #[test]
    fn many_users_spread_over_many_tags() {
        let tags: std::collections::HashSet<String> = (0..2_000)
            .map(|i| UserSlot::of(&format!("user{i}")).tag().to_owned())
            .collect();
        // 2 000 users over 4 096 tags: about 1 600 distinct expected; far above "all on one".
        assert!(tags.len() > 1_000, "{}", tags.len());
    }
}
