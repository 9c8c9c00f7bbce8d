//! The SIP transaction layer (RFC 3261 section 17 as amended by RFC 6026), sans-IO.
//!
//! A [`TransactionLayer`] owns every client and server transaction of one endpoint. The
//! driver feeds it requests to send ([`TransactionLayer::send_request`]), messages received
//! from the network ([`TransactionLayer::receive`]), responses the transaction user (TU)
//! chose ([`TransactionLayer::send_response`]) and the passing of time
//! ([`TransactionLayer::handle_timeout`]); after each call it drains
//! [`TransactionLayer::poll_transmit`], [`TransactionLayer::poll_event`] and
//! [`TransactionLayer::poll_timeout`]. Retransmissions over UDP (Timers A, E and G), the 100
//! Trying an INVITE server sends when the TU is slow, the ACK for a non-2xx final response and
//! the absorption of retransmitted requests all happen here; the ACK for a 2xx belongs to the
//! dialog layer (RFC 6026) and is passed up as [`TransactionEvent::Ack`].
//!
//! **Invariant:** no I/O and no clock. Every call takes `now`; a `now` earlier than one seen
//! before is treated as the latest one, so time never goes backwards inside the layer.
//!
//! Every input first fires the timers due at its `now`, so a driver that is late calling
//! [`TransactionLayer::handle_timeout`] still sees retransmissions and timeouts in time order,
//! and schedules are computed from the deadlines, not from when the driver woke up.
//!
//! ```
//! use sb_sip::{Limits, Message, TimerConfig, Timestamp, TransactionEvent, TransactionLayer, Transport};
//!
//! let bytes = b"OPTIONS sip:carrier.example.com SIP/2.0\r\n\
//! Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\nMax-Forwards: 70\r\n\
//! From: <sip:sb@192.0.2.1>;tag=9\r\nTo: <sip:carrier.example.com>\r\n\
//! Call-ID: 1@192.0.2.1\r\nCSeq: 1 OPTIONS\r\n\r\n";
//! let Ok(Message::Request(options)) = sb_sip::parse_datagram(bytes, &Limits::default()) else {
//!     panic!("a valid request");
//! };
//! let mut layer = TransactionLayer::new(TimerConfig::default());
//! let to = "198.51.100.9:5060".parse().unwrap();
//! let id = layer.send_request(Timestamp::ZERO, options, to, Transport::Udp).unwrap();
//! assert!(layer.poll_transmit().is_some());
//! // Timer E: the first retransmission is due T1 later.
//! assert_eq!(layer.poll_timeout(), Some(Timestamp::from_millis(500)));
//! // Nobody answers: Timer F reports a timeout after 64*T1.
//! layer.handle_timeout(Timestamp::from_millis(32_000));
//! assert_eq!(layer.poll_event(), Some(TransactionEvent::Timeout { id }));
//! ```

mod time;

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::fmt;
use std::net::SocketAddr;

pub use time::{TimerConfig, Timestamp};

use crate::headers::HeaderError;
use crate::message::{Message, Request, Response};
use crate::method::Method;
use crate::status::StatusCode;

/// How long an INVITE server transaction waits for the TU before it sends 100 Trying itself
/// (RFC 3261 section 17.2.1).
const TRYING_DELAY_MS: u64 = 200;

/// The transport a message travels over. TCP and TLS are reliable: no retransmissions, and
/// the timers that absorb retransmissions (D, I, J, K) are zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// UDP, unreliable.
    Udp,
    /// TCP, reliable.
    Tcp,
    /// TLS over TCP, reliable.
    Tls,
}

impl Transport {
    /// Whether the transport delivers messages reliably.
    pub fn is_reliable(self) -> bool {
        !matches!(self, Transport::Udp)
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
            Transport::Tls => "TLS",
        })
    }
}

/// Identifies one transaction for as long as the layer holds it. Ids are never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TransactionId(u64);

impl fmt::Display for TransactionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t{}", self.0)
    }
}

/// The state of a transaction (RFC 3261 figures 5 to 8, with RFC 6026's Accepted). A
/// terminated transaction is removed, so it has no state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionState {
    /// INVITE client: the request was sent, no response yet.
    Calling,
    /// Non-INVITE client and server: no provisional response yet.
    Trying,
    /// A provisional response was received (client) or sent (server).
    Proceeding,
    /// A non-2xx final response (INVITE) or any final response (non-INVITE) was received or
    /// sent; retransmissions are absorbed.
    Completed,
    /// INVITE server: the ACK for a non-2xx final response arrived.
    Confirmed,
    /// INVITE client or server: a 2xx was received or sent (RFC 6026).
    Accepted,
}

