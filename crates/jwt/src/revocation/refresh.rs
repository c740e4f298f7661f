//! `refresh`: short-lived access tokens plus rotating, server-side refresh tokens in families,
//! with reuse detection.
//!
//! # The idea
//!
//! The access token stays a plain JWT, verified locally (0 round trips), but lives only a few
//! minutes. The long-lived credential is the **refresh token**: opaque (256 bits from the OS
//! CSPRNG), stored server-side **hashed** (a Redis dump yields no usable token), and
//! **single-use**: each `refresh` spends it and hands out a successor. Logout ends the refresh
//! tokens at once; the access token already out there lives out its short `exp`. That window
//! is the price of 0 round trips, and the whole point of the strategy.
//!
//! # Families and reuse detection (RFC 9700 §4.14.2)
//!
//! A login starts a **family**; every rotation stays in it, and the family knows which one
//! refresh token is current. Presenting a refresh token that was current once but has been
//! spent means two parties hold it: the legitimate client and a thief. The server cannot tell
//! which one is which, so it **revokes the whole family**: both must log in again, and the
//! thief's stolen successor dies with it.
//!
//! # Concurrent refreshes of the same token: strict, first in Redis order wins
//!
//! Rotation is one Lua script, and Redis runs scripts one at a time, so two simultaneous
//! refreshes of one token are ordered: the first rotates and gets a new credential; the second
//! presents a token that is now spent, which is indistinguishable from theft, and is treated
//! as reuse: `Revoked`, and the family (including the successor the first call just received)
//! is revoked. The winner's new *access* token keeps working until its `exp`.
//!
//! Why no grace period (some providers accept the previous token for a few seconds): RFC 9700
//! §4.14.2 describes rotation as detecting exactly this double use, and a grace window is a
//! window in which a thief's replay succeeds. The cost falls on clients that fire two
//! refreshes at once (two tabs): they must serialise refreshes (one in flight per client),
//! which well-behaved OAuth clients do anyway. The rule is deterministic and tested.
//!
//! # Keys
//!
//! Every key carries the user's slot tag `{T}` (2 characters of SHA-256(subject), see
//! `authbench_store::slot`), so a family, its refresh tokens and the user's index share one
//! Redis Cluster hash slot, and users spread over the cluster. The same layout serves a single
//! Redis.
//!
//! - A **family ID** (the access token's `sid` claim) is `T.<fid>`: the tag, a dot, 128 random
//!   bits (22 base64url characters).
//! - A **refresh token** is `T.<base64url(fid bytes ‖ 256-bit secret)>` (67 characters): the
//!   server finds tag and family from the token alone, as every script must name all its keys
//!   up front. Its one dot tells it from a JWT (two dots). A user's tokens share the tag (the
//!   linkability trade-off documented in `authbench_store::slot`).
//! - `<prefix>:jwt:fam:{T}:<fid>`: a hash `sub`, `ten`, `roles` (JSON), `created`, `deadline`,
//!   `cur` (hash of the current refresh token). Expires at the family's deadline:
//!   [`JwtConfig::refresh_ttl_secs`](crate::JwtConfig::refresh_ttl_secs) after login, however
//!   often it rotates (an absolute lifetime, like a session's).
//! - `<prefix>:jwt:rt:{T}:<SHA-256(refresh token)>` → `fid`, for every token the family ever
//!   had (spent ones too: that is how reuse is recognised), until the family's deadline. A
//!   token whose hash is not there was never issued: it is `unknown`, and (unlike a spent one)
//!   cannot revoke anyone's family.
//! - `<prefix>:jwt:ufam:{T}:<SHA-256(subject)>`: a sorted set of the user's family IDs (scored
//!   by deadline), for `revoke_all` and `update_identity`; pruned lazily like the session
//!   index.
//!
//! Revoking a family deletes its hash: its refresh tokens still map to the `fid`, which no
//! longer exists, so they are all dead in one `DEL`. Access tokens carry the family ID as the
//! `sid` claim, so `revoke(access token)` (logout) can find the family.

