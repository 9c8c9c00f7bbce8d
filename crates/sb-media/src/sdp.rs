//! SDP session descriptions (RFC 8866, which replaced RFC 4566): parsing a body from bytes,
//! typed access to what a voice call needs, and serialization back to CRLF text. The
//! offer/answer rules of RFC 3264 for one audio stream live in [`negotiate`].
//!
//! [`SessionDescription::parse`] reads `v=`, `o=`, `s=`, `c=`, `b=`, `t=`, `m=` and `a=`
//! into types; `i=`, `u=`, `e=`, `p=`, `k=`, `r=` and `z=` are kept as text so that they
//! survive a round trip. Known attributes (`rtpmap`, `fmtp`, `ptime`, `maxptime`, `rtcp`
//! and the four directions) are parsed; any other attribute is kept as a name and an
//! optional value.
//!
//! **Decision (leniency):** a line with a type letter that SDP does not define is an error,
//! as RFC 8866 §5 tells a parser to ignore such a description; a required line that is
//! malformed (`v=`, `o=`, `c=`, `m=`, `b=`, `t=`, or a known attribute with a bad value) is
//! an error naming its line; unknown attributes are kept whatever they hold. Empty lines, a
//! missing final line end and bare LF line ends are accepted because real phones send them.
//! A missing `t=` is accepted (and not invented on output), since rejecting a call over a
//! field every SIP peer ignores helps nobody. `c=` must hold an IP address literal: a sans-IO
//! crate cannot resolve host names.
//!
//! Serialization writes lines in the order RFC 8866 §5 prescribes, with CRLF line ends, so
//! `parse(serialize(sdp)) == sdp` for every description that parsed.
//!
//! Answering a desk phone's offer:
//!
//! ```
//! use sb_media::Law;
//! use sb_media::sdp::{AnswerConfig, Direction, SessionDescription, answer};
//!
//! let offer = b"v=0\r\no=- 1 1 IN IP4 192.0.2.51\r\ns=-\r\nc=IN IP4 192.0.2.51\r\nt=0 0\r\n\
//!     m=audio 11780 RTP/AVP 9 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=sendonly\r\n";
//! let offer = SessionDescription::parse(offer).unwrap();
//! let local = AnswerConfig::new("198.51.100.5".parse().unwrap(), 30000, 42);
//! let (sdp, agreed) = answer(&offer, &local).unwrap();
//! assert_eq!((agreed.law, agreed.payload_type.get()), (Law::ALaw, 8));
//! assert_eq!(agreed.dtmf_payload_type.map(|pt| pt.get()), Some(101));
//! // The phone put the call on hold: we receive and do not send.
//! assert_eq!(agreed.direction, Direction::RecvOnly);
//! assert!(sdp.to_string().contains("m=audio 30000 RTP/AVP 8 101\r\n"));
//! ```

pub mod negotiate;

use std::fmt;
use std::net::IpAddr;

use thiserror::Error;

use crate::rtp::PayloadType;

pub use negotiate::{AnswerConfig, Negotiated, NegotiationError, OfferConfig, answer, offer, process_answer};

/// A malformed SDP body. Line numbers start at 1.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SdpError {
    #[error("SDP body is empty")]
    Empty,
    #[error("line {line}: {problem}")]
    Line { line: usize, problem: String },
    #[error("SDP body has no {0}= line")]
    Missing(char),
}

fn line_err(line: usize, problem: impl Into<String>) -> SdpError {
    SdpError::Line { line, problem: problem.into() }
}

/// The `o=` line: who created the session and which version of it this is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub username: String,
    pub session_id: u64,
    /// Raised by one on every new offer in a dialog (RFC 3264 §8).
    pub session_version: u64,
    pub net_type: String,
    pub addr_type: String,
    /// An address or a host name; only informational.
    pub address: String,
}

/// The `c=` line, network type `IN`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub address: IpAddr,
    /// The multicast TTL and address count after the address (`/127/3`), kept as written.
    pub multicast: Option<String>,
}

impl Connection {
    /// The RFC 2543 way to put a call on hold: `c=IN IP4 0.0.0.0` (RFC 3264 §8.4).
    pub fn is_unspecified(&self) -> bool {
        self.address.is_unspecified()
    }
}

/// A `b=` line such as `b=AS:64`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bandwidth {
    pub kind: String,
    pub kbps: u64,
}

