//! Splits a large text message into frames of at most [`FRAGMENT_BYTES`]
//! (RFC 6455 section 5.4), cut at character boundaries. Pure: no I/O.
//!
//! Why: tungstenite writes a message as one frame through a buffer that is
//! bounded (so that pongs to a client that never reads cannot grow without
//! limit), and a snapshot may be tens of megabytes. In fragments, a snapshot
//! of any size goes through the bounded buffer, pongs can be interleaved,
//! and "no write progress" is measured per fragment.

use bytes::Bytes;
use tokio_tungstenite::tungstenite::Utf8Bytes;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};

/// The largest frame the server writes (64 KiB).
pub(crate) const FRAGMENT_BYTES: usize = 64 * 1024;

/// The frames of `text`: one final text frame when it fits in `max`,
/// else a text frame, continuation frames and a final continuation frame.
/// `max` below 4 is raised to 4 so every piece holds a whole character.
pub(crate) fn fragments(text: &Utf8Bytes, max: usize) -> Vec<Frame> {
    let max = max.max(4);
    let s: &str = text;
    let bytes = Bytes::from(text.clone());
    let mut frames = Vec::with_capacity(s.len() / max + 1);
    let mut start = 0;
    while start < s.len() || frames.is_empty() {
        let mut end = (start + max).min(s.len());
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        let opcode = if start == 0 {
            OpCode::Data(Data::Text)
        } else {
            OpCode::Data(Data::Continue)
        };
        let last = end == s.len();
        frames.push(Frame::message(bytes.slice(start..end), opcode, last));
        start = end;
    }
    frames
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(frames: &[Frame]) -> Vec<(OpCode, bool, usize)> {
        frames
            .iter()
            .map(|f| (f.header().opcode, f.header().is_final, f.payload().len()))
            .collect()
    }

    #[test]
    fn small_text_is_one_final_frame() {
        let f = fragments(&Utf8Bytes::from_static("hello"), 8);
        assert_eq!(shape(&f), [(OpCode::Data(Data::Text), true, 5)]);
        let f = fragments(&Utf8Bytes::from_static(""), 8);
        assert_eq!(shape(&f), [(OpCode::Data(Data::Text), true, 0)]);
    }

    #[test]
    fn large_text_is_cut_at_char_boundaries_and_rejoins() {
        let text = "aé€😀".repeat(50);
        let f = fragments(&Utf8Bytes::from(text.clone()), 7);
        assert!(f.len() > 1);
        assert_eq!(f[0].header().opcode, OpCode::Data(Data::Text));
        for (i, frame) in f.iter().enumerate() {
            let last = i + 1 == f.len();
            assert_eq!(frame.header().is_final, last);
            if i > 0 {
                assert_eq!(frame.header().opcode, OpCode::Data(Data::Continue));
            }
            assert!(frame.payload().len() <= 7);
            assert!(std::str::from_utf8(frame.payload()).is_ok(), "whole chars");
        }
        let joined: Vec<u8> = f.iter().flat_map(|f| f.payload().to_vec()).collect();
        assert_eq!(joined, text.as_bytes());
    }
}
