//! Redis Cluster hash slots: which streams one `XREAD` may name together.
//!
//! A cluster refuses a multi-key command whose keys hash to different
//! slots (`CROSSSLOT`), even when one node owns them all. The slot of a key
//! is CRC16 (XMODEM) of its hash tag (the part between the first `{` and
//! the next `}`, when not empty) or of the whole key, modulo 16384; fred
//! computes it. Pure: no I/O.

use std::collections::BTreeMap;

use model::StreamId;

/// The cluster hash slot of `key` (0..16384).
pub(crate) fn slot(key: &str) -> u16 {
    fred::util::redis_keyslot(key.as_bytes())
}

/// Streams grouped by hash slot, keeping their order within a slot.
pub(crate) fn by_slot(from: &[(String, StreamId)]) -> BTreeMap<u16, Vec<(String, StreamId)>> {
    let mut groups: BTreeMap<u16, Vec<(String, StreamId)>> = BTreeMap::new();
    for (key, id) in from {
        groups
            .entry(slot(key))
            .or_default()
            .push((key.clone(), *id));
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_match_redis() {
        // CRC16 (XMODEM) mod 16384, as `CLUSTER KEYSLOT` answers.
        assert_eq!(slot("foo"), 12182);
        assert_eq!(slot("123456789"), 12739);
        assert_eq!(slot("{user1000}.following"), slot("{user1000}.followers"));
        assert_eq!(slot("{}foo"), 9500, "an empty tag hashes the whole key");
        assert_eq!(slot("fleet:events:{alpha}"), slot("alpha"));
    }

    #[test]
    fn hash_tags_share_a_slot() {
        let from = vec![
            ("fleet:events:{alpha}".to_string(), StreamId::ZERO),
            ("fleet:inbox:{alpha}".to_string(), StreamId::new(1, 0)),
            ("fleet:presence".to_string(), StreamId::new(2, 0)),
        ];
        let groups = by_slot(&from);
        assert_eq!(groups.len(), 2);
        let alpha = &groups[&slot("alpha")];
        assert_eq!(alpha[0].0, "fleet:events:{alpha}");
        assert_eq!(alpha[1].0, "fleet:inbox:{alpha}");
        assert_eq!(groups[&slot("fleet:presence")].len(), 1);
    }
}
