//! [`RedisTls`]: the files for TLS to Redis (a CA to trust instead of the
//! system store, and a client certificate and key for servers started with
//! `tls-auth-clients yes`), their checks, and the rustls `ClientConfig`
//! fred's connector is built from.
//!
//! Every problem is reported against the file it comes from ([`TlsFile`]),
//! so the daemon can name the flag; nothing here panics on a file's content.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore};

/// The largest certificate or key file read: far above any real PEM bundle
/// (the Mozilla root store is about 250 KiB), small enough to refuse a
/// wrong path pointing at a huge file.
const MAX_PEM_BYTES: u64 = 4 * 1024 * 1024;

/// The files for TLS to Redis; all `None` (the default) means fred's own
/// choice: the system trust store and no client certificate.
///
/// They only matter with a TLS URL (`rediss://`, `rediss-cluster://`,
/// `rediss-sentinel://`); with a plain URL they are refused
/// ([`RedisConfig`](crate::RedisConfig) validation), since a user who gives a
/// CA surely meant TLS.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RedisTls {
    /// PEM file of the CA certificate(s) to trust instead of the system store.
    pub ca_file: Option<PathBuf>,
    /// PEM file of the client certificate (chain), for servers that ask for
    /// one; needs `key_file`.
    pub cert_file: Option<PathBuf>,
    /// PEM file of the client certificate's private key (PKCS#8, PKCS#1 or
    /// SEC1); needs `cert_file`.
    pub key_file: Option<PathBuf>,
}

/// A client certificate chain and its private key.
type Identity = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

/// Which of the [`RedisTls`] files a problem is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsFile {
    /// [`RedisTls::ca_file`].
    Ca,
    /// [`RedisTls::cert_file`].
    Cert,
    /// [`RedisTls::key_file`].
    Key,
}

impl TlsFile {
    /// The field's name, for messages of this crate (`ca_file`, ...).
    pub fn field(self) -> &'static str {
        match self {
            TlsFile::Ca => "ca_file",
            TlsFile::Cert => "cert_file",
            TlsFile::Key => "key_file",
        }
    }
}

/// A refused TLS file: which one, and why (the message names the path).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct TlsFileError {
    /// The file the problem is about.
    pub file: TlsFile,
    /// Why it is refused, e.g. `/etc/ca.pem holds no PEM certificate`.
    pub reason: String,
}

impl TlsFileError {
    fn new(file: TlsFile, reason: impl Into<String>) -> Self {
        Self {
            file,
            reason: reason.into(),
        }
    }
}

impl RedisTls {
    /// Whether no file is set.
    pub fn is_empty(&self) -> bool {
        self.ca_file.is_none() && self.cert_file.is_none() && self.key_file.is_none()
    }

    /// Reads and checks every file, and reports every problem found: a file
    /// that cannot be read or holds no usable PEM item, a certificate
    /// without a key (or the reverse), a key that does not match the
    /// certificate. Empty when all is well (or nothing is set).
    pub fn check(&self) -> Vec<TlsFileError> {
        let mut errors = Vec::new();
        if let Some(path) = &self.ca_file
            && let Err(e) = roots(path)
        {
            errors.push(e);
        }
        if let Err(e) = self.identity() {
            errors.push(e);
        }
        errors
    }

