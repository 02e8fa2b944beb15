//! `TlsFiles`: a throwaway certificate authority, a server certificate for
//! `127.0.0.1` / `localhost` and a client certificate, made with the
//! `openssl` command line in a temp dir, for `redis-server --tls-port`. The
//! CA is one no daemon trusts (it is in no system store) unless given it
//! with `--redis-ca-file`; two `TlsFiles` have two unrelated CAs.

use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

const NOT_INSTALLED: &str =
    "openssl not found: install it with `apt-get install -y openssl` (scripts/test.sh does this)";

/// A CA, and a server and a client certificate signed by it; removed on drop.
#[derive(Debug)]
pub struct TlsFiles {
    dir: TempDir,
}

impl TlsFiles {
    /// Makes the CA (`ca.crt`), the server's key and certificate
    /// (`server.key`, `server.crt`, valid for `127.0.0.1` and `localhost`)
    /// and a client's (`client.key`, `client.crt`, for client
    /// authentication).
    ///
    /// # Panics
    ///
    /// When `openssl` is missing (with the install command) or fails (with its output).
    pub fn generate() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("fc-tls")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a temp dir for TLS files: {e}"));
        let files = Self { dir };
        let ext = files.path("server.ext");
        std::fs::write(&ext, "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", ext.display()));
        files.openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=fleetcache-test-ca",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
        ]);
        files.openssl(&[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ]);
        files.openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "server.ext",
            "-out",
            "server.crt",
        ]);
        let client_ext = files.path("client.ext");
        std::fs::write(&client_ext, "extendedKeyUsage=clientAuth\n")
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", client_ext.display()));
        files.openssl(&[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-subj",
            "/CN=fleetd-client",
            "-keyout",
            "client.key",
            "-out",
            "client.csr",
        ]);
        files.openssl(&[
            "x509",
            "-req",
            "-in",
            "client.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "client.ext",
            "-out",
            "client.crt",
        ]);
        files
    }

    /// The client certificate (PEM), signed by the CA, for
    /// `--redis-cert-file`.
    pub fn client_cert(&self) -> PathBuf {
        self.path("client.crt")
    }

    /// The client's private key (PEM, PKCS#8), for `--redis-key-file`.
    pub fn client_key(&self) -> PathBuf {
        self.path("client.key")
    }

    /// The CA certificate (PEM).
    pub fn ca_cert(&self) -> PathBuf {
        self.path("ca.crt")
    }

    /// The server certificate (PEM), signed by the CA.
    pub fn server_cert(&self) -> PathBuf {
        self.path("server.crt")
    }

    /// The server's private key (PEM).
    pub fn server_key(&self) -> PathBuf {
        self.path("server.key")
    }

    /// `redis-server` arguments for a TLS listener on `tls_port` with these
    /// files, not asking clients for certificates.
    pub fn redis_args(&self, tls_port: u16) -> Vec<String> {
        self.redis_args_with(tls_port, false)
    }

    /// As [`TlsFiles::redis_args`], but the server requires a client
    /// certificate signed by the CA (`--tls-auth-clients yes`).
    pub fn redis_args_mutual(&self, tls_port: u16) -> Vec<String> {
        self.redis_args_with(tls_port, true)
    }

    fn redis_args_with(&self, tls_port: u16, auth_clients: bool) -> Vec<String> {
        let path = |p: PathBuf| p.display().to_string();
        vec![
            "--tls-port".into(),
            tls_port.to_string(),
            "--tls-cert-file".into(),
            path(self.server_cert()),
            "--tls-key-file".into(),
            path(self.server_key()),
            "--tls-ca-cert-file".into(),
            path(self.ca_cert()),
            "--tls-auth-clients".into(),
            if auth_clients { "yes" } else { "no" }.into(),
        ]
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn openssl(&self, args: &[&str]) {
        run_openssl(self.dir.path(), args);
    }
}

fn run_openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                panic!("{NOT_INSTALLED}");
            }
            panic!("cannot run openssl: {e}")
        });
    assert!(
        output.status.success(),
        "openssl {args:?} failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}
