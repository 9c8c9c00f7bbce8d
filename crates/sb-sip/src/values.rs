//! Typed header values: [`NameAddr`] (From, To, Contact, Route), [`Via`] and [`CSeq`].
//!
//! Each type parses one header value (one element of a comma-separated list) and prints a
//! canonical form that parses back to an equal value. The message parser uses these same
//! functions to reject malformed mandatory headers, so an accepted message's typed accessors
//! succeed.

use std::fmt;

use crate::method::Method;
use crate::syntax::{Param, ValueError, find_param, is_token, is_token_char, parse_params, quoted_string, split_list};
use crate::uri::{Host, Uri, parse_host_port};

fn valid_param_name(s: &str) -> bool {
    is_token(s)
}

/// Generic parameter values: tokens, host names and bracketed IPv6 addresses.
fn valid_gen_value(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| is_token_char(c) || "[]:".contains(c))
}

/// A display name and URI with header parameters, as in From, To, Contact and Route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAddr {
    /// The display name, unquoted and unescaped.
    pub display_name: Option<String>,
    /// The address.
    pub uri: Uri,
    /// Header parameters after the address, such as `tag` or `expires`.
    pub params: Vec<Param>,
}

impl NameAddr {
    /// An address without a display name or parameters.
    pub fn new(uri: Uri) -> NameAddr {
        NameAddr { display_name: None, uri, params: Vec::new() }
    }

    /// Parses one name-addr or addr-spec with its parameters.
    pub fn parse(s: &str) -> Result<NameAddr, ValueError> {
        const EXPECTED: &str = "a name-addr (\"Name\" <uri>) or an address";
        let s = s.trim();
        let (display_name, rest) = if s.starts_with('"') {
            let (name, rest) = quoted_string(s).ok_or_else(|| ValueError::new(EXPECTED, s))?;
            let rest = rest.trim_start();
            if !rest.starts_with('<') {
                return Err(ValueError::new(EXPECTED, s));
            }
            (Some(name), rest)
        } else if let Some(i) = s.find('<') {
            let name = s[..i].trim();
            if !name.split_whitespace().all(is_token) {
                return Err(ValueError::new(EXPECTED, s));
            }
            (if name.is_empty() { None } else { Some(name.split_whitespace().collect::<Vec<_>>().join(" ")) }, &s[i..])
        } else {
            (None, s)
        };
        let (uri, params) = if let Some(inner) = rest.strip_prefix('<') {
            let end = inner.find('>').ok_or_else(|| ValueError::new(EXPECTED, s))?;
            (inner[..end].trim(), &inner[end + 1..])
        } else {
            match rest.find(';') {
                Some(i) => (rest[..i].trim_end(), &rest[i..]),
                None => (rest, ""),
            }
        };
        let uri = Uri::parse(uri)?;
        let params = parse_params(params, "header parameters ;name[=value]", valid_param_name, valid_gen_value)?;
        Ok(NameAddr { display_name, uri, params })
    }

    /// Parses a comma-separated list of addresses (Contact, Route, Record-Route).
    pub fn parse_list(s: &str) -> Result<Vec<NameAddr>, ValueError> {
        let parts = split_list(s);
        if parts.is_empty() {
            return Err(ValueError::new("at least one address", s));
        }
        parts.into_iter().map(NameAddr::parse).collect()
    }

    /// The parameter called `name`: `Some(None)` when present without a value.
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        find_param(&self.params, name)
    }

    /// The `tag` parameter that identifies a dialog.
    pub fn tag(&self) -> Option<&str> {
        self.param("tag").flatten()
    }
}

impl fmt::Display for NameAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(name) = &self.display_name {
            f.write_str("\"")?;
            for c in name.chars() {
                if c == '"' || c == '\\' {
                    f.write_str("\\")?;
                }
                write!(f, "{c}")?;
            }
            f.write_str("\" ")?;
        }
        write!(f, "<{}>", self.uri)?;
        for param in &self.params {
            write!(f, "{param}")?;
        }
        Ok(())
    }
}

