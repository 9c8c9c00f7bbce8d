//! Parsing messages from bytes: one UDP datagram at a time, or a TCP/TLS byte stream.
//!
//! Both entry points share the same steps: find the blank line that ends the header section,
//! check it against [`Limits`] before copying anything, split and unfold the header lines
//! (which must be UTF-8 without control characters), parse the start line, check the
//! headers a transaction layer relies on, and take the body. The stream parser frames
//! messages by Content-Length; when framing fails it reports the error once and stops,
//! because the rest of the connection can no longer be trusted.

use crate::headers::{Headers, long_name, parse_content_length, parse_max_forwards, same_name};
use crate::message::{Message, Request, Response};
use crate::method::Method;
use crate::status::StatusCode;
use crate::syntax::ValueError;
use crate::uri::Uri;
use crate::values::{CSeq, NameAddr, Via};

/// Size limits checked before a message is copied, so that a peer cannot make us allocate
/// more than this per message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// The largest message (start line, headers and body) in bytes.
    pub max_message_size: usize,
    /// The most header lines (after unfolding).
    pub max_headers: usize,
    /// The longest single line in the header section, in bytes.
    pub max_line_length: usize,
    /// The largest body in bytes.
    pub max_body: usize,
}

impl Default for Limits {
    /// 64 KiB messages (the UDP maximum), 128 headers, 8 KiB lines and 64 KiB bodies.
    fn default() -> Limits {
        Limits { max_message_size: 65_535, max_headers: 128, max_line_length: 8_192, max_body: 65_535 }
    }
}