use authbench_core::{Error, ErrorKind, Identity};
use authbench_store::{
    LuaScript, Store, StoreError, UserSlot, index_guard_lua, is_slot_tag, tagged_key,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use redis::Value;

use super::sha256_b64;
use crate::error::JwtError;

/// Random bytes in a refresh token's secret: 256 bits (the brief's floor, and the session
/// crate's default).
pub const REFRESH_TOKEN_BYTES: usize = 32;

/// Random bytes in a family ID: 128 bits, unguessable.
const FAMILY_ID_BYTES: usize = 16;

/// Characters of the random part of a family ID: `ceil(16 * 4 / 3)`.
const FID_CHARS: usize = 22;

/// Characters of a refresh token's blob: base64url of fid bytes and secret (48 bytes → 64).
const BLOB_CHARS: usize = 64;

/// Length of a refresh token in characters: tag, dot, blob.
const REFRESH_TOKEN_CHARS: usize = authbench_store::SLOT_TAG_CHARS + 1 + BLOB_CHARS;

/// Starts a family. KEYS = family, refresh token, user index. ARGV = sub, ten, roles, now,
/// deadline, refresh-token hash, fid, ttl. Returns 1, or 0 if either key exists (a collision
/// of 128/256-bit random values: the generator is broken).
const ISSUE_LUA: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'sub', ARGV[1], 'ten', ARGV[2], 'roles', ARGV[3],
           'created', ARGV[4], 'deadline', ARGV[5], 'cur', ARGV[6])
redis.call('EXPIRE', KEYS[1], ARGV[8])
redis.call('SET', KEYS[2], ARGV[7], 'EX', ARGV[8])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[4])
redis.call('ZADD', KEYS[3], ARGV[5], ARGV[7])
redis.call('EXPIRE', KEYS[3], ARGV[8])
return 1
"#;

/// Rotates. KEYS = presented refresh token, successor, family. ARGV = now, presented hash,
/// successor hash, fid (from the token). Returns `{"ok", fid, sub, ten, roles, deadline}`, or
/// `{"unknown"}`, `{"revoked"}`, `{"expired"}`, `{"reuse"}` (the family is now revoked),
/// `{"corrupt"}`, `{"collision"}`.
const ROTATE_LUA: &str = r#"
local fid = redis.call('GET', KEYS[1])
if not fid or fid ~= ARGV[4] then return {'unknown'} end
local f = redis.call('HMGET', KEYS[3], 'sub', 'ten', 'roles', 'deadline', 'cur')
if not f[1] then return {'revoked'} end
local now, deadline = tonumber(ARGV[1]), tonumber(f[4])
if not deadline or not f[2] or not f[3] or not f[5] then return {'corrupt'} end
if now >= deadline then redis.call('DEL', KEYS[3]) return {'expired'} end
if f[5] ~= ARGV[2] then redis.call('DEL', KEYS[3]) return {'reuse'} end
if not redis.call('SET', KEYS[2], fid, 'NX', 'EX', deadline - now) then return {'collision'} end
redis.call('HSET', KEYS[3], 'cur', ARGV[3])
return {'ok', fid, f[1], f[2], f[3], deadline}
"#;

/// Revokes the family of a refresh token, if the token was really issued. KEYS = refresh
/// token, family. ARGV = fid (from the token). Returns 1 if a family was deleted.
const REVOKE_BY_REFRESH_LUA: &str = r#"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[2])
"#;

/// Revokes every family of a user: the store's shared script (index + its families).
const REVOKE_ALL_LUA: &str = authbench_store::DELETE_INDEXED_LUA;

/// Rewrites tenant and roles in every live family of a user. Index calling convention
/// (`index_guard_lua!`); own ARGV = tenant, roles JSON. Returns how many families were updated.
const UPDATE_IDENTITY_LUA: &str = concat!(
    index_guard_lua!(),
    r#"
local updated = 0
for i = 1, n do
  if redis.call('EXISTS', KEYS[1 + i]) == 1 then
    redis.call('HSET', KEYS[1 + i], 'ten', ARGV[extra], 'roles', ARGV[extra + 1])
    updated = updated + 1
  else
    redis.call('ZREM', KEYS[1], ARGV[1 + i])
  end
end
return updated
"#
);

/// What a successful rotation hands back: the family and the identity to sign.
#[derive(Debug)]
pub(crate) struct Rotated {
    /// The `sid` claim: `T.<fid>`.
    pub(crate) family_id: String,
    pub(crate) identity: Identity,
    pub(crate) refresh_token: String,
}

/// A new family: its ID (the `sid` claim, `T.<fid>`) and first refresh token.
#[derive(Debug)]
pub(crate) struct Started {
    pub(crate) family_id: String,
    pub(crate) refresh_token: String,
}