/// A `t=` line and the `r=` lines that follow it (kept as text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timing {
    pub start: u64,
    pub stop: u64,
    pub repeats: Vec<String>,
}

/// The media direction attributes (RFC 3264 §5.1), from the point of view of the side that
/// wrote them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    fn from_name(name: &str) -> Option<Direction> {
        Some(match name {
            "sendrecv" => Direction::SendRecv,
            "sendonly" => Direction::SendOnly,
            "recvonly" => Direction::RecvOnly,
            "inactive" => Direction::Inactive,
            _ => return None,
        })
    }

    fn from_parts(sends: bool, receives: bool) -> Direction {
        match (sends, receives) {
            (true, true) => Direction::SendRecv,
            (true, false) => Direction::SendOnly,
            (false, true) => Direction::RecvOnly,
            (false, false) => Direction::Inactive,
        }
    }

    pub fn sends(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::SendOnly)
    }

    pub fn receives(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::RecvOnly)
    }

    /// The direction the other side sees: `sendonly` becomes `recvonly` and back.
    pub fn reversed(self) -> Direction {
        Direction::from_parts(self.receives(), self.sends())
    }

    /// What both allow: sending only if both allow it, receiving likewise.
    pub fn intersect(self, other: Direction) -> Direction {
        Direction::from_parts(self.sends() && other.sends(), self.receives() && other.receives())
    }
}

/// `a=rtpmap:<payload type> <encoding>/<clock rate>[/<channels>]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rtpmap {
    pub payload_type: u8,
    pub encoding: String,
    pub clock_rate: u32,
    pub channels: Option<u32>,
}

impl Rtpmap {
    /// Whether this maps to `encoding/8000` with one channel, ignoring case.
    pub fn is(&self, encoding: &str, clock_rate: u32) -> bool {
        self.encoding.eq_ignore_ascii_case(encoding) && self.clock_rate == clock_rate && self.channels.unwrap_or(1) == 1
    }
}

/// One `a=` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attribute {
    Rtpmap(Rtpmap),
    /// `a=fmtp:<format> <parameters>`; the parameters are kept as written.
    Fmtp {
        format: String,
        params: String,
    },
    /// `a=ptime:<ms>`, the packet duration the writer wants to receive.
    Ptime(u32),
    MaxPtime(u32),
    Direction(Direction),
    /// `a=rtcp:<port>[ <nettype> <addrtype> <address>]` (RFC 3605); the address is kept as
    /// written.
    Rtcp {
        port: u16,
        address: Option<String>,
    },
    /// Any other attribute: a property (`a=name`) or a value (`a=name:value`).
    Other {
        name: String,
        value: Option<String>,
    },
}

/// One `m=` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaDescription {
    /// `audio`, `video`, `application`, ...
    pub media: String,
    /// 0 means the stream is rejected or disabled (RFC 3264 §6).
    pub port: u16,
    /// The number of ports after a slash (`49170/2`), if given.
    pub port_count: Option<u16>,
    /// `RTP/AVP`, `RTP/SAVP`, `udp`, ...
    pub proto: String,
    /// Payload type numbers for RTP, other tokens for other protocols.
    pub formats: Vec<String>,
    /// `i=` and `k=` lines, kept as text with their letter.
    pub other: Vec<(char, String)>,
    pub connection: Option<Connection>,
    pub bandwidths: Vec<Bandwidth>,
    pub attributes: Vec<Attribute>,
}

impl MediaDescription {
    /// A media section with no lines besides `m=`.
    pub fn new(media: &str, port: u16, proto: &str, formats: Vec<String>) -> MediaDescription {
        MediaDescription {
            media: media.to_owned(),
            port,
            port_count: None,
            proto: proto.to_owned(),
            formats,
            other: Vec::new(),
            connection: None,
            bandwidths: Vec::new(),
            attributes: Vec::new(),
        }
    }

