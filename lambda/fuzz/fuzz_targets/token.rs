//! Untrusted token bytes through the header parser and the full offline
//! verification of signed attributes (jsonwebtoken decode + claim checks).
#![no_main]

use std::sync::OnceLock;

use colorid_lambda::signing::Signer;
use colorid_lambda::token;
use libfuzzer_sys::fuzz_target;

// A fixed key generated for fuzzing only.
const PEM: &str = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgPXEN/SN9LmvJpTbj\nj0/03YEkOaVVzFw/ZWB1pzz0miOhRANCAAT4Vqhvy1Lx20hGpUK3ySJPrLLghMC6\nnkCN21ThkFXmX2K5DnyefDx2tvi+7yiHJbAsNJL3+bBXgn0oq0HBAoNS\n-----END PRIVATE KEY-----\n";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = token::parse_header(text);
    let _ = token::from_authorization(text);
    static SIGNER: OnceLock<Signer> = OnceLock::new();
    let signer = SIGNER.get_or_init(|| Signer::from_pem(PEM, "https://fuzz.example").unwrap());
    // Nothing the fuzzer builds can carry a valid signature.
    assert!(signer.verify(text).is_err());
    assert!(signer.verify_for(text, "https://rp.example").is_err());
});
