//! SIP request methods (RFC 3261 section 7.1 and the extensions a contact center meets).
//!
//! Method names are case-sensitive tokens: `INVITE` is [`Method::Invite`], while `invite` is
//! an unknown method kept as [`Method::Extension`] so that it can be answered with
//! 405 or 501 rather than being silently treated as an INVITE.

use std::fmt;

use crate::syntax::is_token;

/// A SIP request method.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Method {
    /// Starts a session (RFC 3261).
    Invite,
    /// Acknowledges a final response to an INVITE (RFC 3261).
    Ack,
    /// Ends a session (RFC 3261).
    Bye,
    /// Cancels a pending request (RFC 3261).
    Cancel,
    /// Asks for capabilities (RFC 3261).
    Options,
    /// Registers a contact address (RFC 3261).
    Register,
    /// Asks the recipient to issue a request, used for transfers (RFC 3515).
    Refer,
    /// Carries mid-session information such as DTMF (RFC 6086).
    Info,
    /// Updates session parameters before the dialog is confirmed (RFC 3311).
    Update,
    /// Acknowledges a reliable provisional response (RFC 3262).
    Prack,
    /// Subscribes to an event package (RFC 6665).
    Subscribe,
    /// Reports an event to a subscriber (RFC 6665).
    Notify,
    /// Carries an instant message (RFC 3428).
    Message,
    /// Any other method token, spelled as received. `Method::parse` never puts the name of
    /// a known method here.
    Extension(String),
}

impl Method {
    const KNOWN: [(&'static str, Method); 13] = [
        ("INVITE", Method::Invite),
        ("ACK", Method::Ack),
        ("BYE", Method::Bye),
        ("CANCEL", Method::Cancel),
        ("OPTIONS", Method::Options),
        ("REGISTER", Method::Register),
        ("REFER", Method::Refer),
        ("INFO", Method::Info),
        ("UPDATE", Method::Update),
        ("PRACK", Method::Prack),
        ("SUBSCRIBE", Method::Subscribe),
        ("NOTIFY", Method::Notify),
        ("MESSAGE", Method::Message),
    ];

    /// Parses a method token; `None` when `s` is not a token (RFC 3261 section 25.1).
    pub fn parse(s: &str) -> Option<Method> {
        if !is_token(s) {
            return None;
        }
        for (name, method) in Self::KNOWN {
            if name == s {
                return Some(method);
            }
        }
        Some(Method::Extension(s.to_owned()))
    }

    /// The method name as it appears on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Method::Invite => "INVITE",
            Method::Ack => "ACK",
            Method::Bye => "BYE",
            Method::Cancel => "CANCEL",
            Method::Options => "OPTIONS",
            Method::Register => "REGISTER",
            Method::Refer => "REFER",
            Method::Info => "INFO",
            Method::Update => "UPDATE",
            Method::Prack => "PRACK",
            Method::Subscribe => "SUBSCRIBE",
            Method::Notify => "NOTIFY",
            Method::Message => "MESSAGE",
            Method::Extension(name) => name,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_methods_are_case_sensitive() {
        assert_eq!(Method::parse("INVITE"), Some(Method::Invite));
        assert_eq!(Method::parse("invite"), Some(Method::Extension("invite".into())));
        assert_eq!(Method::parse("NEWMETHOD"), Some(Method::Extension("NEWMETHOD".into())));
        assert_eq!(Method::parse("IN VITE"), None);
        assert_eq!(Method::parse(""), None);
        for (name, method) in Method::KNOWN {
            assert_eq!(method.as_str(), name);
        }
    }
}
