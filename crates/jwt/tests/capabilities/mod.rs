//! What the conformance suite skips for each algorithm and revocation strategy: the
//! capabilities the design does not have. Shared by `conformance.rs` and `cluster.rs`.

use authbench_jwt::{Alg, Revocation};

/// The names of the checks the suite skips for `alg` under `revocation`, in the suite's order:
///
/// - `revoke`: an epoch ends all of a user's tokens and cannot name one;
/// - `update_identity`: a signed token cannot be changed; only `refresh` reaches the next
///   access token through its refresh family (the server revokes instead where it can);
/// - `list_credentials`: no strategy keeps a list of live tokens;
/// - `published_keys`: a shared HMAC secret is never published;
/// - `fail_closed`: skipped where the test gives the suite no store to stop
///   (`store_controlled` false).
pub fn expected_skips(
    alg: Alg,
    revocation: Revocation,
    store_controlled: bool,
) -> Vec<&'static str> {
    let mut skips = Vec::new();
    if revocation == Revocation::Epoch {
        skips.push("revoke");
    }
    if revocation != Revocation::Refresh {
        skips.push("update_identity");
    }
    skips.push("list_credentials");
    if alg == Alg::HS256 {
        skips.push("published_keys");
    }
    if !store_controlled {
        skips.push("fail_closed");
    }
    skips
}
