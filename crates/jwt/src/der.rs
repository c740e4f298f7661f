//! Just enough DER to move keys between the shapes aws-lc-rs produces and the shapes
//! jsonwebtoken expects.
//!
//! aws-lc-rs exports an RSA key pair as PKCS#8 (`PrivateKeyInfo`), but jsonwebtoken's
//! `EncodingKey::from_rsa_der` wants the PKCS#1 `RSAPrivateKey` that PKCS#8 wraps in an OCTET
//! STRING. Unwrapping it is three TLV reads, so we do it here rather than pull in an ASN.1
//! crate. This is a *reader for our own keys and for key files the operator supplies*, never
//! for anything a client sends.

use base64::Engine as _;

/// DER tag of a SEQUENCE.
const TAG_SEQUENCE: u8 = 0x30;
/// DER tag of an INTEGER.
const TAG_INTEGER: u8 = 0x02;
/// DER tag of an OCTET STRING.
const TAG_OCTET_STRING: u8 = 0x04;
/// Longest length field we accept: 4 bytes (keys are far below 4 GiB).
const MAX_LENGTH_BYTES: usize = 4;

/// Reads one tag-length-value; returns (tag, value, rest).
fn read_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > MAX_LENGTH_BYTES || rest.len() < n {
            return None;
        }
        let (len_bytes, after) = rest.split_at(n);
        rest = after;
        len_bytes
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b))
    };
    if rest.len() < len {
        return None;
    }
    let (value, rest) = rest.split_at(len);
    Some((tag, value, rest))
}

fn expect(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (t, value, rest) = read_tlv(input)?;
    (t == tag).then_some((value, rest))
}

/// The `privateKey` OCTET STRING of a PKCS#8 `PrivateKeyInfo` (RFC 5208 / RFC 5958).
pub(crate) fn pkcs8_private_key(der: &[u8]) -> Option<&[u8]> {
    let (info, _) = expect(der, TAG_SEQUENCE)?;
    let (_version, rest) = expect(info, TAG_INTEGER)?;
    let (_algorithm, rest) = expect(rest, TAG_SEQUENCE)?;
    let (private_key, _) = expect(rest, TAG_OCTET_STRING)?;
    Some(private_key)
}

/// The nine INTEGERs of a PKCS#1 `RSAPrivateKey` (RFC 8017 A.1.2), leading zero bytes stripped:
/// version, n, e, d, p, q, dP, dQ, qInv.
pub(crate) fn rsa_private_key_integers(pkcs1: &[u8]) -> Option<[&[u8]; 9]> {
    let (mut seq, _) = expect(pkcs1, TAG_SEQUENCE)?;
    let mut out: [&[u8]; 9] = [&[]; 9];
    for slot in &mut out {
        let (value, rest) = expect(seq, TAG_INTEGER)?;
        *slot = strip_leading_zeros(value);
        seq = rest;
    }
    Some(out)
}

/// Big-endian unsigned integers in JWKs carry no leading zero octets (RFC 7518 §2,
/// "Base64urlUInt"); DER adds one when the high bit is set.
pub(crate) fn strip_leading_zeros(mut bytes: &[u8]) -> &[u8] {
    while let [0, rest @ ..] = bytes {
        if rest.is_empty() {
            break;
        }
        bytes = rest;
    }
    bytes
}

/// A PKCS#1 `RSAPublicKey` (RFC 8017 A.1.1), `SEQUENCE { INTEGER n, INTEGER e }`, from
/// big-endian unsigned `n` and `e` (leading zeros allowed; a zero octet is added where the
/// high bit is set, as DER's two's complement needs).
pub(crate) fn rsa_public_key(n: &[u8], e: &[u8]) -> Vec<u8> {
    fn integer(out: &mut Vec<u8>, value: &[u8]) {
        let value = strip_leading_zeros(value);
        let pad = value.first().is_some_and(|b| b & 0x80 != 0);
        out.push(TAG_INTEGER);
        length(out, value.len() + usize::from(pad));
        if pad {
            out.push(0);
        }
        out.extend_from_slice(value);
    }
    fn length(out: &mut Vec<u8>, len: usize) {
        if len < 0x80 {
            out.push(len as u8);
        } else {
            let bytes = len.to_be_bytes();
            let skip = bytes.iter().take_while(|&&b| b == 0).count();
            out.push(0x80 | (bytes.len() - skip) as u8);
            out.extend_from_slice(&bytes[skip..]);
        }
    }
    let mut body = Vec::with_capacity(n.len() + e.len() + 8);
    integer(&mut body, n);
    integer(&mut body, e);
    let mut out = Vec::with_capacity(body.len() + 4);
    out.push(TAG_SEQUENCE);
    length(&mut out, body.len());
    out.extend_from_slice(&body);
    out
}

/// PEM armour around DER (RFC 7468), 64 base64 characters a line: how `authbench token`
/// and the JWE crate write keys.
pub fn pem(label: &str, der: &[u8]) -> String {
    /// RFC 7468 §2: lines of exactly 64 characters except the last.
    const PEM_LINE: usize = 64;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(PEM_LINE) {
        // base64 output is ASCII, so every chunk is valid UTF-8.
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_short_and_long_lengths_and_refuses_truncation() {
        assert_eq!(
            read_tlv(&[0x02, 0x01, 0x05]),
            Some((0x02, &[5u8][..], &[][..]))
        );
        let mut long = vec![0x04, 0x81, 0x80];
        long.extend([7u8; 0x80]);
        let (tag, value, rest) = read_tlv(&long).expect("long form");
        assert_eq!((tag, value.len(), rest.len()), (0x04, 0x80, 0));
        assert_eq!(read_tlv(&[0x04, 0x05, 1, 2]), None);
        assert_eq!(read_tlv(&[0x04, 0x85, 1, 1, 1, 1, 1]), None);
    }

    #[test]
    fn encodes_an_rsa_public_key_that_reads_back() {
        let mut n = vec![0u8, 0xC1];
        n.extend([0x5A; 255]);
        let der = rsa_public_key(&n, &[1, 0, 1]);
        let (seq, rest) = expect(&der, TAG_SEQUENCE).expect("a SEQUENCE");
        assert!(rest.is_empty());
        let (n_der, rest) = expect(seq, TAG_INTEGER).expect("n");
        // The caller's leading zero dropped, DER's sign octet added: 0x00 0xC1 0x5A….
        assert_eq!((n_der.len(), n_der[0], n_der[1]), (257, 0, 0xC1));
        let (e_der, rest) = expect(rest, TAG_INTEGER).expect("e");
        assert_eq!((e_der, rest), (&[1u8, 0, 1][..], &[][..]));
    }

    #[test]
    fn strips_leading_zeros_but_keeps_zero() {
        assert_eq!(strip_leading_zeros(&[0, 0, 0x80]), &[0x80]);
        assert_eq!(strip_leading_zeros(&[0]), &[0]);
    }
}
