//! MD5s as the manifest and S3 spell them (32 hex digits), read and compared at a
//! table lookup per digit: a no-op publish of 50,000 files reads each record's MD5
//! once and compares it once, after the walk and before it can answer.

/// Each byte's value as a hex digit; `INVALID` for every other byte.
const DIGITS: [u8; 256] = {
    let mut table = [INVALID; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        table[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};
const INVALID: u8 = 0x10;

/// The MD5 that `hex` spells (32 digits, either case), or `None`.
pub(crate) fn parse(hex: &str) -> Option<[u8; 16]> {
    let hex: &[u8; 32] = hex.as_bytes().try_into().ok()?;
    let mut out = [0u8; 16];
    let mut bad = 0;
    for (byte, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        let (high, low) = (DIGITS[usize::from(pair[0])], DIGITS[usize::from(pair[1])]);
        bad |= high | low;
        *byte = (high << 4) | (low & 0x0f);
    }
    (bad & INVALID == 0).then_some(out)
}

/// Whether `hex` spells `md5` (in either case), without parsing it.
pub(crate) fn spells(md5: &[u8; 16], hex: &str) -> bool {
    hex.as_bytes().eq_ignore_ascii_case(&lower(md5))
}

/// `md5` in lowercase hex, as S3 spells ETags.
pub(crate) fn spell(md5: &[u8; 16]) -> String {
    String::from_utf8_lossy(&lower(md5)).into_owned()
}

fn lower(md5: &[u8; 16]) -> [u8; 32] {
    const LOWER: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 32];
    for (pair, byte) in out.chunks_exact_mut(2).zip(md5) {
        pair[0] = LOWER[usize::from(byte >> 4)];
        pair[1] = LOWER[usize::from(byte & 0x0f)];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_compares_as_the_hex_crate_does() {
        let md5: [u8; 16] = *b"\x00\x01\x7f\x80\x9a\xbc\xde\xff\x10\x2f\x3e\x4d\x5c\x6b\x7a\x89";
        let lower = hex::encode(md5);
        let upper = lower.to_uppercase();
        assert_eq!(spell(&md5), lower);
        for spelled in [&lower, &upper] {
            assert_eq!(parse(spelled), Some(md5), "{spelled}");
            assert!(spells(&md5, spelled), "{spelled}");
        }
        let mut other = md5;
        other[15] ^= 1;
        assert!(!spells(&other, &lower));
        for bad in [
            "",
            &lower[..31],
            &format!("{lower}0"),
            &lower.replacen('a', "g", 1),
            &lower.replacen('0', " ", 1),
            &format!("{}\u{e9}", &lower[..30]),
            "\"d41d8cd98f00b204e9800998ecf8427e\"",
            "d41d8cd98f00b204e9800998ecf8427e-2",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
            assert!(!spells(&md5, bad), "{bad:?}");
        }
        // Every byte value, through both directions.
        for b in 0..=255u8 {
            let md5 = [b; 16];
            assert_eq!(parse(&hex::encode(md5)), Some(md5));
            assert!(spells(&md5, &hex::encode_upper(md5)));
        }
    }
}
