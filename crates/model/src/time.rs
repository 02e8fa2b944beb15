//! Timestamps as the contract writes them: RFC 3339, UTC, milliseconds.

use chrono::{DateTime, Datelike, SecondsFormat, TimeZone, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A point in wall-clock time, serialized as `2026-11-27T10:00:00.123Z`.
///
/// Kept at millisecond precision so that a value survives a round trip
/// through JSON or SQLite unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The timestamp `ms` milliseconds after the Unix epoch.
    pub const fn from_millis(ms: i64) -> Self {
        Self(ms)
    }

    /// Milliseconds since the Unix epoch.
    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// Converts a chrono time, truncating to milliseconds.
    pub fn from_datetime(dt: DateTime<Utc>) -> Self {
        Self(dt.timestamp_millis())
    }

    /// The chrono value, for formatting and arithmetic.
    pub fn to_datetime(self) -> DateTime<Utc> {
        // Every i64 millisecond count in range of chrono maps to a time; the
        // out-of-range fallback only matters for absurd values from outside.
        Utc.timestamp_millis_opt(self.0)
            .single()
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// Parses RFC 3339 with any offset, keeping milliseconds.
    ///
    /// # Errors
    /// [`TimestampError::Syntax`] for a string that is not RFC 3339, and
    /// [`TimestampError::OutOfRange`] for one whose offset moves it out of
    /// the years 0000 to 9999 in UTC (`0000-01-01T00:00:00+01:00`): such a
    /// time would be written back as text that is not RFC 3339, which no
    /// reader could take.
    pub fn parse(s: &str) -> Result<Self, TimestampError> {
        let utc = DateTime::parse_from_rfc3339(s)?.with_timezone(&Utc);
        if !(0..=9999).contains(&utc.year()) {
            return Err(TimestampError::OutOfRange);
        }
        Ok(Self::from_datetime(utc))
    }
}

/// Why a string is not a [`Timestamp`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimestampError {
    /// Not RFC 3339.
    #[error(transparent)]
    Syntax(#[from] chrono::ParseError),
    /// RFC 3339, but before year 0000 or after 9999 once in UTC.
    #[error("timestamp is outside the years 0000 to 9999 in UTC")]
    OutOfRange,
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            &self
                .to_datetime()
                .to_rfc3339_opts(SecondsFormat::Millis, true),
        )
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Timestamp::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_millis() {
        let t = Timestamp::from_millis(1_795_000_000_123);
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, "\"2026-11-18T11:06:40.123Z\"");
        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), t);
    }

    /// Found by the `envelope` fuzz target: an offset that moved a time out
    /// of 0000-9999 in UTC was taken, then written back as
    /// `-0001-12-31T23:00:00.000Z`, which no reader (peer or client) parses.
    #[test]
    fn refuses_times_that_leave_the_four_digit_years_in_utc() {
        for s in ["0000-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"] {
            assert_eq!(Timestamp::parse(s), Err(TimestampError::OutOfRange), "{s}");
            assert!(serde_json::from_str::<Timestamp>(&format!("\"{s}\"")).is_err());
        }
        for s in ["0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999Z"] {
            let t = Timestamp::parse(s).unwrap();
            assert_eq!(Timestamp::parse(&t.to_string()), Ok(t), "{s}");
        }
        assert!(matches!(
            Timestamp::parse("yesterday"),
            Err(TimestampError::Syntax(_))
        ));
    }
}
