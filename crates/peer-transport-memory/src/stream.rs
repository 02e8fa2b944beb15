//! One stream's log, with the rules Redis applies to it: ids that grow
//! strictly, trimming from the oldest end, and reads of what comes after an
//! id (whether or not that id is still held).

use bytes::Bytes;
use model::{StreamEntry, StreamId};
use std::collections::VecDeque;

/// A single stream: its entries, oldest first, and the last id it ever
/// generated.
///
/// Like a Redis stream, it remembers its last id even after every entry has
/// been trimmed away, so ids keep growing; only dropping the whole stream
/// (see `MemoryHub::clear`) forgets it.
#[derive(Debug, Default)]
pub(crate) struct Stream {
    /// Entries in id order, oldest first.
    entries: VecDeque<StreamEntry>,
    /// The id of the newest entry ever appended (`0-0` before the first).
    last_id: StreamId,
    /// How many entries were ever appended.
    added: u64,
}

impl Stream {
    /// The id the next entry gets when the clock reads `now_ms`: `now_ms-0`
    /// if the clock is past the last id's milliseconds, otherwise the last id
    /// with the sequence bumped (as Redis does when the clock did not advance
    /// or went back).
    fn next_id(&self, now_ms: u64) -> StreamId {
        let last = self.last_id;
        if now_ms > last.ms {
            StreamId::new(now_ms, 0)
        } else if let Some(seq) = last.seq.checked_add(1) {
            StreamId::new(last.ms, seq)
        } else {
            // Sequence exhausted within one millisecond: move to the next one.
            StreamId::new(last.ms.saturating_add(1), 0)
        }
    }

    /// Appends an entry and returns its id. `now_ms` is never 0 (the hub adds
    /// a base), so the first id is always greater than `0-0`.
    pub(crate) fn push(&mut self, now_ms: u64, fields: Vec<(String, Bytes)>) -> StreamId {
        let id = self.next_id(now_ms);
        self.last_id = id;
        self.added += 1;
        self.entries.push_back(StreamEntry { id, fields });
        id
    }

    /// Drops the oldest entries until at most `keep` remain; returns how many
    /// were dropped. The last id is kept.
    pub(crate) fn trim_to(&mut self, keep: usize) -> usize {
        let excess = self.entries.len().saturating_sub(keep);
        self.entries.drain(..excess);
        excess
    }

    /// Up to `count` entries with an id greater than `after` (all of them
    /// when `count` is 0, like Redis `COUNT 0`). `after` need not be held:
    /// an id that was trimmed away reads what remains after it.
    pub(crate) fn read_after(&self, after: StreamId, count: usize) -> Vec<StreamEntry> {
        let start = self.entries.partition_point(|e| e.id <= after);
        let limit = if count == 0 { usize::MAX } else { count };
        self.entries.range(start..).take(limit).cloned().collect()
    }

    /// How many entries were ever appended.
    pub(crate) fn added(&self) -> u64 {
        self.added
    }

    /// The oldest and newest ids held, `None` when empty.
    pub(crate) fn bounds(&self) -> Option<(StreamId, StreamId)> {
        match (self.entries.front(), self.entries.back()) {
            (Some(first), Some(last)) => Some((first.id, last.id)),
            _ => None,
        }
    }

    /// How many entries are held.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// A copy of every entry held, oldest first.
    pub(crate) fn entries(&self) -> Vec<StreamEntry> {
        self.entries.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push_n(s: &mut Stream, now_ms: u64, n: usize) -> Vec<StreamId> {
        (0..n).map(|_| s.push(now_ms, Vec::new())).collect()
    }

    #[test]
    fn ids_bump_sequence_within_a_millisecond_and_reset_after() {
        let mut s = Stream::default();
        assert_eq!(
            push_n(&mut s, 10, 2),
            [StreamId::new(10, 0), StreamId::new(10, 1)]
        );
        assert_eq!(s.push(12, Vec::new()), StreamId::new(12, 0));
        // A clock that went back still yields a greater id.
        assert_eq!(s.push(5, Vec::new()), StreamId::new(12, 1));
    }

    #[test]
    fn sequence_overflow_moves_to_next_millisecond() {
        let mut s = Stream {
            last_id: StreamId::new(7, u64::MAX),
            ..Stream::default()
        };
        assert_eq!(s.push(7, Vec::new()), StreamId::new(8, 0));
    }

    #[test]
    fn trimming_keeps_last_id_and_reads_after_a_lost_id() {
        let mut s = Stream::default();
        let ids = push_n(&mut s, 1, 5);
        assert_eq!(s.trim_to(2), 3);
        assert_eq!(s.bounds(), Some((ids[3], ids[4])));
        // ids[0] was trimmed: reading after it returns what remains.
        let got: Vec<_> = s.read_after(ids[0], 0).iter().map(|e| e.id).collect();
        assert_eq!(got, [ids[3], ids[4]]);
        assert_eq!(s.trim_to(0), 2);
        assert_eq!(s.bounds(), None);
        assert_eq!(s.push(1, Vec::new()), StreamId::new(1, 5));
    }
}
