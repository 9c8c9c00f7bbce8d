//! HTTP Digest authentication as SIP uses it (RFC 3261 section 22, RFC 2617, RFC 7616):
//! reading `Authorization` credentials, computing the MD5 response, and minting nonces that
//! need no server-side state.
//!
//! MD5 is what desk phones, softphones and sipp speak; SHA-256 digests (RFC 8760) are not
//! offered yet. The password itself is never kept: accounts hold HA1 =
//! MD5(user:realm:password), as registrars customarily do.
//!
//! A nonce is `<issued, 12 hex digits of ms><MAC, 16 hex digits>`, the MAC being the start
//! of SHA-256(secret, realm, issued). It proves that we issued it, for that realm, and when;
//! so a restart with a new secret makes old nonces stale, and nothing is stored per
//! challenge. Replays of a whole request within the nonce's lifetime are not detected (no
//! nonce-count tracking yet).

use md5::{Digest as _, Md5};
use sha2::Sha256;

use sb_sip::Timestamp;

/// Lower-case hex of MD5 over `parts` joined by `:`.
fn md5_hex(parts: &[&str]) -> String {
    let mut hasher = Md5::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            hasher.update(b":");
        }
        hasher.update(part.as_bytes());
    }
    hex(&hasher.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// HA1 = MD5(user:realm:password), the only form in which an account's secret is kept.
pub fn ha1(user: &str, realm: &str, password: &str) -> String {
    md5_hex(&[user, realm, password])
}

/// Credentials from an `Authorization` (or `Proxy-Authorization`) header.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Credentials {
    pub username: String,
    pub realm: String,
    pub nonce: String,
    pub uri: String,
    pub response: String,
    /// `MD5` when absent.
    pub algorithm: Option<String>,
    pub cnonce: Option<String>,
    pub qop: Option<String>,
    pub nc: Option<String>,
    pub opaque: Option<String>,
}

impl Credentials {
    /// Reads `Digest name=value, ...`. Values are quoted strings (with `\` escapes) or
    /// tokens; unknown parameters are ignored. The error says what is missing or malformed.
    pub fn parse(value: &str) -> Result<Credentials, String> {
        let value = value.trim();
        let Some(rest) = value.get(..6).filter(|s| s.eq_ignore_ascii_case("digest")).map(|_| &value[6..]) else {
            return Err(format!("the scheme is not Digest: {value:?}"));
        };
        let params = params(rest)?;
        // The last of repeated parameters counts.
        let get = |name: &str| params.iter().rev().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone());
        const REQUIRED: [&str; 5] = ["username", "realm", "nonce", "uri", "response"];
        let missing: Vec<&str> = REQUIRED.into_iter().filter(|name| get(name).is_none()).collect();
        if !missing.is_empty() {
            return Err(format!("Digest credentials without {}", missing.join(", ")));
        }
        let [username, realm, nonce, uri, response] = REQUIRED.map(|name| get(name).unwrap_or_default());
        let c = Credentials {
            username,
            realm,
            nonce,
            uri,
            response,
            algorithm: get("algorithm"),
            cnonce: get("cnonce"),
            qop: get("qop"),
            nc: get("nc"),
            opaque: get("opaque"),
        };
        if c.qop.is_some() && (c.cnonce.is_none() || c.nc.is_none()) {
            return Err("Digest credentials with qop but without cnonce and nc".to_owned());
        }
        Ok(c)
    }

    /// The response a client knowing HA1 computes for a request with `method`.
    pub fn expected_response(&self, ha1: &str, method: &str) -> String {
        let ha2 = md5_hex(&[method, &self.uri]);
        match (&self.qop, &self.cnonce, &self.nc) {
            (Some(qop), Some(cnonce), Some(nc)) => md5_hex(&[ha1, &self.nonce, nc, cnonce, qop, &ha2]),
            _ => md5_hex(&[ha1, &self.nonce, &ha2]),
        }
    }

    /// Whether the response proves knowledge of HA1, compared in constant time.
    pub fn verify(&self, ha1: &str, method: &str) -> bool {
        let expected = self.expected_response(ha1, method);
        let given = self.response.to_ascii_lowercase();
        expected.len() == given.len() && expected.bytes().zip(given.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }
}

