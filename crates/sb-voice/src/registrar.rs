//! The registrar (RFC 3261 section 10.3): agents' phones register their contact addresses
//! here, after proving their password with a digest challenge, so that offers can ring them.
//!
//! Sans-IO: [`Registrar::register`] takes a REGISTER, the time and the address it came
//! from, and returns what to answer; bindings expire by the clock passed in, and
//! [`Registrar::contacts`] lists the live ones of an address of record.
//!
//! Addresses of record are `sip:USER@DOMAIN`. The domain names a realm (a tenant); when only
//! one realm is served, any domain reaches it, since phones are often configured with the
//! server's IP address as their domain.

use std::collections::HashMap;
use std::net::SocketAddr;

use sb_sip::{NameAddr, Request, StatusCode, Timestamp};

use crate::digest::{Credentials, NonceCheck, Nonces, challenge, ha1};

/// The reason given with the 403 for a REGISTER while no phone accounts exist.
pub const NO_PHONES: &str = "no phone accounts configured";

/// A phone's account: who may register, where, with which password.
#[derive(Clone, PartialEq, Eq)]
pub struct PhoneAccount {
    /// The realm, which is the tenant's id.
    pub realm: String,
    /// The SIP user name of the address of record.
    pub user: String,
    /// The agent whose phone it is: offers to the agent ring it.
    pub agent: String,
    pub password: String,
}

impl std::fmt::Debug for PhoneAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PhoneAccount").field("realm", &self.realm).field("user", &self.user).finish_non_exhaustive()
    }
}

/// The registrar's limits on registration lifetimes, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiry {
    /// Shorter requests get 423 Interval Too Brief with Min-Expires.
    pub min: u32,
    /// Longer requests are shortened to this.
    pub max: u32,
    /// When the request names none.
    pub default: u32,
}

impl Default for Expiry {
    fn default() -> Expiry {
        Expiry { min: 60, max: 3600, default: 3600 }
    }
}

/// One registered contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The Contact URI, as the phone wrote it.
    pub contact: String,
    /// Where the REGISTER came from: behind NAT, the address to send requests to.
    pub source: SocketAddr,
    /// The transport it came over: a phone registered over TCP is reached on its
    /// connection.
    pub transport: sb_sip::Transport,
    pub expires_at: Timestamp,
    call_id: String,
    cseq: u32,
}

/// What to answer a REGISTER with: a status and the header fields to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: Vec<(&'static str, String)>,
    /// Why, for a Warning, when the request was refused.
    pub reason: Option<String>,
    /// Why, in more detail, for the log only: a failed authentication does not tell the
    /// phone whether the user exists.
    pub detail: Option<String>,
}

impl Answer {
    fn refuse(status: u16, reason: String) -> Answer {
        let status = StatusCode::new(status).unwrap_or(StatusCode::BAD_REQUEST);
        Answer { status, headers: Vec::new(), reason: Some(reason), detail: None }
    }

    /// A 403 that says only that authentication failed.
    fn forbid(user: &str, detail: String) -> Answer {
        Answer { detail: Some(detail), ..Answer::refuse(403, format!("authentication failed for {user}")) }
    }
}

/// The registrar; see the module documentation.
#[derive(Debug)]
pub struct Registrar {
    /// HA1 by realm and user.
    accounts: HashMap<(String, String), String>,
    realms: Vec<String>,
    nonces: Nonces,
    expiry: Expiry,
    bindings: HashMap<(String, String), Vec<Binding>>,
}

impl Registrar {
    /// `secret` keys the nonces; the driver draws it at random at start-up.
    pub fn new(accounts: &[PhoneAccount], secret: Vec<u8>, expiry: Expiry) -> Registrar {
        let mut realms: Vec<String> = accounts.iter().map(|a| a.realm.clone()).collect();
        realms.sort();
        realms.dedup();
        Registrar {
            accounts: accounts
                .iter()
                .map(|a| ((a.realm.clone(), a.user.clone()), ha1(&a.user, &a.realm, &a.password)))
                .collect(),
            realms,
            nonces: Nonces::new(secret, 5 * 60 * 1000),
            expiry,
            bindings: HashMap::new(),
        }
    }