/// One Via header value: the transport and address a response goes back to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via {
    /// The protocol name, `SIP` in practice.
    pub protocol: String,
    /// The protocol version, `2.0` in practice.
    pub version: String,
    /// The transport as written: `UDP`, `TCP`, `TLS`, `SCTP`, `WS`, `WSS`...
    pub transport: String,
    /// The sent-by host.
    pub host: Host,
    /// The sent-by port, if given.
    pub port: Option<u16>,
    /// The parameters: branch, received, rport, maddr, ttl and extensions.
    pub params: Vec<Param>,
}

impl Via {
    /// Parses one Via value such as `SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776;rport`.
    pub fn parse(s: &str) -> Result<Via, ValueError> {
        const EXPECTED: &str = "a Via value \"SIP/2.0/transport host[:port];params\"";
        let s = s.trim();
        let (main, params) = match s.find(';') {
            Some(i) => (&s[..i], &s[i..]),
            None => (s, ""),
        };
        let mut parts = main.splitn(3, '/');
        let (Some(protocol), Some(version), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(ValueError::new(EXPECTED, s));
        };
        let rest = rest.trim_start();
        let Some(space) = rest.find([' ', '\t']) else {
            return Err(ValueError::new(EXPECTED, s));
        };
        let (protocol, version, transport) = (protocol.trim(), version.trim(), &rest[..space]);
        let sent_by = rest[space..].trim();
        if !is_token(protocol) || !is_token(version) || !is_token(transport) {
            return Err(ValueError::new(EXPECTED, s));
        }
        let (host, port) = parse_host_port(sent_by)?;
        let params = parse_params(params, "Via parameters ;name[=value]", valid_param_name, valid_gen_value)?;
        if let Some(Some(ttl)) = find_param(&params, "ttl") {
            if ttl.parse::<u8>().is_err() {
                return Err(ValueError::new("a ttl from 0 to 255", ttl));
            }
        }
        if let Some(Some(rport)) = find_param(&params, "rport") {
            if rport.parse::<u16>().is_err() {
                return Err(ValueError::new("an rport number", rport));
            }
        }
        Ok(Via {
            protocol: protocol.to_owned(),
            version: version.to_owned(),
            transport: transport.to_owned(),
            host,
            port,
            params,
        })
    }

    /// Parses a comma-separated list of Via values.
    pub fn parse_list(s: &str) -> Result<Vec<Via>, ValueError> {
        let parts = split_list(s);
        if parts.is_empty() {
            return Err(ValueError::new("at least one Via value", s));
        }
        parts.into_iter().map(Via::parse).collect()
    }

    /// The parameter called `name`: `Some(None)` when present without a value.
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        find_param(&self.params, name)
    }

    /// The branch parameter, the transaction id for RFC 3261 peers (`z9hG4bK...`).
    pub fn branch(&self) -> Option<&str> {
        self.param("branch").flatten()
    }

    /// The `received` parameter a server adds when the source address differs.
    pub fn received(&self) -> Option<&str> {
        self.param("received").flatten()
    }

    /// The `rport` parameter (RFC 3581): `Some(None)` when the client asks for it without a
    /// value, `Some(Some(port))` when a server filled it in.
    pub fn rport(&self) -> Option<Option<u16>> {
        self.param("rport").map(|v| v.and_then(|p| p.parse().ok()))
    }

    /// The `maddr` parameter.
    pub fn maddr(&self) -> Option<&str> {
        self.param("maddr").flatten()
    }

    /// The `ttl` parameter.
    pub fn ttl(&self) -> Option<u8> {
        self.param("ttl").flatten().and_then(|t| t.parse().ok())
    }
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{} {}", self.protocol, self.version, self.transport, self.host)?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        for param in &self.params {
            write!(f, "{param}")?;
        }
        Ok(())
    }
}

/// The CSeq header: a sequence number and the method of the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CSeq {
    /// The sequence number (RFC 3261 requires it to be below 2^31).
    pub seq: u32,
    /// The method, equal to the request's method.
    pub method: Method,
}