    /// The formats that are RTP payload type numbers (0..=127), in order.
    pub fn payload_types(&self) -> impl Iterator<Item = PayloadType> + '_ {
        self.formats.iter().filter_map(|f| PayloadType::new(f.parse().ok()?).ok())
    }

    pub fn rtpmap(&self, payload_type: u8) -> Option<&Rtpmap> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::Rtpmap(m) if m.payload_type == payload_type => Some(m),
            _ => None,
        })
    }

    pub fn fmtp(&self, format: &str) -> Option<&str> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::Fmtp { format: f, params } if f == format => Some(params.as_str()),
            _ => None,
        })
    }

    pub fn ptime(&self) -> Option<u32> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::Ptime(ms) => Some(*ms),
            _ => None,
        })
    }

    pub fn maxptime(&self) -> Option<u32> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::MaxPtime(ms) => Some(*ms),
            _ => None,
        })
    }

    /// The direction attribute of this section, if it has one.
    pub fn direction(&self) -> Option<Direction> {
        direction_of(&self.attributes)
    }
}

fn direction_of(attributes: &[Attribute]) -> Option<Direction> {
    attributes.iter().find_map(|a| match a {
        Attribute::Direction(d) => Some(*d),
        _ => None,
    })
}

/// A parsed SDP body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDescription {
    pub origin: Origin,
    pub session_name: String,
    /// Session-level `i=`, `u=`, `e=`, `p=`, `z=` and `k=` lines, kept as text with their
    /// letter and written back in the order RFC 8866 prescribes.
    pub other: Vec<(char, String)>,
    pub connection: Option<Connection>,
    pub bandwidths: Vec<Bandwidth>,
    pub timing: Vec<Timing>,
    pub attributes: Vec<Attribute>,
    pub media: Vec<MediaDescription>,
}

/// Session-level letters written before `c=`; the rest of `other` goes after `t=`.
const BEFORE_CONNECTION: &[char] = &['i', 'u', 'e', 'p'];
/// The order of session-level lines kept as text (RFC 8866 §5).
const OTHER_ORDER: &[char] = &['i', 'u', 'e', 'p', 'z', 'k'];

impl SessionDescription {
    /// Parses an SDP body. See the module documentation for what is accepted.
    pub fn parse(bytes: &[u8]) -> Result<SessionDescription, SdpError> {
        let mut lines = Vec::new();
        for (index, raw) in bytes.split(|&b| b == b'\n').enumerate() {
            let number = index + 1;
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            if raw.is_empty() {
                continue;
            }
            let text = std::str::from_utf8(raw).map_err(|_| line_err(number, "not valid UTF-8"))?;
            if text.chars().any(|c| c.is_control() && c != '\t') {
                return Err(line_err(number, "holds a control character"));
            }
            let (letter, value) = match text.as_bytes() {
                [l @ b'a'..=b'z', b'=', ..] => (char::from(*l), &text[2..]),
                _ => return Err(line_err(number, format!("expected <letter>=<value>, found {text:?}"))),
            };
            lines.push((number, letter, value));
        }
        let Some(&(first, letter, version)) = lines.first() else { return Err(SdpError::Empty) };
        if letter != 'v' {
            return Err(line_err(first, "the first line must be v=0"));
        }
        if version != "0" {
            return Err(line_err(first, format!("unsupported SDP version {version:?}, expected 0")));
        }

        let mut origin = None;
        let mut session_name = None;
        let mut other = Vec::new();
        let mut connection = None;
        let mut bandwidths = Vec::new();
        let mut timing: Vec<Timing> = Vec::new();
        let mut attributes = Vec::new();
        let mut media: Vec<MediaDescription> = Vec::new();

        for &(number, letter, value) in &lines[1..] {
            if let Some(m) = media.last_mut() {
                match letter {
                    'm' => {}
                    'i' | 'k' => {
                        m.other.push((letter, value.to_owned()));
                        continue;
                    }
                    'c' => {
                        if m.connection.is_some() {
                            return Err(line_err(number, "second c= line in a media description"));
                        }
                        m.connection = Some(parse_connection(number, value)?);
                        continue;
                    }
                    'b' => {
                        m.bandwidths.push(parse_bandwidth(number, value)?);
                        continue;
                    }
                    'a' => {
                        m.attributes.push(parse_attribute(number, value)?);
                        continue;
                    }
                    _ => return Err(line_err(number, format!("{letter}= line is not allowed in a media description"))),
                }
            }
            match letter {
                'v' => return Err(line_err(number, "second v= line")),
                'o' if origin.is_some() => return Err(line_err(number, "second o= line")),
                'o' => origin = Some(parse_origin(number, value)?),
                's' if session_name.is_some() => return Err(line_err(number, "second s= line")),
                's' => session_name = Some(value.to_owned()),
                'i' | 'u' | 'e' | 'p' | 'z' | 'k' => other.push((letter, value.to_owned())),
                'c' if connection.is_some() => return Err(line_err(number, "second session-level c= line")),
                'c' => connection = Some(parse_connection(number, value)?),
                'b' => bandwidths.push(parse_bandwidth(number, value)?),
                't' => timing.push(parse_timing(number, value)?),
                'r' => match timing.last_mut() {
                    Some(t) => t.repeats.push(value.to_owned()),
                    None => return Err(line_err(number, "r= line without a t= line before it")),
                },
                'a' => attributes.push(parse_attribute(number, value)?),
                'm' => {
                    if origin.is_none() {
                        return Err(SdpError::Missing('o'));
                    }
                    if session_name.is_none() {
                        return Err(SdpError::Missing('s'));
                    }
                    media.push(parse_media(number, value)?);
                }
                _ => return Err(line_err(number, format!("unknown line type {letter}="))),
            }
        }
        // Written back in RFC order, so kept in it: a round trip then gives the same value.
        other.sort_by_key(|(letter, _)| OTHER_ORDER.iter().position(|l| l == letter));
        for m in &mut media {
            m.other.sort_by_key(|(letter, _)| *letter != 'i');
        }
        Ok(SessionDescription {
            origin: origin.ok_or(SdpError::Missing('o'))?,
            session_name: session_name.ok_or(SdpError::Missing('s'))?,
            other,
            connection,
            bandwidths,
            timing,
            attributes,
            media,
        })
    }