/// Why bytes could not be read as a SIP message. Lines are counted from 1 at the start line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// There was nothing but line breaks.
    #[error("empty message")]
    Empty,
    /// The message is larger than [`Limits::max_message_size`].
    #[error("message exceeds the limit of {max} bytes ({size} bytes seen)")]
    MessageTooLarge {
        /// The size seen so far.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// A header-section line is longer than [`Limits::max_line_length`].
    #[error("line {line}: line exceeds the limit of {max} bytes ({len} bytes seen)")]
    LineTooLong {
        /// The line number.
        line: usize,
        /// The length seen so far.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// There are more header lines than [`Limits::max_headers`].
    #[error("line {line}: more than {max} header fields")]
    TooManyHeaders {
        /// The line of the first field over the limit.
        line: usize,
        /// The limit.
        max: usize,
    },
    /// The body is larger than [`Limits::max_body`].
    #[error("body of {len} bytes exceeds the limit of {max} bytes")]
    BodyTooLarge {
        /// The body length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The data ends before the blank line that ends the header section.
    #[error("the header section does not end with a blank line")]
    Unterminated,
    /// A header-section line is not UTF-8.
    #[error("line {line}: not valid UTF-8")]
    NotUtf8 {
        /// The line number.
        line: usize,
    },
    /// A header-section line ends with a bare LF or holds a bare CR.
    #[error("line {line}: bare CR or LF in the header section; lines must end with CRLF")]
    BareLineBreak {
        /// The line number.
        line: usize,
    },
    /// A header-section line holds a control character such as NUL.
    #[error("line {line}: control character {byte:#04x} in the header section")]
    ControlCharacter {
        /// The line number.
        line: usize,
        /// The offending byte.
        byte: u8,
    },
    /// The first line is neither a request line nor a status line.
    #[error("line 1: expected {expected}, found {found:?}")]
    StartLine {
        /// What was expected.
        expected: &'static str,
        /// The start line.
        found: String,
    },
    /// The start line names another protocol version.
    #[error("line 1: unsupported protocol version {found:?}, expected \"SIP/2.0\"")]
    Version {
        /// The version as written.
        found: String,
    },
    /// The Request-URI does not parse.
    #[error("line 1: Request-URI: {error}")]
    RequestUri {
        /// What is wrong with it.
        error: ValueError,
    },
    /// A line is not a `Name: value` header (or a continuation line comes first).
    #[error("line {line}: expected a header \"Name: value\", found {found:?}")]
    HeaderLine {
        /// The line number.
        line: usize,
        /// The line.
        found: String,
    },
    /// A header the parser checks has a malformed value.
    #[error("line {line}: header {name:?}: {error}")]
    Header {
        /// The line number where the field starts.
        line: usize,
        /// The header name as spelled.
        name: String,
        /// What is wrong with the value.
        error: ValueError,
    },
    /// A mandatory header is missing.
    #[error("missing mandatory header {name:?}")]
    MissingHeader {
        /// The header's long name.
        name: &'static str,
    },
    /// The CSeq method differs from the request method.
    #[error("line {line}: CSeq method {cseq} does not match the request method {method}")]
    CSeqMethod {
        /// The line of the CSeq header.
        line: usize,
        /// The method in CSeq.
        cseq: Method,
        /// The method of the request line.
        method: Method,
    },
    /// Content-Length promises more bytes than there are.
    #[error("Content-Length {declared} exceeds the {available} bytes after the headers")]
    ContentLengthTooLarge {
        /// The declared length.
        declared: usize,
        /// The bytes available.
        available: usize,
    },
    /// A message on a stream has no Content-Length, so its end cannot be found.
    #[error("a message on a stream transport must have a Content-Length header")]
    MissingContentLength,
}

impl ParseError {
    fn header(line: usize, name: &str, error: ValueError) -> ParseError {
        ParseError::Header { line, name: name.to_owned(), error }
    }
}

/// One unfolded header field and the line it starts on.
struct Field {
    line: usize,
    name: String,
    value: String,
}

/// A header section split into its start line and fields.
struct Head {
    start: String,
    fields: Vec<Field>,
}

impl Head {
    /// The first Content-Length, if any, checked.
    fn content_length(&self) -> Result<Option<usize>, ParseError> {
        match self.fields.iter().find(|f| same_name(&f.name, "Content-Length")) {
            None => Ok(None),
            Some(f) => parse_content_length(&f.value).map(Some).map_err(|e| ParseError::header(f.line, &f.name, e)),
        }
    }
}

/// Finds the end of the header section: the index of the blank line's CRLFCRLF.
fn find_head_end(data: &[u8], from: usize) -> Option<usize> {
    let start = from.saturating_sub(3);
    data.get(start..)?.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + start)
}

/// The number of leading CRLF pairs, in bytes.
fn leading_crlfs(data: &[u8]) -> usize {
    data.chunks_exact(2).take_while(|c| *c == b"\r\n").count() * 2
}

/// Splits the header section (without the final CRLFCRLF) into lines and unfolds them.
fn split_head(head: &[u8], limits: &Limits) -> Result<Head, ParseError> {
    let mut start = None;
    let mut fields: Vec<Field> = Vec::new();
    let mut rest = head;
    let mut line = 0;
    loop {
        line += 1;
        let (raw, next) = match rest.windows(2).position(|w| w == b"\r\n") {
            Some(i) => (&rest[..i], Some(&rest[i + 2..])),
            None => (rest, None),
        };
        if raw.len() > limits.max_line_length {
            return Err(ParseError::LineTooLong { line, len: raw.len(), max: limits.max_line_length });
        }
        if let Some(&byte) = raw.iter().find(|&&b| (b < 0x20 && b != b'\t') || b == 0x7f) {
            if byte == b'\r' || byte == b'\n' {
                return Err(ParseError::BareLineBreak { line });
            }
            return Err(ParseError::ControlCharacter { line, byte });
        }
        let text = std::str::from_utf8(raw).map_err(|_| ParseError::NotUtf8 { line })?;
        if start.is_none() {
            start = Some(text.to_owned());
        } else if text.starts_with([' ', '\t']) {
            let Some(last) = fields.last_mut() else {
                return Err(ParseError::HeaderLine { line, found: text.to_owned() });
            };
            let more = text.trim();
            if !more.is_empty() {
                if !last.value.is_empty() {
                    last.value.push(' ');
                }
                last.value.push_str(more);
            }
        } else {
            let Some((name, value)) = text.split_once(':') else {
                return Err(ParseError::HeaderLine { line, found: text.to_owned() });
            };
            let name = name.trim_end_matches([' ', '\t']);
            if !crate::syntax::is_token(name) {
                return Err(ParseError::HeaderLine { line, found: text.to_owned() });
            }
            if fields.len() == limits.max_headers {
                return Err(ParseError::TooManyHeaders { line, max: limits.max_headers });
            }
            fields.push(Field { line, name: name.to_owned(), value: value.trim().to_owned() });
        }
        match next {
            Some(next) => rest = next,
            None => break,
        }
    }
    Ok(Head { start: start.unwrap_or_default(), fields })
}

const START_LINE: &str = "a request line \"METHOD uri SIP/2.0\" or a status line \"SIP/2.0 code reason\"";

fn check_version(version: &str) -> Result<(), ParseError> {
    if version.eq_ignore_ascii_case("SIP/2.0") {
        Ok(())
    } else {
        Err(ParseError::Version { found: version.to_owned() })
    }
}

/// Checks the fields this crate has typed accessors for, so that an accepted message's
/// accessors succeed, and returns the header map.
fn check_fields(fields: Vec<Field>) -> Result<Headers, ParseError> {
    let mut headers = Headers::new();
    for f in fields {
        let long = long_name(&f.name).to_ascii_lowercase();
        let checked = match long.as_str() {
            "via" => Via::parse_list(&f.value).map(drop),
            "cseq" => CSeq::parse(&f.value).map(drop),
            "from" | "to" => NameAddr::parse(&f.value).map(drop),
            "contact" if f.value != "*" => NameAddr::parse_list(&f.value).map(drop),
            "content-length" => parse_content_length(&f.value).map(drop),
            "max-forwards" => parse_max_forwards(&f.value).map(drop),
            "call-id" if f.value.is_empty() || f.value.contains([' ', '\t']) => {
                Err(ValueError::new("a word without spaces", &f.value))
            }
            _ => Ok(()),
        };
        checked.map_err(|e| ParseError::header(f.line, &f.name, e))?;
        headers.push(&f.name, &f.value).map_err(|e| ParseError::header(f.line, &f.name, e))?;
    }
    Ok(headers)
}

/// Builds a message from a split header section and its body, checking the start line and
/// the mandatory headers.
fn build(head: Head, body: Vec<u8>) -> Result<Message, ParseError> {
    let start_error = || ParseError::StartLine { expected: START_LINE, found: head.start.clone() };
    let first = head.start.split([' ', '\t']).next().unwrap_or_default();
    if first.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("SIP/")) {
        check_version(first)?;
        let rest = head.start[first.len()..].trim_start_matches([' ', '\t']);
        let (code, reason) = rest.split_once([' ', '\t']).unwrap_or((rest, ""));
        let status = match code.parse::<u16>() {
            Ok(code) if rest.len() >= 3 && rest.as_bytes()[..3].iter().all(u8::is_ascii_digit) => StatusCode::new(code),
            _ => None,
        };
        let Some(status) = status else {
            return Err(ParseError::StartLine { expected: "a status code from 100 to 699", found: head.start });
        };
        let reason = reason.trim().to_owned();
        let headers = check_fields(head.fields)?;
        check_mandatory(&headers, &["Via", "From", "To", "Call-ID", "CSeq"])?;
        return Ok(Message::Response(Response { status, reason, headers, body }));
    }
    let mut parts = head.start.split([' ', '\t']).filter(|p| !p.is_empty());
    let (Some(method), Some(uri), Some(version), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(start_error());
    };
    let Some(method) = Method::parse(method) else {
        return Err(start_error());
    };
    let uri = Uri::parse(uri).map_err(|error| ParseError::RequestUri { error })?;
    check_version(version)?;
    let cseq_line = head.fields.iter().find(|f| same_name(&f.name, "CSeq")).map_or(0, |f| f.line);
    let headers = check_fields(head.fields)?;
    check_mandatory(&headers, &["Via", "From", "To", "Call-ID", "CSeq", "Max-Forwards"])?;
    if let Ok(cseq) = headers.cseq() {
        if cseq.method != method {
            return Err(ParseError::CSeqMethod { line: cseq_line, cseq: cseq.method, method });
        }
    }
    Ok(Message::Request(Request { method, uri, headers, body }))
}