/// A message to send, to the address and over the transport given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// Where to send it.
    pub to: SocketAddr,
    /// The transport to use.
    pub transport: Transport,
    /// The message; [`Message::to_bytes`] gives the wire form.
    pub message: Message,
}

/// What the layer tells the TU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransactionEvent {
    /// A request that started a server transaction; answer it with
    /// [`TransactionLayer::send_response`] and `id`.
    NewRequest {
        /// The new server transaction.
        id: TransactionId,
        /// The request.
        request: Request,
        /// Where it came from; responses go back there.
        from: SocketAddr,
        /// The transport it came over.
        transport: Transport,
        /// For a CANCEL, the INVITE server transaction it matches (RFC 3261 section 9.2).
        cancels: Option<TransactionId>,
    },
    /// A response for a client transaction: every provisional response, the first final
    /// response, and the 2xx retransmissions of an INVITE (RFC 6026).
    Response {
        /// The client transaction.
        id: TransactionId,
        /// The response.
        response: Response,
    },
    /// A client transaction got no final response in time (Timer B or F), or an INVITE server
    /// transaction got no ACK for its non-2xx final response (Timer H).
    Timeout {
        /// The transaction, now terminated.
        id: TransactionId,
    },
    /// An ACK that no transaction absorbed: in practice the ACK for a 2xx, which belongs to
    /// the dialog layer (RFC 6026 section 7.1).
    Ack {
        /// The ACK.
        request: Request,
        /// Where it came from.
        from: SocketAddr,
    },
    /// A response that matches no client transaction, for example a 2xx retransmission after
    /// Timer M; a proxy forwards it, a user agent may ACK it or drop it.
    StrayResponse {
        /// The response.
        response: Response,
        /// Where it came from.
        from: SocketAddr,
    },
}

/// Why the layer refused an input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransactionError {
    /// The id names no live transaction (it never existed or has terminated).
    #[error("no transaction {0}")]
    Unknown(TransactionId),
    /// A response can only be sent on a server transaction.
    #[error("transaction {0} is a client transaction")]
    NotServer(TransactionId),
    /// The transaction cannot send this response in its state, for example a second final
    /// response, or a non-2xx after a 2xx.
    #[error("transaction {id} cannot send a {status} response in state {state:?}")]
    InvalidResponse {
        /// The transaction.
        id: TransactionId,
        /// The status of the refused response.
        status: StatusCode,
        /// The transaction's state.
        state: TransactionState,
    },
    /// An ACK does not start a client transaction; send the ACK for a 2xx with
    /// [`TransactionLayer::send_stateless`].
    #[error("an ACK is not sent in a transaction")]
    AckRequest,
    /// The top Via has no branch parameter, so the message cannot be matched.
    #[error("the top Via has no branch parameter")]
    MissingBranch,
    /// A client transaction with the same branch and method is already running.
    #[error("a client transaction with branch {0:?} and the same method is already running")]
    DuplicateBranch(String),
    /// A header the transaction layer needs (Via, CSeq) is missing or malformed.
    #[error(transparent)]
    Header(#[from] HeaderError),
}

/// Matches responses to client transactions (RFC 3261 section 17.1.3): the top Via branch and
/// the CSeq method, so that a CANCEL and its INVITE are separate transactions.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ClientKey {
    branch: String,
    method: Method,
}

/// Matches requests to server transactions (RFC 3261 section 17.2.3): the top Via branch and
/// sent-by, and the method, with ACK standing for INVITE.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ServerKey {
    branch: String,
    sent_by: String,
    method: Method,
}

