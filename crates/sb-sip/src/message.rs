//! Requests, responses and their serialization (RFC 3261 section 7).
//!
//! [`Request::to_bytes`] and [`Response::to_bytes`] write the canonical form: CRLF line ends,
//! `Name: value` fields in their original order and spelling, and a Content-Length that
//! matches the body (the first Content-Length field is rewritten, or one is appended).
//! [`Response::for_request`] builds a response the way RFC 3261 section 8.2.6 asks.

use std::fmt;

use crate::headers::{HeaderError, Headers, same_name};
use crate::method::Method;
use crate::status::StatusCode;
use crate::uri::Uri;
use crate::values::NameAddr;

/// A SIP request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The method of the request line.
    pub method: Method,
    /// The Request-URI.
    pub uri: Uri,
    /// The header fields.
    pub headers: Headers,
    /// The body, as bytes (it need not be UTF-8).
    pub body: Vec<u8>,
}

/// A SIP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: StatusCode,
    /// The reason phrase as sent (any text; line breaks are replaced when writing).
    pub reason: String,
    /// The header fields.
    pub headers: Headers,
    /// The body, as bytes (it need not be UTF-8).
    pub body: Vec<u8>,
}

/// A request or a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A request.
    Request(Request),
    /// A response.
    Response(Response),
}

