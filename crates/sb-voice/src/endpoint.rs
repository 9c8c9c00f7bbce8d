//! The SIP user agent core (the transaction user), sans-IO.
//!
//! An [`Endpoint`] owns a [`TransactionLayer`] and decides what to answer. The driver feeds
//! it datagrams ([`Endpoint::handle_datagram`]) and the passing of time
//! ([`Endpoint::handle_timeout`]), then drains [`Endpoint::poll_transmit`] for datagrams to
//! send and asks [`Endpoint::poll_timeout`] when to wake it next.
//!
//! What it answers, for now (no contact flow or queue is wired to calls yet):
//!
//! - OPTIONS: 200 OK with Allow and `Accept: application/sdp`;
//! - REGISTER: the [`Registrar`] when phone accounts are configured (401 challenge, then 200
//!   with the bindings, or 403/404/423 with a Warning saying why); 403 Forbidden otherwise;
//! - INVITE: 100 Trying, then 480 Temporarily Unavailable with a Warning saying that no
//!   contact flow is configured; the ACK is absorbed by the transaction layer;
//! - BYE outside a known dialog (there are none yet): 481; CANCEL: 200 when it matches an
//!   INVITE transaction (which has already been answered), 481 otherwise;
//! - any other method: 405 Method Not Allowed with Allow;
//! - a datagram whose request line reads but whose message is invalid: 400 Bad Request with
//!   the parser's explanation in a Warning, when a Via can be read to answer it; anything
//!   else is dropped and counted in [`Stats`].
//!
//! **Invariant:** no I/O and no clock; time is the [`Timestamp`] passed in.

use std::collections::VecDeque;
use std::net::SocketAddr;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use crate::calls::{Calls, Command, Entry, RtpTransmit};
use crate::registrar::{Expiry, PhoneAccount, Registrar};
use sb_sip::{
    Headers, Limits, Message, Method, Request, Response, StatusCode, TimerConfig, Timestamp, TransactionEvent,
    TransactionId, TransactionLayer, Transport, long_name, parse_datagram,
};

/// The methods this endpoint accepts, as listed in Allow.
pub const ALLOW: &str = "INVITE, ACK, BYE, CANCEL, OPTIONS";

/// The text of the Warning sent with the 480 for an INVITE while no flow handles calls.
pub const NO_FLOW: &str = "no contact flow configured";

/// How an [`Endpoint`] behaves.
#[derive(Debug, Clone)]
pub struct EndpointConfig {
    /// Size limits for received datagrams.
    pub limits: Limits,
    /// The transaction timers (T1, T2, T4).
    pub timers: TimerConfig,
    /// Who we are in Warning headers (the warn-agent, a host name or a token) and in the
    /// Server header.
    pub agent: String,
    /// Starts every To tag we choose, so that tags differ between runs of the process; the
    /// driver sets it from something that changes, such as the start time.
    pub tag_prefix: String,
    /// The agents' phones that may register; none means REGISTER is refused.
    pub phones: Vec<PhoneAccount>,
    /// Keys the registrar's nonces; the driver draws it at random.
    pub nonce_secret: Vec<u8>,
    /// Registration lifetimes.
    pub expiry: Expiry,
    /// Our SIP address, for Via and Contact in the requests we send; the driver sets it to
    /// the socket's address (an unspecified IP should be replaced by one peers can reach).
    pub local: SocketAddr,
    /// The IP address peers reach us at, when it is not the socket's (the socket bound to
    /// 0.0.0.0, or behind a NAT that forwards the ports): the driver puts it in Via, Contact
    /// and the SDP, and binds the media sockets on the SIP socket's address.
    pub advertise: Option<IpAddr>,
    /// The numbers callers dial; none means every INVITE gets 480.
    pub entries: Vec<Arc<Entry>>,
    /// Seeds the SSRCs of our RTP streams; the driver draws it at random.
    pub seed: u64,
}

