//! Latency samples and their summary: p50, p99, p99.9, max (nearest-rank
//! percentiles over every sample, no histogram buckets) and throughput.

use std::fmt;
use std::time::Duration;

/// Latencies recorded during one measurement, in the order they happened.
#[derive(Debug, Clone, Default)]
pub struct Samples {
    nanos: Vec<u64>,
}

impl Samples {
    /// Room for `n` samples, so recording never allocates while measuring.
    pub fn with_capacity(n: usize) -> Self {
        Self {
            nanos: Vec::with_capacity(n),
        }
    }

    /// Records one latency.
    pub fn record(&mut self, d: Duration) {
        self.nanos
            .push(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    }

    /// Adds every sample of `other`.
    pub fn extend(&mut self, other: &Samples) {
        self.nanos.extend_from_slice(&other.nanos);
    }

    /// The smallest sample.
    pub fn min(&self) -> Option<Duration> {
        self.nanos.iter().min().map(|n| Duration::from_nanos(*n))
    }

    /// The percentiles of the samples; `wall` is the time the measurement
    /// took, for the throughput (operations per second). `None` when empty.
    pub fn summary(&self, wall: Duration) -> Option<Summary> {
        if self.nanos.is_empty() {
            return None;
        }
        let mut sorted = self.nanos.clone();
        sorted.sort_unstable();
        let total: u128 = sorted.iter().map(|n| u128::from(*n)).sum();
        let count = sorted.len();
        let mean = total / u128::try_from(count).unwrap_or(u128::MAX).max(1);
        let secs = wall.as_secs_f64();
        Some(Summary {
            count,
            p50: Duration::from_nanos(percentile(&sorted, 50_000)),
            p99: Duration::from_nanos(percentile(&sorted, 99_000)),
            p999: Duration::from_nanos(percentile(&sorted, 99_900)),
            max: Duration::from_nanos(sorted.last().copied().unwrap_or(0)),
            mean: Duration::from_nanos(u64::try_from(mean).unwrap_or(u64::MAX)),
            per_sec: if secs > 0.0 { count as f64 / secs } else { 0.0 },
        })
    }
}

/// Nearest-rank percentile of ascending `sorted` (not empty), `q` in
/// thousandths of a percent (99.9 % is `99_900`): integer arithmetic, so
/// p99.9 of 1,000 samples is the 999th, not the 1,000th by rounding.
fn percentile(sorted: &[u64], q: u64) -> u64 {
    let n = sorted.len() as u64;
    // rank = ceil(q/100_000 * n), 1-based; clamp into the slice.
    let rank = (q * n).div_ceil(100_000).clamp(1, n.max(1));
    usize::try_from(rank - 1)
        .ok()
        .and_then(|i| sorted.get(i))
        .copied()
        .unwrap_or(0)
}

/// What a run of samples says.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Samples.
    pub count: usize,
    /// Median.
    pub p50: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// 99.9th percentile (equal to max below 1,000 samples).
    pub p999: Duration,
    /// Largest sample.
    pub max: Duration,
    /// Arithmetic mean.
    pub mean: Duration,
    /// Operations per second over the measurement's wall time.
    pub per_sec: f64,
}

impl Summary {
    /// The cells under [`LATENCY_HEADERS`]: samples, p50, p99, p99.9, max,
    /// throughput.
    pub fn cells(&self) -> Vec<String> {
        vec![
            grouped(self.count as u64),
            Human(self.p50).to_string(),
            Human(self.p99).to_string(),
            Human(self.p999).to_string(),
            Human(self.max).to_string(),
            rate(self.per_sec),
        ]
    }
}

/// Column headers matching [`Summary::cells`].
pub const LATENCY_HEADERS: [&str; 6] = ["samples", "p50", "p99", "p99.9", "max", "throughput"];

/// A duration in the unit that keeps three significant digits readable:
/// `412 µs`, `1.23 ms`, `2.41 s`.
#[derive(Debug, Clone, Copy)]
pub struct Human(pub Duration);

impl fmt::Display for Human {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.0.as_nanos();
        if ns < 1_000 {
            write!(f, "{ns} ns")
        } else if ns < 1_000_000 {
            write!(f, "{:.0} µs", ns as f64 / 1e3)
        } else if ns < 1_000_000_000 {
            let ms = ns as f64 / 1e6;
            if ms < 10.0 {
                write!(f, "{ms:.2} ms")
            } else {
                write!(f, "{ms:.1} ms")
            }
        } else {
            write!(f, "{:.2} s", ns as f64 / 1e9)
        }
    }
}

/// `a / b` as a ratio string (`37.2x`), `n/a` when `b` is zero.
pub fn ratio(a: Duration, b: Duration) -> String {
    ratio_f(a.as_secs_f64(), b.as_secs_f64())
}

/// `a / b` of plain numbers as a ratio string, `n/a` when `b` is zero.
pub fn ratio_f(a: f64, b: f64) -> String {
    if b <= 0.0 {
        return "n/a".to_owned();
    }
    let r = a / b;
    if r >= 100.0 {
        format!("{r:.0}x")
    } else if r >= 10.0 {
        format!("{r:.1}x")
    } else {
        format!("{r:.2}x")
    }
}

/// A count per second with thousands grouped: `23,410/s`.
pub fn rate(per_sec: f64) -> String {
    format!("{}/s", grouped(per_sec.round() as u64))
}

/// `1234567` as `1,234,567`.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Bytes as MiB with one decimal.
pub fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn nearest_rank_percentiles() {
        let mut s = Samples::default();
        for i in 1..=1000 {
            s.record(ms(i));
        }
        let sum = s.summary(Duration::from_secs(2)).unwrap();
        assert_eq!(sum.count, 1000);
        assert_eq!(sum.p50, ms(500));
        assert_eq!(sum.p99, ms(990));
        assert_eq!(sum.p999, ms(999));
        assert_eq!(sum.max, ms(1000));
        assert!((sum.per_sec - 500.0).abs() < 1e-9);
    }

    #[test]
    fn single_sample_and_empty() {
        let mut s = Samples::default();
        assert!(s.summary(ms(1)).is_none());
        s.record(ms(7));
        let sum = s.summary(ms(1)).unwrap();
        assert_eq!(
            (sum.p50, sum.p99, sum.p999, sum.max),
            (ms(7), ms(7), ms(7), ms(7))
        );
    }

    #[test]
    fn formats() {
        assert_eq!(Human(Duration::from_micros(412)).to_string(), "412 µs");
        assert_eq!(Human(Duration::from_micros(1234)).to_string(), "1.23 ms");
        assert_eq!(Human(Duration::from_millis(2410)).to_string(), "2.41 s");
        assert_eq!(ratio(ms(50), ms(1)), "50.0x");
        assert_eq!(ratio(ms(1), ms(0)), "n/a");
        assert_eq!(grouped(1_234_567), "1,234,567");
        assert_eq!(grouped(12), "12");
        assert_eq!(rate(23_410.2), "23,410/s");
    }
}
