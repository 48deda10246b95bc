//! TOTP (RFC 6238: HMAC-SHA-1, 6 digits, 30-second steps, as every authenticator app does by
//! default), the base32 of `otpauth://` URIs, and the replay rule: a code is accepted for the
//! current step or one step either side, and only for a step later than the last one that
//! approver used.

use hmac::{Hmac, Mac as _};
use rand_core::{OsRng, RngCore as _};
use sha1::Sha1;
use zeroize::Zeroizing;

use crate::ApprovalError;

/// Seconds per step.
pub const STEP_SECS: i64 = 30;
/// Digits per code.
pub const DIGITS: u32 = 6;
/// Steps accepted either side of the current one (clock skew between phone and server).
pub const SKEW_STEPS: i64 = 1;
/// Bytes of a new seed (160 bits, RFC 4226's recommendation for SHA-1).
pub const SEED_BYTES: usize = 20;

/// A fresh random seed.
pub fn new_seed() -> Result<Zeroizing<Vec<u8>>, ApprovalError> {
    let mut seed = Zeroizing::new(vec![0u8; SEED_BYTES]);
    OsRng
        .try_fill_bytes(&mut seed)
        .map_err(|error| ApprovalError::Randomness(error.to_string()))?;
    Ok(seed)
}

/// The time step containing `unix_time`.
pub fn step_at(unix_time: i64) -> i64 {
    unix_time.div_euclid(STEP_SECS)
}

/// The code for `seed` at `unix_time` (RFC 6238 with T0 = 0).
pub fn code_at(seed: &[u8], unix_time: i64) -> u32 {
    code_for_step(seed, step_at(unix_time))
}

/// The code as the six digits an authenticator shows.
pub fn format_code(code: u32) -> String {
    format!("{code:06}")
}

fn code_for_step(seed: &[u8], step: i64) -> u32 {
    // HMAC accepts keys of any length, so this cannot fail.
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(seed) else {
        return u32::MAX;
    };
    mac.update(&step.to_be_bytes());
    let hash = mac.finalize().into_bytes();
    // RFC 4226 dynamic truncation: the low nibble of the last byte picks 4 bytes.
    let offset = usize::from(hash.get(19).copied().unwrap_or(0) & 0x0f);
    let word = hash
        .get(offset..offset + 4)
        .and_then(|bytes| <[u8; 4]>::try_from(bytes).ok())
        .map(u32::from_be_bytes)
        .unwrap_or(u32::MAX);
    (word & 0x7fff_ffff) % 10u32.pow(DIGITS)
}

/// Checks `code` (six digits, spaces ignored) at `now` against `seed`, refusing any step not
/// later than `last_used_step`. Returns the step the code belongs to, which the caller must
/// store as the new last used step. Every failure is [`ApprovalError::InvalidCode`], whether
/// the code was wrong, stale, or already used.
pub fn verify(
    seed: &[u8],
    code: &str,
    now: i64,
    last_used_step: Option<i64>,
) -> Result<i64, ApprovalError> {
    let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() != DIGITS as usize || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(ApprovalError::InvalidCode);
    }
    let given: u32 = digits.parse().map_err(|_| ApprovalError::InvalidCode)?;
    let current = step_at(now);
    // Latest step first, so a code valid for two steps (a one-in-a-million collision) uses the
    // later one.
    let mut matched = None;
    for step in (current - SKEW_STEPS..=current + SKEW_STEPS).rev() {
        // Compare every candidate (no early exit) so timing says nothing about which matched.
        let equal = code_for_step(seed, step) == given;
        if equal && matched.is_none() {
            matched = Some(step);
        }
    }
    match (matched, last_used_step) {
        (Some(step), Some(last)) if step <= last => Err(ApprovalError::InvalidCode),
        (Some(step), _) => Ok(step),
        (None, _) => Err(ApprovalError::InvalidCode),
    }
}

