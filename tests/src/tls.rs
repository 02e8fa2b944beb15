//! `TlsFiles`: a throwaway certificate authority and a server certificate
//! for `127.0.0.1` / `localhost`, made with the `openssl` command line in a
//! temp dir, for `redis-server --tls-port`. The CA is one no daemon trusts
//! (it is in no system store), which is the point of the tests that use it.

use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

const NOT_INSTALLED: &str =
    "openssl not found: install it with `apt-get install -y openssl` (scripts/test.sh does this)";

/// A CA and a server certificate signed by it; removed on drop.
#[derive(Debug)]
pub struct TlsFiles {
    dir: TempDir,
}

impl TlsFiles {
    /// Makes the CA (`ca.crt`) and the server's key and certificate
    /// (`server.key`, `server.crt`, valid for `127.0.0.1` and `localhost`).
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
        files
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
            "no".into(),
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