impl Default for EndpointConfig {
    fn default() -> EndpointConfig {
        EndpointConfig {
            limits: Limits::default(),
            timers: TimerConfig::default(),
            agent: "switchboard".to_owned(),
            tag_prefix: "sb".to_owned(),
            phones: Vec::new(),
            nonce_secret: b"switchboard".to_vec(),
            expiry: Expiry::default(),
            local: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 5060),
            advertise: None,
            entries: Vec::new(),
            seed: 0,
        }
    }
}

/// A datagram to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datagram {
    /// Where to send it.
    pub to: SocketAddr,
    /// Over which transport: a TCP message goes on the connection with `to`.
    pub transport: Transport,
    /// The bytes to send.
    pub bytes: Vec<u8>,
}

/// Counters of what the endpoint received, for logs and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Datagrams handed to [`Endpoint::handle_datagram`].
    pub datagrams: u64,
    /// Requests answered with 400 Bad Request because they were malformed.
    pub bad_requests: u64,
    /// Datagrams dropped without an answer: unreadable, malformed responses, or malformed
    /// requests with no Via to answer to.
    pub dropped: u64,
    /// RTP datagrams received on callers' legs.
    pub rtp_from_callers: u64,
    /// RTP datagrams received on agents' (or trunks') legs.
    pub rtp_from_agents: u64,
    /// RTP datagrams relayed from one leg to the other.
    pub rtp_relayed: u64,
}

/// The SIP user agent core. See the module documentation.
#[derive(Debug)]
pub struct Endpoint {
    pub(crate) config: EndpointConfig,
    pub(crate) layer: TransactionLayer,
    pub(crate) transmits: VecDeque<Datagram>,
    stats: Stats,
    /// Numbers the To tags we choose.
    next_tag: u64,
    pub(crate) registrar: Registrar,
    pub(crate) calls: Calls,
}

impl Endpoint {
    /// An endpoint with no transactions.
    pub fn new(config: EndpointConfig) -> Endpoint {
        let layer = TransactionLayer::new(config.timers);
        let registrar = Registrar::new(&config.phones, config.nonce_secret.clone(), config.expiry);
        let calls = Calls::new(&config.entries, config.seed);
        Endpoint { config, layer, transmits: VecDeque::new(), stats: Stats::default(), next_tag: 0, registrar, calls }
    }

    /// Handles one datagram received from `from`.
    pub fn handle_datagram(&mut self, now: Timestamp, bytes: &[u8], from: SocketAddr) {
        self.stats.datagrams += 1;
        match parse_datagram(bytes, &self.config.limits) {
            Ok(message) => self.receive(now, message, from, Transport::Udp),
            Err(error) => match salvage(bytes, &self.config.limits) {
                Some(headers) => {
                    let response = self.bad_request_from(headers, &error.to_string());
                    self.stats.bad_requests += 1;
                    tracing::debug!(%from, %error, "malformed request answered with 400");
                    self.layer.send_stateless(Message::Response(response), from, Transport::Udp);
                }
                None => self.drop_datagram(from, &error.to_string()),
            },
        }
        self.process(now);
    }

    /// Handles one message read from a TCP connection with `from` (a
    /// [`sb_sip::StreamParser`]'s output). A framed but malformed message is dropped and
    /// counted: the parser's error is the only explanation there is.
    pub fn handle_stream_message(
        &mut self,
        now: Timestamp,
        message: Result<Message, sb_sip::ParseError>,
        from: SocketAddr,
    ) {
        self.stats.datagrams += 1;
        match message {
            Ok(message) => self.receive(now, message, from, Transport::Tcp),
            Err(error) => self.drop_datagram(from, &error.to_string()),
        }
        self.process(now);
    }

