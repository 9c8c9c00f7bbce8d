//! Transaction layer tests under a virtual clock: each test drives a `TransactionLayer`,
//! records every transmit and event with its time in a trace (`"0.500 > INVITE"` for a
//! message sent, `"32.000 timeout t1"` for an event), and compares the trace with the
//! schedule RFC 3261 section 17 and RFC 6026 prescribe.

use std::net::SocketAddr;

use proptest::prelude::*;
use sb_sip::{
    Limits, Message, Method, Request, Response, StatusCode, TimerConfig, Timestamp, TransactionError, TransactionEvent,
    TransactionId, TransactionLayer, TransactionState, Transport, parse_datagram,
};

const PEER: &str = "192.0.2.7:5060";

fn peer() -> SocketAddr {
    PEER.parse().unwrap()
}

fn ms(t: u64) -> Timestamp {
    Timestamp::from_millis(t)
}

/// A request from 192.0.2.7 with the given method, branch and CSeq method.
fn request_with_cseq(method: &str, branch: &str, cseq_method: &str, transport: Transport) -> Request {
    let text = format!(
        "{method} sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/{transport} 192.0.2.7:5060;branch={branch}\r\n\
         Max-Forwards: 70\r\nFrom: <sip:alice@example.net>;tag=a1\r\nTo: <sip:bob@example.com>\r\n\
         Call-ID: c1@192.0.2.7\r\nCSeq: 1 {cseq_method}\r\n\r\n"
    );
    match parse_datagram(text.as_bytes(), &Limits::default()) {
        Ok(Message::Request(r)) => r,
        other => panic!("expected a request, got {other:?}"),
    }
}

fn request(method: &str, branch: &str, transport: Transport) -> Request {
    request_with_cseq(method, branch, method, transport)
}

fn response(request: &Request, code: u16) -> Response {
    Response::for_request_with_tag(request, StatusCode::new(code).unwrap(), "b2")
}

/// A layer with the default timers and the trace of what it did.
struct Harness {
    layer: TransactionLayer,
    trace: Vec<String>,
    /// The server transactions started, in order.
    new: Vec<TransactionId>,
}

impl Harness {
    fn new() -> Harness {
        Harness { layer: TransactionLayer::new(TimerConfig::default()), trace: Vec::new(), new: Vec::new() }
    }

    fn send(&mut self, at: u64, request: Request, transport: Transport) -> TransactionId {
        let id = self.layer.send_request(ms(at), request, peer(), transport).unwrap();
        self.drain(at);
        id
    }

    fn receive(&mut self, at: u64, message: impl Into<MessageOf>, transport: Transport) {
        self.layer.receive(ms(at), message.into().0, peer(), transport).unwrap();
        self.drain(at);
    }

    fn respond(&mut self, at: u64, id: TransactionId, response: Response) {
        self.layer.send_response(ms(at), id, response).unwrap();
        self.drain(at);
    }

    /// Fires the timers due up to `end`, one deadline at a time.
    fn run_until(&mut self, end: u64) {
        while let Some(at) = self.layer.poll_timeout().filter(|t| t.as_millis() <= end) {
            self.layer.handle_timeout(at);
            self.drain(at.as_millis());
        }
    }

    fn drain(&mut self, at: u64) {
        let now = ms(at);
        while let Some(transmit) = self.layer.poll_transmit() {
            assert_eq!(transmit.to, peer());
            let line = match &transmit.message {
                Message::Request(r) => format!("{now} > {}", r.method),
                Message::Response(r) => format!("{now} > {} {}", r.status.as_u16(), r.cseq().unwrap().method),
            };
            self.trace.push(line);
        }
        while let Some(event) = self.layer.poll_event() {
            if let TransactionEvent::NewRequest { id, .. } = &event {
                self.new.push(*id);
            }
            let line = match event {
                TransactionEvent::NewRequest { id, request, cancels, .. } => match cancels {
                    Some(invite) => format!("{now} new {id} {} cancels {invite}", request.method),
                    None => format!("{now} new {id} {}", request.method),
                },
                TransactionEvent::Response { id, response } => {
                    format!("{now} response {id} {}", response.status.as_u16())
                }
                TransactionEvent::Timeout { id } => format!("{now} timeout {id}"),
                TransactionEvent::Ack { request, .. } => format!("{now} ack {}", request.branch().unwrap()),
                TransactionEvent::StrayResponse { response, .. } => {
                    format!("{now} stray {}", response.status.as_u16())
                }
            };
            self.trace.push(line);
        }
    }