/// The refresh strategy's Redis side.
#[derive(Debug)]
pub(crate) struct Refresh {
    store: Store,
    issue_lua: LuaScript,
    rotate_lua: LuaScript,
    revoke_by_refresh_lua: LuaScript,
    revoke_all_lua: LuaScript,
    update_identity_lua: LuaScript,
    /// `<prefix>:jwt:fam:`.
    fam_prefix: String,
    /// `<prefix>:jwt:rt:`.
    rt_prefix: String,
    /// `<prefix>:jwt:ufam:`.
    user_prefix: String,
    /// A family's absolute lifetime, seconds.
    family_ttl_secs: u64,
}

fn corrupt(why: &str) -> Error {
    Error::new(ErrorKind::Internal, format!("refresh-token store: {why}"))
}

fn text(v: &Value) -> Result<&str, Error> {
    match v {
        Value::BulkString(bytes) => {
            std::str::from_utf8(bytes).map_err(|_| corrupt("field is not UTF-8"))
        }
        Value::SimpleString(s) => Ok(s),
        _ => Err(corrupt("field is not a string")),
    }
}

fn is_b64url(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A refresh token's parts, found without Redis.
struct ParsedRefresh<'a> {
    tag: &'a str,
    fid: String,
}

/// Splits a refresh token into tag and family ID, or says it is not one of ours. Pure
/// computation: garbage never reaches Redis.
fn parse_refresh_token(token: &str) -> Option<ParsedRefresh<'_>> {
    if !looks_like_refresh_token(token) {
        return None;
    }
    let (tag, blob) = token.split_at(authbench_store::SLOT_TAG_CHARS);
    let mut raw = [0u8; FAMILY_ID_BYTES + REFRESH_TOKEN_BYTES];
    match URL_SAFE_NO_PAD.decode_slice(&blob[1..], &mut raw) {
        Ok(n) if n == raw.len() => Some(ParsedRefresh {
            tag,
            fid: URL_SAFE_NO_PAD.encode(&raw[..FAMILY_ID_BYTES]),
        }),
        _ => None,
    }
}

/// Splits a family ID (`sid` claim) `T.<fid>` into tag and fid.
fn parse_family_id(sid: &str) -> Option<(&str, &str)> {
    let (tag, fid) = sid.split_once('.')?;
    (is_slot_tag(tag) && fid.len() == FID_CHARS && is_b64url(fid)).then_some((tag, fid))
}

/// Whether `token` has the shape of one of our refresh tokens (`T.` and 64 base64url
/// characters, one dot); the backend uses it to tell refresh tokens from access tokens (two
/// dots) in `revoke`.
pub(crate) fn looks_like_refresh_token(token: &str) -> bool {
    // Bytes, not string slices: a multi-byte character must not make us slice inside it.
    let bytes = token.as_bytes();
    let b64 = |b: &u8| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_';
    let tag = authbench_store::SLOT_TAG_CHARS;
    bytes.len() == REFRESH_TOKEN_CHARS
        && bytes[tag] == b'.'
        && bytes[..tag].iter().all(b64)
        && bytes[tag + 1..].iter().all(b64)
}

impl Refresh {
    pub(crate) async fn new(
        store: Store,
        prefix: &str,
        family_ttl_secs: u64,
    ) -> Result<Self, StoreError> {
        authbench_store::check_key_prefix(prefix)?;
        let this = Self {
            store,
            issue_lua: LuaScript::new(ISSUE_LUA),
            rotate_lua: LuaScript::new(ROTATE_LUA),
            revoke_by_refresh_lua: LuaScript::new(REVOKE_BY_REFRESH_LUA),
            revoke_all_lua: LuaScript::new(REVOKE_ALL_LUA),
            update_identity_lua: LuaScript::new(UPDATE_IDENTITY_LUA),
            fam_prefix: format!("{prefix}:jwt:fam:"),
            rt_prefix: format!("{prefix}:jwt:rt:"),
            user_prefix: format!("{prefix}:jwt:ufam:"),
            family_ttl_secs,
        };
        this.store
            .load_scripts(&[
                &this.issue_lua,
                &this.rotate_lua,
                &this.revoke_by_refresh_lua,
                &this.revoke_all_lua,
                &this.update_identity_lua,
            ])
            .await?;
        Ok(this)
    }

    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// The key of a refresh token (in slot `tag`) and its hash.
    fn rt_key(&self, tag: &str, refresh_token: &str) -> (String, String) {
        let hash = sha256_b64(refresh_token.as_bytes());
        (tagged_key(&self.rt_prefix, tag, &hash), hash)
    }

    fn fam_key(&self, tag: &str, fid: &str) -> String {
        tagged_key(&self.fam_prefix, tag, fid)
    }