    /// A parsed message for the transaction layer; a request it cannot match (no branch,
    /// say) is answered 400 on the transport it came over.
    fn receive(&mut self, now: Timestamp, message: Message, from: SocketAddr, transport: Transport) {
        let request = match &message {
            Message::Request(request) => Some(request.clone()),
            Message::Response(_) => None,
        };
        if let Err(error) = self.layer.receive(now, message, from, transport) {
            match request {
                Some(request) if request.method != Method::Ack => {
                    let response = self.bad_request(&request, &error.to_string());
                    self.stats.bad_requests += 1;
                    self.layer.send_stateless(Message::Response(response), from, transport);
                }
                _ => self.drop_datagram(from, &error.to_string()),
            }
        }
    }

    /// Fires the timers due at `now` (retransmissions, 100 Trying, timeouts).
    pub fn handle_timeout(&mut self, now: Timestamp) {
        self.layer.handle_timeout(now);
        self.process(now);
        self.call_timers(now);
        self.flush();
    }

    /// The next thing the driver must do for the calls.
    pub fn poll_command(&mut self) -> Option<Command> {
        self.calls.commands.pop_front()
    }

    /// The next RTP datagram to send from a leg's socket.
    pub fn poll_rtp(&mut self) -> Option<RtpTransmit> {
        self.calls.rtp.pop_front()
    }

    /// Sets where a tenant's migration stands: rolled back (every new call to its flow
    /// numbers goes to the legacy trunk of its split), or in a cutover phase that gives
    /// Switchboard a share of the new calls in place of the split's percent rules. Calls
    /// under way are not touched.
    pub fn set_migration(&mut self, tenant: &str, migration: crate::calls::Migration) {
        self.calls.set_migration(tenant, migration);
    }

    /// How many calls are up.
    pub fn calls(&self) -> usize {
        self.calls.len()
    }

