//! [`HttpUrl`]: an `http://` or `https://` URL checked once, without credentials in it.

use std::fmt;

/// An absolute `http` or `https` URL with a host, an optional port and path, and no userinfo
/// (credentials belong in the secret store, never in `blastdoor.toml`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl(String);

impl HttpUrl {
    /// Checks `text`; the message of an error says what is wrong.
    pub fn parse(text: &str) -> Result<HttpUrl, String> {
        let rest = text
            .strip_prefix("https://")
            .or_else(|| text.strip_prefix("http://"))
            .ok_or_else(|| format!("`{}` is not an http:// or https:// URL", shorten(text)))?;
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("a URL must not contain spaces or control characters".to_owned());
        }
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let authority = rest.get(..authority_end).unwrap_or_default();
        if authority.contains('@') {
            return Err(
                "a URL in blastdoor.toml must not carry credentials (`user:password@`); store them with `blastdoor secret set` and name the secret instead"
                    .to_owned(),
            );
        }
        let (host, port) = split_host_port(authority)?;
        if host.is_empty() {
            return Err(format!("`{}` has no host", shorten(text)));
        }
        let host_ok = if host.starts_with('[') {
            host.ends_with(']') && host.len() > 2
        } else {
            host.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_')
        };
        if !host_ok {
            return Err(format!("`{}` has an invalid host `{host}`", shorten(text)));
        }
        if let Some(port) = port
            && port.parse::<u16>().map_or(true, |port| port == 0)
        {
            return Err(format!("`{}` has an invalid port `{port}`", shorten(text)));
        }
        Ok(HttpUrl(text.trim_end_matches('/').to_owned()))
    }

    /// The URL as text, without a trailing `/`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True for `https://`.
    pub fn is_https(&self) -> bool {
        self.0.starts_with("https://")
    }
}

impl fmt::Display for HttpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn split_host_port(authority: &str) -> Result<(&str, Option<&str>), String> {
    if authority.starts_with('[') {
        // [v6]:port
        return match authority.rfind("]:") {
            Some(end) => Ok((
                authority.get(..=end).unwrap_or_default(),
                authority.get(end + 2..),
            )),
            None => Ok((authority, None)),
        };
    }
    match authority.split_once(':') {
        Some((host, port)) => Ok((host, Some(port))),
        None => Ok((authority, None)),
    }
}

/// Long values are cut in messages (a URL may be long; the excerpt shows the line anyway).
fn shorten(text: &str) -> String {
    let mut short: String = text.chars().take(80).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_http_urls() {
        for url in [
            "https://backboard.railway.com",
            "http://127.0.0.1:7878/ui",
            "https://[::1]:8443/x?y=1",
            "https://k8s.internal:6443",
        ] {
            assert!(HttpUrl::parse(url).is_ok(), "{url}");
        }
        assert_eq!(
            HttpUrl::parse("https://a.b/").unwrap().as_str(),
            "https://a.b"
        );
    }

    #[test]
    fn refuses_bad_urls_with_a_reason() {
        for (url, fragment) in [
            ("backboard.railway.com", "not an http"),
            ("ftp://x", "not an http"),
            ("https://", "no host"),
            ("https://user:pw@host", "credentials"),
            ("https://host:99999", "invalid port"),
            ("https://host:0", "invalid port"),
            ("https://ho st", "spaces"),
            ("https://ho$t/", "invalid host"),
        ] {
            let error = HttpUrl::parse(url).unwrap_err();
            assert!(error.contains(fragment), "{url}: {error}");
            assert!(!error.contains("pw@"), "{error}");
        }
    }
}
