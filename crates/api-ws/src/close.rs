//! Close codes: the one place that maps why a connection ends to the close
//! frame the client gets (RFC 6455 section 7.4 and `PROTOCOL.md` section 4).

use tokio_tungstenite::tungstenite::Error as WsError;
use tokio_tungstenite::tungstenite::error::ProtocolError;

/// Close code for a client whose outbound queue passed the limit, or whose
/// socket took nothing for the write-stall timeout: it should reconnect and
/// resume with `since`.
pub const CLOSE_TOO_SLOW: u16 = 4008;

/// RFC 6455: the client broke the protocol (e.g. an unmasked frame).
pub const CLOSE_PROTOCOL_ERROR: u16 = 1002;

/// RFC 6455: a text frame that is not UTF-8.
pub const CLOSE_INVALID_DATA: u16 = 1007;

/// RFC 6455: a frame or message over the size limit.
pub const CLOSE_TOO_BIG: u16 = 1009;

/// The close frame owed to a client whose frame could not be read, or
/// `None` when the connection is simply gone (reset, EOF, I/O error) and
/// nothing can be sent.
pub(crate) fn for_read_error(e: &WsError) -> Option<(u16, &'static str)> {
    match e {
        WsError::Utf8(_) => Some((CLOSE_INVALID_DATA, "a text frame is not valid UTF-8")),
        WsError::Capacity(_) => Some((CLOSE_TOO_BIG, "frame or message over 1 MiB")),
        WsError::Protocol(
            ProtocolError::ResetWithoutClosingHandshake
            | ProtocolError::SendAfterClosing
            | ProtocolError::ReceivedAfterClosing,
        ) => None,
        WsError::Protocol(ProtocolError::UnmaskedFrameFromClient) => {
            Some((CLOSE_PROTOCOL_ERROR, "client frames must be masked"))
        }
        WsError::Protocol(_) | WsError::AttackAttempt => {
            Some((CLOSE_PROTOCOL_ERROR, "WebSocket protocol violation"))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_tungstenite::tungstenite::error::CapacityError;

    fn code(e: &WsError) -> Option<u16> {
        for_read_error(e).map(|(c, _)| c)
    }

    #[test]
    fn read_errors_map_to_rfc_codes() {
        assert_eq!(code(&WsError::Utf8("x".into())), Some(1007));
        assert_eq!(
            code(&WsError::Capacity(CapacityError::MessageTooLong {
                size: 2,
                max_size: 1
            })),
            Some(1009)
        );
        assert_eq!(
            code(&WsError::Protocol(ProtocolError::UnmaskedFrameFromClient)),
            Some(1002)
        );
        assert_eq!(
            code(&WsError::Protocol(ProtocolError::NonZeroReservedBits)),
            Some(1002)
        );
        assert_eq!(
            code(&WsError::Protocol(
                ProtocolError::ResetWithoutClosingHandshake
            )),
            None
        );
        assert_eq!(code(&WsError::ConnectionClosed), None);
    }
}
