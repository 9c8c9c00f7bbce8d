//! SIP messages (RFC 3261): a panic-free parser and serializer with no I/O and no runtime.
//!
//! This crate is the bottom of Switchboard's SIP stack. It turns bytes from a UDP datagram
//! ([`parse_datagram`]) or a TCP/TLS stream ([`StreamParser`]) into [`Message`]s and back
//! ([`Request::to_bytes`], [`Response::to_bytes`]). The sans-IO [`transaction`] layer
//! (RFC 3261 section 17) sits on top of the messages; the dialog layer and the B2BUA will be
//! built on both. Header sections must be UTF-8; bodies are bytes.
//! Everything that reaches the network is bounded by [`Limits`] before it is copied.
//!
//! ```
//! use sb_sip::{Limits, Message, Response, StatusCode, parse_datagram};
//!
//! let bytes = b"OPTIONS sip:agent@example.com SIP/2.0\r\n\
//! v: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;rport\r\n\
//! Max-Forwards: 70\r\nf: <sip:a@example.net>;tag=9\r\nt: <sip:agent@example.com>\r\n\
//! i: 1@192.0.2.1\r\nCSeq: 1 OPTIONS\r\n\r\n";
//! let Ok(Message::Request(request)) = parse_datagram(bytes, &Limits::default()) else {
//!     panic!("a valid request");
//! };
//! assert_eq!(request.top_via().unwrap().rport(), Some(None));
//! let ok = Response::for_request_with_tag(&request, StatusCode::OK, "x1");
//! assert!(ok.to_string().starts_with("SIP/2.0 200 OK\r\nv: SIP/2.0/UDP 192.0.2.1:5060"));
//! ```

mod headers;
mod message;
mod method;
mod parse;
mod status;
mod syntax;
pub mod transaction;
mod uri;
mod values;

pub use headers::{Header, HeaderError, Headers, long_name, same_name};
pub use message::{Message, Request, Response};
pub use method::Method;
pub use parse::{Limits, ParseError, StreamParser, parse_datagram};
pub use status::StatusCode;
pub use syntax::{Param, ValueError};
pub use transaction::{
    TimerConfig, Timestamp, TransactionError, TransactionEvent, TransactionId, TransactionLayer, TransactionState,
    Transmit, Transport,
};
pub use uri::{Host, Scheme, Uri};
pub use values::{CSeq, NameAddr, Via};