    /// The session-level direction attribute, if any; a media section without its own
    /// inherits it.
    pub fn direction(&self) -> Option<Direction> {
        direction_of(&self.attributes)
    }

    /// The direction that applies to a media section: its own, the session's, or
    /// `sendrecv` (RFC 3264 §5.1).
    pub fn media_direction(&self, media: &MediaDescription) -> Direction {
        media.direction().or(self.direction()).unwrap_or(Direction::SendRecv)
    }

    /// The connection that applies to a media section: its own or the session's.
    pub fn media_connection<'a>(&'a self, media: &'a MediaDescription) -> Option<&'a Connection> {
        media.connection.as_ref().or(self.connection.as_ref())
    }

    /// The body as bytes, CRLF line ends.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_string().into_bytes()
    }
}

impl fmt::Display for SessionDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = &self.origin;
        write!(f, "v=0\r\n")?;
        write!(
            f,
            "o={} {} {} {} {} {}\r\n",
            o.username, o.session_id, o.session_version, o.net_type, o.addr_type, o.address
        )?;
        write!(f, "s={}\r\n", self.session_name)?;
        for &letter in BEFORE_CONNECTION {
            for (_, value) in self.other.iter().filter(|(l, _)| *l == letter) {
                write!(f, "{letter}={value}\r\n")?;
            }
        }
        if let Some(c) = &self.connection {
            write!(f, "{c}")?;
        }
        for b in &self.bandwidths {
            write!(f, "b={}:{}\r\n", b.kind, b.kbps)?;
        }
        for t in &self.timing {
            write!(f, "t={} {}\r\n", t.start, t.stop)?;
            for r in &t.repeats {
                write!(f, "r={r}\r\n")?;
            }
        }
        for letter in ['z', 'k'] {
            for (_, value) in self.other.iter().filter(|(l, _)| *l == letter) {
                write!(f, "{letter}={value}\r\n")?;
            }
        }
        for a in &self.attributes {
            write!(f, "{a}")?;
        }
        for m in &self.media {
            write!(f, "m={} {}", m.media, m.port)?;
            if let Some(count) = m.port_count {
                write!(f, "/{count}")?;
            }
            write!(f, " {}", m.proto)?;
            for format in &m.formats {
                write!(f, " {format}")?;
            }
            write!(f, "\r\n")?;
            for (_, value) in m.other.iter().filter(|(l, _)| *l == 'i') {
                write!(f, "i={value}\r\n")?;
            }
            if let Some(c) = &m.connection {
                write!(f, "{c}")?;
            }
            for b in &m.bandwidths {
                write!(f, "b={}:{}\r\n", b.kind, b.kbps)?;
            }
            for (_, value) in m.other.iter().filter(|(l, _)| *l == 'k') {
                write!(f, "k={value}\r\n")?;
            }
            for a in &m.attributes {
                write!(f, "{a}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.address.is_ipv4() { "IP4" } else { "IP6" };
        write!(f, "c=IN {kind} {}", self.address)?;
        if let Some(m) = &self.multicast {
            write!(f, "/{m}")?;
        }
        write!(f, "\r\n")
    }
}

impl fmt::Display for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Attribute::Rtpmap(m) => {
                write!(f, "a=rtpmap:{} {}/{}", m.payload_type, m.encoding, m.clock_rate)?;
                if let Some(ch) = m.channels {
                    write!(f, "/{ch}")?;
                }
            }
            Attribute::Fmtp { format, params } => write!(f, "a=fmtp:{format} {params}")?,
            Attribute::Ptime(ms) => write!(f, "a=ptime:{ms}")?,
            Attribute::MaxPtime(ms) => write!(f, "a=maxptime:{ms}")?,
            Attribute::Direction(d) => write!(f, "a={}", d.as_str())?,
            Attribute::Rtcp { port, address } => {
                write!(f, "a=rtcp:{port}")?;
                if let Some(a) = address {
                    write!(f, " {a}")?;
                }
            }
            Attribute::Other { name, value: None } => write!(f, "a={name}")?,
            Attribute::Other { name, value: Some(v) } => write!(f, "a={name}:{v}")?,
        }
        write!(f, "\r\n")
    }
}