fn check_mandatory(headers: &Headers, names: &[&'static str]) -> Result<(), ParseError> {
    match names.iter().find(|n| !headers.contains(n)) {
        Some(name) => Err(ParseError::MissingHeader { name }),
        None => Ok(()),
    }
}

/// Parses one UDP datagram. Content-Length is optional (the body then runs to the end of the
/// datagram); bytes beyond a Content-Length are ignored, and a Content-Length larger than
/// the data is an error.
pub fn parse_datagram(data: &[u8], limits: &Limits) -> Result<Message, ParseError> {
    if data.len() > limits.max_message_size {
        return Err(ParseError::MessageTooLarge { size: data.len(), max: limits.max_message_size });
    }
    let data = &data[leading_crlfs(data)..];
    if data.is_empty() {
        return Err(ParseError::Empty);
    }
    let head_end = find_head_end(data, 0).ok_or(ParseError::Unterminated)?;
    let head = split_head(&data[..head_end], limits)?;
    let after = &data[head_end + 4..];
    let body = match head.content_length()? {
        Some(declared) if declared > after.len() => {
            return Err(ParseError::ContentLengthTooLarge { declared, available: after.len() });
        }
        Some(declared) => &after[..declared],
        None => after,
    };
    if body.len() > limits.max_body {
        return Err(ParseError::BodyTooLarge { len: body.len(), max: limits.max_body });
    }
    build(head, body.to_vec())
}

/// Frames and parses messages arriving on a stream transport (TCP, TLS).
///
/// Feed bytes with [`StreamParser::push`] as they arrive and take messages with
/// [`Iterator::next`] until it returns `None`. Keepalive CRLFs between messages are skipped.
/// A message that is framed correctly but malformed comes out as an `Err` and parsing goes
/// on; a framing error (no Content-Length, limits exceeded, unreadable header section) comes
/// out once, after which the parser ignores all input: the connection should be closed.
#[derive(Debug)]
pub struct StreamParser {
    limits: Limits,
    buffer: Vec<u8>,
    /// How far the buffer has been searched for the end of the header section.
    scanned: usize,
    state: StreamState,
}

#[derive(Debug, PartialEq, Eq)]
enum StreamState {
    Running,
    /// A framing error was found and must still be reported.
    Failing(ParseError),
    /// The framing error was reported; nothing more comes out.
    Failed,
}

impl StreamParser {
    /// A parser with the given limits.
    pub fn new(limits: Limits) -> StreamParser {
        StreamParser { limits, buffer: Vec::new(), scanned: 0, state: StreamState::Running }
    }

    /// Appends received bytes. Ignored once the parser has failed; the buffer never holds
    /// much more than one message's limit.
    pub fn push(&mut self, data: &[u8]) {
        if self.state != StreamState::Running {
            return;
        }
        self.buffer.extend_from_slice(data);
        if let Err(e) = self.check_unframed() {
            self.fail(e);
        }
    }

    /// Whether a framing error has stopped the parser.
    pub fn has_failed(&self) -> bool {
        self.state != StreamState::Running
    }

    /// The number of bytes buffered and not yet returned as messages.
    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }

    fn fail(&mut self, error: ParseError) {
        self.state = StreamState::Failing(error);
        self.buffer = Vec::new();
    }

    fn skip_keepalives(&mut self) {
        let n = leading_crlfs(&self.buffer);
        if n > 0 {
            self.buffer.drain(..n);
            self.scanned = 0;
        }
    }

    /// Checks the limits on a header section whose end has not arrived yet. Only the bytes
    /// not searched before and the current line are looked at, so that a peer sending one
    /// byte at a time costs linear work.
    fn check_unframed(&mut self) -> Result<(), ParseError> {
        self.skip_keepalives();
        if find_head_end(&self.buffer, self.scanned).is_some() {
            return Ok(());
        }
        self.scanned = self.buffer.len();
        let max = self.limits.max_message_size;
        if self.buffer.len() > max {
            return Err(ParseError::MessageTooLarge { size: self.buffer.len(), max });
        }
        let line_start = self.buffer.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let len = self.buffer.len() - line_start;
        // One more byte is allowed for the CR of a CRLF that is not complete yet.
        if len > self.limits.max_line_length + 1 {
            let line = 1 + self.buffer[..line_start].iter().filter(|&&b| b == b'\n').count();
            return Err(ParseError::LineTooLong { line, len, max: self.limits.max_line_length });
        }
        Ok(())
    }

    /// The next framed message: the outer error is a framing error, the inner one a
    /// malformed message.
    fn next_message(&mut self) -> Option<Result<Result<Message, ParseError>, ParseError>> {
        self.skip_keepalives();
        let Some(head_end) = find_head_end(&self.buffer, self.scanned) else {
            self.scanned = self.buffer.len();
            return None;
        };
        self.scanned = head_end;
        let max = self.limits.max_message_size;
        if head_end + 4 > max {
            return Some(Err(ParseError::MessageTooLarge { size: head_end + 4, max }));
        }
        let head = match split_head(&self.buffer[..head_end], &self.limits) {
            Ok(head) => head,
            Err(e) => return Some(Err(e)),
        };
        let length = match head.content_length() {
            Ok(Some(length)) => length,
            Ok(None) => return Some(Err(ParseError::MissingContentLength)),
            Err(e) => return Some(Err(e)),
        };
        if length > self.limits.max_body {
            return Some(Err(ParseError::BodyTooLarge { len: length, max: self.limits.max_body }));
        }
        let total = head_end + 4 + length;
        if total > max {
            return Some(Err(ParseError::MessageTooLarge { size: total, max }));
        }
        if self.buffer.len() < total {
            return None;
        }
        let body = self.buffer[head_end + 4..total].to_vec();
        self.buffer.drain(..total);
        self.scanned = 0;
        Some(Ok(build(head, body)))
    }
}

impl Iterator for StreamParser {
    type Item = Result<Message, ParseError>;

    /// The next complete message, or `None` until more bytes arrive.
    fn next(&mut self) -> Option<Result<Message, ParseError>> {
        match std::mem::replace(&mut self.state, StreamState::Failed) {
            StreamState::Failing(e) => return Some(Err(e)),
            StreamState::Failed => return None,
            StreamState::Running => self.state = StreamState::Running,
        }
        match self.next_message()? {
            Ok(result) => Some(result),
            Err(framing) => {
                self.state = StreamState::Failed;
                self.buffer = Vec::new();
                Some(Err(framing))
            }
        }
    }
}
