//! TLS on the gateway's own listener (`[gateway] tls_cert` / `tls_key`): rustls with the `ring`
//! provider, HTTP/1.1 only, certificates and key read from PEM files once at start-up.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::GatewayError;

/// A TLS acceptor for the certificate chain in `cert_file` and the private key in `key_file`.
/// Errors name the files, never their contents.
pub fn acceptor(
    cert_file: &Path,
    key_file: &Path,
) -> Result<tokio_rustls::TlsAcceptor, GatewayError> {
    let invalid = |why: String| GatewayError::Internal(format!("gateway TLS: {why}"));
    let chain = CertificateDer::pem_file_iter(cert_file)
        .map_err(|error| invalid(format!("cannot read `{}`: {error}", cert_file.display())))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| invalid(format!("`{}` is not PEM: {error}", cert_file.display())))?;
    if chain.is_empty() {
        return Err(invalid(format!(
            "`{}` holds no certificate",
            cert_file.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_file(key_file).map_err(|error| {
        invalid(format!(
            "no private key in `{}`: {error}",
            key_file.display()
        ))
    })?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|error| invalid(error.to_string()))?
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .map_err(|error| invalid(format!("the certificate and key do not fit: {error}")))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}
