//! Lexical building blocks shared by the header and URI parsers (RFC 3261 section 25.1):
//! tokens, quoted strings, comma-separated lists and `;name=value` parameters.
//!
//! Everything here works on `&str` that the message parser has already checked to be UTF-8
//! without control characters, and never panics on any input.

use std::fmt;

/// Why a header value or URI was rejected: what was expected and what was found instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected {expected}, found {found:?}")]
pub struct ValueError {
    /// What the grammar wanted, as a phrase ("a number and a method").
    pub expected: &'static str,
    /// The text that did not fit.
    pub found: String,
}

impl ValueError {
    pub(crate) fn new(expected: &'static str, found: &str) -> ValueError {
        ValueError { expected, found: found.to_owned() }
    }
}

/// A `;name` or `;name=value` parameter of a URI, name-addr or Via. The value is kept as
/// written, including the quotes of a quoted string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// The parameter name as written.
    pub name: String,
    /// The value, `None` for a valueless parameter such as `;lr` or `;rport`.
    pub value: Option<String>,
}

impl fmt::Display for Param {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(value) => write!(f, ";{}={}", self.name, value),
            None => write!(f, ";{}", self.name),
        }
    }
}

/// Finds the parameter called `name` (case-insensitively): `Some(None)` when it is present
/// without a value.
pub(crate) fn find_param<'a>(params: &'a [Param], name: &str) -> Option<Option<&'a str>> {
    params.iter().find(|p| p.name.eq_ignore_ascii_case(name)).map(|p| p.value.as_deref())
}

pub(crate) fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-.!%*_+`'~".contains(c)
}

/// Whether `s` is a non-empty RFC 3261 token.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.chars().all(is_token_char)
}

/// Splits `s` on commas that are outside quoted strings and `<...>`, trimming each part and
/// dropping empty ones.
pub(crate) fn split_list(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut in_quotes = false;
    let mut escaped = false;
    let mut in_angle = false;
    for (i, c) in s.char_indices() {
        if in_quotes {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_quotes = false;
            }
            continue;
        }
        match c {
            '"' => in_quotes = true,
            '<' => in_angle = true,
            '>' => in_angle = false,
            ',' if !in_angle => {
                parts.push(s[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(s[start..].trim());
    parts.retain(|p| !p.is_empty());
    parts
}

/// Reads a quoted string at the start of `s` (which begins with `"`): returns the unescaped
/// content and the rest after the closing quote.
pub(crate) fn quoted_string(s: &str) -> Option<(String, &str)> {
    let inner = s.strip_prefix('"')?;
    let mut out = String::new();
    let mut escaped = false;
    for (i, c) in inner.char_indices() {
        if escaped {
            out.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '"' {
            return Some((out, &inner[i + 1..]));
        } else {
            out.push(c);
        }
    }
    None
}

/// Splits `s` on `sep` outside quoted strings.
fn split_outside_quotes(s: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut in_quotes = false;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if in_quotes {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_quotes = false;
            }
        } else if c == '"' {
            in_quotes = true;
        } else if c == sep {
            parts.push(&s[start..i]);
            start = i + 1;
        }
    }
    parts.push(&s[start..]);
    parts
}

/// Parses `;name[=value]` parameters. `s` is empty or starts with `;` (after whitespace).
/// `valid_value` decides which unquoted values are acceptable.
pub(crate) fn parse_params(
    s: &str,
    expected: &'static str,
    valid_name: fn(&str) -> bool,
    valid_value: fn(&str) -> bool,
) -> Result<Vec<Param>, ValueError> {
    let trimmed = s.trim();
    if trimmed.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = trimmed.strip_prefix(';') else {
        return Err(ValueError::new(expected, trimmed));
    };
    let mut params = Vec::new();
    for part in split_outside_quotes(rest, ';') {
        let (name, value) = match part.split_once('=') {
            Some((name, value)) => (name.trim(), Some(value.trim())),
            None => (part.trim(), None),
        };
        if !valid_name(name) {
            return Err(ValueError::new(expected, part.trim()));
        }
        if let Some(value) = value {
            let ok = if value.starts_with('"') {
                matches!(quoted_string(value), Some((_, rest)) if rest.is_empty())
            } else {
                valid_value(value)
            };
            if !ok {
                return Err(ValueError::new(expected, part.trim()));
            }
        }
        params.push(Param { name: name.to_owned(), value: value.map(str::to_owned) });
    }
    Ok(params)
}

/// Decodes `%HH` escapes into bytes; malformed escapes are kept literally.
pub(crate) fn unescape(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if let (Some(h), Some(l)) = (bytes.get(i + 1).and_then(hex), bytes.get(i + 2).and_then(hex)) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

fn hex(b: &u8) -> Option<u8> {
    (*b as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

/// Whether every `%` in `s` starts a valid `%HH` escape.
pub(crate) fn escapes_are_valid(s: &str) -> bool {
    let bytes = s.as_bytes();
    bytes.iter().enumerate().all(|(i, b)| {
        *b != b'%' || (bytes.get(i + 1).and_then(hex).is_some() && bytes.get(i + 2).and_then(hex).is_some())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_do_not_split_inside_quotes_or_angle_brackets() {
        assert_eq!(
            split_list(r#""Doe, John" <sip:a@b;x=1,2>;tag=1 , <sip:c@d>,,"#),
            vec![r#""Doe, John" <sip:a@b;x=1,2>;tag=1"#, "<sip:c@d>"]
        );
        assert_eq!(split_list(r#""a\",b" <sip:x@y>, sip:z@w"#), vec![r#""a\",b" <sip:x@y>"#, "sip:z@w"]);
    }

    #[test]
    fn quoted_strings_unescape() {
        assert_eq!(quoted_string(r#""a\"b" rest"#), Some((r#"a"b"#.to_owned(), " rest")));
        assert_eq!(quoted_string(r#""unterminated"#), None);
    }

    #[test]
    fn escapes() {
        assert_eq!(unescape("a%40b%zz%4"), b"a@b%zz%4");
        assert!(escapes_are_valid("a%40"));
        assert!(!escapes_are_valid("a%4"));
    }
}