    /// The next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<Datagram> {
        self.transmits.pop_front()
    }

    /// When to call [`Endpoint::handle_timeout`] next, or `None` when no timer runs.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        [self.layer.poll_timeout(), self.calls.poll_timeout()].into_iter().flatten().min()
    }

    /// The size limits messages are parsed with.
    pub fn limits(&self) -> Limits {
        self.config.limits.clone()
    }

    /// What has been received so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    pub(crate) fn stats_mut(&mut self) -> &mut Stats {
        &mut self.stats
    }

    /// The registrar, to find where an agent's phone can be reached.
    pub fn registrar(&self) -> &Registrar {
        &self.registrar
    }

    /// How many transactions are live.
    pub fn transactions(&self) -> usize {
        self.layer.len()
    }

    fn drop_datagram(&mut self, from: SocketAddr, why: &str) {
        self.stats.dropped += 1;
        tracing::debug!(%from, why, "datagram dropped");
    }

    /// Answers the layer's events and moves its transmits to ours.
    fn process(&mut self, now: Timestamp) {
        while let Some(event) = self.layer.poll_event() {
            match event {
                TransactionEvent::NewRequest { id, request, from, cancels, transport } => {
                    tracing::debug!(%from, %transport, method = %request.method, "new request");
                    self.answer(now, id, &request, (from, transport), cancels);
                }
                // The ACK for a 2xx of ours.
                TransactionEvent::Ack { request, .. } => self.ack(&request),
                TransactionEvent::StrayResponse { from, response } => {
                    tracing::debug!(%from, status = %response.status, "stray response ignored");
                }
                TransactionEvent::Timeout { id } => {
                    if !self.call_timeout_tx(now, id) {
                        tracing::debug!(%id, "transaction timed out");
                    }
                }
                TransactionEvent::Response { id, response } => {
                    if !self.call_response(now, id, &response) {
                        tracing::debug!(%id, "response to a client transaction");
                    }
                }
            }
        }
        self.flush();
    }

    /// The TU's decision for a new server transaction.
    fn answer(
        &mut self,
        now: Timestamp,
        id: TransactionId,
        request: &Request,
        (from, transport): (SocketAddr, Transport),
        cancels: Option<TransactionId>,
    ) {
        let in_dialog = request.headers.to_tag().is_some();
        if in_dialog && request.method != Method::Cancel && self.in_dialog(now, id, request) {
            return;
        }
        let mut responses = Vec::new();
        match request.method {
            Method::Options => {
                let mut ok = self.response(request, StatusCode::OK);
                push(&mut ok.headers, "Allow", ALLOW);
                push(&mut ok.headers, "Accept", "application/sdp");
                responses.push(ok);
            }
            Method::Register => {
                let answer = self.registrar.register(now, request, from, transport);
                let mut response = self.response(request, answer.status);
                for (name, value) in &answer.headers {
                    push(&mut response.headers, name, value);
                }
                if let Some(reason) = &answer.reason {
                    let detail = answer.detail.as_deref().unwrap_or(reason);
                    tracing::info!(%from, status = %answer.status, detail, "REGISTER refused");
                    push(&mut response.headers, "Warning", &self.warning(reason));
                }
                responses.push(response);
            }
            Method::Invite if !in_dialog => {
                self.new_invite(now, id, request, from, transport);
                return;
            }
            // RFC 3261 section 9.2: 200 for the CANCEL; an INVITE not answered yet gets 487.
            Method::Cancel if cancels.is_some() => {
                let ok = self.response(request, StatusCode::OK);
                self.send(now, id, ok);
                if let Some(invite) = cancels {
                    self.cancel(now, invite);
                }
                return;
            }
            Method::Cancel | Method::Bye => responses.push(self.response(request, StatusCode::CALL_DOES_NOT_EXIST)),
            _ => {
                let mut refused = self.response(request, StatusCode::METHOD_NOT_ALLOWED);
                push(&mut refused.headers, "Allow", ALLOW);
                responses.push(refused);
            }
        }
        for response in responses {
            if let Err(error) = self.layer.send_response(now, id, response) {
                tracing::warn!(%id, %error, "the transaction layer refused our response");
            }
        }
    }

    /// A response to `request` with our To tag and Server header.
    pub(crate) fn response(&mut self, request: &Request, status: StatusCode) -> Response {
        self.next_tag += 1;
        let tag = format!("{}{}", self.config.tag_prefix, self.next_tag);
        let mut response = Response::for_request_with_tag(request, status, &tag);
        push(&mut response.headers, "Server", &self.config.agent);
        response
    }

    /// A 400 for a request that parsed but that the transaction layer cannot use.
    fn bad_request(&mut self, request: &Request, why: &str) -> Response {
        let mut response = Response::for_request(request, StatusCode::BAD_REQUEST);
        push(&mut response.headers, "Warning", &self.warning(why));
        response
    }

    /// A 400 built from the fields [`salvage`] could read.
    fn bad_request_from(&self, mut headers: Headers, why: &str) -> Response {
        push(&mut headers, "Warning", &self.warning(why));
        push(&mut headers, "Content-Length", "0");
        let status = StatusCode::BAD_REQUEST;
        Response { status, reason: status.reason_phrase().to_owned(), headers, body: Vec::new() }
    }

    /// A Warning value (RFC 3261 section 20.43) with code 399, "miscellaneous warning".
    pub(crate) fn warning(&self, text: &str) -> String {
        let quoted: String = text
            .chars()
            .flat_map(|c| match c {
                '"' | '\\' => vec!['\\', c],
                c if c.is_control() => vec![' '],
                c => vec![c],
            })
            .collect();
        format!("399 {} \"{quoted}\"", self.config.agent)
    }
}

/// Appends a field whose value we built; our values hold no control characters.
pub(crate) fn push(headers: &mut Headers, name: &str, value: &str) {
    if let Err(error) = headers.push(name, value) {
        tracing::warn!(name, %error, "header not added");
    }
}