/// Splits `name=value, name="quoted, value"` into pairs, unquoting and unescaping values.
fn params(s: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut rest = s.trim_start();
    while !rest.is_empty() {
        let eq = rest.find('=').ok_or_else(|| format!("a Digest parameter without a value: {rest:?}"))?;
        let name = rest[..eq].trim();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(format!("a malformed Digest parameter name: {name:?}"));
        }
        rest = rest[eq + 1..].trim_start();
        let value;
        if let Some(quoted) = rest.strip_prefix('"') {
            let mut v = String::new();
            let mut chars = quoted.char_indices();
            let mut end = None;
            while let Some((i, ch)) = chars.next() {
                match ch {
                    '\\' => {
                        if let Some((_, escaped)) = chars.next() {
                            v.push(escaped);
                        }
                    }
                    '"' => {
                        end = Some(i);
                        break;
                    }
                    _ => v.push(ch),
                }
            }
            let end = end.ok_or_else(|| format!("an unterminated quoted value for {name}"))?;
            value = v;
            rest = quoted[end + 1..].trim_start();
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            value = rest[..end].trim().to_owned();
            rest = &rest[end..];
        }
        out.push((name.to_owned(), value));
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix(',') {
            rest = after.trim_start();
        } else if !rest.is_empty() {
            return Err(format!("expected a comma after {name}, found {rest:?}"));
        }
    }
    Ok(out)
}

/// Mints and checks stateless nonces; see the module documentation.
#[derive(Clone)]
pub struct Nonces {
    secret: Vec<u8>,
    /// How long a nonce is accepted after it was issued.
    pub lifetime_ms: u64,
}

impl std::fmt::Debug for Nonces {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Nonces").field("lifetime_ms", &self.lifetime_ms).finish_non_exhaustive()
    }
}

/// What a presented nonce is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceCheck {
    Valid,
    /// Ours, but older than the lifetime: the client should retry with a fresh one.
    Stale,
    /// Not issued by us for this realm.
    Invalid,
}

impl Nonces {
    pub fn new(secret: Vec<u8>, lifetime_ms: u64) -> Nonces {
        Nonces { secret, lifetime_ms }
    }

    fn mac(&self, realm: &str, issued: &str) -> String {
        let mut hasher = Sha256::new();
        hasher.update(&self.secret);
        hasher.update(b"\0");
        hasher.update(realm.as_bytes());
        hasher.update(b"\0");
        hasher.update(issued.as_bytes());
        hex(&hasher.finalize()[..8])
    }

    pub fn mint(&self, now: Timestamp, realm: &str) -> String {
        let issued = format!("{:012x}", now.as_millis());
        let mac = self.mac(realm, &issued);
        format!("{issued}{mac}")
    }

    pub fn check(&self, now: Timestamp, realm: &str, nonce: &str) -> NonceCheck {
        if nonce.len() != 28 || !nonce.is_ascii() {
            return NonceCheck::Invalid;
        }
        let (issued, mac) = nonce.split_at(12);
        let Ok(at) = u64::from_str_radix(issued, 16) else {
            return NonceCheck::Invalid;
        };
        if self.mac(realm, issued) != mac.to_ascii_lowercase() {
            return NonceCheck::Invalid;
        }
        if now.as_millis().saturating_sub(at) > self.lifetime_ms || at > now.as_millis() {
            return NonceCheck::Stale;
        }
        NonceCheck::Valid
    }
}

