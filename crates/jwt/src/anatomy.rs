//! The anatomy of a JWT, part by part, for `authbench token decode`: `authbench_spec::anatomy`
//! (which needs no cryptography, so `authbench report` uses it without linking this crate),
//! with [`inspect`]'s error as an [`authbench_core::Error`] like every other error here.

use authbench_core::{Error, ErrorKind};

pub use authbench_spec::anatomy::{Anatomy, MAX_INSPECT_BYTES, Part, SignaturePart, explain};

/// Splits a compact JWS into its parts and decodes them, without verifying anything
/// ([`authbench_spec::anatomy::inspect`]).
///
/// Fails with [`ErrorKind::TooLarge`] above [`MAX_INSPECT_BYTES`], and [`ErrorKind::Malformed`]
/// when the token does not have three base64url segments or the header is not a JSON object.
pub fn inspect(token: &str) -> Result<Anatomy, Error> {
    authbench_spec::anatomy::inspect(token).map_err(|e| {
        let kind = match e.kind() {
            authbench_spec::anatomy::ErrorKind::Malformed => ErrorKind::Malformed,
            authbench_spec::anatomy::ErrorKind::TooLarge => ErrorKind::TooLarge,
        };
        Error::new(kind, e.detail())
    })
}