    fn check(&mut self, expect: &[&str]) {
        assert_eq!(std::mem::take(&mut self.trace), expect);
    }
}

/// Lets `Harness::receive` take requests and responses alike.
struct MessageOf(Message);

impl From<Request> for MessageOf {
    fn from(r: Request) -> MessageOf {
        MessageOf(Message::Request(r))
    }
}

impl From<Response> for MessageOf {
    fn from(r: Response) -> MessageOf {
        MessageOf(Message::Response(r))
    }
}

#[test]
fn invite_client_over_udp_doubles_timer_a_until_timer_b() {
    let mut h = Harness::new();
    let id = h.send(0, request("INVITE", "z9hG4bKa", Transport::Udp), Transport::Udp);
    h.run_until(100_000);
    h.check(&[
        "0.000 > INVITE",
        "0.500 > INVITE",
        "1.500 > INVITE",
        "3.500 > INVITE",
        "7.500 > INVITE",
        "15.500 > INVITE",
        "31.500 > INVITE",
        "32.000 timeout t1",
    ]);
    assert_eq!(h.layer.state(id), None);
    assert!(h.layer.is_empty());
}

#[test]
fn invite_client_over_tcp_never_retransmits() {
    let mut h = Harness::new();
    h.send(0, request("INVITE", "z9hG4bKa", Transport::Tcp), Transport::Tcp);
    h.run_until(100_000);
    h.check(&["0.000 > INVITE", "32.000 timeout t1"]);
}

#[test]
fn provisional_response_stops_timers_a_and_b() {
    let mut h = Harness::new();
    let invite = request("INVITE", "z9hG4bKa", Transport::Udp);
    let id = h.send(0, invite.clone(), Transport::Udp);
    h.run_until(700);
    h.receive(700, response(&invite, 180), Transport::Udp);
    h.run_until(100_000);
    h.check(&["0.000 > INVITE", "0.500 > INVITE", "0.700 response t1 180"]);
    assert_eq!(h.layer.state(id), Some(TransactionState::Proceeding));
    assert_eq!(h.layer.poll_timeout(), None);
}

#[test]
fn non_invite_client_caps_timer_e_at_t2_until_timer_f() {
    let mut h = Harness::new();
    h.send(0, request("OPTIONS", "z9hG4bKo", Transport::Udp), Transport::Udp);
    h.run_until(100_000);
    h.check(&[
        "0.000 > OPTIONS",
        "0.500 > OPTIONS",
        "1.500 > OPTIONS",
        "3.500 > OPTIONS",
        "7.500 > OPTIONS",
        "11.500 > OPTIONS",
        "15.500 > OPTIONS",
        "19.500 > OPTIONS",
        "23.500 > OPTIONS",
        "27.500 > OPTIONS",
        "31.500 > OPTIONS",
        "32.000 timeout t1",
    ]);
}

#[test]
fn non_invite_client_retransmits_every_t2_once_proceeding_then_timer_k() {
    let mut h = Harness::new();
    let bye = request("BYE", "z9hG4bKb", Transport::Udp);
    let id = h.send(0, bye.clone(), Transport::Udp);
    h.receive(100, response(&bye, 100), Transport::Udp);
    h.run_until(9_000);
    h.receive(9_000, response(&bye, 200), Transport::Udp);
    h.receive(9_100, response(&bye, 200), Transport::Udp);
    assert_eq!(h.layer.state(id), Some(TransactionState::Completed));
    h.run_until(100_000);
    h.check(&[
        "0.000 > BYE",
        "0.100 response t1 100",
        "0.500 > BYE",
        "4.500 > BYE",
        "8.500 > BYE",
        "9.000 response t1 200",
    ]);
    assert_eq!(h.layer.state(id), None);
}

#[test]
fn non_invite_client_over_tcp_terminates_on_the_final_response() {
    let mut h = Harness::new();
    let options = request("OPTIONS", "z9hG4bKo", Transport::Tcp);
    let id = h.send(0, options.clone(), Transport::Tcp);
    h.receive(50, response(&options, 200), Transport::Tcp);
    h.check(&["0.000 > OPTIONS", "0.050 response t1 200"]);
    assert_eq!(h.layer.state(id), None);
    // Timer K is zero: a late retransmission is stray.
    h.receive(60, response(&options, 200), Transport::Tcp);
    h.check(&["0.060 stray 200"]);
}