impl ServerKey {
    fn of(request: &Request) -> Result<ServerKey, TransactionError> {
        let via = request.headers.top_via()?;
        let branch = via.branch().ok_or(TransactionError::MissingBranch)?.to_owned();
        let host = via.host.to_string().to_ascii_lowercase();
        let sent_by = match via.port {
            Some(port) => format!("{host}:{port}"),
            None => host,
        };
        let method = if request.method == Method::Ack { Method::Invite } else { request.method.clone() };
        Ok(ServerKey { branch, sent_by, method })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    InviteClient,
    NonInviteClient,
    InviteServer,
    NonInviteServer,
}

/// One transaction. Its timers are absolute deadlines; `None` means not running.
#[derive(Debug)]
struct Transaction {
    kind: Kind,
    state: TransactionState,
    transport: Transport,
    /// The remote address: where requests go (client) or responses go back (server).
    peer: SocketAddr,
    request: Request,
    /// Server: the last response sent, retransmitted when the request is. Client INVITE: the
    /// ACK sent for a non-2xx, resent when the response is.
    last: Option<Message>,
    /// Timer A, E or G: when to retransmit, and the interval that led there.
    retransmit: Option<(Timestamp, u64)>,
    /// Timer B, F or H: when to give up and report a timeout.
    timeout: Option<Timestamp>,
    /// Timer D, I, J, K, L or M: when to terminate quietly.
    end: Option<Timestamp>,
    /// INVITE server: when to send 100 Trying if the TU has not answered.
    trying: Option<Timestamp>,
    /// How to remove the transaction from the matching tables.
    key: Key,
    /// The deadline the layer's timer index holds for it.
    scheduled: Option<Timestamp>,
}

#[derive(Debug)]
enum Key {
    Client(ClientKey),
    Server(ServerKey),
}

impl Transaction {
    fn next_deadline(&self) -> Option<Timestamp> {
        [self.retransmit.map(|(at, _)| at), self.timeout, self.end, self.trying].into_iter().flatten().min()
    }
}

/// All the transactions of one endpoint. See the module documentation.
#[derive(Debug, Default)]
pub struct TransactionLayer {
    config: TimerConfig,
    /// The latest `now` seen, so that time never goes backwards.
    now: Timestamp,
    next_id: u64,
    transactions: HashMap<TransactionId, Transaction>,
    /// Each transaction's next deadline, ordered by time and then by id, so that timers due
    /// at the same instant fire in a deterministic order. Kept in step by `reschedule`.
    timers: BTreeSet<(Timestamp, TransactionId)>,
    /// Transactions changed since the last `reschedule`.
    touched: Vec<TransactionId>,
    clients: HashMap<ClientKey, TransactionId>,
    servers: HashMap<ServerKey, TransactionId>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<TransactionEvent>,
}

impl TransactionLayer {
    /// An empty layer with the given timer values.
    pub fn new(config: TimerConfig) -> TransactionLayer {
        TransactionLayer { config, ..TransactionLayer::default() }
    }

    /// Starts a client transaction for `request` (anything but ACK) and sends it to `to`.
    /// The request's top Via must carry a branch unique to this transaction.
    pub fn send_request(
        &mut self,
        now: Timestamp,
        request: Request,
        to: SocketAddr,
        transport: Transport,
    ) -> Result<TransactionId, TransactionError> {
        let result = self.start_client(now, request, to, transport);
        self.reschedule();
        result
    }

    fn start_client(
        &mut self,
        now: Timestamp,
        request: Request,
        to: SocketAddr,
        transport: Transport,
    ) -> Result<TransactionId, TransactionError> {
        self.handle_timeout(now);
        let now = self.now;
        if request.method == Method::Ack {
            return Err(TransactionError::AckRequest);
        }
        let branch = request.headers.top_via()?.branch().ok_or(TransactionError::MissingBranch)?.to_owned();
        let key = ClientKey { branch: branch.clone(), method: request.method.clone() };
        if self.clients.contains_key(&key) {
            return Err(TransactionError::DuplicateBranch(branch));
        }
        let id = self.allocate_id();
        let invite = request.method == Method::Invite;
        let t1 = self.config.t1_ms();
        let transaction = Transaction {
            kind: if invite { Kind::InviteClient } else { Kind::NonInviteClient },
            state: if invite { TransactionState::Calling } else { TransactionState::Trying },
            transport,
            peer: to,
            request: request.clone(),
            last: None,
            // Timers A and E run only over unreliable transports.
            retransmit: (!transport.is_reliable()).then(|| (now.after_millis(t1), t1)),
            // Timers B and F.
            timeout: Some(now.after_millis(self.config.long_ms())),
            end: None,
            trying: None,
            key: Key::Client(key.clone()),
            scheduled: None,
        };
        self.clients.insert(key, id);
        self.transactions.insert(id, transaction);
        self.touched.push(id);
        self.transmits.push_back(Transmit { to, transport, message: Message::Request(request) });
        Ok(id)
    }