    fn user_key(&self, user: &UserSlot) -> String {
        tagged_key(&self.user_prefix, user.tag(), user.hash())
    }

    /// A fresh refresh token of family `fid_raw` in slot `tag`.
    fn new_token(tag: &str, fid_raw: &[u8; FAMILY_ID_BYTES]) -> Result<String, Error> {
        let mut raw = [0u8; FAMILY_ID_BYTES + REFRESH_TOKEN_BYTES];
        raw[..FAMILY_ID_BYTES].copy_from_slice(fid_raw);
        getrandom::fill(&mut raw[FAMILY_ID_BYTES..]).map_err(|_| JwtError::Random)?;
        let mut token = String::with_capacity(REFRESH_TOKEN_CHARS);
        token.push_str(tag);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(raw, &mut token);
        Ok(token)
    }

    /// Starts a family for `who`: one round trip.
    pub(crate) async fn start(&self, who: &Identity, now: u64) -> Result<Started, Error> {
        let user = UserSlot::of(&who.subject);
        let mut fid_raw = [0u8; FAMILY_ID_BYTES];
        getrandom::fill(&mut fid_raw).map_err(|_| JwtError::Random)?;
        let fid = URL_SAFE_NO_PAD.encode(fid_raw);
        let refresh_token = Self::new_token(user.tag(), &fid_raw)?;
        let (rt_key, rt_hash) = self.rt_key(user.tag(), &refresh_token);
        let fam_key = self.fam_key(user.tag(), &fid);
        let roles = serde_json::to_string(&who.roles)
            .map_err(|e| corrupt(&format!("roles not serialisable: {e}")))?;
        let reply = self
            .store
            .run(
                &self.issue_lua,
                &[&fam_key, &rt_key, &self.user_key(&user)],
                &[
                    &who.subject,
                    &who.tenant,
                    &roles,
                    &now.to_string(),
                    &(now + self.family_ttl_secs).to_string(),
                    &rt_hash,
                    &fid,
                    &self.family_ttl_secs.to_string(),
                ],
            )
            .await?;
        if reply != Value::Int(1) {
            return Err(corrupt(
                "a fresh random family or refresh token already exists: the random generator is broken",
            ));
        }
        Ok(Started {
            family_id: format!("{}.{fid}", user.tag()),
            refresh_token,
        })
    }

    /// Spends `presented` and returns its successor with the family's (current) identity:
    /// one round trip. Reuse of a spent token revokes the family.
    pub(crate) async fn rotate(&self, presented: &str, now: u64) -> Result<Rotated, Error> {
        let Some(parsed) = parse_refresh_token(presented) else {
            return Err(Error::new(
                ErrorKind::Malformed,
                "not a refresh token of this server",
            ));
        };
        let tag = parsed.tag;
        let mut fid_raw = [0u8; FAMILY_ID_BYTES];
        URL_SAFE_NO_PAD
            .decode_slice(&parsed.fid, &mut fid_raw)
            .map_err(|_| corrupt("family id does not decode"))?;
        let (old_key, old_hash) = self.rt_key(tag, presented);
        let successor = Self::new_token(tag, &fid_raw)?;
        let (new_key, new_hash) = self.rt_key(tag, &successor);
        let fam_key = self.fam_key(tag, &parsed.fid);
        let reply = self
            .store
            .run(
                &self.rotate_lua,
                &[&old_key, &new_key, &fam_key],
                &[&now.to_string(), &old_hash, &new_hash, &parsed.fid],
            )
            .await?;
        let Value::Array(fields) = reply else {
            return Err(corrupt("rotate reply is not an array"));
        };
        let status = fields.first().map(text).transpose()?;
        match (status, fields.as_slice()) {
            (Some("ok"), [_, fid, sub, ten, roles, _deadline]) => {
                let roles: Vec<String> = serde_json::from_str(text(roles)?)
                    .map_err(|_| corrupt("roles are not a JSON string array"))?;
                Ok(Rotated {
                    family_id: format!("{tag}.{}", text(fid)?),
                    identity: Identity {
                        subject: text(sub)?.to_owned(),
                        tenant: text(ten)?.to_owned(),
                        roles,
                    },
                    refresh_token: successor,
                })
            }
            (Some("unknown"), _) => Err(Error::new(
                ErrorKind::UnknownSession,
                "no live refresh token for this value",
            )),
            (Some("revoked"), _) => Err(Error::new(
                ErrorKind::Revoked,
                "the refresh token's family has been revoked",
            )),
            (Some("expired"), _) => Err(Error::new(
                ErrorKind::Expired,
                "the refresh token's family is past its lifetime",
            )),
            (Some("reuse"), _) => {
                tracing::warn!("refresh token reuse detected: family revoked");
                Err(Error::new(
                    ErrorKind::Revoked,
                    "refresh token already used: reuse detected, every token of its family is revoked",
                ))
            }
            (Some("collision"), _) => Err(corrupt(
                "a fresh random refresh token already exists: the random generator is broken",
            )),
            _ => Err(corrupt("refresh family record has an unexpected shape")),
        }
    }