    /// The realm a domain names: itself when served, the only realm when there is one.
    fn realm_for(&self, domain: &str) -> Option<&str> {
        if let Some(r) = self.realms.iter().find(|r| r.eq_ignore_ascii_case(domain)) {
            return Some(r);
        }
        match self.realms.as_slice() {
            [only] => Some(only),
            _ => None,
        }
    }

    /// The live contacts of `user` in `realm`, most recently registered last.
    pub fn contacts(&self, now: Timestamp, realm: &str, user: &str) -> Vec<&Binding> {
        self.bindings
            .get(&(realm.to_owned(), user.to_owned()))
            .map(|list| list.iter().filter(|b| b.expires_at > now).collect())
            .unwrap_or_default()
    }

    /// Answers a REGISTER (RFC 3261 section 10.3, steps 1 to 8).
    pub fn register(
        &mut self,
        now: Timestamp,
        request: &Request,
        source: SocketAddr,
        transport: sb_sip::Transport,
    ) -> Answer {
        if self.accounts.is_empty() {
            return Answer::refuse(403, NO_PHONES.to_owned());
        }
        let to = match request.headers.to() {
            Ok(to) => to,
            Err(e) => return Answer::refuse(400, format!("the To header: {e}")),
        };
        let (Some(user), Some(host)) = (to.uri.user(), to.uri.host()) else {
            return Answer::refuse(404, format!("the address of record {} has no user part", to.uri));
        };
        let domain = host.to_string();
        let Some(realm) = self.realm_for(&domain).map(str::to_owned) else {
            return Answer::refuse(404, format!("no tenant serves the domain {domain}"));
        };
        let key = (realm.clone(), user.to_owned());

        // Authentication (section 22): challenge until the credentials check out. Unknown
        // users are challenged too, so that answers do not reveal which accounts exist.
        let Some(header) = request.headers.get("Authorization") else {
            return self.challenge(now, &realm, false);
        };
        let credentials = match Credentials::parse(header) {
            Ok(c) => c,
            Err(e) => return Answer::refuse(400, format!("the Authorization header: {e}")),
        };
        if credentials.realm != realm {
            return self.challenge(now, &realm, false);
        }
        if credentials.algorithm.as_deref().is_some_and(|a| !a.eq_ignore_ascii_case("MD5")) {
            return Answer::refuse(400, format!("unsupported digest algorithm {:?}", credentials.algorithm));
        }
        match self.nonces.check(now, &realm, &credentials.nonce) {
            NonceCheck::Valid => {}
            NonceCheck::Stale => return self.challenge(now, &realm, true),
            NonceCheck::Invalid => return self.challenge(now, &realm, false),
        }
        let Some(ha1) = self.accounts.get(&key) else {
            return Answer::forbid(user, format!("no phone account {user} in {realm}"));
        };
        if credentials.username != user {
            return Answer::forbid(user, format!("{} may not register {user}", credentials.username));
        }
        if !credentials.verify(ha1, request.method.as_str()) {
            return Answer::forbid(user, format!("wrong password for {user}"));
        }

        // Bindings (section 10.3, steps 6 to 8).
        let call_id = request.headers.call_id().unwrap_or_default().to_owned();
        let cseq = request.headers.cseq().map(|c| c.seq).unwrap_or(0);
        let header_expires = match request.headers.get("Expires").map(|v| v.trim().parse::<u32>()) {
            None => None,
            Some(Ok(v)) => Some(v),
            Some(Err(_)) => return Answer::refuse(400, "the Expires header is not a number of seconds".to_owned()),
        };
        let list = self.bindings.entry(key).or_default();
        list.retain(|b| b.expires_at > now);
        if request.headers.contact_is_wildcard() {
            if header_expires != Some(0) {
                return Answer::refuse(400, "Contact: * needs Expires: 0".to_owned());
            }
            if list.iter().any(|b| b.call_id == call_id && b.cseq >= cseq) {
                return Answer::refuse(500, "a REGISTER older than the bindings it would remove".to_owned());
            }
            list.clear();
        } else {
            let contacts = match request.headers.contact() {
                Ok(c) => c,
                Err(e) => return Answer::refuse(400, format!("the Contact header: {e}")),
            };
            let mut changes: Vec<(NameAddr, u32)> = Vec::new();
            for contact in contacts {
                let expires = match contact.param("expires") {
                    Some(Some(v)) => match v.parse::<u32>() {
                        Ok(v) => v,
                        Err(_) => return Answer::refuse(400, format!("the expires parameter of {contact}")),
                    },
                    _ => header_expires.unwrap_or(self.expiry.default),
                };
                if expires != 0 && expires < self.expiry.min {
                    return Answer {
                        headers: vec![("Min-Expires", self.expiry.min.to_string())],
                        ..Answer::refuse(423, format!("{expires} s is shorter than {} s", self.expiry.min))
                    };
                }
                changes.push((contact, expires.min(self.expiry.max)));
            }
            for (contact, _) in &changes {
                let uri = contact.uri.to_string();
                if list.iter().any(|b| b.contact == uri && b.call_id == call_id && b.cseq >= cseq) {
                    return Answer::refuse(500, "a REGISTER older than the binding it updates".to_owned());
                }
            }
            for (contact, expires) in changes {
                let uri = contact.uri.to_string();
                list.retain(|b| b.contact != uri);
                if expires > 0 {
                    let expires_at = Timestamp::from_millis(now.as_millis() + u64::from(expires) * 1000);
                    list.push(Binding { contact: uri, source, transport, expires_at, call_id: call_id.clone(), cseq });
                }
            }
        }
        let headers = list
            .iter()
            .map(|b| {
                ("Contact", format!("<{}>;expires={}", b.contact, (b.expires_at.as_millis() - now.as_millis()) / 1000))
            })
            .collect();
        Answer { status: StatusCode::OK, headers, reason: None, detail: None }
    }