/// Splits on runs of spaces; SDP uses single spaces, but tolerating more costs nothing.
fn fields(value: &str) -> Vec<&str> {
    value.split(' ').filter(|s| !s.is_empty()).collect()
}

fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic())
}

fn number<T: std::str::FromStr>(line: usize, what: &str, s: &str) -> Result<T, SdpError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(line_err(line, format!("{what} must be a number, found {s:?}")));
    }
    s.parse().map_err(|_| line_err(line, format!("{what} is out of range: {s:?}")))
}

fn parse_origin(line: usize, value: &str) -> Result<Origin, SdpError> {
    let f = fields(value);
    let [username, id, version, net_type, addr_type, address] = f[..] else {
        return Err(line_err(line, format!("o= needs 6 fields, found {}", f.len())));
    };
    Ok(Origin {
        username: username.to_owned(),
        session_id: number(line, "o= session id", id)?,
        session_version: number(line, "o= session version", version)?,
        net_type: net_type.to_owned(),
        addr_type: addr_type.to_owned(),
        address: address.to_owned(),
    })
}

fn parse_connection(line: usize, value: &str) -> Result<Connection, SdpError> {
    let f = fields(value);
    let [net_type, addr_type, address] = f[..] else {
        return Err(line_err(line, format!("c= needs 3 fields, found {}", f.len())));
    };
    if net_type != "IN" {
        return Err(line_err(line, format!("c= network type must be IN, found {net_type:?}")));
    }
    let (address, multicast) = match address.split_once('/') {
        Some((a, rest)) => (a, Some(rest.to_owned())),
        None => (address, None),
    };
    if let Some(m) = &multicast {
        if m.split('/').any(|n| n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit())) {
            return Err(line_err(line, format!("c= multicast suffix must be /<ttl>[/<count>], found {m:?}")));
        }
    }
    let parsed: Option<IpAddr> = address.parse().ok();
    let address = match (addr_type, parsed) {
        ("IP4", Some(a @ IpAddr::V4(_))) | ("IP6", Some(a @ IpAddr::V6(_))) => a,
        ("IP4" | "IP6", _) => {
            return Err(line_err(line, format!("c= address {address:?} is not an {addr_type} address literal")));
        }
        _ => return Err(line_err(line, format!("c= address type must be IP4 or IP6, found {addr_type:?}"))),
    };
    Ok(Connection { address, multicast })
}

fn parse_bandwidth(line: usize, value: &str) -> Result<Bandwidth, SdpError> {
    let Some((kind, kbps)) = value.split_once(':') else {
        return Err(line_err(line, format!("b= must be <type>:<kbps>, found {value:?}")));
    };
    if !is_token(kind) {
        return Err(line_err(line, format!("b= type {kind:?} is not a token")));
    }
    Ok(Bandwidth { kind: kind.to_owned(), kbps: number(line, "b= bandwidth", kbps)? })
}

fn parse_timing(line: usize, value: &str) -> Result<Timing, SdpError> {
    let f = fields(value);
    let [start, stop] = f[..] else {
        return Err(line_err(line, format!("t= needs a start and a stop time, found {} fields", f.len())));
    };
    Ok(Timing { start: number(line, "t= start", start)?, stop: number(line, "t= stop", stop)?, repeats: Vec::new() })
}