impl CSeq {
    /// Parses `number method`.
    pub fn parse(s: &str) -> Result<CSeq, ValueError> {
        const EXPECTED: &str = "a number and a method";
        let mut parts = s.split_whitespace();
        let (Some(number), Some(method), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(ValueError::new(EXPECTED, s));
        };
        let seq = match number.parse::<u32>() {
            Ok(seq) if seq < 1 << 31 && number.bytes().all(|b| b.is_ascii_digit()) => seq,
            _ => return Err(ValueError::new(EXPECTED, s)),
        };
        let method = Method::parse(method).ok_or_else(|| ValueError::new(EXPECTED, s))?;
        Ok(CSeq { seq, method })
    }
}

impl fmt::Display for CSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.seq, self.method)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_addr_forms() {
        let a = NameAddr::parse(r#""Bob \"B\" Smith" <sip:bob@biloxi.com;transport=tcp>;tag=a6c85cf"#).unwrap();
        assert_eq!(a.display_name.as_deref(), Some(r#"Bob "B" Smith"#));
        assert_eq!(a.uri.param("transport"), Some(Some("tcp")));
        assert_eq!(a.tag(), Some("a6c85cf"));
        let b = NameAddr::parse("Bob  Smith <sip:bob@biloxi.com>").unwrap();
        assert_eq!(b.display_name.as_deref(), Some("Bob Smith"));
        let c = NameAddr::parse("sip:bob@biloxi.com;tag=1928301774").unwrap();
        assert_eq!(c.display_name, None);
        assert_eq!(c.uri.params(), &[]);
        assert_eq!(c.tag(), Some("1928301774"));
        let d = NameAddr::parse("<sip:bob@biloxi.com>;expires=3600;+sip.instance=\"<urn:uuid:1>\"").unwrap();
        assert_eq!(d.param("expires"), Some(Some("3600")));
        for s in [&a, &b, &c, &d] {
            assert_eq!(&NameAddr::parse(&s.to_string()).unwrap(), s);
        }
        for bad in
            ["", "\"Bob <sip:bob@biloxi.com>", "Bob <sip:bob@biloxi.com", "<sip:bob@b>;", "B@b <sip:x@y>", "<http://x>"]
        {
            assert!(NameAddr::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn via_forms() {
        let v =
            Via::parse("SIP / 2.0 / UDP [2001:db8::9]:5070 ;branch=z9hG4bKa;rport;received=192.0.2.1;ttl=16").unwrap();
        assert_eq!((v.protocol.as_str(), v.version.as_str(), v.transport.as_str()), ("SIP", "2.0", "UDP"));
        assert_eq!(v.host, Host::V6("2001:db8::9".parse().unwrap()));
        assert_eq!(v.port, Some(5070));
        assert_eq!(v.branch(), Some("z9hG4bKa"));
        assert_eq!(v.rport(), Some(None));
        assert_eq!(v.received(), Some("192.0.2.1"));
        assert_eq!(v.ttl(), Some(16));
        assert_eq!(Via::parse(&v.to_string()).unwrap(), v);
        let list = Via::parse_list("SIP/2.0/TCP a.example.com;branch=1, SIP/2.0/UDP b:5060;rport=5061").unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[1].rport(), Some(Some(5061)));
        for bad in ["SIP/2.0/UDP", "SIP/2.0 host", "SIP/2.0/UDP host;ttl=300", "SIP/2.0/UDP host:x", ""] {
            assert!(Via::parse_list(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn cseq_forms() {
        assert_eq!(CSeq::parse(" 314159  INVITE ").unwrap(), CSeq { seq: 314159, method: Method::Invite });
        let err = CSeq::parse("abc INVITE").unwrap_err();
        assert_eq!(err.to_string(), "expected a number and a method, found \"abc INVITE\"");
        for bad in ["1", "1 INVITE x", "-1 INVITE", "+1 INVITE", "4294967296 INVITE", "2147483648 BYE", "1 IN:VITE"] {
            assert!(CSeq::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }
}
