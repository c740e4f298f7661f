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
//! - `<prefix>:jwt:fam:<fid>`: a hash `sub`, `ten`, `roles` (JSON), `created`, `deadline`,
//!   `cur` (hash of the current refresh token), `idx` (the user's index key). Expires at the
//!   family's deadline: [`JwtConfig::refresh_ttl_secs`](crate::JwtConfig::refresh_ttl_secs)
//!   after login, however often it rotates (an absolute lifetime, like a session's).
//! - `<prefix>:jwt:rt:<SHA-256(refresh token)>` → `fid`, for every token the family ever had
//!   (spent ones too: that is how reuse is recognised), until the family's deadline.
//! - `<prefix>:jwt:ufam:<SHA-256(subject)>`: the set of the user's family IDs, for
//!   `revoke_all` and `update_identity`.
//!
//! Revoking a family deletes its hash: its refresh tokens still map to the `fid`, which no
//! longer exists, so they are all dead in one `DEL`. Access tokens carry the family ID as the
//! `sid` claim, so `revoke(access token)` (logout) can find the family. Scripts reach keys they
//! compute inside Redis (standalone Redis only, as in the session crate).

use authbench_core::{Error, ErrorKind, Identity};
use authbench_store::{LuaScript, Store, StoreError};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use redis::Value;

use super::sha256_b64;
use crate::error::JwtError;

/// Random bytes in a refresh token: 256 bits (the brief's floor, and the session crate's
/// default), 43 base64url characters.
pub const REFRESH_TOKEN_BYTES: usize = 32;

/// Length of a refresh token in characters: `ceil(32 * 4 / 3)` without padding.
const REFRESH_TOKEN_CHARS: usize = 43;

/// Random bytes in a family ID: 128 bits, unguessable, 22 characters in the `sid` claim.
const FAMILY_ID_BYTES: usize = 16;

/// Starts a family. KEYS = family, refresh token, user index. ARGV = sub, ten, roles, now,
/// deadline, refresh-token hash, fid, ttl, family key prefix. Returns 1, or 0 if either key
/// exists (a collision of 128/256-bit random values: the generator is broken).
const ISSUE_LUA: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'sub', ARGV[1], 'ten', ARGV[2], 'roles', ARGV[3],
           'created', ARGV[4], 'deadline', ARGV[5], 'cur', ARGV[6], 'idx', KEYS[3])
redis.call('EXPIRE', KEYS[1], ARGV[8])
redis.call('SET', KEYS[2], ARGV[7], 'EX', ARGV[8])
for _, m in ipairs(redis.call('SRANDMEMBER', KEYS[3], 3)) do
  if redis.call('EXISTS', ARGV[9] .. m) == 0 then redis.call('SREM', KEYS[3], m) end
end
redis.call('SADD', KEYS[3], ARGV[7])
redis.call('EXPIRE', KEYS[3], ARGV[8])
return 1
"#;

/// Rotates. KEYS = presented refresh token, successor. ARGV = now, presented hash, successor
/// hash, family key prefix. Returns `{"ok", fid, sub, ten, roles, deadline}`, or `{"unknown"}`,
/// `{"revoked"}`, `{"expired"}`, `{"reuse"}` (the family is now revoked), `{"corrupt"}`,
/// `{"collision"}`.
const ROTATE_LUA: &str = r#"
local fid = redis.call('GET', KEYS[1])
if not fid then return {'unknown'} end
local fam = ARGV[4] .. fid
local f = redis.call('HMGET', fam, 'sub', 'ten', 'roles', 'deadline', 'cur', 'idx')
if not f[1] then return {'revoked'} end
local now, deadline = tonumber(ARGV[1]), tonumber(f[4])
if not deadline or not f[2] or not f[3] or not f[5] then return {'corrupt'} end
local function kill()
  redis.call('DEL', fam)
  if f[6] then redis.call('SREM', f[6], fid) end
end
if now >= deadline then kill() return {'expired'} end
if f[5] ~= ARGV[2] then kill() return {'reuse'} end
if not redis.call('SET', KEYS[2], fid, 'NX', 'EX', deadline - now) then return {'collision'} end
redis.call('HSET', fam, 'cur', ARGV[3])
return {'ok', fid, f[1], f[2], f[3], deadline}
"#;

/// Revokes a family by its ID. KEYS = family. ARGV = fid. Returns 1 if it existed.
const REVOKE_FAMILY_LUA: &str = r#"
local idx = redis.call('HGET', KEYS[1], 'idx')
local n = redis.call('DEL', KEYS[1])
if idx then redis.call('SREM', idx, ARGV[1]) end
return n
"#;

/// Revokes the family of a refresh token. KEYS = refresh token. ARGV = family key prefix.
const REVOKE_BY_REFRESH_LUA: &str = r#"
local fid = redis.call('GET', KEYS[1])
if not fid then return 0 end
local fam = ARGV[1] .. fid
local idx = redis.call('HGET', fam, 'idx')
local n = redis.call('DEL', fam)
if idx then redis.call('SREM', idx, fid) end
return n
"#;

/// Revokes every record of a user: the store's shared script (index + prefix).
const REVOKE_ALL_LUA: &str = authbench_store::DELETE_INDEXED_LUA;

/// Rewrites tenant and roles in every live family of a user. KEYS = user index. ARGV = family
/// key prefix, tenant, roles JSON. Returns how many families were updated.
const UPDATE_IDENTITY_LUA: &str = r#"
local n = 0
for _, m in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local fam = ARGV[1] .. m
  if redis.call('EXISTS', fam) == 1 then
    redis.call('HSET', fam, 'ten', ARGV[2], 'roles', ARGV[3])
    n = n + 1
  else
    redis.call('SREM', KEYS[1], m)
  end