#[test]
fn invite_client_acks_a_4xx_itself_and_again_on_retransmission_until_timer_d() {
    let mut h = Harness::new();
    let invite = request("INVITE", "z9hG4bKa", Transport::Udp);
    let id = h.send(0, invite.clone(), Transport::Udp);
    h.receive(300, response(&invite, 486), Transport::Udp);
    h.receive(800, response(&invite, 486), Transport::Udp);
    assert_eq!(h.layer.state(id), Some(TransactionState::Completed));
    h.run_until(100_000);
    h.check(&["0.000 > INVITE", "0.300 > ACK", "0.300 response t1 486", "0.800 > ACK"]);
    // Timer D (32 s) ended it quietly.
    assert_eq!(h.layer.state(id), None);
}

#[test]
fn generated_ack_carries_the_to_tag_and_the_invite_branch() {
    let mut layer = TransactionLayer::new(TimerConfig::default());
    let invite = request("INVITE", "z9hG4bKa", Transport::Udp);
    layer.send_request(ms(0), invite.clone(), peer(), Transport::Udp).unwrap();
    layer.poll_transmit();
    layer.receive(ms(10), Message::Response(response(&invite, 404)), peer(), Transport::Udp).unwrap();
    let ack = match layer.poll_transmit().map(|t| t.message) {
        Some(Message::Request(ack)) => ack,
        other => panic!("expected an ACK, got {other:?}"),
    };
    assert_eq!(ack.method, Method::Ack);
    assert_eq!(ack.branch().as_deref(), Some("z9hG4bKa"));
    assert_eq!(ack.to_tag().as_deref(), Some("b2"));
    assert_eq!(ack.cseq().unwrap().method, Method::Ack);
}

#[test]
fn invite_client_over_tcp_has_no_timer_d() {
    let mut h = Harness::new();
    let invite = request("INVITE", "z9hG4bKa", Transport::Tcp);
    let id = h.send(0, invite.clone(), Transport::Tcp);
    h.receive(300, response(&invite, 603), Transport::Tcp);
    h.check(&["0.000 > INVITE", "0.300 > ACK", "0.300 response t1 603"]);
    assert_eq!(h.layer.state(id), None);
}

#[test]
fn invite_client_passes_up_2xx_retransmissions_until_timer_m() {
    let mut h = Harness::new();
    let invite = request("INVITE", "z9hG4bKa", Transport::Udp);
    let id = h.send(0, invite.clone(), Transport::Udp);
    h.receive(100, response(&invite, 200), Transport::Udp);
    assert_eq!(h.layer.state(id), Some(TransactionState::Accepted));
    h.receive(600, response(&invite, 200), Transport::Udp);
    h.receive(700, response(&invite, 486), Transport::Udp);
    // Timer M: 64*T1 after the first 2xx.
    h.run_until(32_099);
    assert_eq!(h.layer.state(id), Some(TransactionState::Accepted));
    h.run_until(32_100);
    assert_eq!(h.layer.state(id), None);
    h.receive(40_000, response(&invite, 200), Transport::Udp);
    h.check(&["0.000 > INVITE", "0.100 response t1 200", "0.600 response t1 200", "40.000 stray 200"]);
}

#[test]
fn invite_server_sends_100_trying_when_the_tu_is_silent_for_200_ms() {
    let mut h = Harness::new();
    h.receive(0, request("INVITE", "z9hG4bKs", Transport::Udp), Transport::Udp);
    assert_eq!(h.layer.poll_timeout(), Some(ms(200)));
    h.run_until(1_000);
    // A retransmitted INVITE gets the 100 again.
    h.receive(1_000, request("INVITE", "z9hG4bKs", Transport::Udp), Transport::Udp);
    h.check(&["0.000 new t1 INVITE", "0.200 > 100 INVITE", "1.000 > 100 INVITE"]);
    assert_eq!(h.layer.poll_timeout(), None);
}

#[test]
fn invite_server_sends_no_100_trying_when_the_tu_answers_first() {
    let mut h = Harness::new();
    let invite = request("INVITE", "z9hG4bKs", Transport::Udp);
    h.receive(0, invite.clone(), Transport::Udp);
    let id = h.new[0];
    h.respond(150, id, response(&invite, 180));
    h.run_until(1_000);
    h.check(&["0.000 new t1 INVITE", "0.150 > 180 INVITE"]);
}

