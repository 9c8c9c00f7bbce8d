//! SIP, SIPS and tel URIs (RFC 3261 section 19.1, RFC 3966) with RFC 3261 19.1.4 comparison.
//!
//! A [`Uri`] keeps its parts as written (escapes included), so that printing it gives back
//! what was parsed, apart from the scheme, which is printed in lower case, and IPv6
//! addresses, which are printed in their canonical form. [`Uri::equivalent`] implements the
//! comparison rules a proxy needs: case-sensitive user parts after unescaping,
//! case-insensitive hosts, and the special treatment of `user`, `ttl`, `method`, `maddr` and
//! `transport` parameters.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use crate::syntax::{Param, ValueError, escapes_are_valid, find_param, parse_params, unescape};

/// The URI scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `sip:`
    Sip,
    /// `sips:`, which requires TLS on every hop.
    Sips,
    /// `tel:` (RFC 3966), a telephone number.
    Tel,
}

impl Scheme {
    /// The scheme name in lower case, without the colon.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Sip => "sip",
            Scheme::Sips => "sips",
            Scheme::Tel => "tel",
        }
    }
}

/// The host part of a SIP URI or of a Via sent-by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Host {
    /// A host name as written.
    Name(String),
    /// An IPv4 address.
    V4(Ipv4Addr),
    /// An IPv6 address, written in brackets.
    V6(Ipv6Addr),
}

impl Host {
    /// Parses a host name, an IPv4 address or a bracketed IPv6 reference.
    pub fn parse(s: &str) -> Result<Host, ValueError> {
        const EXPECTED: &str = "a host name, an IPv4 address or an [IPv6] address";
        if let Some(inner) = s.strip_prefix('[') {
            let addr = inner.strip_suffix(']').and_then(|a| a.parse::<Ipv6Addr>().ok());
            return addr.map(Host::V6).ok_or_else(|| ValueError::new(EXPECTED, s));
        }
        if let Ok(addr) = s.parse::<Ipv4Addr>() {
            return Ok(Host::V4(addr));
        }
        let valid = !s.is_empty()
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_')
            && !s.starts_with(['.', '-']);
        if valid { Ok(Host::Name(s.to_owned())) } else { Err(ValueError::new(EXPECTED, s)) }
    }

    /// Whether two hosts are the same, ignoring the case of names.
    pub fn equivalent(&self, other: &Host) -> bool {
        match (self, other) {
            (Host::Name(a), Host::Name(b)) => a.eq_ignore_ascii_case(b),
            (a, b) => a == b,
        }
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Name(name) => f.write_str(name),
            Host::V4(addr) => write!(f, "{addr}"),
            Host::V6(addr) => write!(f, "[{addr}]"),
        }
    }
}

/// Splits `host[:port]` where host may be `[IPv6]`.
pub(crate) fn parse_host_port(s: &str) -> Result<(Host, Option<u16>), ValueError> {
    const EXPECTED: &str = "host[:port]";
    let (host, port) = if s.starts_with('[') {
        match s.find(']') {
            Some(end) => (&s[..=end], s[end + 1..].strip_prefix(':')),
            None => return Err(ValueError::new(EXPECTED, s)),
        }
    } else {
        match s.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (s, None),
        }
    };
    if s.starts_with('[') && port.is_none() && s.len() != host.len() {
        return Err(ValueError::new(EXPECTED, s));
    }
    let host = Host::parse(host)?;
    let port = match port {
        None => None,
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
            Some(p.parse::<u16>().map_err(|_| ValueError::new("a port number up to 65535", p))?)
        }
        Some(p) => return Err(ValueError::new("a port number", p)),
    };
    Ok((host, port))
}

/// A `sip:`, `sips:` or `tel:` URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uri {
    scheme: Scheme,
    /// The user part as written (escapes kept); for `tel:` URIs, the number.
    user: Option<String>,
    password: Option<String>,
    /// Always present for `sip:` and `sips:`, absent for `tel:`.
    host: Option<Host>,
    port: Option<u16>,
    params: Vec<Param>,
    headers: Vec<(String, String)>,
}