/// The `Authorization` (or `Proxy-Authorization`) value that answers `challenge` (a
/// `WWW-Authenticate` or `Proxy-Authenticate` value) for a request with `method` to `uri`:
/// MD5, with `qop=auth` and our `cnonce` when the challenge offers it, the RFC 2069 form
/// otherwise.
pub fn authorize(
    challenge: &str,
    user: &str,
    password: &str,
    method: &str,
    uri: &str,
    cnonce: &str,
) -> Result<String, String> {
    let challenge = challenge.trim();
    let Some(rest) = challenge.get(..6).filter(|s| s.eq_ignore_ascii_case("digest")).map(|_| &challenge[6..]) else {
        return Err(format!("the challenge's scheme is not Digest: {challenge:?}"));
    };
    let params = params(rest)?;
    let get = |name: &str| params.iter().rev().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str());
    let realm = get("realm").ok_or("the challenge has no realm")?;
    let nonce = get("nonce").ok_or("the challenge has no nonce")?;
    if let Some(algorithm) = get("algorithm")
        && !algorithm.eq_ignore_ascii_case("MD5")
    {
        return Err(format!("the challenge asks for algorithm {algorithm}, and only MD5 is supported"));
    }
    let auth = get("qop").is_some_and(|qop| qop.split(',').any(|q| q.trim().eq_ignore_ascii_case("auth")));
    let credentials = Credentials {
        username: user.to_owned(),
        realm: realm.to_owned(),
        nonce: nonce.to_owned(),
        uri: uri.to_owned(),
        response: String::new(),
        algorithm: None,
        cnonce: auth.then(|| cnonce.to_owned()),
        qop: auth.then(|| "auth".to_owned()),
        nc: auth.then(|| "00000001".to_owned()),
        opaque: get("opaque").map(str::to_owned),
    };
    let response = credentials.expected_response(&ha1(user, realm, password), method);
    let quote = |v: &str| v.replace('\\', "\\\\").replace('"', "\\\"");
    let mut value = format!(
        "Digest username=\"{}\", realm=\"{}\", nonce=\"{}\", uri=\"{}\", response=\"{response}\", algorithm=MD5",
        quote(user),
        quote(realm),
        quote(nonce),
        quote(uri)
    );
    if auth {
        value.push_str(&format!(", qop=auth, nc=00000001, cnonce=\"{}\"", quote(cnonce)));
    }
    if let Some(opaque) = get("opaque") {
        value.push_str(&format!(", opaque=\"{}\"", quote(opaque)));
    }
    Ok(value)
}

