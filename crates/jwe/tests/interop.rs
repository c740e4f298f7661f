//! Tokens made by an independent implementation (joserfc, Python; `data/joserfc-vectors.json`,
//! fresh keys) decrypt here, in every mode: the format, the Concat KDF, AES key wrap and
//! RSA-OAEP-256 agree with someone else's reading of RFC 7516/7518.

use authbench_jwe::{DecryptOptions, Decrypter, JweKey, KeyAlg};

#[test]
fn joserfc_tokens_decrypt_in_every_mode() {
    let data: serde_json::Value =
        serde_json::from_str(include_str!("data/joserfc-vectors.json")).expect("vectors");
    let plaintext = data["plaintext"].as_str().expect("plaintext");
    let mut seen = Vec::new();
    for case in data["cases"].as_array().expect("cases") {
        let alg: KeyAlg = case["alg"]
            .as_str()
            .expect("alg")
            .parse()
            .expect("known alg");
        let key = JweKey::from_text(alg, case["key"].as_str().expect("key")).expect("key reads");
        let token = case["token"].as_str().expect("token");
        let d = Decrypter::new(key, DecryptOptions::default()).expect("decrypter");
        let out = d.decrypt(token).unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(out, plaintext.as_bytes(), "{alg}");
        // One flipped character of the tag: rejected.
        let mut bad = token.to_owned();
        let last = bad.pop().expect("non-empty");
        bad.push(if last == 'A' { 'Q' } else { 'A' });
        assert!(d.decrypt(&bad).is_err(), "{alg}");
        seen.push(alg);
    }
    assert_eq!(seen, KeyAlg::ALL);
}