#[test]
fn invite_server_retransmits_its_final_response_when_the_invite_is_retransmitted() {
    let mut h = Harness::new();
    let invite = request("INVITE", "z9hG4bKs", Transport::Udp);
    h.receive(0, invite.clone(), Transport::Udp);
    let id = h.new[0];
    h.respond(50, id, response(&invite, 180));
    h.receive(400, invite.clone(), Transport::Udp);
    h.respond(1_000, id, response(&invite, 486));
    h.receive(1_200, invite.clone(), Transport::Udp);
    h.check(&[
        "0.000 new t1 INVITE",
        "0.050 > 180 INVITE",
        "0.400 > 180 INVITE",
        "1.000 > 486 INVITE",
        "1.200 > 486 INVITE",
    ]);
    assert_eq!(h.layer.state(id), Some(TransactionState::Completed));
}

#[test]
fn invite_server_absorbs_the_ack_for_a_non_2xx_then_timer_i_ends_it() {
    let mut h = Harness::new();
    let invite = request("INVITE", "z9hG4bKs", Transport::Udp);
    h.receive(0, invite.clone(), Transport::Udp);
    let id = h.new[0];
    h.respond(100, id, response(&invite, 486));
    h.run_until(4_000);
    let ack = Request::ack_for(&invite, &response(&invite, 486)).unwrap();
    h.receive(4_000, ack.clone(), Transport::Udp);
    assert_eq!(h.layer.state(id), Some(TransactionState::Confirmed));
    // A retransmitted ACK and INVITE are absorbed while Confirmed.
    h.receive(4_100, ack, Transport::Udp);
    h.receive(4_200, invite, Transport::Udp);
    h.run_until(8_999);
    assert_eq!(h.layer.state(id), Some(TransactionState::Confirmed));
    h.run_until(9_000);
    assert_eq!(h.layer.state(id), None);
    // Timer G: T1, 2*T1, 4*T1 after the 486, until the ACK.
    h.check(&[
        "0.000 new t1 INVITE",
        "0.100 > 486 INVITE",
        "0.600 > 486 INVITE",
        "1.600 > 486 INVITE",
        "3.600 > 486 INVITE",
    ]);
}

#[test]
fn invite_server_reports_timer_h_when_no_ack_comes() {
    let mut h = Harness::new();
    let invite = request("INVITE", "z9hG4bKs", Transport::Udp);
    h.receive(0, invite.clone(), Transport::Udp);
    let id = h.new[0];
    h.respond(0, id, response(&invite, 500));
    h.run_until(100_000);
    h.check(&[
        "0.000 new t1 INVITE",
        "0.000 > 500 INVITE",
        "0.500 > 500 INVITE",
        "1.500 > 500 INVITE",
        "3.500 > 500 INVITE",
        "7.500 > 500 INVITE",
        "11.500 > 500 INVITE",
        "15.500 > 500 INVITE",
        "19.500 > 500 INVITE",
        "23.500 > 500 INVITE",
        "27.500 > 500 INVITE",
        "31.500 > 500 INVITE",
        "32.000 timeout t1",
    ]);
}

#[test]
fn invite_server_over_tcp_reports_timer_h_without_retransmitting() {
    let mut h = Harness::new();
    let invite = request("INVITE", "z9hG4bKs", Transport::Tcp);
    h.receive(0, invite.clone(), Transport::Tcp);
    h.respond(10, h.new[0], response(&invite, 404));
    h.run_until(100_000);
    h.check(&["0.000 new t1 INVITE", "0.010 > 404 INVITE", "32.010 timeout t1"]);
}

