//! [`LuaScript`]: a script Redis runs atomically, called by its SHA-1.

use redis::aio::ConnectionLike;
use redis::{ErrorKind, RedisError, ServerErrorKind, Value};

/// A Lua script called by its SHA-1 (`EVALSHA`), with an `EVAL` fallback when Redis does not
/// know it.
///
/// # Why scripts
///
/// A check that reads several keys and writes some of them is, as separate commands, several
/// round trips and a race (two requests read, both judge, both write). A Lua script runs inside
/// Redis, atomically, in **one** round trip. The source is sent once ([`Store::load_scripts`]
/// at start-up) and afterwards the script is called by its SHA-1; if Redis has forgotten it (a
/// restart), we fall back to `EVAL` once, which also teaches Redis the script again.
///
/// [`Store::load_scripts`]: crate::Store::load_scripts
#[derive(Debug, Clone)]
pub struct LuaScript {
    /// The source, sent only when Redis has not cached the script.
    source: &'static str,
    /// Lower-case hex SHA-1 of the source: the name Redis caches the script under (SHA-1 is
    /// Redis's choice; it names, it does not protect).
    sha1: String,
}

impl LuaScript {
    /// Wraps `source` and computes its name.
    pub fn new(source: &'static str) -> Self {
        let digest = aws_lc_rs::digest::digest(
            &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
            source.as_bytes(),
        );
        let sha1 = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        Self { source, sha1 }
    }

    /// The Lua source.
    pub fn source(&self) -> &'static str {
        self.source
    }

    /// The lower-case hex SHA-1 Redis knows the script by.
    pub fn sha1(&self) -> &str {
        &self.sha1
    }

    /// Runs the script: `EVALSHA`, and only on `NOSCRIPT` one `EVAL`.
    pub(crate) async fn invoke<C: ConnectionLike + Send>(
        &self,
        conn: &mut C,
        keys: &[&str],
        args: &[&str],
    ) -> Result<Value, RedisError> {
        let call = |verb: &str, body: &str| {
            let mut cmd = redis::cmd(verb);
            cmd.arg(body).arg(keys.len()).arg(keys).arg(args);
            cmd
        };
        match call("EVALSHA", &self.sha1).query_async(conn).await {
            Err(e) if e.kind() == ErrorKind::Server(ServerErrorKind::NoScript) => {
                call("EVAL", self.source).query_async(conn).await
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_names_are_redis_sha1() {
        // Redis names a script by the SHA-1 of its source; SHA-1("") is well known.
        let empty = LuaScript::new("");
        assert_eq!(empty.sha1(), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    }
}