end
return n
"#;

/// What a successful rotation hands back: the family and the identity to sign.
#[derive(Debug)]
pub(crate) struct Rotated {
    pub(crate) family_id: String,
    pub(crate) identity: Identity,
    pub(crate) refresh_token: String,
}

/// A new family: its ID and first refresh token.
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
    revoke_family_lua: LuaScript,
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

fn random_b64<const N: usize>() -> Result<String, JwtError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|_| JwtError::Random)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
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

/// Whether `token` has the shape of one of our refresh tokens (43 base64url characters); the
/// backend uses it to tell refresh tokens from access tokens in `revoke`.
pub(crate) fn looks_like_refresh_token(token: &str) -> bool {
    token.len() == REFRESH_TOKEN_CHARS
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Refresh {
    pub(crate) async fn new(
        store: Store,
        prefix: &str,
        family_ttl_secs: u64,
    ) -> Result<Self, StoreError> {
        let this = Self {
            store,
            issue_lua: LuaScript::new(ISSUE_LUA),
            rotate_lua: LuaScript::new(ROTATE_LUA),
            revoke_family_lua: LuaScript::new(REVOKE_FAMILY_LUA),
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
                &this.revoke_family_lua,
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

    fn rt_key(&self, refresh_token: &str) -> (String, String) {
        let hash = sha256_b64(refresh_token.as_bytes());
        (format!("{}{hash}", self.rt_prefix), hash)
    }

    fn user_key(&self, subject: &str) -> String {
        format!("{}{}", self.user_prefix, sha256_b64(subject.as_bytes()))
    }

    /// Starts a family for `who`: one round trip.
    pub(crate) async fn start(&self, who: &Identity, now: u64) -> Result<Started, Error> {
        let family_id = random_b64::<FAMILY_ID_BYTES>()?;
        let refresh_token = random_b64::<REFRESH_TOKEN_BYTES>()?;
        let (rt_key, rt_hash) = self.rt_key(&refresh_token);
        let fam_key = format!("{}{family_id}", self.fam_prefix);
        let roles = serde_json::to_string(&who.roles)
            .map_err(|e| corrupt(&format!("roles not serialisable: {e}")))?;
        let reply = self
            .store
            .run(
                &self.issue_lua,
                &[&fam_key, &rt_key, &self.user_key(&who.subject)],
                &[
                    &who.subject,
                    &who.tenant,
                    &roles,
                    &now.to_string(),
                    &(now + self.family_ttl_secs).to_string(),
                    &rt_hash,
                    &family_id,
                    &self.family_ttl_secs.to_string(),
                    &self.fam_prefix,
                ],
            )
            .await?;
        if reply != Value::Int(1) {
            return Err(corrupt(
                "a fresh random family or refresh token already exists: the random generator is broken",
            ));
        }
        Ok(Started {
            family_id,
            refresh_token,
        })
    }

    /// Spends `presented` and returns its successor with the family's (current) identity:
    /// one round trip. Reuse of a spent token revokes the family.
    pub(crate) async fn rotate(&self, presented: &str, now: u64) -> Result<Rotated, Error> {
        if !looks_like_refresh_token(presented) {
            return Err(Error::new(
                ErrorKind::Malformed,
                "not a refresh token of this server",
            ));
        }
        let (old_key, old_hash) = self.rt_key(presented);
        let successor = random_b64::<REFRESH_TOKEN_BYTES>()?;
        let (new_key, new_hash) = self.rt_key(&successor);
        let reply = self
            .store
            .run(
                &self.rotate_lua,
                &[&old_key, &new_key],
                &[&now.to_string(), &old_hash, &new_hash, &self.fam_prefix],
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
                    family_id: text(fid)?.to_owned(),
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

    /// Revokes the family `family_id` (logout with an access token).
    pub(crate) async fn revoke_family(&self, family_id: &str) -> Result<(), Error> {
        let key = format!("{}{family_id}", self.fam_prefix);
        self.store
            .run(&self.revoke_family_lua, &[&key], &[family_id])
            .await?;
        Ok(())
    }

    /// Revokes the family of a refresh token (logout with the refresh token, RFC 7009 style).
    pub(crate) async fn revoke_by_refresh_token(&self, refresh_token: &str) -> Result<(), Error> {
        let (key, _) = self.rt_key(refresh_token);
        self.store
            .run(&self.revoke_by_refresh_lua, &[&key], &[&self.fam_prefix])
            .await?;
        Ok(())
    }

    /// Revokes every family of `subject`: one round trip.
    pub(crate) async fn revoke_all(&self, subject: &str) -> Result<(), Error> {
        self.store
            .run(
                &self.revoke_all_lua,
                &[&self.user_key(subject)],
                &[&self.fam_prefix],
            )
            .await?;
        Ok(())
    }

    /// Rewrites tenant and roles in every family of `who.subject`: the next refresh signs them.
    pub(crate) async fn update_identity(&self, who: &Identity) -> Result<(), Error> {
        let roles = serde_json::to_string(&who.roles)
            .map_err(|e| corrupt(&format!("roles not serialisable: {e}")))?;
        self.store
            .run(
                &self.update_identity_lua,
                &[&self.user_key(&who.subject)],
                &[&self.fam_prefix, &who.tenant, &roles],
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
        let t = random_b64::<REFRESH_TOKEN_BYTES>().expect("rng");
        assert_eq!(t.len(), REFRESH_TOKEN_CHARS);
        assert!(looks_like_refresh_token(&t));
        assert!(!looks_like_refresh_token(&t[1..]));
        assert!(!looks_like_refresh_token("a.b.c"));
        let mut dotted = t.clone();
        dotted.replace_range(0..1, ".");
        assert!(!looks_like_refresh_token(&dotted));
    }
}
