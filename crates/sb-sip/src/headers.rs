//! The header section of a message: an ordered list of fields that keeps the spelling it
//! was received with, and typed accessors for the headers the transaction layer needs.
//!
//! Names are compared case-insensitively and compact forms (`v` for Via, `i` for Call-ID and
//! so on, RFC 3261 section 7.3.3 and later RFCs) match their long names. Each field holds one
//! header line (folded lines joined); [`Headers::values`] splits comma-separated lists,
//! except for headers whose values may contain commas of their own (credentials, Date).

use crate::syntax::{ValueError, is_token, split_list};
use crate::values::{CSeq, NameAddr, Via};

/// Compact header names and the long names they stand for.
const COMPACT_FORMS: [(&str, &str); 15] = [
    ("i", "Call-ID"),
    ("m", "Contact"),
    ("e", "Content-Encoding"),
    ("l", "Content-Length"),
    ("c", "Content-Type"),
    ("f", "From"),
    ("s", "Subject"),
    ("k", "Supported"),
    ("t", "To"),
    ("v", "Via"),
    ("o", "Event"),
    ("r", "Refer-To"),
    ("b", "Referred-By"),
    ("u", "Allow-Events"),
    ("x", "Session-Expires"),
];

/// Headers whose values are never split on commas: credentials and challenges, dates, and
/// single-valued headers whose text may contain commas.
const UNSPLITTABLE: [&str; 19] = [
    "WWW-Authenticate",
    "Authorization",
    "Proxy-Authenticate",
    "Proxy-Authorization",
    "Authentication-Info",
    "Date",
    "Call-ID",
    "CSeq",
    "From",
    "To",
    "Subject",
    "User-Agent",
    "Server",
    "Organization",
    "Content-Type",
    "Content-Length",
    "Max-Forwards",
    "Retry-After",
    "Refer-To",
];

/// The long form of a header name: `v` gives `Via`, anything else is returned unchanged.
pub fn long_name(name: &str) -> &str {
    if name.len() == 1 {
        for (short, long) in COMPACT_FORMS {
            if short.eq_ignore_ascii_case(name) {
                return long;
            }
        }
    }
    name
}

/// Whether two header names denote the same header (ignoring case and compact forms).
pub fn same_name(a: &str, b: &str) -> bool {
    long_name(a).eq_ignore_ascii_case(long_name(b))
}

/// Why a typed accessor could not return a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// The header is not in the message.
    #[error("missing header {0:?}")]
    Missing(&'static str),
    /// The header is there but its value does not parse.
    #[error("header {name:?}: {error}")]
    Invalid {
        /// The header's long name.
        name: &'static str,
        /// What is wrong with the value.
        error: ValueError,
    },
}

/// One header field as received: its name as spelled and its value with folding removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    name: String,
    value: String,
}

impl Header {
    /// The name as spelled in the message.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The value, trimmed, with folded lines joined by a space.
    pub fn value(&self) -> &str {
        &self.value
    }
}

/// The header fields of a message, in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Headers {
    fields: Vec<Header>,
}

impl Headers {
    /// An empty header section.
    pub fn new() -> Headers {
        Headers::default()
    }

    /// Appends a field. The name must be a token and the value must not contain control
    /// characters other than tab (so that it cannot smuggle in another header line).
    pub fn push(&mut self, name: &str, value: &str) -> Result<(), ValueError> {
        if !is_token(name) {
            return Err(ValueError::new("a header name (a token)", name));
        }
        if value.chars().any(|c| c.is_control() && c != '\t') {
            return Err(ValueError::new("a header value without control characters", value));
        }
        self.fields.push(Header { name: name.to_owned(), value: value.trim().to_owned() });
        Ok(())
    }