fn parse_media(line: usize, value: &str) -> Result<MediaDescription, SdpError> {
    let f = fields(value);
    let [media, port, proto, formats @ ..] = &f[..] else {
        return Err(line_err(line, format!("m= needs media, port, protocol and formats, found {value:?}")));
    };
    if !is_token(media) || !is_token(proto) {
        return Err(line_err(line, format!("m= media and protocol must be tokens, found {value:?}")));
    }
    let (port, port_count) = match port.split_once('/') {
        Some((p, n)) => (number(line, "m= port", p)?, Some(number(line, "m= port count", n)?)),
        None => (number(line, "m= port", port)?, None),
    };
    if formats.is_empty() && port != 0 {
        return Err(line_err(line, "m= line has no formats"));
    }
    let mut m = MediaDescription::new(media, port, proto, formats.iter().map(|s| (*s).to_owned()).collect());
    m.port_count = port_count;
    Ok(m)
}

fn parse_attribute(line: usize, value: &str) -> Result<Attribute, SdpError> {
    let (name, rest) = match value.split_once(':') {
        Some((n, v)) => (n, Some(v)),
        None => (value, None),
    };
    if !is_token(name) {
        return Err(line_err(line, format!("attribute name {name:?} is not a token")));
    }
    let known = |what: &str| match rest {
        Some(v) => Ok(v),
        None => Err(line_err(line, format!("a={what} needs a value"))),
    };
    Ok(match name {
        "rtpmap" => {
            let v = known(name)?;
            let parts = fields(v);
            let [pt, codec] = parts[..] else {
                return Err(line_err(line, format!("a=rtpmap must be <payload type> <encoding>/<rate>, found {v:?}")));
            };
            let payload_type: u8 = number(line, "a=rtpmap payload type", pt)?;
            if payload_type > 127 {
                return Err(line_err(line, format!("a=rtpmap payload type {payload_type} is above 127")));
            }
            let mut codec = codec.split('/');
            let encoding = codec.next().unwrap_or_default();
            if !is_token(encoding) {
                return Err(line_err(line, format!("a=rtpmap encoding name {encoding:?} is not a token")));
            }
            let Some(rate) = codec.next() else {
                return Err(line_err(line, format!("a=rtpmap {v:?} has no clock rate")));
            };
            let clock_rate = number(line, "a=rtpmap clock rate", rate)?;
            let channels = codec.next().map(|c| number(line, "a=rtpmap channels", c)).transpose()?;
            if codec.next().is_some() {
                return Err(line_err(line, format!("a=rtpmap {v:?} has too many parts")));
            }
            Attribute::Rtpmap(Rtpmap { payload_type, encoding: encoding.to_owned(), clock_rate, channels })
        }
        "fmtp" => {
            let v = known(name)?;
            let (format, params) = v.split_once(' ').unwrap_or((v, ""));
            if !is_token(format) {
                return Err(line_err(line, format!("a=fmtp must start with a format, found {v:?}")));
            }
            Attribute::Fmtp { format: format.to_owned(), params: params.trim_start_matches(' ').to_owned() }
        }
        "ptime" => Attribute::Ptime(number(line, "a=ptime", known(name)?.trim())?),
        "maxptime" => Attribute::MaxPtime(number(line, "a=maxptime", known(name)?.trim())?),
        "rtcp" => {
            let v = known(name)?;
            let (port, address) = match v.split_once(' ') {
                Some((p, a)) if !a.trim().is_empty() => (p, Some(a.trim().to_owned())),
                _ => (v.trim(), None),
            };
            Attribute::Rtcp { port: number(line, "a=rtcp port", port)?, address }
        }
        _ => match (Direction::from_name(name), rest) {
            (Some(d), None) => Attribute::Direction(d),
            _ => Attribute::Other { name: name.to_owned(), value: rest.map(str::to_owned) },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PHONE: &str = "v=0\r\n\
        o=- 8000 8000 IN IP4 192.0.2.10\r\n\
        s=SIP Call\r\n\
        c=IN IP4 192.0.2.10\r\n\
        b=AS:84\r\n\
        t=0 0\r\n\
        m=audio 16384 RTP/AVP 0 8 9 101\r\n\
        a=rtpmap:0 PCMU/8000\r\n\
        a=rtpmap:8 PCMA/8000\r\n\
        a=rtpmap:9 G722/8000\r\n\
        a=rtpmap:101 telephone-event/8000\r\n\
        a=fmtp:101 0-15\r\n\
        a=ptime:20\r\n\
        a=rtcp:16385\r\n\
        a=x-custom\r\n\
        a=sendrecv\r\n";

    #[test]
    fn parses_a_phone_offer() {
        let sdp = SessionDescription::parse(PHONE.as_bytes()).unwrap();
        assert_eq!(sdp.origin.session_id, 8000);
        assert_eq!(sdp.session_name, "SIP Call");
        assert_eq!(sdp.connection.as_ref().unwrap().address, "192.0.2.10".parse::<IpAddr>().unwrap());
        assert_eq!(sdp.bandwidths, [Bandwidth { kind: "AS".into(), kbps: 84 }]);
        let m = &sdp.media[0];
        assert_eq!((m.media.as_str(), m.port, m.proto.as_str()), ("audio", 16384, "RTP/AVP"));
        assert_eq!(m.payload_types().map(PayloadType::get).collect::<Vec<_>>(), [0, 8, 9, 101]);
        assert!(m.rtpmap(101).unwrap().is("telephone-event", 8000));
        assert_eq!(m.fmtp("101"), Some("0-15"));
        assert_eq!(m.ptime(), Some(20));
        assert_eq!(m.direction(), Some(Direction::SendRecv));
        assert!(m.attributes.contains(&Attribute::Rtcp { port: 16385, address: None }));
        assert!(m.attributes.contains(&Attribute::Other { name: "x-custom".into(), value: None }));
        // The serialized form is the input, since it was already canonical.
        assert_eq!(sdp.to_string(), PHONE);
    }

    #[test]
    fn lf_line_ends_and_blank_lines_are_accepted() {
        let lf = PHONE.replace("\r\n", "\n") + "\n\n";
        assert_eq!(SessionDescription::parse(lf.as_bytes()), SessionDescription::parse(PHONE.as_bytes()));
    }

    #[test]
    fn other_lines_survive_in_rfc_order() {
        let body = "v=0\r\no=alice 1 2 IN IP6 2001:db8::1\r\ns= \r\ni=info\r\nu=http://example.com/\r\n\
            e=a@example.com\r\nc=IN IP6 2001:db8::1\r\nt=10 20\r\nr=7d 1h 0 25h\r\nz=0 0\r\nk=prompt\r\n\
            a=recvonly\r\nm=audio 49170/2 RTP/AVP 0\r\ni=voice\r\nc=IN IP4 233.252.0.1/127/2\r\nb=AS:64\r\n\
            k=clear:x\r\nm=application 0 udp\r\n";
        let sdp = SessionDescription::parse(body.as_bytes()).unwrap();
        assert_eq!(sdp.to_string(), body);
        assert_eq!(sdp.timing[0].repeats, ["7d 1h 0 25h"]);
        assert_eq!(sdp.media[0].port_count, Some(2));
        assert_eq!(sdp.media[0].connection.as_ref().unwrap().multicast.as_deref(), Some("127/2"));
        assert_eq!(sdp.media_direction(&sdp.media[0]), Direction::RecvOnly);
    }

    fn check_err(body: &str, expect: &str) {
        let err = SessionDescription::parse(body.as_bytes()).unwrap_err();
        assert_eq!(err.to_string(), expect);
    }

    #[test]
    fn malformed_bodies_name_the_line_and_the_problem() {
        check_err("", "SDP body is empty");
        check_err("\r\n\r\n", "SDP body is empty");
        check_err("o=- 1 1 IN IP4 192.0.2.1\r\n", "line 1: the first line must be v=0");
        check_err("v=1\r\n", "line 1: unsupported SDP version \"1\", expected 0");
        check_err("v=0\r\nhello\r\n", "line 2: expected <letter>=<value>, found \"hello\"");
        check_err("v=0\r\no=- 1 IN IP4 192.0.2.1\r\n", "line 2: o= needs 6 fields, found 5");
        check_err("v=0\r\no=- x 1 IN IP4 192.0.2.1\r\n", "line 2: o= session id must be a number, found \"x\"");
        check_err("v=0\r\no=- 1 1 IN IP4 h\r\n", "SDP body has no s= line");
        check_err("v=0\r\ns=-\r\n", "SDP body has no o= line");
        let head = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n";
        let check = |tail: &str, expect: &str| check_err(&format!("{head}{tail}"), expect);
        check("c=IN IP4 2001:db8::1\r\n", "line 4: c= address \"2001:db8::1\" is not an IP4 address literal");
        check("c=IN IP4 pbx.example.com\r\n", "line 4: c= address \"pbx.example.com\" is not an IP4 address literal");
        check("c=ATM NSAP 47.0091\r\n", "line 4: c= network type must be IN, found \"ATM\"");
        check("c=IN IPX 1.2.3.4\r\n", "line 4: c= address type must be IP4 or IP6, found \"IPX\"");
        check("c=IN IP4 192.0.2.1/x\r\n", "line 4: c= multicast suffix must be /<ttl>[/<count>], found \"x\"");
        check("t=0\r\n", "line 4: t= needs a start and a stop time, found 1 fields");
        check("b=AS\r\n", "line 4: b= must be <type>:<kbps>, found \"AS\"");
        check("x=1\r\n", "line 4: unknown line type x=");
        check("r=1d 1h 0\r\n", "line 4: r= line without a t= line before it");
        check("m=audio 70000 RTP/AVP 0\r\n", "line 4: m= port is out of range: \"70000\"");
        check("m=audio 5004 RTP/AVP\r\n", "line 4: m= line has no formats");
        check("m=audio\r\n", "line 4: m= needs media, port, protocol and formats, found \"audio\"");
        check("m=audio 5004 RTP/AVP 0\r\nt=0 0\r\n", "line 5: t= line is not allowed in a media description");
        check(
            "m=audio 5004 RTP/AVP 0\r\na=rtpmap:0\r\n",
            "line 5: a=rtpmap must be <payload type> <encoding>/<rate>, found \"0\"",
        );
        check("a=rtpmap:200 X/8000\r\n", "line 4: a=rtpmap payload type 200 is above 127");
        check("a=rtpmap:96 /8000\r\n", "line 4: a=rtpmap encoding name \"\" is not a token");
        check("a=rtpmap:96 opus\r\n", "line 4: a=rtpmap \"96 opus\" has no clock rate");
        check("a=rtpmap:96 opus/48000/2/1\r\n", "line 4: a=rtpmap \"96 opus/48000/2/1\" has too many parts");
        check("a=ptime:2O\r\n", "line 4: a=ptime must be a number, found \"2O\"");
        check("a=ptime\r\n", "line 4: a=ptime needs a value");
        check("a=rtcp:x\r\n", "line 4: a=rtcp port must be a number, found \"x\"");
        check("a=\r\n", "line 4: attribute name \"\" is not a token");
        check("s=again\r\n", "line 4: second s= line");
        check("v=0\r\n", "line 4: second v= line");
        check("c=IN IP4 192.0.2.1\r\nc=IN IP4 192.0.2.2\r\n", "line 5: second session-level c= line");
        check("i=\u{7}\r\n", "line 4: holds a control character");
        let mut bad = head.as_bytes().to_vec();
        bad.extend_from_slice(b"s=\xFF\r\n");
        assert_eq!(SessionDescription::parse(&bad), Err(line_err(4, "not valid UTF-8")));
    }

    #[test]
    fn unknown_attributes_and_directions_with_values_are_kept() {
        let body = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\na=ice-lite\r\na=sendonly:what\r\na=group:BUNDLE 0\r\n";
        let sdp = SessionDescription::parse(body.as_bytes()).unwrap();
        assert_eq!(sdp.direction(), None);
        assert_eq!(sdp.attributes[2], Attribute::Other { name: "group".into(), value: Some("BUNDLE 0".into()) });
        assert_eq!(sdp.to_string(), body);
    }

    #[test]
    fn directions_reverse_and_intersect() {
        use Direction::*;
        let all = [SendRecv, SendOnly, RecvOnly, Inactive];
        let reversed = all.map(Direction::reversed);
        assert_eq!(reversed, [SendRecv, RecvOnly, SendOnly, Inactive]);
        assert_eq!(SendOnly.intersect(RecvOnly), Inactive);
        assert_eq!(SendRecv.intersect(RecvOnly), RecvOnly);
        for d in all {
            assert_eq!(Direction::from_name(d.as_str()), Some(d));
        }
    }
}
