//! Client ops and error frames. Their definition is the contract's, in
//! `model::protocol::ops` (pure decoding and encoding, no I/O, shared with
//! the `fleet` client); this module names what the connection loop uses.

pub use model::protocol::ops::{
    ClientOp, ErrorFrame, MAX_ERROR_MESSAGE_CHARS, MAX_SUBSCRIBE_COMPUTERS, decode_op,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_frames_are_the_contracts() {
        let e = ErrorFrame::new("bad_field", "a \"b\"\n");
        let v: serde_json::Value = serde_json::from_str(&e.to_json()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"type": "error", "code": "bad_field", "message": "a \"b\"\n"})
        );
        assert_eq!(
            e.to_json(),
            r#"{"type":"error","code":"bad_field","message":"a \"b\"\n"}"#
        );
    }
}
