//! Tests of the `--redis-ca-file`, `--redis-cert-file` and
//! `--redis-key-file` settings: precedence, each bad file refused by its
//! flag, and the need for a TLS URL.

use std::path::PathBuf;

use super::*;

/// A self-signed test certificate (P-256, CN fleetd-config-test); its
/// dates do not matter, nothing here checks them.
const CERT: &str = "-----BEGIN CERTIFICATE-----
MIIBkTCCATegAwIBAgIUZpCT63g4gOOlULf+ejDZJRMOabMwCgYIKoZIzj0EAwIw
HTEbMBkGA1UEAwwSZmxlZXRkLWNvbmZpZy10ZXN0MCAXDTI2MTEyOTA2MzMyMVoY
DzIxMjYxMTA1MDYzMzIxWjAdMRswGQYDVQQDDBJmbGVldGQtY29uZmlnLXRlc3Qw
WTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAATLwKHAaNTGlzXD+f+53leuc/DE15nE
TIG2/EEv4cr8O0ZLygFRgVi/83z0oLT76m81iIvWsBFywfkoU8jwjQFHo1MwUTAd
BgNVHQ4EFgQUSnto4QzEYGOy0CLjB7qYCgzhQ/gwHwYDVR0jBBgwFoAUSnto4QzE
YGOy0CLjB7qYCgzhQ/gwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBF
AiEAy6/FfOv9hzH3h5b4bWyDeH4q1cedZr5PKP+g7SLeFaICICbrn8p8uv8J8REd
ELcbuXC4CvYDbazkTrFYBpDWAoam
-----END CERTIFICATE-----
";

/// The private key of [`CERT`] (PKCS#8).
const KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgFXG3sLsen6ozX1Nr
OACdbqQX8A2IfHYofkhtN8+dRFOhRANCAATLwKHAaNTGlzXD+f+53leuc/DE15nE
TIG2/EEv4cr8O0ZLygFRgVi/83z0oLT76m81iIvWsBFywfkoU8jwjQFH
-----END PRIVATE KEY-----
";

/// Another P-256 key: not [`CERT`]'s.
const OTHER_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgFwmeo9n8Dl2V+fqO
Qw8aK+8xKF5s+6WQY0A6HHHFDi2hRANCAATiUXWZ29vaBQjyT7wCBN8bLNrISvkq
vZ2bJesktZ2qpqRlwmwWqTeha0ySwhjuWxTAt5VgAcKjqmvJf42AYfaB
-----END PRIVATE KEY-----
";

const TLS_URL: &str = "rediss://127.0.0.1:6380";

#[test]
fn tls_files_come_from_flags_env_or_file() {
    let dir = TempDir::new();
    let ca = dir.file("ca.pem", CERT);
    let cert = dir.file("client.pem", CERT);
    let key = dir.file("client.key", KEY);
    let config = ok(
        &[
            "--redis",
            TLS_URL,
            "--redis-ca-file",
            &ca,
            "--redis-cert-file",
            &cert,
            "--redis-key-file",
            &key,
        ],
        &[],
    );
    assert_eq!(config.redis_tls.ca_file, Some(PathBuf::from(&ca)));
    assert_eq!(config.redis_tls.cert_file, Some(PathBuf::from(&cert)));
    assert_eq!(config.redis_tls.key_file, Some(PathBuf::from(&key)));

    let config = ok(
        &["--redis", TLS_URL],
        &[
            ("FLEET_REDIS_CA_FILE", &ca),
            ("FLEET_REDIS_CERT_FILE", &cert),
            ("FLEET_REDIS_KEY_FILE", &key),
        ],
    );
    assert_eq!(config.redis_tls.key_file, Some(PathBuf::from(&key)));

    // File keys in both spellings, relative to the file's directory.
    let file = dir.file(
        "fleetd.toml",
        "redis = \"rediss-sentinel://h:26379?sentinelServiceName=m\"\n\
         redis-ca-file = \"ca.pem\"\nredis_cert_file = \"client.pem\"\nredis-key-file = \"client.key\"\n",
    );
    let config = ok(&["--config", &file], &[]);
    assert_eq!(config.redis_tls.ca_file, Some(dir.0.join("ca.pem")));
    assert_eq!(config.redis_tls.cert_file, Some(dir.0.join("client.pem")));
    assert_eq!(config.redis_tls.key_file, Some(dir.0.join("client.key")));

    // Only a CA: server-only TLS.
    let config = ok(&["--redis", TLS_URL, "--redis-ca-file", &ca], &[]);
    assert!(config.redis_tls.cert_file.is_none());
}

#[test]
fn every_bad_tls_file_is_refused_by_its_flag_at_once() {
    let dir = TempDir::new();
    let cert = dir.file("client.pem", CERT);
    let garbage = dir.file("garbage.pem", "not a certificate\n");
    let other_key = dir.file("other.key", OTHER_KEY);
    let missing = dir.0.join("missing.pem").to_str().unwrap().to_owned();

    let errors = errors(
        &[
            "--redis",
            TLS_URL,
            "--redis-ca-file",
            &missing,
            "--redis-cert-file",
            &cert,
            "--redis-key-file",
            &other_key,
        ],
        &[],
    );
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(
        errors[0].starts_with("--redis-ca-file: cannot read"),
        "{errors:#?}"
    );
    assert!(
        errors[1].starts_with("--redis-key-file: ") && errors[1].contains("is not the key of"),
        "{errors:#?}"
    );

    one_error(
        &["--redis", TLS_URL, "--redis-ca-file", &garbage],
        &[],
        "--redis-ca-file: ",
    );
    let e = one_error(
        &["--redis", TLS_URL],
        &[("FLEET_REDIS_CERT_FILE", &cert)],
        "--redis-cert-file (from FLEET_REDIS_CERT_FILE): ",
    );
    assert!(e.contains("needs its private key"), "{e}");
    let e = one_error(
        &["--redis", TLS_URL, "--redis-key-file", &other_key],
        &[],
        "--redis-key-file: ",
    );
    assert!(e.contains("needs its client certificate"), "{e}");
    let e = one_error(
        &[
            "--redis",
            TLS_URL,
            "--redis-cert-file",
            &garbage,
            "--redis-key-file",
            &other_key,
        ],
        &[],
        "--redis-cert-file: ",
    );
    assert!(e.contains("holds no PEM certificate"), "{e}");
    let file = dir.file("empty.toml", "redis-key-file = \"\"\n");
    one_error(
        &["--redis", TLS_URL, "--config", &file],
        &[],
        "--redis-key-file (from key \"redis-key-file\" in ",
    );
}

#[test]
fn tls_files_need_a_tls_url() {
    let dir = TempDir::new();
    let ca = dir.file("ca.pem", CERT);
    let e = one_error(
        &["--redis", "redis://h:6379", "--redis-ca-file", &ca],
        &[],
        "--redis-ca-file: TLS files need a TLS --redis URL, but it is redis://",
    );
    assert!(e.contains("rediss://"), "{e}");
    one_error(
        &["--redis-ca-file", &ca],
        &[],
        "--redis-ca-file: TLS files are for a Redis server, but there is no --redis",
    );
    // A refused URL is reported once, not again through the TLS files.
    one_error(
        &["--redis", "http://h", "--redis-ca-file", &ca],
        &[],
        "--redis: ",
    );
    for url in [
        "rediss-cluster://h:7000",
        "rediss-sentinel://h:26379?sentinelServiceName=m",
        "REDISS://h",
    ] {
        ok(&["--redis", url, "--redis-ca-file", &ca], &[]);
    }
}
