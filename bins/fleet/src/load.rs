//! A computer's load (`stats`) and remote-write setting as short texts,
//! shared by `fleet computers` and the Computers tab: `-` where a computer
//! has not reported its load.

use model::Computer;

/// Bytes as `512M`, `4.0G`, `16G` or `1.5T`.
pub fn bytes(b: u64) -> String {
    const MIB: f64 = (1u64 << 20) as f64;
    const GIB: f64 = (1u64 << 30) as f64;
    const TIB: f64 = (1u64 << 40) as f64;
    #[allow(clippy::cast_precision_loss)]
    let b = b as f64;
    if b < GIB {
        format!("{:.0}M", b / MIB)
    } else if b < 10.0 * GIB {
        format!("{:.1}G", b / GIB)
    } else if b < TIB {
        format!("{:.0}G", b / GIB)
    } else {
        format!("{:.1}T", b / TIB)
    }
}

/// `load1/cpus`, e.g. `0.52/8`.
pub fn load(c: &Computer) -> String {
    c.stats
        .map_or_else(|| "-".into(), |s| format!("{:.2}/{}", s.load1, s.cpus))
}

/// `used/total` memory, e.g. `4.0G/16G`.
pub fn memory(c: &Computer) -> String {
    c.stats.map_or_else(
        || "-".into(),
        |s| format!("{}/{}", bytes(s.mem_used), bytes(s.mem_total)),
    )
}

/// Free space of its data dir, e.g. `120G`.
pub fn disk(c: &Computer) -> String {
    c.stats.map_or_else(|| "-".into(), |s| bytes(s.disk_free))
}

/// Whether it applies writes forwarded from other computers.
pub fn writes(c: &Computer) -> String {
    if c.remote_writes { "yes" } else { "no" }.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_short() {
        assert_eq!(bytes(512 << 20), "512M");
        assert_eq!(bytes(4 << 30), "4.0G");
        assert_eq!(bytes(16 << 30), "16G");
        assert_eq!(bytes(3 << 39), "1.5T");
    }
}