/// Reads what a 400 needs from a datagram that did not parse: the request line must read
/// as `METHOD URI SIP/2.0` (and not be an ACK, which is never answered), and a Via must
/// read; Via, From, To, Call-ID and CSeq are then copied as they were written, whatever
/// their other faults.
fn salvage(bytes: &[u8], limits: &Limits) -> Option<Headers> {
    let start = bytes.iter().position(|b| *b != b'\r' && *b != b'\n')?;
    let bytes = &bytes[start..];
    let head = match bytes.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(end) => &bytes[..end],
        None => bytes,
    };
    let mut lines = head.split(|b| *b == b'\n').map(|line| line.strip_suffix(b"\r").unwrap_or(line));
    let request_line = std::str::from_utf8(lines.next()?).ok()?;
    let mut parts = request_line.split(' ');
    let (method, uri, version) = (parts.next()?, parts.next()?, parts.next()?);
    let method = Method::parse(method)?;
    if parts.next().is_some() || uri.is_empty() || version != "SIP/2.0" || method == Method::Ack {
        return None;
    }
    let mut headers = Headers::new();
    for line in lines.take(limits.max_headers) {
        let Ok(line) = std::str::from_utf8(line) else { continue };
        let Some((name, value)) = line.split_once(':') else { continue };
        let name = name.trim();
        let copied = ["Via", "From", "To", "Call-ID", "CSeq"].contains(&long_name(name));
        if copied && line.len() <= limits.max_line_length {
            // A value with control characters is left out.
            let _ = headers.push(name, value);
        }
    }
    headers.top_via().ok()?;
    Some(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEER: &str = "192.0.2.7:5062";

    fn peer() -> SocketAddr {
        PEER.parse().unwrap()
    }

    fn request(method: &str, cseq: &str) -> String {
        format!(
            "{method} sip:1000@switchboard.example SIP/2.0\r\n\
             Via: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK-{method}-1\r\n\
             Max-Forwards: 70\r\n\
             From: <sip:caller@192.0.2.7>;tag=c1\r\n\
             To: <sip:1000@switchboard.example>\r\n\
             Call-ID: call-{method}@192.0.2.7\r\n\
             CSeq: {cseq}\r\n\
             Content-Length: 0\r\n\r\n"
        )
    }

    /// Feeds `input` at time `at` and returns the datagrams sent, as text.
    fn feed(endpoint: &mut Endpoint, at: u64, input: &str) -> Vec<String> {
        endpoint.handle_datagram(Timestamp::from_millis(at), input.as_bytes(), peer());
        drain(endpoint)
    }

    fn drain(endpoint: &mut Endpoint) -> Vec<String> {
        std::iter::from_fn(|| endpoint.poll_transmit())
            .map(|d| {
                assert_eq!(d.to, peer());
                String::from_utf8(d.bytes).unwrap()
            })
            .collect()
    }

    fn status_lines(sent: &[String]) -> Vec<&str> {
        sent.iter().map(|s| s.lines().next().unwrap()).collect()
    }

    fn header<'a>(message: &'a str, name: &str) -> Option<&'a str> {
        message.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(": "))
    }

    #[test]
    fn options_gets_200_with_allow_and_accept() {
        let mut endpoint = Endpoint::new(EndpointConfig::default());
        let sent = feed(&mut endpoint, 0, &request("OPTIONS", "1 OPTIONS"));
        assert_eq!(status_lines(&sent), ["SIP/2.0 200 OK"]);
        let ok = &sent[0];
        assert_eq!(header(ok, "Allow"), Some(ALLOW));
        assert_eq!(header(ok, "Accept"), Some("application/sdp"));
        assert_eq!(header(ok, "Content-Length"), Some("0"));
        assert_eq!(header(ok, "Via"), Some("SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK-OPTIONS-1"));
        assert_eq!(header(ok, "CSeq"), Some("1 OPTIONS"));
        assert_eq!(header(ok, "To"), Some("<sip:1000@switchboard.example>;tag=sb1"));
        // A retransmission gets the same answer from the transaction layer.
        assert_eq!(feed(&mut endpoint, 100, &request("OPTIONS", "1 OPTIONS")), sent);
    }

    #[test]
    fn register_is_forbidden_without_phone_accounts() {
        let mut endpoint = Endpoint::new(EndpointConfig::default());
        let sent = feed(&mut endpoint, 0, &request("REGISTER", "1 REGISTER"));
        assert_eq!(status_lines(&sent), ["SIP/2.0 403 Forbidden"]);
        assert_eq!(header(&sent[0], "Warning"), Some("399 switchboard \"no phone accounts configured\""));
    }

    #[test]
    fn register_with_phone_accounts_is_challenged_and_refusals_carry_a_warning() {
        let phones = vec![PhoneAccount {
            realm: "acme".into(),
            user: "1000".into(),
            agent: "alice".into(),
            password: "pw".into(),
        }];
        let mut endpoint = Endpoint::new(EndpointConfig { phones, ..EndpointConfig::default() });
        let sent = feed(&mut endpoint, 0, &request("REGISTER", "1 REGISTER"));
        assert_eq!(status_lines(&sent), ["SIP/2.0 401 Unauthorized"]);
        let challenge = header(&sent[0], "WWW-Authenticate").unwrap();
        assert!(challenge.starts_with("Digest realm=\"acme\", nonce=\""), "{challenge}");
        assert!(endpoint.registrar().contacts(Timestamp::from_millis(0), "acme", "1000").is_empty());
    }

    #[test]
    fn invite_without_numbers_gets_480_and_the_ack_ends_it() {
        let mut endpoint = Endpoint::new(EndpointConfig::default());
        let sent = feed(&mut endpoint, 0, &request("INVITE", "1 INVITE"));
        assert_eq!(status_lines(&sent), ["SIP/2.0 480 Temporarily Unavailable"]);
        let unavailable = &sent[0];
        assert_eq!(header(unavailable, "Warning"), Some("399 switchboard \"no contact flow configured\""));
        let to = header(unavailable, "To").unwrap();
        assert!(to.ends_with(";tag=sb1"), "{to}");
        // Timer G: no ACK yet, so the 480 is resent after T1.
        assert_eq!(endpoint.poll_timeout(), Some(Timestamp::from_millis(500)));
        endpoint.handle_timeout(Timestamp::from_millis(500));
        assert_eq!(status_lines(&drain(&mut endpoint)), ["SIP/2.0 480 Temporarily Unavailable"]);
        // The ACK (same branch, the To tag of the 480) is absorbed: nothing is sent again.
        let ack = request("ACK", "1 ACK")
            .replace("z9hG4bK-ACK-1", "z9hG4bK-INVITE-1")
            .replace("call-ACK", "call-INVITE")
            .replace("To: <sip:1000@switchboard.example>", &format!("To: {to}"));
        assert!(feed(&mut endpoint, 600, &ack).is_empty());
        endpoint.handle_timeout(Timestamp::from_millis(10_000));
        assert!(drain(&mut endpoint).is_empty());
        assert_eq!(endpoint.transactions(), 0);
    }

    #[test]
    fn bye_and_cancel_outside_a_dialog_get_481() {
        let mut endpoint = Endpoint::new(EndpointConfig::default());
        assert_eq!(
            status_lines(&feed(&mut endpoint, 0, &request("BYE", "2 BYE"))),
            ["SIP/2.0 481 Call/Transaction Does Not Exist"]
        );
        assert_eq!(
            status_lines(&feed(&mut endpoint, 0, &request("CANCEL", "1 CANCEL"))),
            ["SIP/2.0 481 Call/Transaction Does Not Exist"]
        );
    }

    #[test]
    fn cancel_of_an_answered_invite_gets_200() {
        let mut endpoint = Endpoint::new(EndpointConfig::default());
        feed(&mut endpoint, 0, &request("INVITE", "1 INVITE"));
        let cancel = request("CANCEL", "1 CANCEL").replace("z9hG4bK-CANCEL-1", "z9hG4bK-INVITE-1");
        assert_eq!(status_lines(&feed(&mut endpoint, 10, &cancel)), ["SIP/2.0 200 OK"]);
    }

    #[test]
    fn other_methods_get_405_with_allow() {
        for method in ["SUBSCRIBE", "MESSAGE", "FROBNICATE"] {
            let mut endpoint = Endpoint::new(EndpointConfig::default());
            let sent = feed(&mut endpoint, 0, &request(method, &format!("1 {method}")));
            assert_eq!(status_lines(&sent), ["SIP/2.0 405 Method Not Allowed"], "{method}");
            assert_eq!(header(&sent[0], "Allow"), Some(ALLOW));
        }
    }

    #[test]
    fn broken_cseq_gets_400_with_the_reason() {
        let mut endpoint = Endpoint::new(EndpointConfig::default());
        let sent = feed(&mut endpoint, 0, &request("OPTIONS", "abc OPTIONS"));
        assert_eq!(status_lines(&sent), ["SIP/2.0 400 Bad Request"]);
        let bad = &sent[0];
        assert_eq!(header(bad, "Via"), Some("SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK-OPTIONS-1"));
        assert_eq!(header(bad, "Call-ID"), Some("call-OPTIONS@192.0.2.7"));
        assert_eq!(header(bad, "CSeq"), Some("abc OPTIONS"));
        let warning = header(bad, "Warning").unwrap();
        assert!(warning.starts_with("399 switchboard \"line 7: header \\\"CSeq\\\""), "{warning}");
        assert_eq!(endpoint.stats(), Stats { datagrams: 1, bad_requests: 1, ..Stats::default() });
    }

    #[test]
    fn cseq_method_mismatch_gets_400() {
        let mut endpoint = Endpoint::new(EndpointConfig::default());
        let sent = feed(&mut endpoint, 0, &request("OPTIONS", "1 INVITE"));
        assert_eq!(status_lines(&sent), ["SIP/2.0 400 Bad Request"]);
    }

    #[test]
    fn missing_branch_gets_400() {
        let mut endpoint = Endpoint::new(EndpointConfig::default());
        let sent = feed(&mut endpoint, 0, &request("OPTIONS", "1 OPTIONS").replace(";branch=z9hG4bK-OPTIONS-1", ""));
        assert_eq!(status_lines(&sent), ["SIP/2.0 400 Bad Request"]);
        assert!(header(&sent[0], "Warning").unwrap().contains("branch"));
    }

    #[test]
    fn unanswerable_datagrams_are_dropped_and_counted() {
        let mut endpoint = Endpoint::new(EndpointConfig::default());
        let no_via = request("OPTIONS", "abc OPTIONS")
            .replace("Via: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK-OPTIONS-1\r\n", "");
        let broken_ack = request("ACK", "abc ACK");
        let inputs = [
            "",
            "\r\n\r\n",
            "hello world",
            "NOT A SIP/1.0 LINE\r\n\r\n",
            &no_via,
            &broken_ack,
            "SIP/2.0 200 OK\r\n\r\n",
        ];
        for input in inputs {
            assert!(feed(&mut endpoint, 0, input).is_empty(), "{input:?}");
        }
        // Arbitrary bytes never make it panic.
        feed(&mut endpoint, 0, "\u{0}\u{1}\u{ff}");
        endpoint.handle_datagram(Timestamp::ZERO, &[0xff, 0xfe, b'\r', b'\n'], peer());
        assert!(drain(&mut endpoint).is_empty());
        assert_eq!(endpoint.stats(), Stats { datagrams: 9, dropped: 9, ..Stats::default() });
    }
}