    /// Sends `message` outside any transaction: the ACK for a 2xx, or a response that a
    /// proxy forwards statelessly.
    pub fn send_stateless(&mut self, message: Message, to: SocketAddr, transport: Transport) {
        self.transmits.push_back(Transmit { to, transport, message });
    }

    /// Handles a message received from `from` over `transport`. Errors mean the message lacks
    /// what matching needs (a top Via with a branch, a CSeq); it is then not processed.
    pub fn receive(
        &mut self,
        now: Timestamp,
        message: Message,
        from: SocketAddr,
        transport: Transport,
    ) -> Result<(), TransactionError> {
        self.handle_timeout(now);
        let result = match message {
            Message::Request(request) => self.receive_request(request, from, transport),
            Message::Response(response) => self.receive_response(response, from),
        };
        self.reschedule();
        result
    }

    /// Sends `response` on the server transaction `id`, to the address and over the transport
    /// the request came from (a symmetric response, as RFC 3581 asks; the connection for TCP).
    /// The TU answers a CANCEL with 200 and its INVITE with 487, or a CANCEL that matches no
    /// INVITE with 481.
    pub fn send_response(
        &mut self,
        now: Timestamp,
        id: TransactionId,
        response: Response,
    ) -> Result<(), TransactionError> {
        let result = self.respond(now, id, response);
        self.touched.push(id);
        self.reschedule();
        result
    }

    fn respond(&mut self, now: Timestamp, id: TransactionId, response: Response) -> Result<(), TransactionError> {
        self.handle_timeout(now);
        let now = self.now;
        let config = self.config;
        let t = self.transactions.get_mut(&id).ok_or(TransactionError::Unknown(id))?;
        let status = response.status;
        let refused = TransactionError::InvalidResponse { id, status, state: t.state };
        let reliable = t.transport.is_reliable();
        let mut terminate = false;
        match (t.kind, t.state) {
            (Kind::InviteClient | Kind::NonInviteClient, _) => return Err(TransactionError::NotServer(id)),
            (Kind::InviteServer, TransactionState::Proceeding) => {
                t.trying = None;
                // A provisional response leaves the state as it is.
                if status.is_success() {
                    // RFC 6026: the TU retransmits the 2xx; Timer L absorbs INVITE retransmissions.
                    t.state = TransactionState::Accepted;
                    t.end = Some(now.after_millis(config.long_ms()));
                } else if status.is_final() {
                    t.state = TransactionState::Completed;
                    // Timer G over UDP only, Timer H in any case.
                    let t1 = config.t1_ms();
                    t.retransmit = (!reliable).then(|| (now.after_millis(t1), t1));
                    t.timeout = Some(now.after_millis(config.long_ms()));
                }
            }
            // RFC 6026 section 8.5: 2xx retransmissions from the TU go through.
            (Kind::InviteServer, TransactionState::Accepted) if status.is_success() => {}
            (Kind::NonInviteServer, TransactionState::Trying | TransactionState::Proceeding) => {
                if status.is_provisional() {
                    t.state = TransactionState::Proceeding;
                } else {
                    t.state = TransactionState::Completed;
                    // Timer J: 64*T1 over UDP, zero over reliable transports.
                    if reliable {
                        terminate = true;
                    } else {
                        t.end = Some(now.after_millis(config.long_ms()));
                    }
                }
            }
            _ => return Err(refused),
        }
        let message = Message::Response(response);
        t.last = Some(message.clone());
        self.transmits.push_back(Transmit { to: t.peer, transport: t.transport, message });
        if terminate {
            self.remove(id);
        }
        Ok(())
    }

    /// Fires every timer due at or before `now`, in time order.
    pub fn handle_timeout(&mut self, now: Timestamp) {
        self.now = self.now.max(now);
        self.reschedule();
        while let Some(&(at, id)) = self.timers.first() {
            if at > self.now {
                break;
            }
            self.timers.pop_first();
            if let Some(t) = self.transactions.get_mut(&id) {
                t.scheduled = None;
            }
            self.fire(id, at);
            self.touched.push(id);
            self.reschedule();
        }
    }

    /// Brings the timer index in step with the transactions changed since the last call.
    fn reschedule(&mut self) {
        for id in std::mem::take(&mut self.touched) {
            let Some(t) = self.transactions.get_mut(&id) else { continue };
            let next = t.next_deadline();
            if next == t.scheduled {
                continue;
            }
            if let Some(old) = t.scheduled {
                self.timers.remove(&(old, id));
            }
            if let Some(at) = next {
                self.timers.insert((at, id));
            }
            t.scheduled = next;
        }
    }