/// Writes the header section and body after a start line.
fn write_rest(out: &mut Vec<u8>, headers: &Headers, body: &[u8]) {
    let mut wrote_length = false;
    for field in headers.iter() {
        if same_name(field.name(), "Content-Length") {
            if !wrote_length {
                out.extend_from_slice(format!("{}: {}\r\n", field.name(), body.len()).as_bytes());
                wrote_length = true;
            }
            continue;
        }
        out.extend_from_slice(field.name().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(field.value().as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if !wrote_length {
        out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
}

impl Request {
    /// The CANCEL for a pending `request` (RFC 3261 section 9.1): the same Request-URI,
    /// Call-ID, From, To and CSeq number, the request's top Via only (so that it matches the
    /// same server transaction), its Route headers, Max-Forwards 70 and no body.
    pub fn cancel_for(request: &Request) -> Result<Request, HeaderError> {
        Request::derived(request, Method::Cancel, None)
    }

    /// The ACK a client transaction sends for a non-2xx final `response` to `invite`
    /// (RFC 3261 section 17.1.1.3): like the INVITE's CANCEL, except that To is taken from
    /// the response, so it carries the tag the UAS chose. The ACK for a 2xx belongs to the
    /// dialog layer (section 13.2.2.4) and is not built here.
    pub fn ack_for(invite: &Request, response: &Response) -> Result<Request, HeaderError> {
        let to = response.headers.get("To").ok_or(HeaderError::Missing("To"))?;
        Request::derived(invite, Method::Ack, Some(to))
    }

    fn derived(request: &Request, method: Method, to: Option<&str>) -> Result<Request, HeaderError> {
        let top_via = request.headers.top_via()?;
        let cseq = request.headers.cseq()?;
        let call_id = request.headers.call_id()?;
        let from = request.headers.get("From").ok_or(HeaderError::Missing("From"))?;
        let to = match to {
            Some(to) => to,
            None => request.headers.get("To").ok_or(HeaderError::Missing("To"))?,
        };
        let fields = [
            ("Via", top_via.to_string()),
            ("Max-Forwards", "70".to_owned()),
            ("From", from.to_owned()),
            ("To", to.to_owned()),
            ("Call-ID", call_id.to_owned()),
            ("CSeq", format!("{} {}", cseq.seq, method)),
        ];
        let mut headers = Headers::new();
        let invalid = |name, error| HeaderError::Invalid { name, error };
        for (name, value) in fields {
            headers.push(name, &value).map_err(|e| invalid(name, e))?;
        }
        for route in request.headers.get_all("Route") {
            headers.push("Route", route).map_err(|e| invalid("Route", e))?;
        }
        headers.push("Content-Length", "0").map_err(|e| invalid("Content-Length", e))?;
        Ok(Request { method, uri: request.uri.clone(), headers, body: Vec::new() })
    }

    /// The message as it goes on the wire.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!("{} {} SIP/2.0\r\n", self.method, self.uri).into_bytes();
        write_rest(&mut out, &self.headers, &self.body);
        out
    }
}

impl Response {
    /// A response to `request` that copies Via (all of them, in order), From, To, Call-ID and
    /// CSeq, as RFC 3261 section 8.2.6.2 requires, with the default reason phrase, no body and
    /// a `Content-Length: 0` (rewritten on serialization if a body is added).
    pub fn for_request(request: &Request, status: StatusCode) -> Response {
        let mut headers = Headers::new();
        for field in request.headers.iter() {
            let copied = ["Via", "From", "To", "Call-ID", "CSeq"].iter().any(|n| same_name(field.name(), n));
            if copied {
                // The value was valid in the request's headers, so it is valid here too.
                let _ = headers.push(field.name(), field.value());
            }
        }
        let _ = headers.push("Content-Length", "0");
        Response { status, reason: status.reason_phrase().to_owned(), headers, body: Vec::new() }
    }

    /// Like [`Response::for_request`], and adds `to_tag` as the To tag unless the request's To
    /// already has one (a mid-dialog request) or the status is 100 Trying, which never
    /// creates a dialog. The tag is used only when it is a token.
    pub fn for_request_with_tag(request: &Request, status: StatusCode, to_tag: &str) -> Response {
        let mut response = Response::for_request(request, status);
        if status == StatusCode::TRYING || !crate::syntax::is_token(to_tag) {
            return response;
        }
        if let Ok(mut to) = request.headers.to() {
            if to.tag().is_none() {
                to.params.push(crate::syntax::Param { name: "tag".into(), value: Some(to_tag.into()) });
                let _ = response.headers.set("To", &to.to_string());
            }
        }
        response
    }

    /// The message as it goes on the wire.
    pub fn to_bytes(&self) -> Vec<u8> {
        let reason: String = self.reason.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
        let mut out = format!("SIP/2.0 {} {}\r\n", self.status, reason).into_bytes();
        write_rest(&mut out, &self.headers, &self.body);
        out
    }
}

impl Message {
    /// The header fields.
    pub fn headers(&self) -> &Headers {
        match self {
            Message::Request(r) => &r.headers,
            Message::Response(r) => &r.headers,
        }
    }

    /// The body.
    pub fn body(&self) -> &[u8] {
        match self {
            Message::Request(r) => &r.body,
            Message::Response(r) => &r.body,
        }
    }

    /// The message as it goes on the wire.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Message::Request(r) => r.to_bytes(),
            Message::Response(r) => r.to_bytes(),
        }
    }
}

/// Typed accessors that read through to [`Headers`].
macro_rules! delegate_accessors {
    ($($ty:ty),*) => {$(
        impl $ty {
            /// Every Via value in order.
            pub fn via(&self) -> Result<Vec<crate::values::Via>, crate::headers::HeaderError> {
                self.headers().via()
            }
            /// The topmost Via value.
            pub fn top_via(&self) -> Result<crate::values::Via, crate::headers::HeaderError> {
                self.headers().top_via()
            }
            /// The Call-ID.
            pub fn call_id(&self) -> Result<&str, crate::headers::HeaderError> {
                self.headers().call_id()
            }
            /// The CSeq.
            pub fn cseq(&self) -> Result<crate::values::CSeq, crate::headers::HeaderError> {
                self.headers().cseq()
            }
            /// The From address.
            pub fn from(&self) -> Result<NameAddr, crate::headers::HeaderError> {
                self.headers().from()
            }
            /// The To address.
            pub fn to(&self) -> Result<NameAddr, crate::headers::HeaderError> {
                self.headers().to()
            }
            /// Every Contact address.
            pub fn contact(&self) -> Result<Vec<NameAddr>, crate::headers::HeaderError> {
                self.headers().contact()
            }
            /// The Content-Length header.
            pub fn content_length(&self) -> Result<usize, crate::headers::HeaderError> {
                self.headers().content_length()
            }
            /// The Max-Forwards hop count.
            pub fn max_forwards(&self) -> Result<u8, crate::headers::HeaderError> {
                self.headers().max_forwards()
            }
            /// The branch of the top Via.
            pub fn branch(&self) -> Option<String> {
                self.headers().branch()
            }
            /// The From tag.
            pub fn from_tag(&self) -> Option<String> {
                self.headers().from_tag()
            }
            /// The To tag.
            pub fn to_tag(&self) -> Option<String> {
                self.headers().to_tag()
            }
        }
    )*};
}

impl Request {
    fn headers(&self) -> &Headers {
        &self.headers
    }
}

impl Response {
    fn headers(&self) -> &Headers {
        &self.headers
    }
}

delegate_accessors!(Request, Response, Message);

impl fmt::Display for Request {
    /// The wire form; a body that is not UTF-8 is shown lossily.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.to_bytes()))
    }
}

impl fmt::Display for Response {
    /// The wire form; a body that is not UTF-8 is shown lossily.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.to_bytes()))
    }
}

impl fmt::Display for Message {
    /// The wire form; a body that is not UTF-8 is shown lossily.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.to_bytes()))
    }
}
