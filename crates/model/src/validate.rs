//! Checks of values that come from outside: names and field sizes.

use crate::Error;

/// The longest string a client may put in a session's text field (title,
/// last input, last output...): larger values are refused, not truncated.
pub const MAX_TEXT_FIELD_BYTES: usize = 64 * 1024;

/// Checks a computer name against `^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`.
///
/// # Errors
/// [`Error::InvalidField`] naming `computer` when the name does not match.
pub fn validate_computer_name(name: &str) -> Result<(), Error> {
    let bytes = name.as_bytes();
    let ok = !bytes.is_empty()
        && bytes.len() <= 63
        && bytes[0].is_ascii_alphanumeric()
        && bytes[1..]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidField {
            field: "computer",
            reason: format!(
                "{name:?} must match ^[A-Za-z0-9][A-Za-z0-9._-]{{0,62}}$ (1 to 63 characters)"
            ),
        })
    }
}

/// Checks the size of a free-text field.
///
/// # Errors
/// [`Error::InvalidField`] when the value is longer than
/// [`MAX_TEXT_FIELD_BYTES`].
pub fn validate_text(field: &'static str, value: &str) -> Result<(), Error> {
    if value.len() > MAX_TEXT_FIELD_BYTES {
        return Err(Error::InvalidField {
            field,
            reason: format!(
                "{} bytes is over the limit of {MAX_TEXT_FIELD_BYTES}",
                value.len()
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computer_names() {
        for ok in ["a", "alpha", "A-1.b_c", &"x".repeat(63)] {
            assert!(validate_computer_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-a", ".a", "a b", "ä", &"x".repeat(64), "a/b"] {
            assert!(validate_computer_name(bad).is_err(), "{bad}");
        }
    }
}