    /// The next message to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event for the TU.
    pub fn poll_event(&mut self) -> Option<TransactionEvent> {
        self.events.pop_front()
    }

    /// When to call [`TransactionLayer::handle_timeout`] next; always later than the latest
    /// `now` given, or `None` when no timer runs.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        self.timers.first().map(|(at, _)| *at)
    }

    /// The state of transaction `id`, or `None` once it has terminated.
    pub fn state(&self, id: TransactionId) -> Option<TransactionState> {
        self.transactions.get(&id).map(|t| t.state)
    }

    /// How many transactions are live.
    pub fn len(&self) -> usize {
        self.transactions.len()
    }

    /// Whether no transaction is live.
    pub fn is_empty(&self) -> bool {
        self.transactions.is_empty()
    }

    fn allocate_id(&mut self) -> TransactionId {
        self.next_id += 1;
        TransactionId(self.next_id)
    }

    fn remove(&mut self, id: TransactionId) {
        if let Some(t) = self.transactions.remove(&id) {
            if let Some(at) = t.scheduled {
                self.timers.remove(&(at, id));
            }
            match t.key {
                Key::Client(key) => self.clients.remove(&key),
                Key::Server(key) => self.servers.remove(&key),
            };
        }
    }

    fn receive_request(
        &mut self,
        request: Request,
        from: SocketAddr,
        transport: Transport,
    ) -> Result<(), TransactionError> {
        let key = ServerKey::of(&request)?;
        let Some(&id) = self.servers.get(&key) else {
            if request.method == Method::Ack {
                self.events.push_back(TransactionEvent::Ack { request, from });
                return Ok(());
            }
            return self.new_server_transaction(key, request, from, transport);
        };
        let now = self.now;
        let config = self.config;
        self.touched.push(id);
        let Some(t) = self.transactions.get_mut(&id) else { return Ok(()) };
        if request.method == Method::Ack {
            match t.state {
                TransactionState::Completed => {
                    // Timer I: T4 over UDP, zero over reliable transports.
                    t.state = TransactionState::Confirmed;
                    t.retransmit = None;
                    t.timeout = None;
                    if t.transport.is_reliable() {
                        self.remove(id);
                    } else {
                        t.end = Some(now.after_millis(config.t4_ms()));
                    }
                }
                TransactionState::Confirmed => {}
                // An ACK for a 2xx that reused the INVITE's branch, or one that came too soon.
                _ => self.events.push_back(TransactionEvent::Ack { request, from }),
            }
            return Ok(());
        }
        // A retransmission: resend the last response where the state machine says so.
        let resend = match t.state {
            TransactionState::Proceeding | TransactionState::Completed => t.last.clone(),
            _ => None,
        };
        if let Some(message) = resend {
            self.transmits.push_back(Transmit { to: t.peer, transport: t.transport, message });
        }
        Ok(())
    }

    fn new_server_transaction(
        &mut self,
        key: ServerKey,
        request: Request,
        from: SocketAddr,
        transport: Transport,
    ) -> Result<(), TransactionError> {
        let cancels = if request.method == Method::Cancel {
            let invite = ServerKey { method: Method::Invite, ..key.clone() };
            self.servers.get(&invite).copied()
        } else {
            None
        };
        let id = self.allocate_id();
        let invite = request.method == Method::Invite;
        let transaction = Transaction {
            kind: if invite { Kind::InviteServer } else { Kind::NonInviteServer },
            state: if invite { TransactionState::Proceeding } else { TransactionState::Trying },
            transport,
            peer: from,
            request: request.clone(),
            last: None,
            retransmit: None,
            timeout: None,
            end: None,
            trying: invite.then(|| self.now.after_millis(TRYING_DELAY_MS)),
            key: Key::Server(key.clone()),
            scheduled: None,
        };
        self.servers.insert(key, id);
        self.transactions.insert(id, transaction);
        self.touched.push(id);
        self.events.push_back(TransactionEvent::NewRequest { id, request, from, transport, cancels });
        Ok(())
    }

