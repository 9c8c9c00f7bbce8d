//! Switchboard's SIP endpoint: the user agent that answers peers, and the UDP driver that
//! puts it on the network.
//!
//! [`Endpoint`] is the transaction user (TU) on top of [`sb_sip::TransactionLayer`]: a
//! sans-IO state machine fed with datagrams and the time, which decides what to answer
//! (OPTIONS, REGISTER, INVITE, BYE, CANCEL, anything else, and malformed requests).
//! [`SipServer`] and [`run_udp`] are the thin tokio driver: they own the UDP socket and the
//! timer, feed the endpoint and send what it asks. The same endpoint runs under a virtual
//! clock in the unit tests.
//!
//! **Invariant:** the [`endpoint`] module does no I/O and never reads the clock.

pub mod calls;
pub mod digest;
pub mod endpoint;
pub mod media;
pub mod registrar;
pub mod udp;

pub use calls::{
    Announcements, CallId, Command, Entry, LegId, Migration, RecordingKind, RouteNotice, RouteRequest, RtpTransmit,
    Split, SplitRule, Target, Trunk,
};
pub use endpoint::{Datagram, Endpoint, EndpointConfig, Stats};
pub use media::Prompt;
pub use registrar::{Binding, Expiry, PhoneAccount, Registrar};
pub use udp::{DriverStats, Feedback, Services, SipServer, VoiceError, run_udp};