#[test]
fn ack_for_a_2xx_is_passed_up_and_invite_retransmissions_are_absorbed_until_timer_l() {
    let mut h = Harness::new();
    let invite = request("INVITE", "z9hG4bKs", Transport::Udp);
    h.receive(0, invite.clone(), Transport::Udp);
    let id = h.new[0];
    h.respond(100, id, response(&invite, 200));
    assert_eq!(h.layer.state(id), Some(TransactionState::Accepted));
    // The TU retransmits its 2xx itself (RFC 6026); the transaction lets it through.
    h.respond(600, id, response(&invite, 200));
    assert!(matches!(
        h.layer.send_response(ms(700), id, response(&invite, 486)),
        Err(TransactionError::InvalidResponse { state: TransactionState::Accepted, .. })
    ));
    h.receive(650, invite.clone(), Transport::Udp);
    h.receive(800, request_with_cseq("ACK", "z9hG4bKack2xx", "ACK", Transport::Udp), Transport::Udp);
    // Timer L: 64*T1 after the first 2xx.
    h.run_until(32_099);
    assert_eq!(h.layer.state(id), Some(TransactionState::Accepted));
    h.run_until(32_100);
    h.check(&["0.000 new t1 INVITE", "0.100 > 200 INVITE", "0.600 > 200 INVITE", "0.800 ack z9hG4bKack2xx"]);
    assert!(h.layer.is_empty());
}

#[test]
fn cancel_gets_its_own_server_transaction_and_names_the_invite() {
    let mut h = Harness::new();
    let invite = request("INVITE", "z9hG4bKs", Transport::Udp);
    h.receive(0, invite.clone(), Transport::Udp);
    let cancel = Request::cancel_for(&invite).unwrap();
    h.receive(100, cancel.clone(), Transport::Udp);
    let (invite_id, cancel_id) = (h.new[0], h.new[1]);
    h.respond(110, cancel_id, response(&cancel, 200));
    h.respond(120, invite_id, response(&invite, 487));
    // A retransmitted CANCEL gets the 200 again.
    h.receive(130, cancel, Transport::Udp);
    h.check(&[
        "0.000 new t1 INVITE",
        "0.100 new t2 CANCEL cancels t1",
        "0.110 > 200 CANCEL",
        "0.120 > 487 INVITE",
        "0.130 > 200 CANCEL",
    ]);
}

#[test]
fn cancel_sent_by_the_client_is_matched_to_its_own_transaction() {
    let mut h = Harness::new();
    let invite = request("INVITE", "z9hG4bKa", Transport::Tcp);
    let invite_id = h.send(0, invite.clone(), Transport::Tcp);
    h.receive(50, response(&invite, 180), Transport::Tcp);
    let cancel = Request::cancel_for(&invite).unwrap();
    let cancel_id = h.send(100, cancel.clone(), Transport::Tcp);
    assert_ne!(invite_id, cancel_id);
    h.receive(150, response(&cancel, 200), Transport::Tcp);
    h.receive(160, response(&invite, 487), Transport::Tcp);
    h.check(&[
        "0.000 > INVITE",
        "0.050 response t1 180",
        "0.100 > CANCEL",
        "0.150 response t2 200",
        "0.160 > ACK",
        "0.160 response t1 487",
    ]);
}

#[test]
fn non_invite_server_absorbs_retransmissions_and_replays_its_response_until_timer_j() {
    let mut h = Harness::new();
    let options = request("OPTIONS", "z9hG4bKo", Transport::Udp);
    h.receive(0, options.clone(), Transport::Udp);
    let id = h.new[0];
    // Trying: nothing sent yet, so the retransmission is absorbed.
    h.receive(500, options.clone(), Transport::Udp);
    h.respond(600, id, response(&options, 200));
    h.receive(1_500, options.clone(), Transport::Udp);
    h.run_until(32_599);
    assert_eq!(h.layer.state(id), Some(TransactionState::Completed));
    h.run_until(32_600);
    h.check(&["0.000 new t1 OPTIONS", "0.600 > 200 OPTIONS", "1.500 > 200 OPTIONS"]);
    assert_eq!(h.layer.state(id), None);
    // After Timer J, the same request is a new transaction.
    h.receive(40_000, options, Transport::Udp);
    h.check(&["40.000 new t2 OPTIONS"]);
}

#[test]
fn stray_responses_are_reported() {
    let mut h = Harness::new();
    let bye = request("BYE", "z9hG4bKnobody", Transport::Udp);
    h.receive(0, response(&bye, 200), Transport::Udp);
    h.check(&["0.000 stray 200"]);
}