fn is_unreserved(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-_.!~*'()".contains(c)
}

fn valid_user(s: &str) -> bool {
    !s.is_empty() && escapes_are_valid(s) && s.chars().all(|c| is_unreserved(c) || "%&=+$,;?/".contains(c))
}

fn valid_password(s: &str) -> bool {
    escapes_are_valid(s) && s.chars().all(|c| is_unreserved(c) || "%&=+$,".contains(c))
}

fn valid_param_text(s: &str) -> bool {
    !s.is_empty() && escapes_are_valid(s) && s.chars().all(|c| is_unreserved(c) || "%[]/:&+$".contains(c))
}

fn valid_header_text(s: &str) -> bool {
    escapes_are_valid(s) && s.chars().all(|c| is_unreserved(c) || "%[]/?:+$".contains(c))
}

fn valid_tel_number(s: &str) -> bool {
    !s.is_empty() && escapes_are_valid(s) && s.chars().all(|c| c.is_ascii_hexdigit() || "+-.()*#%pwPW".contains(c))
}

impl Uri {
    /// Parses a URI.
    pub fn parse(s: &str) -> Result<Uri, ValueError> {
        let Some((scheme, rest)) = s.split_once(':') else {
            return Err(ValueError::new("a sip:, sips: or tel: URI", s));
        };
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "sip" => Scheme::Sip,
            "sips" => Scheme::Sips,
            "tel" => Scheme::Tel,
            _ => return Err(ValueError::new("a sip:, sips: or tel: URI", s)),
        };
        if scheme == Scheme::Tel {
            return Self::parse_tel(rest);
        }
        let (userinfo, rest) = match rest.split_once('@') {
            Some((userinfo, rest)) => (Some(userinfo), rest),
            None => (None, rest),
        };
        let (user, password) = match userinfo {
            None => (None, None),
            Some(info) => {
                let (user, password) = match info.split_once(':') {
                    Some((user, password)) => (user, Some(password)),
                    None => (info, None),
                };
                if !valid_user(user) {
                    return Err(ValueError::new("a user part of unreserved characters and escapes", user));
                }
                if let Some(password) = password.filter(|p| !valid_password(p)) {
                    return Err(ValueError::new("a password of unreserved characters and escapes", password));
                }
                (Some(user.to_owned()), password.map(str::to_owned))
            }
        };
        let (rest, headers) = match rest.split_once('?') {
            Some((rest, headers)) => (rest, Some(headers)),
            None => (rest, None),
        };
        let (hostport, params) = match rest.find(';') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let (host, port) = parse_host_port(hostport)?;
        let params = parse_params(params, "URI parameters ;name[=value]", valid_param_text, valid_param_text)?;
        let headers = match headers {
            None => Vec::new(),
            Some(headers) => headers
                .split('&')
                .map(|h| match h.split_once('=') {
                    Some((name, value)) if !name.is_empty() && valid_header_text(name) && valid_header_text(value) => {
                        Ok((name.to_owned(), value.to_owned()))
                    }
                    _ => Err(ValueError::new("URI headers ?name=value&name=value", h)),
                })
                .collect::<Result<_, _>>()?,
        };
        Ok(Uri { scheme, user, password, host: Some(host), port, params, headers })
    }

    fn parse_tel(rest: &str) -> Result<Uri, ValueError> {
        let (number, params) = match rest.find(';') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if !valid_tel_number(number) {
            return Err(ValueError::new("a telephone number", number));
        }
        let params = parse_params(params, "tel parameters ;name[=value]", valid_param_text, valid_param_text)?;
        Ok(Uri {
            scheme: Scheme::Tel,
            user: Some(number.to_owned()),
            password: None,
            host: None,
            port: None,
            params,
            headers: Vec::new(),
        })
    }

    /// The scheme.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The user part as written, with escapes; for a `tel:` URI, the number.
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// The password, as written.
    pub fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }

    /// The host; always present for `sip:` and `sips:`, `None` for `tel:`.
    pub fn host(&self) -> Option<&Host> {
        self.host.as_ref()
    }

    /// The explicit port, if any.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// The URI parameters in order.
    pub fn params(&self) -> &[Param] {
        &self.params
    }

    /// The parameter called `name`: `Some(None)` when present without a value.
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        find_param(&self.params, name)
    }

    /// The URI headers (`?name=value&...`) in order, as written.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// Whether two URIs are equivalent under RFC 3261 section 19.1.4.
    pub fn equivalent(&self, other: &Uri) -> bool {
        if self.scheme != other.scheme {
            return false;
        }
        if self.scheme == Scheme::Tel {
            return self.tel_equivalent(other);
        }
        let same_userinfo = |a: &Option<String>, b: &Option<String>| match (a, b) {
            (None, None) => true,
            (Some(a), Some(b)) => unescape(a) == unescape(b),
            _ => false,
        };
        if !same_userinfo(&self.user, &other.user) || !same_userinfo(&self.password, &other.password) {
            return false;
        }
        let same_host = match (&self.host, &other.host) {
            (Some(a), Some(b)) => a.equivalent(b),
            _ => false,
        };
        if !same_host || self.port != other.port {
            return false;
        }
        const MUST_MATCH: [&str; 5] = ["user", "ttl", "method", "maddr", "transport"];
        for param in &self.params {
            match other.param(&param.name) {
                Some(value) if !same_text(param.value.as_deref(), value) => return false,
                None if MUST_MATCH.iter().any(|m| m.eq_ignore_ascii_case(&param.name)) => return false,
                _ => {}
            }
        }
        for param in &other.params {
            if self.param(&param.name).is_none() && MUST_MATCH.iter().any(|m| m.eq_ignore_ascii_case(&param.name)) {
                return false;
            }
        }
        same_headers(&self.headers, &other.headers) && same_headers(&other.headers, &self.headers)
    }

    fn tel_equivalent(&self, other: &Uri) -> bool {
        let digits = |uri: &Uri| -> Vec<u8> {
            let mut number = unescape(uri.user.as_deref().unwrap_or_default());
            number.retain(|b| !b"-.()".contains(b));
            number.make_ascii_lowercase();
            number
        };
        digits(self) == digits(other)
            && self.params.len() == other.params.len()
            && self.params.iter().all(|p| matches!(other.param(&p.name), Some(v) if same_text(p.value.as_deref(), v)))
    }
}