/// The `otpauth://` URI that authenticator apps scan.
pub fn otpauth_uri(approver: &str, seed: &[u8]) -> String {
    format!(
        "otpauth://totp/blastdoor:{approver}?secret={}&issuer=blastdoor&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        base32_encode(seed)
    )
}

/// The seed in an `otpauth://` URI's `secret` parameter (for tests and re-enrolment tools).
pub fn seed_from_uri(uri: &str) -> Option<Vec<u8>> {
    let query = uri.split_once('?')?.1;
    let secret = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("secret="))?;
    base32_decode(secret)
}

const BASE32_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32, without padding (as `otpauth://` URIs carry it).
pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let mut buffer: u32 = 0;
    let mut bits = 0u32;
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            push_base32(&mut out, (buffer >> bits) & 0x1f);
        }
        buffer &= (1 << bits) - 1;
    }
    if bits > 0 {
        push_base32(&mut out, (buffer << (5 - bits)) & 0x1f);
    }
    out
}

fn push_base32(out: &mut String, index: u32) {
    let symbol = usize::try_from(index)
        .ok()
        .and_then(|index| BASE32_ALPHABET.get(index))
        .copied()
        .unwrap_or(b'A');
    out.push(char::from(symbol));
}

/// Decodes RFC 4648 base32 (case-insensitive, padding optional).
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let mut buffer: u32 = 0;
    let mut bits = 0u32;
    for symbol in text.trim_end_matches('=').bytes() {
        let value = BASE32_ALPHABET
            .iter()
            .position(|&candidate| candidate == symbol.to_ascii_uppercase())?;
        buffer = (buffer << 5) | u32::try_from(value).ok()?;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((buffer >> bits) & 0xff).ok()?);
        }
        buffer &= (1 << bits) - 1;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 rows (8 digits there; the last 6 are ours).
    #[test]
    fn rfc_6238_test_vectors() {
        let seed = b"12345678901234567890";
        for (time, eight_digits) in [
            (59, 94287082u32),
            (1111111109, 7081804),
            (1111111111, 14050471),
            (1234567890, 89005924),
            (2000000000, 69279037),
            (20000000000, 65353130),
        ] {
            assert_eq!(code_at(seed, time), eight_digits % 1_000_000, "time {time}");
        }
    }

    #[test]
    fn accepts_one_step_of_skew_and_refuses_reuse() {
        let seed = b"12345678901234567890";
        let now = 1_800_000_015;
        let code = format_code(code_at(seed, now));
        let step = verify(seed, &code, now, None).unwrap();
        assert_eq!(step, step_at(now));
        assert_eq!(
            verify(seed, &code, now, Some(step)),
            Err(ApprovalError::InvalidCode)
        );
        let previous = format_code(code_at(seed, now - 30));
        assert!(verify(seed, &previous, now, None).is_ok());
        let too_old = format_code(code_at(seed, now - 60));
        assert_eq!(
            verify(seed, &too_old, now, None),
            Err(ApprovalError::InvalidCode)
        );
        // A later step's code still works after an earlier one was used.
        let next = format_code(code_at(seed, now + 30));
        assert!(verify(seed, &next, now, Some(step)).is_ok());
        for junk in ["", "12345", "1234567", "abcdef", "12 34 5x"] {
            assert_eq!(
                verify(seed, junk, now, None),
                Err(ApprovalError::InvalidCode),
                "{junk:?}"
            );
        }
    }

    #[test]
    fn base32_round_trips_and_matches_rfc_4648() {
        assert_eq!(base32_encode(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32_decode("MZXW6YTBOI======").unwrap(), b"foobar");
        assert_eq!(base32_decode("mzxw6"), Some(b"foo".to_vec()));
        assert!(base32_decode("0189").is_none());
        let seed = new_seed().unwrap();
        let uri = otpauth_uri("alice", &seed);
        assert!(uri.starts_with("otpauth://totp/blastdoor:alice?secret="));
        assert_eq!(seed_from_uri(&uri).unwrap(), seed.to_vec());
    }
}