    /// Replaces the first field called `name` (keeping its spelling and position) and removes
    /// the others, or appends the field when there is none.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), ValueError> {
        let Some(first) = self.fields.iter().position(|h| same_name(&h.name, name)) else {
            return self.push(name, value);
        };
        let mut replacement = Headers::new();
        replacement.push(&self.fields[first].name, value)?;
        let mut index = 0;
        self.fields.retain(|h| {
            index += 1;
            index - 1 == first || !same_name(&h.name, name)
        });
        if let (Some(slot), Some(new)) = (self.fields.get_mut(first), replacement.fields.pop()) {
            *slot = new;
        }
        Ok(())
    }

    /// Removes every field called `name`, returning how many there were.
    pub fn remove(&mut self, name: &str) -> usize {
        let before = self.fields.len();
        self.fields.retain(|h| !same_name(&h.name, name));
        before - self.fields.len()
    }

    /// The value of the first field called `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.get_all(name).next()
    }

    /// Whether a field called `name` is present.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The values of all fields called `name`, one per header line, in order.
    pub fn get_all<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> {
        self.fields.iter().filter(move |h| same_name(&h.name, name)).map(|h| h.value.as_str())
    }

    /// The values of all fields called `name`, with comma-separated lists split into their
    /// elements (never inside quotes or `<...>`, and never for credentials or Date).
    pub fn values(&self, name: &str) -> Vec<&str> {
        let splittable = !UNSPLITTABLE.iter().any(|u| same_name(u, name));
        let mut out = Vec::new();
        for value in self.get_all(name) {
            if splittable {
                out.extend(split_list(value));
            } else {
                out.push(value);
            }
        }
        out
    }

    /// All fields in order.
    pub fn iter(&self) -> impl Iterator<Item = &Header> {
        self.fields.iter()
    }

    /// The number of fields (header lines).
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    fn required(&self, name: &'static str) -> Result<&str, HeaderError> {
        self.get(name).ok_or(HeaderError::Missing(name))
    }

    /// Every Via value in order, whether in one comma-separated line or several lines.
    pub fn via(&self) -> Result<Vec<Via>, HeaderError> {
        let mut all = Vec::new();
        for value in self.get_all("Via") {
            all.extend(Via::parse_list(value).map_err(|error| HeaderError::Invalid { name: "Via", error })?);
        }
        if all.is_empty() {
            return Err(HeaderError::Missing("Via"));
        }
        Ok(all)
    }

    /// The topmost Via value, the one a response is sent back along.
    pub fn top_via(&self) -> Result<Via, HeaderError> {
        let first = split_list(self.required("Via")?).into_iter().next().unwrap_or_default();
        Via::parse(first).map_err(|error| HeaderError::Invalid { name: "Via", error })
    }

    /// The Call-ID.
    pub fn call_id(&self) -> Result<&str, HeaderError> {
        let value = self.required("Call-ID")?;
        if value.is_empty() || value.contains([' ', '\t']) {
            return Err(HeaderError::Invalid {
                name: "Call-ID",
                error: ValueError::new("a word without spaces", value),
            });
        }
        Ok(value)
    }

    /// The CSeq.
    pub fn cseq(&self) -> Result<CSeq, HeaderError> {
        CSeq::parse(self.required("CSeq")?).map_err(|error| HeaderError::Invalid { name: "CSeq", error })
    }

    /// The From address.
    pub fn from(&self) -> Result<NameAddr, HeaderError> {
        NameAddr::parse(self.required("From")?).map_err(|error| HeaderError::Invalid { name: "From", error })
    }

    /// The To address.
    pub fn to(&self) -> Result<NameAddr, HeaderError> {
        NameAddr::parse(self.required("To")?).map_err(|error| HeaderError::Invalid { name: "To", error })
    }

    /// Whether the message has the REGISTER wildcard `Contact: *` (remove all bindings).
    pub fn contact_is_wildcard(&self) -> bool {
        self.get_all("Contact").any(|v| v == "*")
    }

    /// Every Contact address in order. The wildcard `Contact: *` is an error here; check for
    /// it with [`Headers::contact_is_wildcard`].
    pub fn contact(&self) -> Result<Vec<NameAddr>, HeaderError> {
        let mut all = Vec::new();
        for value in self.get_all("Contact") {
            if value == "*" {
                let error = ValueError::new("addresses rather than the REGISTER wildcard", value);
                return Err(HeaderError::Invalid { name: "Contact", error });
            }
            all.extend(NameAddr::parse_list(value).map_err(|error| HeaderError::Invalid { name: "Contact", error })?);
        }
        if all.is_empty() {
            return Err(HeaderError::Missing("Contact"));
        }
        Ok(all)
    }

    /// The Content-Length.
    pub fn content_length(&self) -> Result<usize, HeaderError> {
        parse_content_length(self.required("Content-Length")?)
            .map_err(|error| HeaderError::Invalid { name: "Content-Length", error })
    }

    /// The Max-Forwards hop count.
    pub fn max_forwards(&self) -> Result<u8, HeaderError> {
        parse_max_forwards(self.required("Max-Forwards")?)
            .map_err(|error| HeaderError::Invalid { name: "Max-Forwards", error })
    }

    /// The branch of the top Via, if the Via parses and has one.
    pub fn branch(&self) -> Option<String> {
        self.top_via().ok()?.branch().map(str::to_owned)
    }

    /// The tag of the From address, if it parses and has one.
    pub fn from_tag(&self) -> Option<String> {
        self.from().ok()?.tag().map(str::to_owned)
    }

    /// The tag of the To address, if it parses and has one.
    pub fn to_tag(&self) -> Option<String> {
        self.to().ok()?.tag().map(str::to_owned)
    }
}