/// A `WWW-Authenticate` challenge value.
pub fn challenge(realm: &str, nonce: &str, stale: bool) -> String {
    let realm = realm.replace('\\', "\\\\").replace('"', "\\\"");
    let stale = if stale { ", stale=true" } else { "" };
    format!("Digest realm=\"{realm}\", nonce=\"{nonce}\", algorithm=MD5, qop=\"auth\"{stale}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_answers_to_challenges_verify() {
        for (challenge, qop) in [
            (challenge("pbx.example", "abc123", false), true),
            ("Digest realm=\"carrier\", nonce=\"n0\", opaque=\"o1\"".to_owned(), false),
        ] {
            let value = authorize(&challenge, "sb", "s3cret", "INVITE", "sip:5550100@192.0.2.9", "c1").unwrap();
            let credentials = Credentials::parse(&value).unwrap();
            assert_eq!(credentials.qop.is_some(), qop, "{value}");
            let realm = credentials.realm.clone();
            assert!(credentials.verify(&ha1("sb", &realm, "s3cret"), "INVITE"), "{value}");
            assert!(!credentials.verify(&ha1("sb", &realm, "wrong"), "INVITE"), "{value}");
        }
        assert!(authorize("Basic realm=x", "u", "p", "INVITE", "sip:x", "c").unwrap_err().contains("not Digest"));
        let sha = "Digest realm=\"r\", nonce=\"n\", algorithm=SHA-256";
        assert!(authorize(sha, "u", "p", "INVITE", "sip:x", "c").unwrap_err().contains("only MD5"));
    }

    /// The worked example of RFC 2617 section 3.5 ("Mufasa", "Circle Of Life").
    const RFC2617: &str = r#"Digest username="Mufasa",
                 realm="testrealm@host.com",
                 nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
                 uri="/dir/index.html",
                 qop=auth,
                 nc=00000001,
                 cnonce="0a4f113b",
                 response="6629fae49393a05397450978507c4ef1",
                 opaque="5ccc069c403ebaf9f0171e9517f40e41""#;

    #[test]
    fn the_rfc_2617_example_verifies() {
        let c = Credentials::parse(RFC2617).unwrap();
        assert_eq!(c.username, "Mufasa");
        assert_eq!(c.qop.as_deref(), Some("auth"));
        let ha1 = ha1("Mufasa", "testrealm@host.com", "Circle Of Life");
        assert_eq!(c.expected_response(&ha1, "GET"), "6629fae49393a05397450978507c4ef1");
        assert!(c.verify(&ha1, "GET"));
        assert!(!c.verify(&ha1, "POST"), "the method is part of the digest");
        assert!(!c.verify(&super::ha1("Mufasa", "testrealm@host.com", "circle of life"), "GET"));
    }

    #[test]
    fn without_qop_the_rfc_2069_form_is_used() {
        // RFC 2069's response = MD5(HA1:nonce:HA2), computed independently here.
        let ha1 = ha1("alice", "acme", "secret");
        let ha2 = md5_hex(&["REGISTER", "sip:acme"]);
        let expected = md5_hex(&[&ha1, "abc", &ha2]);
        let header =
            format!(r#"Digest username="alice",realm="acme",nonce="abc",uri="sip:acme",response="{expected}""#);
        let c = Credentials::parse(&header).unwrap();
        assert!(c.verify(&ha1, "REGISTER"));
    }

    #[test]
    fn malformed_credentials_say_what_is_wrong() {
        let err = |s: &str| Credentials::parse(s).unwrap_err();
        assert_eq!(err(r#"Basic dXNlcjpwYXNz"#), r#"the scheme is not Digest: "Basic dXNlcjpwYXNz""#);
        assert_eq!(err(r#"Digest username="a", realm="r""#), "Digest credentials without nonce, uri, response");
        assert_eq!(err(r#"Digest username="a"#), "an unterminated quoted value for username");
        assert!(err(r#"Digest username="a" realm="r""#).starts_with("expected a comma after username"));
        assert!(
            err(r#"Digest username="a", realm="r", nonce="n", uri="u", response="x", qop=auth"#).contains("cnonce")
        );
    }

    #[test]
    fn quoted_values_keep_commas_and_escapes() {
        let c = Credentials::parse(
            r#"Digest username="a\"b", realm="x, y", nonce="n", uri="sip:u", response="r", algorithm=MD5"#,
        )
        .unwrap();
        assert_eq!(c.username, "a\"b");
        assert_eq!(c.realm, "x, y");
        assert_eq!(c.algorithm.as_deref(), Some("MD5"));
    }

    #[test]
    fn nonces_are_checked_for_origin_realm_and_age() {
        let nonces = Nonces::new(b"secret".to_vec(), 60_000);
        let t = Timestamp::from_millis(1_000);
        let nonce = nonces.mint(t, "acme");
        assert_eq!(nonces.check(Timestamp::from_millis(30_000), "acme", &nonce), NonceCheck::Valid);
        assert_eq!(nonces.check(Timestamp::from_millis(61_001), "acme", &nonce), NonceCheck::Stale);
        assert_eq!(nonces.check(t, "other", &nonce), NonceCheck::Invalid);
        assert_eq!(Nonces::new(b"restarted".to_vec(), 60_000).check(t, "acme", &nonce), NonceCheck::Invalid);
        let mut forged = nonce.clone().into_bytes();
        forged[3] = if forged[3] == b'0' { b'1' } else { b'0' };
        assert_eq!(nonces.check(t, "acme", &String::from_utf8(forged).unwrap()), NonceCheck::Invalid);
        assert_eq!(nonces.check(t, "acme", "short"), NonceCheck::Invalid);
    }

    #[test]
    fn challenges_quote_the_realm() {
        assert_eq!(
            challenge("a\"b", "n", true),
            r#"Digest realm="a\"b", nonce="n", algorithm=MD5, qop="auth", stale=true"#
        );
    }
}
