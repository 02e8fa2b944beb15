//! Query strings: `name=value` pairs, form-url-decoded (`%2F` is `/`, `+`
//! is a space: encode a literal `+` as `%2B`). A parameter a route does not
//! take, a parameter given twice, or a value that does not decode is a
//! client error (400 `bad_field`), never silently ignored.

use crate::error::ApiError;

/// The decoded parameters of one request, each given at most once.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// Decodes `raw` (the part after `?`), accepting only the names in
    /// `allowed`.
    pub(crate) fn parse(raw: Option<&str>, allowed: &[&str]) -> Result<Self, ApiError> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for part in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (name, value) = part.split_once('=').unwrap_or((part, ""));
            let name = decode(name).map_err(|why| {
                ApiError::BadField(format!("query parameter name {name:?}: {why}"))
            })?;
            if !allowed.contains(&name.as_str()) {
                return Err(ApiError::BadField(unknown_message(&name, allowed)));
            }
            if pairs.iter().any(|(n, _)| *n == name) {
                return Err(ApiError::BadField(format!(
                    "query parameter {name:?} is given more than once"
                )));
            }
            let value = decode(value)
                .map_err(|why| ApiError::BadField(format!("query parameter {name:?}: {why}")))?;
            pairs.push((name, value));
        }
        Ok(Self { pairs })
    }

    /// The value of `name`, if given.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `computer` filter, checked against the contract's name rule.
    pub(crate) fn computer(&self) -> Result<Option<&str>, ApiError> {
        match self.get("computer") {
            None => Ok(None),
            Some(c) => {
                model::validate_computer_name(c)?;
                Ok(Some(c))
            }
        }
    }
}

fn unknown_message(name: &str, allowed: &[&str]) -> String {
    if allowed.is_empty() {
        format!("unknown query parameter {name:?}: this route takes none")
    } else {
        format!(
            "unknown query parameter {name:?}: expected {}",
            allowed.join(", ")
        )
    }
}

/// Form-url-decodes one name or value.
fn decode(raw: &str) -> Result<String, &'static str> {
    percent_decode(raw, true)
}

/// Percent-decodes `raw`; `+` is a space when `plus_is_space` (query
/// strings), itself otherwise (path segments).
pub(crate) fn percent_decode(raw: &str, plus_is_space: bool) -> Result<String, &'static str> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' if plus_is_space => out.push(b' '),
            b'%' => {
                let hi = bytes.get(i + 1).and_then(|b| hex(*b));
                let lo = bytes.get(i + 2).and_then(|b| hex(*b));
                match (hi, lo) {
                    (Some(hi), Some(lo)) => out.push(hi << 4 | lo),
                    _ => return Err("bad percent-encoding (expected % and two hex digits)"),
                }
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| "not UTF-8 once decoded")
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(raw: &str, allowed: &[&str]) -> Result<Query, ApiError> {
        Query::parse(Some(raw), allowed)
    }

    #[test]
    fn decodes_values() {
        let q = check(
            "computer=alpha&project=%2Fhome%2Fx+y%2B",
            &["computer", "project"],
        )
        .unwrap();
        assert_eq!(q.get("project"), Some("/home/x y+"));
        assert_eq!(q.computer().unwrap(), Some("alpha"));
        assert_eq!(Query::parse(None, &[]).unwrap(), Query::default());
        assert_eq!(check("&&", &[]).unwrap(), Query::default());
        assert_eq!(
            check("project=%C3%A9", &["project"])
                .unwrap()
                .get("project"),
            Some("é")
        );
    }

    #[test]
    fn refuses_what_it_cannot_take() {
        for (raw, allowed) in [
            ("bogus=1", &["computer"][..]),
            ("computer=a&computer=b", &["computer"][..]),
            ("project=%zz", &["project"][..]),
            ("project=%4", &["project"][..]),
            ("project=%FF", &["project"][..]),
            ("x", &[][..]),
        ] {
            let err = check(raw, allowed).unwrap_err();
            assert_eq!(err.code(), "bad_field", "{raw}");
        }
        let q = check("computer=a%20b", &["computer"]).unwrap();
        assert_eq!(q.computer().unwrap_err().code(), "bad_field");
        let q = check("computer", &["computer"]).unwrap();
        assert!(q.computer().is_err());
    }
}