    fn receive_response(&mut self, response: Response, from: SocketAddr) -> Result<(), TransactionError> {
        let branch = response.headers.top_via()?.branch().ok_or(TransactionError::MissingBranch)?.to_owned();
        let method = response.headers.cseq()?.method;
        let Some(&id) = self.clients.get(&ClientKey { branch, method }) else {
            self.events.push_back(TransactionEvent::StrayResponse { response, from });
            return Ok(());
        };
        let now = self.now;
        let config = self.config;
        self.touched.push(id);
        let Some(t) = self.transactions.get_mut(&id) else { return Ok(()) };
        let status = response.status;
        let reliable = t.transport.is_reliable();
        let mut pass_up = true;
        let mut terminate = false;
        match (t.kind, t.state) {
            (Kind::InviteClient, TransactionState::Calling | TransactionState::Proceeding) => {
                t.retransmit = None;
                t.timeout = None;
                if status.is_provisional() {
                    t.state = TransactionState::Proceeding;
                } else if status.is_success() {
                    // RFC 6026: Timer M keeps the transaction to pass up 2xx retransmissions.
                    t.state = TransactionState::Accepted;
                    t.end = Some(now.after_millis(config.long_ms()));
                } else {
                    t.state = TransactionState::Completed;
                    if let Ok(ack) = Request::ack_for(&t.request, &response) {
                        let message = Message::Request(ack);
                        t.last = Some(message.clone());
                        self.transmits.push_back(Transmit { to: t.peer, transport: t.transport, message });
                    }
                    // Timer D: 32 s over UDP, zero over reliable transports.
                    if reliable {
                        terminate = true;
                    } else {
                        t.end = Some(now.after_millis(config.d_ms()));
                    }
                }
            }
            (Kind::InviteClient, TransactionState::Completed) => {
                pass_up = false;
                if !status.is_provisional() && !status.is_success() {
                    if let Some(message) = t.last.clone() {
                        self.transmits.push_back(Transmit { to: t.peer, transport: t.transport, message });
                    }
                }
            }
            (Kind::InviteClient, TransactionState::Accepted) => pass_up = status.is_success(),
            (Kind::NonInviteClient, TransactionState::Trying | TransactionState::Proceeding) => {
                if status.is_provisional() {
                    t.state = TransactionState::Proceeding;
                } else {
                    t.state = TransactionState::Completed;
                    t.retransmit = None;
                    t.timeout = None;
                    // Timer K: T4 over UDP, zero over reliable transports.
                    if reliable {
                        terminate = true;
                    } else {
                        t.end = Some(now.after_millis(config.t4_ms()));
                    }
                }
            }
            _ => pass_up = false,
        }
        if pass_up {
            self.events.push_back(TransactionEvent::Response { id, response });
        }
        if terminate {
            self.remove(id);
        }
        Ok(())
    }

    /// Fires the timers of transaction `id` that are due at `at`.
    fn fire(&mut self, id: TransactionId, at: Timestamp) {
        let config = self.config;
        let Some(t) = self.transactions.get_mut(&id) else { return };
        if t.end.is_some_and(|end| end <= at) {
            self.remove(id);
            return;
        }
        if t.timeout.is_some_and(|timeout| timeout <= at) {
            self.remove(id);
            self.events.push_back(TransactionEvent::Timeout { id });
            return;
        }
        if t.trying.is_some_and(|trying| trying <= at) {
            t.trying = None;
            let message = Message::Response(Response::for_request(&t.request, StatusCode::TRYING));
            t.last = Some(message.clone());
            self.transmits.push_back(Transmit { to: t.peer, transport: t.transport, message });
        }
        if let Some((due, interval)) = t.retransmit.filter(|(due, _)| *due <= at) {
            let next = match (t.kind, t.state) {
                // Timer A doubles without a cap.
                (Kind::InviteClient, _) => interval.saturating_mul(2),
                // Timer E doubles up to T2 while Trying, and stays at T2 once Proceeding.
                (Kind::NonInviteClient, TransactionState::Proceeding) => config.t2_ms(),
                // Timers E and G double up to T2.
                _ => interval.saturating_mul(2).min(config.t2_ms()),
            };
            t.retransmit = Some((due.after_millis(next), next));
            let message = match t.kind {
                Kind::InviteClient | Kind::NonInviteClient => Some(Message::Request(t.request.clone())),
                Kind::InviteServer | Kind::NonInviteServer => t.last.clone(),
            };
            if let Some(message) = message {
                self.transmits.push_back(Transmit { to: t.peer, transport: t.transport, message });
            }
        }
    }
}