/// Case-insensitive comparison of parameter values after unescaping.
fn same_text(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => unescape(a).eq_ignore_ascii_case(&unescape(b)),
        _ => false,
    }
}

/// Whether every header of `a` appears in `b` with the same value.
fn same_headers(a: &[(String, String)], b: &[(String, String)]) -> bool {
    a.iter().all(|(name, value)| {
        b.iter().any(|(n, v)| {
            unescape(n).eq_ignore_ascii_case(&unescape(name)) && unescape(v).eq_ignore_ascii_case(&unescape(value))
        })
    })
}

impl FromStr for Uri {
    type Err = ValueError;

    fn from_str(s: &str) -> Result<Uri, ValueError> {
        Uri::parse(s)
    }
}

impl fmt::Display for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.scheme.as_str())?;
        if let Some(user) = &self.user {
            f.write_str(user)?;
            if let Some(password) = &self.password {
                write!(f, ":{password}")?;
            }
            if self.host.is_some() {
                f.write_str("@")?;
            }
        }
        if let Some(host) = &self.host {
            write!(f, "{host}")?;
        }
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        for param in &self.params {
            write!(f, "{param}")?;
        }
        for (i, (name, value)) in self.headers.iter().enumerate() {
            write!(f, "{}{name}={value}", if i == 0 { '?' } else { '&' })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(s: &str) -> Uri {
        Uri::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn parts() {
        let u = uri("sips:alice:secret@[2001:db8::1]:5061;transport=tcp;lr?subject=hi&priority=urgent");
        assert_eq!(u.scheme(), Scheme::Sips);
        assert_eq!(u.user(), Some("alice"));
        assert_eq!(u.password(), Some("secret"));
        assert_eq!(u.host(), Some(&Host::V6("2001:db8::1".parse().unwrap())));
        assert_eq!(u.port(), Some(5061));
        assert_eq!(u.param("transport"), Some(Some("tcp")));
        assert_eq!(u.param("lr"), Some(None));
        assert_eq!(u.headers().len(), 2);
        let t = uri("tel:+1-201-555-0123;phone-context=example.com");
        assert_eq!(t.user(), Some("+1-201-555-0123"));
        assert_eq!(t.host(), None);
        assert_eq!(uri("sip:10.0.0.1").host(), Some(&Host::V4(Ipv4Addr::new(10, 0, 0, 1))));
        assert_eq!(uri("sip:user;par=u%40example.net@example.com").user(), Some("user;par=u%40example.net"));
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "sip:alice@atlanta.com",
            "sip:alice:secretword@atlanta.com;transport=tcp",
            "sips:alice@atlanta.com?subject=project%20x&priority=urgent",
            "sip:+1-212-555-1212:1234@gateway.com;user=phone",
            "sips:1212@gateway.com",
            "sip:alice@192.0.2.4",
            "sip:atlanta.com;method=REGISTER?to=alice%40atlanta.com",
            "sip:alice;day=tuesday@atlanta.com",
            "sip:[2001:db8::10]:5070;maddr=[2001:db8::20]",
            "tel:+358-555-1234567;postd=pp22",
            "sip:%61lice@atlanta.com;lr",
        ] {
            assert_eq!(uri(s).to_string(), s);
        }
        assert_eq!(uri("SIP:alice@atlanta.com").to_string(), "sip:alice@atlanta.com");
    }

    #[test]
    fn rejects_malformed_uris() {
        for s in [
            "http://example.com",
            "sip:",
            "sip:@host",
            "sip:alice@",
            "sip:alice@host:port",
            "sip:alice@host:99999",
            "sip:alice@[::1",
            "sip:alice@[zz]",
            "sip:a lice@host",
            "sip:alice@host;=x",
            "sip:alice@host?novalue",
            "sip:al%4@host",
            "tel:",
            "alice",
        ] {
            assert!(Uri::parse(s).is_err(), "{s} should be rejected");
        }
    }

    /// The equivalent and non-equivalent pairs of RFC 3261 section 19.1.4.
    #[test]
    fn rfc3261_19_1_4_equivalence() {
        for (a, b) in [
            ("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp"),
            ("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"),
            ("sip:carol@chicago.com", "sip:carol@chicago.com;security=on"),
            ("sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on"),
            (
                "sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
                "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com",
            ),
            (
                "sip:alice@atlanta.com?subject=project%20x&priority=urgent",
                "sip:alice@atlanta.com?priority=urgent&subject=project%20x",
            ),
            ("tel:+1-201-555-0123", "tel:+12015550123"),
        ] {
            assert!(uri(a).equivalent(&uri(b)), "{a} should equal {b}");
            assert!(uri(b).equivalent(&uri(a)), "{b} should equal {a}");
        }
        for (a, b) in [
            ("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP"),
            ("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"),
            ("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"),
            ("sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp"),
            ("sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting"),
            ("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"),
            ("sip:alice@atlanta.com", "sips:alice@atlanta.com"),
            ("sip:alice:pw@atlanta.com", "sip:alice@atlanta.com"),
            ("sip:carol@chicago.com;user=phone", "sip:carol@chicago.com;user=ip"),
        ] {
            assert!(!uri(a).equivalent(&uri(b)), "{a} should differ from {b}");
            assert!(!uri(b).equivalent(&uri(a)), "{b} should differ from {a}");
        }
    }
}