    /// The rustls configuration for these files, or `None` when none is
    /// set (fred then uses the system store itself).
    ///
    /// # Errors
    /// The first problem [`RedisTls::check`] would report; with a client
    /// certificate and no CA file, a system store that cannot be read.
    pub fn client_config(&self) -> Result<Option<ClientConfig>, TlsFileError> {
        if self.is_empty() {
            return Ok(None);
        }
        let roots = match &self.ca_file {
            Some(path) => roots(path)?,
            None => system_roots()?,
        };
        let identity = self.identity()?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsFileError::new(TlsFile::Ca, format!("no TLS protocol version: {e}")))?
            .with_root_certificates(roots);
        let config = match identity {
            Some((chain, key)) => builder.with_client_auth_cert(chain, key).map_err(|e| {
                TlsFileError::new(
                    TlsFile::Key,
                    format!("{} cannot be used: {e}", self.shown(TlsFile::Key)),
                )
            })?,
            None => builder.with_no_client_auth(),
        };
        Ok(Some(config))
    }

    /// The client certificate chain and key, checked to belong together.
    fn identity(&self) -> Result<Option<Identity>, TlsFileError> {
        let (cert_path, key_path) = match (&self.cert_file, &self.key_file) {
            (None, None) => return Ok(None),
            (Some(cert), Some(key)) => (cert, key),
            (Some(cert), None) => {
                return Err(TlsFileError::new(
                    TlsFile::Cert,
                    format!(
                        "a client certificate ({}) needs its private key: give the key file too",
                        cert.display()
                    ),
                ));
            }
            (None, Some(key)) => {
                return Err(TlsFileError::new(
                    TlsFile::Key,
                    format!(
                        "a private key ({}) needs its client certificate: give the certificate file too",
                        key.display()
                    ),
                ));
            }
        };
        let chain = certificates(TlsFile::Cert, cert_path)?;
        let pem = read_pem(TlsFile::Key, key_path)?;
        let key = PrivateKeyDer::from_pem_slice(&pem).map_err(|e| {
            TlsFileError::new(
                TlsFile::Key,
                format!(
                    "{} holds no PEM private key: {}",
                    key_path.display(),
                    pem_reason(&e)
                ),
            )
        })?;
        // Checks that the key is usable and matches the certificate.
        let provider = rustls::crypto::ring::default_provider();
        rustls::sign::CertifiedKey::from_der(chain.clone(), key.clone_key(), &provider).map_err(
            |e| {
                TlsFileError::new(
                    TlsFile::Key,
                    format!(
                        "{} is not the key of the certificate in {}: {e}",
                        key_path.display(),
                        cert_path.display()
                    ),
                )
            },
        )?;
        Ok(Some((chain, key)))
    }

    fn shown(&self, file: TlsFile) -> String {
        let path = match file {
            TlsFile::Ca => &self.ca_file,
            TlsFile::Cert => &self.cert_file,
            TlsFile::Key => &self.key_file,
        };
        path.as_deref()
            .map_or_else(|| "(none)".to_owned(), |p| p.display().to_string())
    }
}

/// A root store of every certificate in the CA file.
fn roots(path: &Path) -> Result<RootCertStore, TlsFileError> {
    let mut store = RootCertStore::empty();
    for (i, cert) in certificates(TlsFile::Ca, path)?.into_iter().enumerate() {
        store.add(cert).map_err(|e| {
            TlsFileError::new(
                TlsFile::Ca,
                format!(
                    "certificate {} in {} cannot be a trust anchor: {e}",
                    i + 1,
                    path.display()
                ),
            )
        })?;
    }
    Ok(store)
}

/// The system trust store, for a client certificate without a CA file.
fn system_roots() -> Result<RootCertStore, TlsFileError> {
    let found = rustls_native_certs::load_native_certs();
    let mut store = RootCertStore::empty();
    let (added, _ignored) = store.add_parsable_certificates(found.certs);
    if added == 0 {
        let why = found
            .errors
            .first()
            .map_or_else(|| "it is empty".to_owned(), ToString::to_string);
        return Err(TlsFileError::new(
            TlsFile::Ca,
            format!("no CA file given and the system trust store cannot be used: {why}"),
        ));
    }
    Ok(store)
}