#[test]
fn inputs_the_layer_cannot_use_are_refused() {
    let mut layer = TransactionLayer::new(TimerConfig::default());
    let ack = request("ACK", "z9hG4bKa", Transport::Udp);
    assert_eq!(layer.send_request(ms(0), ack, peer(), Transport::Udp), Err(TransactionError::AckRequest));
    let invite = request("INVITE", "z9hG4bKa", Transport::Udp);
    let id = layer.send_request(ms(0), invite.clone(), peer(), Transport::Udp).unwrap();
    assert!(matches!(
        layer.send_request(ms(1), invite.clone(), peer(), Transport::Udp),
        Err(TransactionError::DuplicateBranch(_))
    ));
    assert_eq!(layer.send_response(ms(2), id, response(&invite, 200)), Err(TransactionError::NotServer(id)));
    let mut no_branch = request("OPTIONS", "x", Transport::Udp);
    no_branch.headers.set("Via", "SIP/2.0/UDP 192.0.2.7:5060").unwrap();
    assert_eq!(
        layer.receive(ms(3), Message::Request(no_branch), peer(), Transport::Udp),
        Err(TransactionError::MissingBranch)
    );
    let mut h = Harness::new();
    h.receive(0, invite.clone(), Transport::Udp);
    let server = h.new[0];
    h.respond(1, server, response(&invite, 404));
    let second = h.layer.send_response(ms(2), server, response(&invite, 200));
    assert!(matches!(second, Err(TransactionError::InvalidResponse { state: TransactionState::Completed, .. })));
}

#[test]
fn time_going_backwards_is_treated_as_the_latest_time() {
    let mut h = Harness::new();
    h.send(10_000, request("OPTIONS", "z9hG4bKo", Transport::Udp), Transport::Udp);
    h.layer.handle_timeout(ms(5));
    h.drain(5);
    assert_eq!(h.layer.poll_timeout(), Some(ms(10_500)));
    h.check(&["10.000 > OPTIONS"]);
}

/// One input of the property test.
#[derive(Debug, Clone)]
enum Op {
    Send { method: usize, branch: u8, reliable: bool },
    ReceiveRequest { method: usize, branch: u8, reliable: bool },
    ReceiveResponse { method: usize, branch: u8, code: u16 },
    Respond { which: u8, code: u16 },
    Wait { ms: u64 },
    Backwards { ms: u64 },
}

const METHODS: [&str; 4] = ["INVITE", "ACK", "CANCEL", "OPTIONS"];

