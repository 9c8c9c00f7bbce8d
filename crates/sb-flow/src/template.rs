//! Text with variables in it, such as `http://crm.local/lookup?account={account}`.
//!
//! A template is parsed once, when the flow is loaded, so that a typo in a variable reference
//! is reported with the file's line and column rather than found during a call. `{name}` is
//! replaced by the variable `name`, `{name.key}` by a variable an HTTP lookup set, and `{{` and
//! `}}` stand for literal braces. A variable that is not set renders as empty text.

use std::fmt;

/// A parsed template; displays as the text the file gave.
#[derive(Clone, PartialEq, Eq)]
pub struct Template {
    text: String,
    pieces: Vec<Piece>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    /// A variable reference, such as `account` or `crm.segment`.
    Var(String),
}

impl Template {
    /// Parses `text`; the error says what is wrong and where.
    pub fn parse(text: &str) -> Result<Template, String> {
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let mut chars = text.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            match c {
                '{' if chars.peek().is_some_and(|&(_, next)| next == '{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek().is_some_and(|&(_, next)| next == '}') => {
                    chars.next();
                    literal.push('}');
                }
                '{' => {
                    let rest = &text[at + 1..];
                    let Some(end) = rest.find('}') else {
                        return Err(format!(
                            "unclosed \"{{\" at character {}; close it with \"}}\", or write \
                             \"{{{{\" for a literal brace",
                            char_number(text, at)
                        ));
                    };
                    let name = &rest[..end];
                    check_reference(name)?;
                    if !literal.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut literal)));
                    }
                    pieces.push(Piece::Var(name.to_owned()));
                    // Skip the name and the closing brace.
                    for _ in 0..=name.chars().count() {
                        chars.next();
                    }
                }
                '}' => {
                    return Err(format!(
                        "unmatched \"}}\" at character {}; write \"}}}}\" for a literal brace",
                        char_number(text, at)
                    ));
                }
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            pieces.push(Piece::Text(literal));
        }
        Ok(Template { text: text.to_owned(), pieces })
    }

    /// The template as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The variables the template refers to, in order, such as `account` and `crm.segment`.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Var(name) => Some(name.as_str()),
            Piece::Text(_) => None,
        })
    }

    /// The text before the first variable, such as `http://crm.local/lookup?account=`.
    pub fn literal_prefix(&self) -> &str {
        match self.pieces.first() {
            Some(Piece::Text(text)) => text,
            _ => "",
        }
    }

    /// Fills in the variables: `lookup` gives a variable's value (unset ones are empty), and
    /// `escape` transforms each value before it is inserted (percent-encoding in URLs).
    pub fn render<'v>(&self, lookup: impl Fn(&str) -> Option<&'v str>, escape: impl Fn(&str) -> String) -> String {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Var(name) => out.push_str(&escape(lookup(name).unwrap_or(""))),
            }
        }
        out
    }
}

impl fmt::Debug for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.text, f)
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters, for a value inserted into
/// a URL.
pub(crate) fn percent_encode(value: &str) -> String {
    let mut out = String::new();
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The 1-based character number of byte offset `at`, for messages.
fn char_number(text: &str, at: usize) -> usize {
    text[..at].chars().count() + 1
}

/// Checks a reference between braces: a variable name, optionally followed by `.key` for a
/// value an HTTP lookup returned.
fn check_reference(reference: &str) -> Result<(), String> {
    let (root, key) = match reference.split_once('.') {
        Some((root, key)) => (root, Some(key)),
        None => (reference, None),
    };
    if let Err(message) = crate::model::VarName::parse(root) {
        return Err(format!("in {{{reference}}}: {message}"));
    }
    if let Some(key) = key
        && (key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'))
    {
        return Err(format!(
            "in {{{reference}}}: the key after \".\" holds only letters, digits, '_' and '-', \
             such as {{crm.segment}}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(text: &str) -> Result<String, String> {
        let values = [("account", "12 34"), ("crm.segment", "vip")];
        let template = Template::parse(text)?;
        Ok(template.render(|name| values.iter().find(|(n, _)| *n == name).map(|(_, v)| *v), percent_encode))
    }

    #[test]
    fn rendering() {
        let cases = [
            ("plain", "plain"),
            ("", ""),
            ("http://crm/lookup?account={account}", "http://crm/lookup?account=12%2034"),
            ("{crm.segment}/{account}", "vip/12%2034"),
            ("{missing}!", "!"),
            ("{{literal}} {{{account}}}", "{literal} {12%2034}"),
            ("ä{account}ö", "ä12%2034ö"),
        ];
        for (text, expect) in cases {
            assert_eq!(render(text), Ok(expect.to_owned()), "{text:?}");
        }
    }

    #[test]
    fn errors() {
        let cases = [
            ("a{b", "unclosed \"{\" at character 2; close it with \"}\", or write \"{{\" for a literal brace"),
            ("ä}", "unmatched \"}\" at character 2; write \"}}\" for a literal brace"),
            ("{}", "in {}: invalid variable name \"\": a variable name starts with a lowercase letter"),
            ("{Account}", "in {Account}: invalid variable name \"Account\""),
            ("{crm.}", "in {crm.}: the key after \".\" holds only letters"),
            ("{crm.a b}", "in {crm.a b}: the key after \".\""),
        ];
        for (text, expect) in cases {
            let got = render(text).expect_err(text);
            assert!(got.starts_with(expect), "{text:?}: {got}");
        }
    }

    #[test]
    fn variables_and_prefix() {
        let template = Template::parse("http://x/{a}?b={crm.b}").expect("valid");
        assert_eq!(template.variables().collect::<Vec<_>>(), ["a", "crm.b"]);
        assert_eq!(template.literal_prefix(), "http://x/");
        assert_eq!(template.to_string(), "http://x/{a}?b={crm.b}");
    }
}