/// Every PEM certificate in `path`, at least one.
fn certificates(file: TlsFile, path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsFileError> {
    let pem = read_pem(file, path)?;
    let mut certs = Vec::new();
    for item in CertificateDer::pem_slice_iter(&pem) {
        let cert = item.map_err(|e| {
            TlsFileError::new(
                file,
                format!(
                    "{} is not a valid PEM certificate file: {}",
                    path.display(),
                    pem_reason(&e)
                ),
            )
        })?;
        certs.push(cert);
    }
    if certs.is_empty() {
        return Err(TlsFileError::new(
            file,
            format!(
                "{} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                path.display()
            ),
        ));
    }
    Ok(certs)
}

/// The file's bytes, at most [`MAX_PEM_BYTES`].
fn read_pem(file: TlsFile, path: &Path) -> Result<Vec<u8>, TlsFileError> {
    let cannot_read =
        |e: std::io::Error| TlsFileError::new(file, format!("cannot read {}: {e}", path.display()));
    let handle = std::fs::File::open(path).map_err(cannot_read)?;
    let mut bytes = Vec::new();
    handle
        .take(MAX_PEM_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot_read)?;
    if bytes.len() as u64 > MAX_PEM_BYTES {
        return Err(TlsFileError::new(
            file,
            format!(
                "{} is larger than {} MiB: not a PEM file",
                path.display(),
                MAX_PEM_BYTES / (1024 * 1024)
            ),
        ));
    }
    Ok(bytes)
}

/// A PEM error in words (its `Debug` form may hold whole lines of the file).
fn pem_reason(e: &rustls::pki_types::pem::Error) -> String {
    use rustls::pki_types::pem::Error as PemError;
    match e {
        PemError::NoItemsFound => "no item of that kind found".to_owned(),
        PemError::MissingSectionEnd { .. } => "a section has no END line".to_owned(),
        PemError::IllegalSectionStart { .. } => "a BEGIN line is malformed".to_owned(),
        PemError::Base64Decode(why) => format!("bad base64 ({why})"),
        PemError::Io(e) => e.to_string(),
        PemError::SectionTooLarge => "a section is too large".to_owned(),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A directory of files, removed on drop.
    struct Dir(PathBuf);

    impl Dir {
        fn new(name: &str) -> Self {
            let dir = std::env::temp_dir().join(format!("ptr-tls-{name}-{}", std::process::id()));
            std::fs::create_dir_all(&dir).expect("temp dir");
            Self(dir)
        }

        fn file(&self, name: &str, content: &[u8]) -> PathBuf {
            let path = self.0.join(name);
            std::fs::write(&path, content).expect("write");
            path
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn nothing_set_is_fine_and_means_no_own_config() {
        let tls = RedisTls::default();
        assert!(tls.is_empty());
        assert!(tls.check().is_empty());
        assert!(matches!(tls.client_config(), Ok(None)));
    }

    #[test]
    fn bad_files_are_refused_against_their_field() {
        let dir = Dir::new("bad");
        let garbage = dir.file("garbage.pem", b"hello\n");
        let broken = dir.file(
            "broken.pem",
            b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
        );
        let missing = dir.0.join("missing.pem");
        let cases = [
            (
                RedisTls {
                    ca_file: Some(missing.clone()),
                    ..RedisTls::default()
                },
                TlsFile::Ca,
                "cannot read",
            ),
            (
                RedisTls {
                    ca_file: Some(garbage.clone()),
                    ..RedisTls::default()
                },
                TlsFile::Ca,
                "holds no PEM certificate",
            ),
            (
                RedisTls {
                    ca_file: Some(broken.clone()),
                    ..RedisTls::default()
                },
                TlsFile::Ca,
                "not a valid PEM certificate file",
            ),
            (
                RedisTls {
                    cert_file: Some(garbage.clone()),
                    ..RedisTls::default()
                },
                TlsFile::Cert,
                "needs its private key",
            ),
            (
                RedisTls {
                    key_file: Some(garbage.clone()),
                    ..RedisTls::default()
                },
                TlsFile::Key,
                "needs its client certificate",
            ),
            (
                RedisTls {
                    cert_file: Some(garbage.clone()),
                    key_file: Some(garbage.clone()),
                    ..RedisTls::default()
                },
                TlsFile::Cert,
                "holds no PEM certificate",
            ),
        ];
        for (tls, file, words) in cases {
            let errors = tls.check();
            assert_eq!(errors.len(), 1, "{tls:?}: {errors:?}");
            assert_eq!(errors[0].file, file, "{tls:?}");
            assert!(errors[0].reason.contains(words), "{errors:?}");
            let first = tls.client_config().expect_err("refused");
            assert_eq!(first, errors[0]);
        }
        // Both problems at once.
        let both = RedisTls {
            ca_file: Some(missing),
            key_file: Some(garbage),
            ..RedisTls::default()
        };
        let files: Vec<TlsFile> = both.check().iter().map(|e| e.file).collect();
        assert_eq!(files, [TlsFile::Ca, TlsFile::Key]);
    }
}