fn op() -> impl Strategy<Value = Op> {
    let code = prop::sample::select(vec![100u16, 180, 183, 200, 202, 302, 404, 486, 487, 500, 603]);
    prop_oneof![
        (0..4usize, 0..4u8, any::<bool>()).prop_map(|(method, branch, reliable)| Op::Send { method, branch, reliable }),
        (0..4usize, 0..4u8, any::<bool>()).prop_map(|(method, branch, reliable)| Op::ReceiveRequest {
            method,
            branch,
            reliable
        }),
        (0..4usize, 0..4u8, code.clone()).prop_map(|(method, branch, code)| Op::ReceiveResponse {
            method,
            branch,
            code
        }),
        (0..8u8, code).prop_map(|(which, code)| Op::Respond { which, code }),
        (0..40_000u64).prop_map(|ms| Op::Wait { ms }),
        (0..1_000u64).prop_map(|ms| Op::Backwards { ms }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Random inputs never panic, and the next timeout is always after the latest `now`.
    #[test]
    fn random_inputs_never_panic_and_timeouts_stay_ahead(ops in prop::collection::vec(op(), 1..60)) {
        let mut layer = TransactionLayer::new(TimerConfig::default());
        let mut now = 0u64;
        let mut latest = 0u64;
        let mut servers = Vec::new();
        let mut clients = Vec::new();
        for op in ops {
            match op {
                Op::Send { method, branch, reliable } => {
                    let transport = if reliable { Transport::Tcp } else { Transport::Udp };
                    let r = request(METHODS[method], &format!("z9hG4bK{branch}"), transport);
                    if let Ok(id) = layer.send_request(ms(now), r, peer(), transport) {
                        clients.push(id);
                    }
                }
                Op::ReceiveRequest { method, branch, reliable } => {
                    let transport = if reliable { Transport::Tcp } else { Transport::Udp };
                    let r = request(METHODS[method], &format!("z9hG4bK{branch}"), transport);
                    layer.receive(ms(now), Message::Request(r), peer(), transport).unwrap();
                }
                Op::ReceiveResponse { method, branch, code } => {
                    let r = request(METHODS[method], &format!("z9hG4bK{branch}"), Transport::Udp);
                    let message = Message::Response(response(&r, code));
                    layer.receive(ms(now), message, peer(), Transport::Udp).unwrap();
                }
                Op::Respond { which, code } => {
                    if let Some((id, r)) = servers.get(usize::from(which) % servers.len().max(1)).cloned() {
                        let _ = layer.send_response(ms(now), id, response(&r, code));
                    }
                }
                Op::Wait { ms: wait } => {
                    now += wait;
                    layer.handle_timeout(ms(now));
                }
                Op::Backwards { ms: back } => {
                    now = now.saturating_sub(back);
                    layer.handle_timeout(ms(now));
                }
            }
            latest = latest.max(now);
            while layer.poll_transmit().is_some() {}
            while let Some(event) = layer.poll_event() {
                if let TransactionEvent::NewRequest { id, request, .. } = event {
                    servers.push((id, request));
                }
            }
            if let Some(next) = layer.poll_timeout() {
                prop_assert!(next.as_millis() > latest, "timeout {next} is not after {latest}");
            }
        }
        // Once the TU has answered every server transaction, every transaction ends within
        // 64*T1 plus T4, except INVITE clients that got a provisional response: they wait
        // for the TU to CANCEL (RFC 3261 section 17.1.1.2 has no timer in Proceeding).
        for (id, r) in &servers {
            let _ = layer.send_response(ms(latest), *id, response(r, 500));
        }
        layer.handle_timeout(ms(latest + 40_000));
        for (id, _) in &servers {
            prop_assert_eq!(layer.state(*id), None);
        }
        let live = clients.iter().filter(|id| layer.state(**id).is_some()).count();
        prop_assert_eq!(live, layer.len());
        for id in &clients {
            let state = layer.state(*id);
            prop_assert!(state.is_none() || state == Some(TransactionState::Proceeding), "{id} is {state:?}");
        }
    }
}

#[test]
fn non_invite_client_over_tcp_never_retransmits_and_times_out_with_timer_f() {
    let mut h = Harness::new();
    h.send(0, request("REGISTER", "z9hG4bKr", Transport::Tcp), Transport::Tcp);
    h.run_until(100_000);
    h.check(&["0.000 > REGISTER", "32.000 timeout t1"]);
}

#[test]
fn non_invite_server_over_tcp_terminates_on_its_final_response() {
    let mut h = Harness::new();
    let bye = request("BYE", "z9hG4bKb", Transport::Tcp);
    h.receive(0, bye.clone(), Transport::Tcp);
    let id = h.new[0];
    h.respond(10, id, response(&bye, 200));
    assert_eq!(h.layer.state(id), None);
    assert_eq!(h.layer.poll_timeout(), None);
    h.check(&["0.000 new t1 BYE", "0.010 > 200 BYE"]);
}

#[test]
fn invite_server_over_tcp_ends_at_the_ack_without_timer_i() {
    let mut h = Harness::new();
    let invite = request("INVITE", "z9hG4bKs", Transport::Tcp);
    h.receive(0, invite.clone(), Transport::Tcp);
    let id = h.new[0];
    h.respond(10, id, response(&invite, 480));
    h.receive(20, Request::ack_for(&invite, &response(&invite, 480)).unwrap(), Transport::Tcp);
    assert_eq!(h.layer.state(id), None);
    h.check(&["0.000 new t1 INVITE", "0.010 > 480 INVITE"]);
}

#[test]
fn configured_timers_scale_the_schedules() {
    let config = TimerConfig {
        t1: std::time::Duration::from_millis(100),
        t2: std::time::Duration::from_millis(300),
        t4: std::time::Duration::from_secs(1),
    };
    let mut h = Harness::new();
    h.layer = TransactionLayer::new(config);
    h.send(0, request("OPTIONS", "z9hG4bKo", Transport::Udp), Transport::Udp);
    h.run_until(10_000);
    let times: Vec<&str> = h.trace.iter().map(|l| l.split(' ').next().unwrap()).collect();
    assert_eq!(
        times,
        [
            "0.000", "0.100", "0.300", "0.600", "0.900", "1.200", "1.500", "1.800", "2.100", "2.400", "2.700", "3.000",
            "3.300", "3.600", "3.900", "4.200", "4.500", "4.800", "5.100", "5.400", "5.700", "6.000", "6.300", "6.400"
        ]
    );
    assert_eq!(h.trace.last().map(String::as_str), Some("6.400 timeout t1"));
}
