//! AWS Signature Version 4 for S3 requests, sans-IO: given a request's parts, the time and the
//! credentials, the `Authorization` header. Path-style URLs, signed payload hashes.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::time::amz_date;

/// S3 credentials: an access key id and its secret.
#[derive(Clone)]
pub struct S3Credentials {
    pub access_key_id: String,
    pub secret_access_key: blastdoor_core::Secret<String>,
}

impl std::fmt::Debug for S3Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &self.secret_access_key)
            .finish()
    }
}

/// The parts of a request that are signed.
#[derive(Debug)]
pub(crate) struct SigningInput<'a> {
    pub method: &'a str,
    /// Already URI-encoded path (`/bucket/key`).
    pub canonical_path: &'a str,
    /// `(name, value)` pairs, not yet encoded.
    pub query: &'a [(String, String)],
    /// Lower-case names; must include `host`, `x-amz-date` and `x-amz-content-sha256`.
    pub headers: &'a [(String, String)],
    pub payload_sha256_hex: &'a str,
    pub region: &'a str,
    pub now_unix: i64,
}

/// The `Authorization` header value for `input`.
pub(crate) fn authorization(input: &SigningInput<'_>, credentials: &S3Credentials) -> String {
    let amz = amz_date(input.now_unix);
    let date = amz.get(..8).unwrap_or_default();
    let mut headers: Vec<(String, String)> = input
        .headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    headers.sort();
    let canonical_headers: String = headers
        .iter()
        .map(|(name, value)| format!("{name}:{value}\n"))
        .collect();
    let signed_headers = headers
        .iter()
        .map(|(name, _)| name.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let canonical_request = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        input.method,
        input.canonical_path,
        canonical_query(input.query),
        canonical_headers,
        signed_headers,
        input.payload_sha256_hex
    );
    let scope = format!("{date}/{}/s3/aws4_request", input.region);
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    let secret = format!("AWS4{}", credentials.secret_access_key.expose_secret());
    let key = hmac(secret.as_bytes(), date.as_bytes());
    let key = hmac(&key, input.region.as_bytes());
    let key = hmac(&key, b"s3");
    let key = hmac(&key, b"aws4_request");
    let signature = hex::encode(hmac(&key, string_to_sign.as_bytes()));
    format!(
        "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
        credentials.access_key_id
    )
}

/// The query string in canonical (sorted, encoded) form; also what goes on the wire.
pub(crate) fn canonical_query(query: &[(String, String)]) -> String {
    let mut pairs: Vec<(String, String)> = query
        .iter()
        .map(|(name, value)| (uri_encode(name, true), uri_encode(value, true)))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// RFC 3986 encoding as SigV4 wants it: unreserved characters stay, `/` stays unless
/// `encode_slash`.
pub(crate) fn uri_encode(text: &str, encode_slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        let keep = byte.is_ascii_alphanumeric()
            || matches!(byte, b'-' | b'_' | b'.' | b'~')
            || (byte == b'/' && !encode_slash);
        if keep {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so this cannot fail; an empty tag would only make the
    // signature wrong, never leak anything.
    match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(data);
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The "GET Object" example of the AWS SigV4 documentation for S3.
    #[test]
    fn matches_the_aws_documentation_example() {
        let credentials = S3Credentials {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: blastdoor_core::Secret::new(
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
            ),
        };
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let headers = vec![
            (
                "host".to_owned(),
                "examplebucket.s3.amazonaws.com".to_owned(),
            ),
            ("range".to_owned(), "bytes=0-9".to_owned()),
            ("x-amz-content-sha256".to_owned(), empty.to_owned()),
            ("x-amz-date".to_owned(), "20130524T000000Z".to_owned()),
        ];
        let input = SigningInput {
            method: "GET",
            canonical_path: "/test.txt",
            query: &[],
            headers: &headers,
            payload_sha256_hex: empty,
            region: "us-east-1",
            now_unix: 1_369_353_600,
        };
        assert_eq!(
            authorization(&input, &credentials),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );
        assert!(!format!("{credentials:?}").contains("EXAMPLEKEY"));
    }

    #[test]
    fn query_is_sorted_and_encoded() {
        let query = vec![
            ("prefix".to_owned(), "a b/".to_owned()),
            ("list-type".to_owned(), "2".to_owned()),
        ];
        assert_eq!(canonical_query(&query), "list-type=2&prefix=a%20b%2F");
    }
}
