//! Whom the functions' TLS connections trust, fixed at build time instead of read from the
//! system's store at every cold start (on Lambda's image, ~430 certificates parsed before the
//! first request: half of a function's init).
//!
//! - **AWS** (every SDK client): the five roots every AWS endpoint chains to, as Amazon Trust
//!   Services publishes them (<https://www.amazontrust.com/repository/>): Amazon Root CA 1–4 and
//!   Starfield Services Root Certificate Authority – G2, which cross-signs them for older clients.
//! - **The payment provider** (`PAYMENT_PROVIDER_ENDPOINT`, Stripe or whatever a shop points it
//!   at) and the operators' identity provider (Cognito's hosted login): Mozilla's CA program, compiled in by `webpki-roots` as ready-made trust anchors, so
//!   nothing is parsed at start either.

/// PEM, one root per entry; the AWS SDK's TLS context takes them in this form.
#[cfg(feature = "aws")]
pub(crate) const AWS_ROOTS: [&[u8]; 5] = [
    include_bytes!("../trust/amazon-root-ca-1.pem"),
    include_bytes!("../trust/amazon-root-ca-2.pem"),
    include_bytes!("../trust/amazon-root-ca-3.pem"),
    include_bytes!("../trust/amazon-root-ca-4.pem"),
    include_bytes!("../trust/starfield-services-root-g2.pem"),
];

/// The roots our own HTTPS client's connections (the payment provider, the operators' identity
/// provider) are verified against.
#[cfg(feature = "https")]
pub(crate) fn public_roots() -> rustls::RootCertStore {
    rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() }
}

#[cfg(all(test, feature = "https"))]
mod tests {
    use super::*;

    #[test]
    #[cfg(feature = "aws")]
    fn each_aws_root_is_one_certificate_rustls_accepts_as_an_anchor() {
        use rustls::pki_types::{CertificateDer, pem::PemObject};
        let mut store = rustls::RootCertStore::empty();
        for pem in AWS_ROOTS {
            let certificates = CertificateDer::pem_slice_iter(pem).collect::<Result<Vec<_>, _>>().unwrap();
            assert_eq!(certificates.len(), 1);
            store.add(certificates[0].clone()).unwrap();
        }
        assert_eq!(store.len(), AWS_ROOTS.len());
    }

    #[test]
    fn our_own_client_trusts_mozillas_roots() {
        assert!(public_roots().len() > 100);
    }
}