    /// Revokes the family `family_id` (the `sid` claim of a verified access token; logout).
    /// One `DEL`; the user's index drops the entry lazily.
    pub(crate) async fn revoke_family(&self, family_id: &str) -> Result<(), Error> {
        let Some((tag, fid)) = parse_family_id(family_id) else {
            return Err(Error::new(
                ErrorKind::Malformed,
                "claim `sid` is not a family ID of this server",
            ));
        };
        let mut del = redis::cmd("DEL");
        del.arg(self.fam_key(tag, fid));
        self.store.query::<i64>(&del).await?;
        Ok(())
    }

    /// Revokes the family of a refresh token (logout with the refresh token, RFC 7009 style).
    /// A token that was never issued changes nothing.
    pub(crate) async fn revoke_by_refresh_token(&self, refresh_token: &str) -> Result<(), Error> {
        let Some(parsed) = parse_refresh_token(refresh_token) else {
            return Err(Error::new(
                ErrorKind::Malformed,
                "not a refresh token of this server",
            ));
        };
        let (key, _) = self.rt_key(parsed.tag, refresh_token);
        let fam = self.fam_key(parsed.tag, &parsed.fid);
        self.store
            .run(&self.revoke_by_refresh_lua, &[&key, &fam], &[&parsed.fid])
            .await?;
        Ok(())
    }

    /// Revokes every family of `subject`: `ZRANGE` of the index, then one script.
    pub(crate) async fn revoke_all(&self, subject: &str) -> Result<(), Error> {
        let user = UserSlot::of(subject);
        self.store
            .run_indexed(
                &self.revoke_all_lua,
                &self.user_key(&user),
                |m| self.fam_key(user.tag(), m),
                &[],
            )
            .await?;
        Ok(())
    }

    /// Rewrites tenant and roles in every family of `who.subject`: the next refresh signs them.
    pub(crate) async fn update_identity(&self, who: &Identity) -> Result<(), Error> {
        let user = UserSlot::of(&who.subject);
        let roles = serde_json::to_string(&who.roles)
            .map_err(|e| corrupt(&format!("roles not serialisable: {e}")))?;
        self.store
            .run_indexed(
                &self.update_identity_lua,
                &self.user_key(&user),
                |m| self.fam_key(user.tag(), m),
                &[&who.tenant, &roles],
            )
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_have_one_shape() {
        let fid = [7u8; FAMILY_ID_BYTES];
        let t = Refresh::new_token("Ab", &fid).expect("rng");
        assert_eq!(t.len(), REFRESH_TOKEN_CHARS);
        assert_eq!(t.len(), 67);
        assert!(looks_like_refresh_token(&t));
        let parsed = parse_refresh_token(&t).expect("ours");
        assert_eq!(parsed.tag, "Ab");
        assert_eq!(parsed.fid, URL_SAFE_NO_PAD.encode(fid));
        assert!(!looks_like_refresh_token(&t[1..]));
        assert!(!looks_like_refresh_token("a.b.c"));
        assert!(!looks_like_refresh_token(""));
        let mut dotted = t.clone();
        dotted.replace_range(5..6, ".");
        assert!(!looks_like_refresh_token(&dotted));
        let mut bad_tag = t.clone();
        bad_tag.replace_range(0..1, "+");
        assert!(parse_refresh_token(&bad_tag).is_none());
    }

    #[test]
    fn family_ids_carry_the_tag() {
        let fid = URL_SAFE_NO_PAD.encode([1u8; FAMILY_ID_BYTES]);
        assert_eq!(
            parse_family_id(&format!("Ab.{fid}")),
            Some(("Ab", fid.as_str()))
        );
        assert_eq!(parse_family_id(&fid), None);
        assert_eq!(parse_family_id(&format!("A.{fid}")), None);
        assert_eq!(parse_family_id(&format!("Ab.{fid}x")), None);
    }
}