    fn challenge(&self, now: Timestamp, realm: &str, stale: bool) -> Answer {
        let nonce = self.nonces.mint(now, realm);
        Answer {
            status: StatusCode::new(401).unwrap_or(StatusCode::BAD_REQUEST),
            headers: vec![("WWW-Authenticate", challenge(realm, &nonce, stale))],
            reason: None,
            detail: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sb_sip::Transport;
    use sb_sip::{Message, parse_datagram};

    fn accounts() -> Vec<PhoneAccount> {
        vec![
            PhoneAccount {
                realm: "acme".into(),
                user: "alice".into(),
                agent: "alice".into(),
                password: "wonderland".into(),
            },
            PhoneAccount { realm: "acme".into(), user: "bob".into(), agent: "bob".into(), password: "builder".into() },
        ]
    }

    fn source() -> SocketAddr {
        "192.0.2.7:5062".parse().unwrap()
    }

    fn register(user: &str, domain: &str, cseq: u32, extra: &str) -> Request {
        let text = format!(
            "REGISTER sip:{domain} SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK{cseq}\r\n\
             From: <sip:{user}@{domain}>;tag=1\r\nTo: <sip:{user}@{domain}>\r\nCall-ID: reg-1\r\n\
             CSeq: {cseq} REGISTER\r\nMax-Forwards: 70\r\n{extra}Content-Length: 0\r\n\r\n"
        );
        match parse_datagram(text.as_bytes(), &Default::default()).unwrap() {
            Message::Request(r) => r,
            Message::Response(_) => unreachable!(),
        }
    }

    /// The Authorization a phone computes for `challenge` with `password`.
    fn authorize(answer: &Answer, user: &str, password: &str, uri: &str) -> String {
        let www = &answer.headers.iter().find(|(n, _)| *n == "WWW-Authenticate").unwrap().1;
        let nonce = www.split("nonce=\"").nth(1).unwrap().split('"').next().unwrap();
        let realm = www.split("realm=\"").nth(1).unwrap().split('"').next().unwrap();
        let c = Credentials {
            username: user.into(),
            realm: realm.into(),
            nonce: nonce.into(),
            uri: uri.into(),
            qop: Some("auth".into()),
            nc: Some("00000001".into()),
            cnonce: Some("c0ffee".into()),
            ..Credentials::default()
        };
        let response = c.expected_response(&ha1(user, realm, password), "REGISTER");
        format!(
            "Authorization: Digest username=\"{user}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{uri}\", \
             response=\"{response}\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"c0ffee\"\r\n"
        )
    }

    fn t(s: u64) -> Timestamp {
        Timestamp::from_millis(s * 1000)
    }

    #[test]
    fn challenge_then_register_then_expire() {
        let mut r = Registrar::new(&accounts(), b"k".to_vec(), Expiry::default());
        let contact = "Contact: <sip:alice@192.0.2.7:5062>\r\nExpires: 120\r\n";
        let first = r.register(t(0), &register("alice", "acme", 1, contact), source(), Transport::Udp);
        assert_eq!(first.status.as_u16(), 401);
        let auth = authorize(&first, "alice", "wonderland", "sip:acme");
        let ok = r.register(t(1), &register("alice", "acme", 2, &format!("{contact}{auth}")), source(), Transport::Udp);
        assert_eq!(ok.status, StatusCode::OK, "{ok:?}");
        assert_eq!(ok.headers, vec![("Contact", "<sip:alice@192.0.2.7:5062>;expires=120".to_owned())]);
        let live = r.contacts(t(60), "acme", "alice");
        assert_eq!(live.len(), 1);
        assert_eq!(
            (live[0].contact.as_str(), live[0].source, live[0].transport),
            ("sip:alice@192.0.2.7:5062", source(), Transport::Udp)
        );
        assert!(r.contacts(t(121), "acme", "alice").is_empty(), "expired after 120 s");
    }

    #[test]
    fn wrong_passwords_users_and_domains_are_refused() {
        let mut r = Registrar::new(&accounts(), b"k".to_vec(), Expiry::default());
        let contact = "Contact: <sip:alice@192.0.2.7>\r\n";
        let challenge = r.register(t(0), &register("alice", "acme", 1, contact), source(), Transport::Udp);
        let wrong = authorize(&challenge, "alice", "looking-glass", "sip:acme");
        let refused = |a: &Answer| (a.status.as_u16(), a.reason.clone().unwrap(), a.detail.clone().unwrap());
        let answer =
            r.register(t(0), &register("alice", "acme", 2, &format!("{contact}{wrong}")), source(), Transport::Udp);
        let failed = "authentication failed for alice".to_owned();
        assert_eq!(refused(&answer), (403, failed.clone(), "wrong password for alice".to_owned()));
        let bobs = authorize(&challenge, "bob", "builder", "sip:acme");
        let answer =
            r.register(t(0), &register("alice", "acme", 3, &format!("{contact}{bobs}")), source(), Transport::Udp);
        assert_eq!(refused(&answer), (403, failed, "bob may not register alice".to_owned()));
        // An unknown user is challenged like a known one, then refused the same way.
        let challenge = r.register(t(0), &register("carol", "acme", 1, contact), source(), Transport::Udp);
        assert_eq!(challenge.status.as_u16(), 401);
        let carols = authorize(&challenge, "carol", "anything", "sip:acme");
        let answer =
            r.register(t(0), &register("carol", "acme", 2, &format!("{contact}{carols}")), source(), Transport::Udp);
        let failed = "authentication failed for carol".to_owned();
        assert_eq!(refused(&answer), (403, failed, "no phone account carol in acme".to_owned()));
        assert!(r.contacts(t(0), "acme", "alice").is_empty());
    }

    #[test]
    fn the_domain_picks_the_realm_when_several_are_served() {
        let mut all = accounts();
        all.push(PhoneAccount {
            realm: "globex".into(),
            user: "alice".into(),
            agent: "alice".into(),
            password: "other".into(),
        });
        let mut r = Registrar::new(&all, b"k".to_vec(), Expiry::default());
        let answer =
            r.register(t(0), &register("alice", "192.0.2.1", 1, "Contact: <sip:a@h>\r\n"), source(), Transport::Udp);
        assert_eq!(
            (answer.status.as_u16(), answer.reason.as_deref()),
            (404, Some("no tenant serves the domain 192.0.2.1"))
        );
        let challenge =
            r.register(t(0), &register("alice", "globex", 1, "Contact: <sip:a@h>\r\n"), source(), Transport::Udp);
        assert!(challenge.headers[0].1.contains("realm=\"globex\""));
        // With one realm, the server's address as the domain reaches it.
        let mut single = Registrar::new(&accounts(), b"k".to_vec(), Expiry::default());
        let challenge = single.register(
            t(0),
            &register("alice", "192.0.2.1", 1, "Contact: <sip:a@h>\r\n"),
            source(),
            Transport::Udp,
        );
        assert!(challenge.headers[0].1.contains("realm=\"acme\""), "{challenge:?}");
    }

    #[test]
    fn stale_and_forged_nonces_are_challenged_again() {
        let mut r = Registrar::new(&accounts(), b"k".to_vec(), Expiry::default());
        let contact = "Contact: <sip:alice@192.0.2.7>\r\n";
        let challenge = r.register(t(0), &register("alice", "acme", 1, contact), source(), Transport::Udp);
        let auth = authorize(&challenge, "alice", "wonderland", "sip:acme");
        let late =
            r.register(t(301), &register("alice", "acme", 2, &format!("{contact}{auth}")), source(), Transport::Udp);
        assert_eq!(late.status.as_u16(), 401);
        assert!(late.headers[0].1.ends_with("stale=true"), "{late:?}");
        let mut other = Registrar::new(&accounts(), b"another key".to_vec(), Expiry::default());
        let forged =
            other.register(t(1), &register("alice", "acme", 2, &format!("{contact}{auth}")), source(), Transport::Udp);
        assert_eq!(forged.status.as_u16(), 401);
        assert!(!forged.headers[0].1.contains("stale"));
    }

    #[test]
    fn expiry_rules_and_removal() {
        let mut r = Registrar::new(&accounts(), b"k".to_vec(), Expiry::default());
        let challenge =
            r.register(t(0), &register("bob", "acme", 1, "Contact: <sip:b@h>\r\n"), source(), Transport::Udp);
        let auth = authorize(&challenge, "bob", "builder", "sip:acme");
        let with = |cseq: u32, extra: &str| register("bob", "acme", cseq, &format!("{extra}{auth}"));
        let brief = r.register(t(1), &with(2, "Contact: <sip:b@h>;expires=30\r\n"), source(), Transport::Udp);
        assert_eq!(brief.status.as_u16(), 423);
        assert_eq!(brief.headers, vec![("Min-Expires", "60".to_owned())]);
        let long = r.register(
            t(1),
            &with(3, "Contact: <sip:b@h>;expires=86400, <sip:b@desk>\r\nExpires: 600\r\n"),
            source(),
            Transport::Udp,
        );
        assert_eq!(long.status, StatusCode::OK);
        assert_eq!(
            long.headers,
            vec![("Contact", "<sip:b@h>;expires=3600".to_owned()), ("Contact", "<sip:b@desk>;expires=600".to_owned())]
        );
        let old = r.register(t(2), &with(3, "Contact: <sip:b@h>\r\n"), source(), Transport::Udp);
        assert_eq!(old.status.as_u16(), 500, "same Call-ID, CSeq not higher");
        let one = r.register(t(2), &with(4, "Contact: <sip:b@h>;expires=0\r\n"), source(), Transport::Udp);
        assert_eq!(one.headers, vec![("Contact", "<sip:b@desk>;expires=599".to_owned())]);
        let bad = r.register(t(2), &with(5, "Contact: *\r\n"), source(), Transport::Udp);
        assert_eq!(bad.status.as_u16(), 400);
        let all = r.register(t(2), &with(6, "Contact: *\r\nExpires: 0\r\n"), source(), Transport::Udp);
        assert_eq!((all.status, all.headers.len()), (StatusCode::OK, 0));
        assert!(r.contacts(t(2), "acme", "bob").is_empty());
    }
}