pub(crate) fn parse_content_length(s: &str) -> Result<usize, ValueError> {
    let s = s.trim();
    match s.parse::<usize>() {
        Ok(n) if s.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
        _ => Err(ValueError::new("a length in bytes", s)),
    }
}

pub(crate) fn parse_max_forwards(s: &str) -> Result<u8, ValueError> {
    let s = s.trim();
    match s.parse::<u8>() {
        Ok(n) if s.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
        _ => Err(ValueError::new("a hop count from 0 to 255", s)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(fields: &[(&str, &str)]) -> Headers {
        let mut h = Headers::new();
        for (name, value) in fields {
            h.push(name, value).unwrap();
        }
        h
    }

    #[test]
    fn compact_forms_match_long_names() {
        let h = headers(&[
            ("i", "abc@host"),
            ("m", "<sip:a@b>"),
            ("e", "gzip"),
            ("l", "0"),
            ("c", "application/sdp"),
            ("f", "<sip:a@b>;tag=1"),
            ("s", "hello"),
            ("k", "100rel"),
            ("t", "<sip:c@d>"),
            ("v", "SIP/2.0/UDP h;branch=z9hG4bK1"),
            ("o", "refer"),
            ("r", "<sip:e@f>"),
            ("b", "<sip:g@h>"),
            ("u", "dialog"),
            ("x", "1800"),
        ]);
        for (short, long) in COMPACT_FORMS {
            assert_eq!(h.get(long), h.get(short), "{long}");
            assert_eq!(h.get(&long.to_ascii_uppercase()), h.get(short), "{long}");
            assert!(h.get(long).is_some());
        }
        assert_eq!(h.call_id(), Ok("abc@host"));
        assert_eq!(h.branch().as_deref(), Some("z9hG4bK1"));
        assert_eq!(h.from_tag().as_deref(), Some("1"));
        assert_eq!(h.to_tag(), None);
        assert_eq!(h.get("X"), Some("1800"));
        assert_eq!(h.get("Session-Expires"), Some("1800"));
        assert_eq!(h.get("y"), None);
    }

    #[test]
    fn values_split_lists_but_not_credentials() {
        let h = headers(&[
            ("Allow", "INVITE, ACK,BYE"),
            ("allow", "OPTIONS"),
            ("Authorization", "Digest username=\"bob\", realm=\"biloxi.com\", nonce=\"a,b\""),
            ("Date", "Sat, 13 Nov 2010 23:29:00 GMT"),
            ("Contact", "\"Doe, J\" <sip:j@d>, <sip:k@d;x=a,b>"),
        ]);
        assert_eq!(h.values("ALLOW"), vec!["INVITE", "ACK", "BYE", "OPTIONS"]);
        assert_eq!(h.values("authorization").len(), 1);
        assert_eq!(h.values("Date"), vec!["Sat, 13 Nov 2010 23:29:00 GMT"]);
        assert_eq!(h.values("m"), vec!["\"Doe, J\" <sip:j@d>", "<sip:k@d;x=a,b>"]);
        // Splitting leaves the comma inside <...> alone; the URI itself then rejects it.
        assert!(h.contact().is_err());
    }

    #[test]
    fn set_and_remove_keep_order_and_spelling() {
        let mut h = headers(&[("l", "5"), ("Via", "a"), ("content-length", "7")]);
        h.set("Content-Length", "0").unwrap();
        assert_eq!(h.iter().map(|f| (f.name(), f.value())).collect::<Vec<_>>(), vec![("l", "0"), ("Via", "a")]);
        assert_eq!(h.remove("v"), 1);
        assert_eq!(h.len(), 1);
        assert!(h.push("Bad Name", "x").is_err());
        assert!(h.push("X", "a\r\nInjected: yes").is_err());
        assert_eq!(h.content_length(), Ok(0));
        assert_eq!(h.max_forwards(), Err(HeaderError::Missing("Max-Forwards")));
    }
}
