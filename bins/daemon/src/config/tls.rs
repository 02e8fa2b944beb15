//! The `--redis-ca-file`, `--redis-cert-file` and `--redis-key-file`
//! settings: picked by precedence like any path, read and checked by the
//! transport's [`RedisTls::check`], each problem reported against its own
//! flag; and refused without a TLS `--redis` URL.

use std::path::PathBuf;

use peer_transport_redis::{RedisTls, TlsFile};

use super::Origin;
use super::checks::absolute;
use super::flags::{REDIS, REDIS_CA_FILE, REDIS_CERT_FILE, REDIS_KEY_FILE, Setting};
use super::merge::Sources;

/// The three settings, in the order of [`TlsFile`] below.
const TLS_SETTINGS: [&Setting; 3] = [&REDIS_CA_FILE, &REDIS_CERT_FILE, &REDIS_KEY_FILE];

fn index(file: TlsFile) -> usize {
    match file {
        TlsFile::Ca => 0,
        TlsFile::Cert => 1,
        TlsFile::Key => 2,
    }
}

/// Whether a (checked) Redis URL uses TLS: `rediss://`, `rediss-cluster://`,
/// `rediss-sentinel://`.
fn uses_tls(url: &str) -> bool {
    url.split_once("://")
        .is_some_and(|(scheme, _)| scheme.to_ascii_lowercase().starts_with("rediss"))
}

/// Picks, reads and checks the TLS files, recording every problem in `s`.
/// `flags` are the command line's CA, certificate and key paths; `redis` is
/// the checked URL, `None` when absent or refused (`redis_given` tells
/// which).
pub(super) fn redis_tls(
    s: &mut Sources<'_>,
    flags: [Option<PathBuf>; 3],
    redis: Option<&str>,
    redis_given: bool,
) -> RedisTls {
    let mut picked: [Option<(PathBuf, Origin)>; 3] = Default::default();
    let mut all_paths_ok = true;
    for ((setting, flag), slot) in TLS_SETTINGS.into_iter().zip(flags).zip(&mut picked) {
        let Some(value) = s.path(setting, flag) else {
            continue;
        };
        let origin = value.origin.clone();
        match s.check(setting, value, absolute) {
            Some(path) => *slot = Some((path, origin)),
            None => all_paths_ok = false,
        }
    }
    let path = |i: usize| picked[i].as_ref().map(|(p, _)| p.clone());
    let tls = RedisTls {
        ca_file: path(0),
        cert_file: path(1),
        key_file: path(2),
    };
    let Some(first) = picked.iter().position(Option::is_some) else {
        return tls;
    };
    let origin = |i: usize| {
        picked[i]
            .as_ref()
            .map_or(Origin::Default, |(_, origin)| origin.clone())
    };
    let tls_schemes = "rediss://, rediss-cluster:// or rediss-sentinel://";
    match redis {
        None if !redis_given => s.error(
            TLS_SETTINGS[first],
            origin(first),
            format!(
                "TLS files are for a Redis server, but there is no {}: give a {tls_schemes} URL, or drop the TLS files",
                REDIS.flag
            ),
        ),
        Some(url) if !uses_tls(url) => {
            let scheme = url.split_once("://").map_or("", |(scheme, _)| scheme);
            s.error(
                TLS_SETTINGS[first],
                origin(first),
                format!(
                    "TLS files need a TLS {} URL, but it is {scheme}://: use {tls_schemes}",
                    REDIS.flag
                ),
            );
        }
        _ => {}
    }
    if all_paths_ok {
        for e in tls.check() {
            let i = index(e.file);
            s.error(TLS_SETTINGS[i], origin(i), e.reason);
        }
    }
    tls
}
