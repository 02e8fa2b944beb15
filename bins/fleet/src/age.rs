//! Relative ages for people: `just now`, `42s ago`, `3m ago`, `5h ago`, `2d ago`.
//! Pure: the caller passes "now", so views tick without reading the clock here.

use model::Timestamp;

/// How long ago `then` was, seen at `now`. A time in the future (another computer's
/// clock running ahead) reads `just now`.
pub fn ago(then: Timestamp, now: Timestamp) -> String {
    let ms = now.as_millis().saturating_sub(then.as_millis());
    if ms < 5_000 {
        return "just now".into();
    }
    format!("{} ago", span(ms))
}

/// A duration in milliseconds, in the largest whole unit: `42s`, `3m`, `5h`, `2d`.
pub fn span(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        0..60 => format!("{s}s"),
        60..3_600 => format!("{}m", s / 60),
        3_600..86_400 => format!("{}h", s / 3_600),
        _ => format!("{}d", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_millis(1_800_000_000_000 + s * 1000)
    }

    #[test]
    fn ages_read_naturally() {
        let now = at(1_000_000);
        let cases = [
            (0, "just now"),
            (4, "just now"),
            (5, "5s ago"),
            (59, "59s ago"),
            (60, "1m ago"),
            (3 * 60 + 59, "3m ago"),
            (3_600, "1h ago"),
            (86_399, "23h ago"),
            (86_400 * 3, "3d ago"),
            (-30, "just now"),
        ];
        for (back, want) in cases {
            assert_eq!(ago(at(1_000_000 - back), now), want, "{back}s back");
        }
    }
}
