//! The calls of the endpoint under a virtual clock: a caller's INVITE to a number, the
//! prompt it hears (the RTP payload is the WAV's audio), a digit, the queue, the agent's
//! phone, the bridge, and each way a call ends.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use sb_media::{Law, PayloadType, RtpHeader, RtpPacket, Wav};
use sb_sip::Timestamp;
use sb_voice::{
    Command, Endpoint, EndpointConfig, Entry, LegId, PhoneAccount, Prompt, RecordingKind, RouteNotice, RouteRequest,
    Target, Trunk,
};

const CALLER: &str = "192.0.2.10:5060";
const CALLER_RTP: &str = "192.0.2.10:40000";
const PHONE: &str = "192.0.2.20:5062";
const PHONE_RTP: &str = "192.0.2.20:41000";

const FLOW: &str = "
flow: main
version: 1
start: welcome
nodes:
  welcome: {play: welcome.wav, next: menu}
  menu:
    menu: {prompt: menu.wav, timeout: 5s, retries: 0}
    options: {\"1\": phone, \"9\": message}
    no_input: bye
    no_match: bye
    fallback: bye
  phone: {queue: phone}
  message: {voicemail: {prompt: beep.wav, max_length: 5s}, next: bye}
  bye: {hangup: true}
";

fn addr(text: &str) -> SocketAddr {
    text.parse().unwrap()
}

/// 100 ms of a ramp, so that every packet's payload is different.
fn welcome() -> Vec<u8> {
    (0..800u32).map(|i| (i % 251) as u8).collect()
}

fn endpoint() -> Endpoint {
    endpoint_with(None)
}

/// 20 ms of one G.711 code, as a prompt.
fn beep(code: u8) -> Prompt {
    Prompt::new(&Wav::G711 { law: Law::MuLaw, samples: vec![code; 160] })
}

fn endpoint_with(announcements: Option<sb_voice::Announcements>) -> Endpoint {
    let (flow, _) = sb_flow::parse("main.yaml", FLOW, &sb_flow::KnownNames::default()).unwrap();
    let mut prompts = HashMap::new();
    prompts.insert("welcome.wav".to_owned(), Prompt::new(&Wav::G711 { law: Law::MuLaw, samples: welcome() }));
    prompts.insert("menu.wav".to_owned(), Prompt::new(&Wav::G711 { law: Law::MuLaw, samples: vec![0x55; 1600] }));
    prompts.insert("beep.wav".to_owned(), Prompt::new(&Wav::G711 { law: Law::MuLaw, samples: vec![0x66; 160] }));
    let entry = Entry {
        number: "5550100".into(),
        tenant: "acme".into(),
        target: Target::Flow { flow: Arc::new(flow), schedules: Arc::new(|_: &str, _: Timestamp| true) },
        prompts: Arc::new(prompts),
        music_on_hold: Some(Prompt::new(&Wav::G711 { law: Law::MuLaw, samples: vec![0x11; 480] })),
        record_calls: true,
        announcements,
        split: None,
    };
    let phones = vec![PhoneAccount {
        realm: "acme".into(),
        user: "1001".into(),
        agent: "alice".into(),
        password: "wonderland".into(),
    }];
    Endpoint::new(EndpointConfig {
        entries: vec![Arc::new(entry)],
        phones,
        local: addr("192.0.2.1:5060"),
        ..EndpointConfig::default()
    })
}

fn sdp(rtp: &str) -> String {
    let rtp = addr(rtp);
    format!(
        "v=0\r\no=- 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\nm=audio {port} RTP/AVP 0 101\r\n\
         a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n",
        ip = rtp.ip(),
        port = rtp.port()
    )
}

fn invite(number: &str) -> String {
    let body = sdp(CALLER_RTP);
    format!(
        "INVITE sip:{number}@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP {CALLER};branch=z9hG4bK-call-1\r\n\
         Max-Forwards: 70\r\nFrom: <sip:4930123@192.0.2.10>;tag=caller1\r\nTo: <sip:{number}@192.0.2.1>\r\n\
         Call-ID: call-1@192.0.2.10\r\nCSeq: 1 INVITE\r\nContact: <sip:4930123@{CALLER}>\r\n\
         Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// A request from the caller in its dialog, with our tag.
fn from_caller(method: &str, cseq: u32, tag: &str, branch: &str) -> String {
    format!(
        "{method} sip:switchboard@192.0.2.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP {CALLER};branch={branch}\r\n\
         Max-Forwards: 70\r\nFrom: <sip:4930123@192.0.2.10>;tag=caller1\r\nTo: <sip:5550100@192.0.2.1>;tag={tag}\r\n\
         Call-ID: call-1@192.0.2.10\r\nCSeq: {cseq} {method}\r\nContent-Length: 0\r\n\r\n"
    )
}

/// Everything the endpoint sends: SIP (as text, with the address) and RTP, and its commands.
#[derive(Default)]
struct Out {
    sip: Vec<(SocketAddr, String)>,
    rtp: Vec<(LegId, SocketAddr, Vec<u8>)>,
    commands: Vec<Command>,
}

fn drain(endpoint: &mut Endpoint) -> Out {
    let mut out = Out::default();
    while let Some(d) = endpoint.poll_transmit() {
        out.sip.push((d.to, String::from_utf8(d.bytes).unwrap()));
    }
    while let Some(r) = endpoint.poll_rtp() {
        out.rtp.push((r.leg, r.to, r.bytes));
    }
    while let Some(c) = endpoint.poll_command() {
        out.commands.push(c);
    }
    out
}

fn header<'a>(message: &'a str, name: &str) -> Option<&'a str> {
    message.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(": "))
}

fn first_lines(out: &Out) -> Vec<&str> {
    out.sip.iter().map(|(_, m)| m.lines().next().unwrap()).collect()
}

/// Runs the endpoint's timers from `from` to `to` milliseconds, as a driver would.
fn run(endpoint: &mut Endpoint, from: u64, to: u64) -> Out {
    let mut all = Out::default();
    let mut now = from;
    while let Some(at) = endpoint.poll_timeout() {
        let at = at.as_millis().max(now);
        if at > to {
            break;
        }
        now = at;
        endpoint.handle_timeout(Timestamp::from_millis(now));
        let out = drain(endpoint);
        all.sip.extend(out.sip);
        all.rtp.extend(out.rtp);
        all.commands.extend(out.commands);
    }
    all
}

fn opened(out: &Out) -> LegId {
    match out.commands.as_slice() {
        [Command::OpenMedia { leg }] => *leg,
        other => panic!("expected one OpenMedia, got {other:?}"),
    }
}

/// A DTMF digit as three RFC 4733 packets, the last one an end packet; each press has the
/// RTP timestamp of its time, as events are told apart by timestamp.
fn press(endpoint: &mut Endpoint, leg: LegId, at: u64, event: u8) {
    for (i, end) in [(0u16, false), (1, false), (2, true)] {
        let payload = [event, if end { 0x8a } else { 0x0a }, 0, (160 * (i + 1)) as u8];
        let packet = RtpHeader::new(PayloadType::new(101).unwrap(), 100 + i, (at * 8) as u32, 77).serialize(&payload);
        endpoint.handle_rtp(Timestamp::from_millis(at + u64::from(i) * 20), leg, &packet, addr(CALLER_RTP));
    }
}

/// Answers the caller and plays the welcome: returns the caller's leg and our To tag.
fn answered(endpoint: &mut Endpoint) -> (LegId, String, Out) {
    endpoint.handle_datagram(Timestamp::ZERO, invite("5550100").as_bytes(), addr(CALLER));
    let leg = opened(&drain(endpoint));
    endpoint.media_opened(Timestamp::ZERO, leg, addr("192.0.2.1:30000"));
    let out = drain(endpoint);
    assert_eq!(first_lines(&out), ["SIP/2.0 200 OK"]);
    let ok = &out.sip[0].1;
    assert_eq!(out.sip[0].0, addr(CALLER));
    assert!(ok.contains("\r\nContent-Type: application/sdp\r\n"), "{ok}");
    assert!(ok.contains("m=audio 30000 RTP/AVP 0 101\r\n"), "{ok}");
    assert!(ok.contains("c=IN IP4 192.0.2.1\r\n"), "{ok}");
    let to = header(ok, "To").unwrap();
    let tag = to.split(";tag=").nth(1).unwrap().to_owned();
    let ack = from_caller("ACK", 1, &tag, "z9hG4bK-ack-1");
    endpoint.handle_datagram(Timestamp::from_millis(5), ack.as_bytes(), addr(CALLER));
    (leg, tag, out)
}

#[test]
fn the_caller_hears_the_prompt_as_it_is_in_the_wav() {
    let mut endpoint = endpoint();
    let (leg, _, first) = answered(&mut endpoint);
    let mut out = run(&mut endpoint, 5, 200);
    out.rtp.splice(0..0, first.rtp);
    // 100 ms of welcome = 5 packets of 160 samples, to the caller's SDP address, then the menu.
    let welcome_packets: Vec<_> = out.rtp.iter().take(5).collect();
    let mut heard = Vec::new();
    for (i, (l, to, bytes)) in welcome_packets.iter().enumerate() {
        assert_eq!((*l, *to), (leg, addr(CALLER_RTP)));
        let packet = RtpPacket::parse(bytes).unwrap();
        assert_eq!(packet.header.payload_type, PayloadType::PCMU);
        assert_eq!(packet.header.marker, i == 0);
        heard.extend_from_slice(packet.payload);
    }
    assert_eq!(heard, welcome());
    let menu = RtpPacket::parse(&out.rtp[5].2).unwrap();
    assert_eq!(menu.payload, &[0x55; 160][..]);
    // The streams are one: same SSRC, consecutive sequence numbers.
    let first = RtpPacket::parse(&out.rtp[0].2).unwrap().header;
    assert_eq!(menu.header.ssrc, first.ssrc);
    assert_eq!(menu.header.sequence, first.sequence.wrapping_add(5));
}

#[test]
fn a_digit_queues_the_call_the_phone_rings_and_answers_and_a_hangup_completes_it() {
    let mut endpoint = endpoint();
    // Phone 1001 registers (digest: challenged, then answered).
    register(&mut endpoint);
    let (leg, tag, _) = answered(&mut endpoint);
    run(&mut endpoint, 5, 300);
    press(&mut endpoint, leg, 300, 1);
    let out = drain(&mut endpoint);
    let enqueue = out.commands.iter().find_map(|c| match c {
        Command::Route { tenant, request: RouteRequest::Enqueue { call, queue, .. } } => Some((tenant, *call, queue)),
        _ => None,
    });
    let (tenant, call, queue) = enqueue.expect("the digit sent the call to the queue");
    assert_eq!((&**tenant, queue.as_str()), ("acme", "phone"));
    // Music on hold while waiting.
    let held = run(&mut endpoint, 340, 400);
    assert!(held.rtp.iter().any(|(_, _, b)| RtpPacket::parse(b).unwrap().payload == [0x11; 160]));
    endpoint.handle_route(Timestamp::from_millis(400), RouteNotice::Queued { call, interaction: 7 });
    endpoint.handle_route(Timestamp::from_millis(400), RouteNotice::Offered { interaction: 7, agent: "alice".into() });
    let agent_leg = opened(&drain(&mut endpoint));
    endpoint.media_opened(Timestamp::from_millis(400), agent_leg, addr("192.0.2.1:30002"));
    let out = drain(&mut endpoint);
    assert_eq!(first_lines(&out), ["INVITE sip:1001@192.0.2.20:5062 SIP/2.0"]);
    let (to, invite) = &out.sip[0];
    assert_eq!(*to, addr(PHONE), "the phone is reached where it registered from");
    assert!(invite.contains("m=audio 30002 RTP/AVP 0 101\r\n"), "{invite}");
    assert!(header(invite, "From").unwrap().starts_with("<sip:4930123@"), "{invite}");
    // The phone answers.
    let ok = answer_from_phone(invite);
    endpoint.handle_datagram(Timestamp::from_millis(450), ok.as_bytes(), addr(PHONE));
    let out = drain(&mut endpoint);
    assert_eq!(first_lines(&out), ["ACK sip:1001@192.0.2.20:5062 SIP/2.0"]);
    assert!(out.commands.contains(&Command::Route {
        tenant: "acme".into(),
        request: RouteRequest::Accept { interaction: 7, agent: "alice".into() }
    }));
    // Audio is relayed both ways, each leg's stream continuing.
    let voice = RtpHeader::new(PayloadType::PCMU, 1, 0, 0xCA11).serialize(&[0x42; 160]);
    endpoint.handle_rtp(Timestamp::from_millis(920), leg, &voice, addr(CALLER_RTP));
    let relayed = drain(&mut endpoint).rtp;
    assert_eq!(relayed.len(), 1);
    assert_eq!((relayed[0].0, relayed[0].1), (agent_leg, addr(PHONE_RTP)));
    assert_eq!(RtpPacket::parse(&relayed[0].2).unwrap().payload, &[0x42; 160][..]);
    let back = RtpHeader::new(PayloadType::PCMU, 9, 0, 0xA6E7).serialize(&[0x24; 160]);
    endpoint.handle_rtp(Timestamp::from_millis(925), agent_leg, &back, addr(PHONE_RTP));
    let relayed = drain(&mut endpoint).rtp;
    assert_eq!((relayed[0].0, relayed[0].1), (leg, addr(CALLER_RTP)));
    // The caller hangs up: 200, BYE to the phone, the interaction completed.
    let bye = from_caller("BYE", 2, &tag, "z9hG4bK-bye-1");
    endpoint.handle_datagram(Timestamp::from_millis(2000), bye.as_bytes(), addr(CALLER));
    let out = drain(&mut endpoint);
    assert_eq!(first_lines(&out), ["SIP/2.0 200 OK", "BYE sip:1001@192.0.2.20:5062 SIP/2.0"]);
    assert!(out.commands.contains(&Command::Route {
        tenant: "acme".into(),
        request: RouteRequest::Complete { interaction: 7, agent: "alice".into() }
    }));
    assert!(out.commands.contains(&Command::CloseMedia { leg }));
    assert!(out.commands.contains(&Command::CloseMedia { leg: agent_leg }));
    assert_eq!(endpoint.calls(), 0);
    // The conversation was recorded: the caller on the left, the agent on the right.
    let wav = out
        .commands
        .iter()
        .find_map(|c| match c {
            Command::SaveRecording { kind: RecordingKind::Conversation, interaction: Some(7), wav, .. } => Some(wav),
            _ => None,
        })
        .expect("a recording of the conversation");
    let (left, right) = stereo(wav);
    let decoded = |code: u8| Law::MuLaw.decode(code);
    assert!(left.contains(&decoded(0x42)) && !left.contains(&decoded(0x24)), "the caller is on the left");
    assert!(right.contains(&decoded(0x24)) && !right.contains(&decoded(0x42)), "the agent is on the right");
}

/// The two channels of a stereo 16-bit WAV file.
fn stereo(wav: &[u8]) -> (Vec<i16>, Vec<i16>) {
    assert_eq!(u16::from_le_bytes([wav[22], wav[23]]), 2, "two channels");
    wav[44..].chunks(4).map(|f| (i16::from_le_bytes([f[0], f[1]]), i16::from_le_bytes([f[2], f[3]]))).unzip()
}

#[test]
fn a_voicemail_records_the_caller_until_the_hash_key() {
    let mut endpoint = endpoint();
    let (leg, _, _) = answered(&mut endpoint);
    run(&mut endpoint, 5, 300);
    press(&mut endpoint, leg, 300, 9);
    // The beep (20 ms), then the caller speaks for 200 ms and presses #.
    run(&mut endpoint, 360, 400);
    for i in 0..10u16 {
        let voice = RtpHeader::new(PayloadType::PCMU, 200 + i, 160 * u32::from(i), 77).serialize(&[0x33; 160]);
        endpoint.handle_rtp(Timestamp::from_millis(400 + u64::from(i) * 20), leg, &voice, addr(CALLER_RTP));
    }
    press(&mut endpoint, leg, 600, 11);
    let out = drain(&mut endpoint);
    let (wav, attributes) = out
        .commands
        .iter()
        .find_map(|c| match c {
            Command::SaveRecording { kind: RecordingKind::Voicemail, wav, attributes, .. } => Some((wav, attributes)),
            _ => None,
        })
        .expect("the voicemail is kept");
    let message = Wav::parse(wav).unwrap();
    assert_eq!(message.len(), 1600, "200 ms of the caller");
    assert_eq!(message.to_g711(Law::MuLaw), vec![0x33; 1600]);
    assert!(attributes.is_empty(), "the flow set no variables: {attributes:?}");
    // The flow went on to its hangup: a BYE to the caller.
    assert!(first_lines(&out).contains(&"BYE sip:4930123@192.0.2.10:5060 SIP/2.0"), "{:?}", first_lines(&out));
}

#[test]
fn an_offer_that_runs_out_cancels_the_ringing_phone_and_a_hangup_in_queue_is_an_abandon() {
    let mut endpoint = endpoint();
    register(&mut endpoint);
    let (leg, tag, _) = answered(&mut endpoint);
    run(&mut endpoint, 5, 300);
    press(&mut endpoint, leg, 300, 1);
    let call = drain(&mut endpoint)
        .commands
        .iter()
        .find_map(|c| match c {
            Command::Route { request: RouteRequest::Enqueue { call, .. }, .. } => Some(*call),
            _ => None,
        })
        .unwrap();
    endpoint.handle_route(Timestamp::from_millis(400), RouteNotice::Queued { call, interaction: 8 });
    endpoint.handle_route(Timestamp::from_millis(400), RouteNotice::Offered { interaction: 8, agent: "alice".into() });
    let agent_leg = opened(&drain(&mut endpoint));
    endpoint.media_opened(Timestamp::from_millis(400), agent_leg, addr("192.0.2.1:30002"));
    let invite = drain(&mut endpoint).sip.remove(0).1;
    let ringing = answer_from_phone(&invite).replace("SIP/2.0 200 OK", "SIP/2.0 180 Ringing");
    endpoint.handle_datagram(Timestamp::from_millis(450), ringing.as_bytes(), addr(PHONE));
    // The engine withdraws the offer: CANCEL; the phone's 487 ends its leg.
    endpoint.handle_route(
        Timestamp::from_millis(10_400),
        RouteNotice::OfferEnded { interaction: 8, agent: "alice".into() },
    );
    let out = drain(&mut endpoint);
    assert_eq!(first_lines(&out), ["CANCEL sip:1001@192.0.2.20:5062 SIP/2.0"]);
    let terminated = answer_from_phone(&invite).replace("SIP/2.0 200 OK", "SIP/2.0 487 Request Terminated");
    endpoint.handle_datagram(Timestamp::from_millis(10_450), terminated.as_bytes(), addr(PHONE));
    let out = drain(&mut endpoint);
    assert!(out.commands.contains(&Command::CloseMedia { leg: agent_leg }), "{:?}", out.commands);
    // The caller gives up while waiting: an abandon.
    let bye = from_caller("BYE", 2, &tag, "z9hG4bK-bye-2");
    endpoint.handle_datagram(Timestamp::from_millis(12_000), bye.as_bytes(), addr(CALLER));
    let out = drain(&mut endpoint);
    assert!(
        out.commands
            .contains(&Command::Route { tenant: "acme".into(), request: RouteRequest::Abandon { interaction: 8 } })
    );
    assert_eq!(endpoint.calls(), 0);
}

#[test]
fn refusals_unknown_numbers_missing_sdp_and_cancel_before_the_answer() {
    let mut endpoint = endpoint();
    endpoint.handle_datagram(Timestamp::ZERO, invite("5550199").as_bytes(), addr(CALLER));
    let out = drain(&mut endpoint);
    assert_eq!(first_lines(&out), ["SIP/2.0 404 Not Found"]);
    assert_eq!(header(&out.sip[0].1, "Warning"), Some("399 switchboard \"no number \\\"5550199\\\" here\""));

    let mut endpoint = self::endpoint();
    let no_sdp = (invite("5550100").split("\r\n\r\n").next().unwrap().to_owned() + "\r\n\r\n")
        .replace(&format!("Content-Length: {}", sdp(CALLER_RTP).len()), "Content-Length: 0");
    endpoint.handle_datagram(Timestamp::ZERO, no_sdp.as_bytes(), addr(CALLER));
    let out = drain(&mut endpoint);
    assert_eq!(first_lines(&out), ["SIP/2.0 488 Not Acceptable Here"]);
    assert!(header(&out.sip[0].1, "Warning").unwrap().contains("an SDP offer is required"));

    // A CANCEL that arrives before the media leg is open ends the call with 487.
    let mut endpoint = self::endpoint();
    endpoint.handle_datagram(Timestamp::ZERO, invite("5550100").as_bytes(), addr(CALLER));
    let leg = opened(&drain(&mut endpoint));
    let cancel = without_body(&invite("5550100")).replace("INVITE", "CANCEL");
    endpoint.handle_datagram(Timestamp::from_millis(10), cancel.as_bytes(), addr(CALLER));
    let out = drain(&mut endpoint);
    assert_eq!(first_lines(&out), ["SIP/2.0 200 OK", "SIP/2.0 487 Request Terminated"]);
    assert!(out.commands.contains(&Command::CloseMedia { leg }));
    assert_eq!(endpoint.calls(), 0);
}

/// The request without its body.
fn without_body(request: &str) -> String {
    let head = request.split("\r\n\r\n").next().unwrap();
    let length = format!("Content-Length: {}", sdp(CALLER_RTP).len());
    format!("{}\r\n\r\n", head.replace(&length, "Content-Length: 0"))
}

/// Phone 1001 registers from PHONE with the right password.
fn register(endpoint: &mut Endpoint) {
    let register = |cseq: u32, auth: &str| {
        format!(
            "REGISTER sip:192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP {PHONE};branch=z9hG4bK-reg-{cseq}\r\n\
             Max-Forwards: 70\r\nFrom: <sip:1001@192.0.2.1>;tag=p1\r\nTo: <sip:1001@192.0.2.1>\r\n\
             Call-ID: reg@192.0.2.20\r\nCSeq: {cseq} REGISTER\r\nContact: <sip:1001@{PHONE}>\r\n{auth}\
             Expires: 600\r\nContent-Length: 0\r\n\r\n"
        )
    };
    endpoint.handle_datagram(Timestamp::ZERO, register(1, "").as_bytes(), addr(PHONE));
    let challenge = drain(endpoint).sip.remove(0).1;
    let www = header(&challenge, "WWW-Authenticate").unwrap();
    let nonce = www.split("nonce=\"").nth(1).unwrap().split('"').next().unwrap();
    let fields = |response: &str| {
        format!(
            "Digest username=\"1001\", realm=\"acme\", nonce=\"{nonce}\", uri=\"sip:192.0.2.1\", \
             response=\"{response}\", algorithm=MD5"
        )
    };
    let credentials = sb_voice::digest::Credentials::parse(&fields("0")).unwrap();
    let ha1 = sb_voice::digest::ha1("1001", "acme", "wonderland");
    let auth = format!("Authorization: {}\r\n", fields(&credentials.expected_response(&ha1, "REGISTER")));
    endpoint.handle_datagram(Timestamp::ZERO, register(2, &auth).as_bytes(), addr(PHONE));
    assert_eq!(first_lines(&drain(endpoint)), ["SIP/2.0 200 OK"]);
}

/// The phone's 200 OK (with its SDP) for our INVITE.
fn answer_from_phone(invite: &str) -> String {
    let body = sdp(PHONE_RTP);
    let copy = |name: &str| format!("{name}: {}\r\n", header(invite, name).unwrap());
    let to = header(invite, "To").unwrap();
    format!(
        "SIP/2.0 200 OK\r\n{}{}To: {to};tag=phone1\r\n{}{}Contact: <sip:1001@{PHONE}>\r\n\
         Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{body}",
        copy("Via"),
        copy("From"),
        copy("Call-ID"),
        copy("CSeq"),
        body.len()
    )
}

const TRUNK: &str = "192.0.2.50:5060";
const TRUNK_RTP: &str = "192.0.2.50:42000";

/// An endpoint whose number 5550200 goes straight to the trunk `legacy`, which wants
/// credentials.
fn forwarding() -> Endpoint {
    let trunk = Trunk {
        id: "legacy".into(),
        address: addr(TRUNK),
        host: "192.0.2.50".into(),
        credentials: Some(("sb".into(), "s3cret".into())),
    };
    let entry = Entry {
        number: "5550200".into(),
        tenant: "acme".into(),
        target: Target::Trunk(Arc::new(trunk)),
        prompts: Arc::new(HashMap::new()),
        music_on_hold: None,
        record_calls: false,
        announcements: None,
        split: None,
    };
    Endpoint::new(EndpointConfig {
        entries: vec![Arc::new(entry)],
        local: addr("192.0.2.1:5060"),
        ..EndpointConfig::default()
    })
}

/// The trunk's answer to `invite` with `status`, its own tag and, for a 2xx, its SDP.
fn from_trunk(invite: &str, status: &str, extra: &str) -> String {
    let body = if status.starts_with("200") { sdp(TRUNK_RTP) } else { String::new() };
    let kind = if body.is_empty() { "" } else { "Content-Type: application/sdp\r\n" };
    let copy = |name: &str| format!("{name}: {}\r\n", header(invite, name).unwrap());
    let to = header(invite, "To").unwrap();
    format!(
        "SIP/2.0 {status}\r\n{}{}To: {to};tag=pbx1\r\n{}{}Contact: <sip:5550200@{TRUNK}>\r\n{extra}{kind}\
         Content-Length: {}\r\n\r\n{body}",
        copy("Via"),
        copy("From"),
        copy("Call-ID"),
        copy("CSeq"),
        body.len()
    )
}

#[test]
fn a_forwarded_number_reaches_the_trunk_with_credentials_and_is_answered_when_the_trunk_answers() {
    let mut endpoint = forwarding();
    endpoint.handle_datagram(Timestamp::ZERO, invite("5550200").as_bytes(), addr(CALLER));
    let caller_leg = opened(&drain(&mut endpoint));
    endpoint.media_opened(Timestamp::ZERO, caller_leg, addr("192.0.2.1:30000"));
    // Not answered yet: the trunk's leg opens first.
    let trunk_leg = opened(&drain(&mut endpoint));
    endpoint.media_opened(Timestamp::ZERO, trunk_leg, addr("192.0.2.1:30002"));
    let out = drain(&mut endpoint);
    assert_eq!(first_lines(&out), ["INVITE sip:5550200@192.0.2.50:5060 SIP/2.0"]);
    let (to, invite) = out.sip[0].clone();
    assert_eq!(to, addr(TRUNK));
    // The trunk challenges (407); the INVITE comes again with credentials and CSeq 2.
    let challenge = "Proxy-Authenticate: Digest realm=\"pbx\", nonce=\"n123\", qop=\"auth\"\r\n";
    let refused = from_trunk(&invite, "407 Proxy Authentication Required", challenge);
    endpoint.handle_datagram(Timestamp::from_millis(10), refused.as_bytes(), addr(TRUNK));
    let out = drain(&mut endpoint);
    assert_eq!(
        first_lines(&out),
        ["ACK sip:5550200@192.0.2.50:5060 SIP/2.0", "INVITE sip:5550200@192.0.2.50:5060 SIP/2.0"]
    );
    let retry = out.sip[1].1.clone();
    assert_eq!(header(&retry, "CSeq"), Some("2 INVITE"));
    assert_eq!(header(&retry, "Call-ID"), header(&invite, "Call-ID"));
    let credentials = sb_voice::digest::Credentials::parse(header(&retry, "Proxy-Authorization").unwrap()).unwrap();
    assert!(credentials.verify(&sb_voice::digest::ha1("sb", "pbx", "s3cret"), "INVITE"));
    // It rings, then answers: the caller hears of both.
    endpoint.handle_datagram(Timestamp::from_millis(20), from_trunk(&retry, "180 Ringing", "").as_bytes(), addr(TRUNK));
    assert_eq!(first_lines(&drain(&mut endpoint)), ["SIP/2.0 180 Ringing"]);
    endpoint.handle_datagram(Timestamp::from_millis(30), from_trunk(&retry, "200 OK", "").as_bytes(), addr(TRUNK));
    let out = drain(&mut endpoint);
    assert_eq!(first_lines(&out), ["ACK sip:5550200@192.0.2.50:5060 SIP/2.0", "SIP/2.0 200 OK"]);
    let ok = &out.sip[1].1;
    assert!(ok.contains("m=audio 30000 RTP/AVP 0 101\r\n"), "{ok}");
    // Media goes through; the trunk's BYE ends the caller's side too.
    let voice = RtpHeader::new(PayloadType::PCMU, 1, 0, 0xCA11).serialize(&[0x42; 160]);
    endpoint.handle_rtp(Timestamp::from_millis(40), caller_leg, &voice, addr(CALLER_RTP));
    let relayed = drain(&mut endpoint).rtp;
    assert_eq!((relayed[0].0, relayed[0].1), (trunk_leg, addr(TRUNK_RTP)));
    let bye = format!(
        "BYE sip:switchboard@192.0.2.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP {TRUNK};branch=z9hG4bK-tbye\r\n\
         Max-Forwards: 70\r\nFrom: <sip:5550200@192.0.2.50>;tag=pbx1\r\nTo: {}\r\nCall-ID: {}\r\nCSeq: 1 BYE\r\n\
         Content-Length: 0\r\n\r\n",
        header(&retry, "From").unwrap(),
        header(&retry, "Call-ID").unwrap()
    );
    endpoint.handle_datagram(Timestamp::from_millis(1000), bye.as_bytes(), addr(TRUNK));
    let out = drain(&mut endpoint);
    assert_eq!(first_lines(&out), ["SIP/2.0 200 OK", "BYE sip:4930123@192.0.2.10:5060 SIP/2.0"]);
    assert_eq!(endpoint.calls(), 0);
}

#[test]
fn a_trunk_that_refuses_passes_its_status_to_the_caller() {
    let mut endpoint = forwarding();
    endpoint.handle_datagram(Timestamp::ZERO, invite("5550200").as_bytes(), addr(CALLER));
    let caller_leg = opened(&drain(&mut endpoint));
    endpoint.media_opened(Timestamp::ZERO, caller_leg, addr("192.0.2.1:30000"));
    let trunk_leg = opened(&drain(&mut endpoint));
    endpoint.media_opened(Timestamp::ZERO, trunk_leg, addr("192.0.2.1:30002"));
    let invite = drain(&mut endpoint).sip.remove(0).1;
    endpoint.handle_datagram(
        Timestamp::from_millis(10),
        from_trunk(&invite, "486 Busy Here", "").as_bytes(),
        addr(TRUNK),
    );
    let out = drain(&mut endpoint);
    assert_eq!(first_lines(&out), ["ACK sip:5550200@192.0.2.50:5060 SIP/2.0", "SIP/2.0 486 Busy Here"]);
    assert_eq!(header(&out.sip[1].1, "Warning"), Some("399 switchboard \"trunk legacy answered 486 Busy Here\""));
    assert!(out.commands.contains(&Command::CloseMedia { leg: caller_leg }));
    assert!(out.commands.contains(&Command::CloseMedia { leg: trunk_leg }));
    assert_eq!(endpoint.calls(), 0);
}

/// A call answered by alice's phone (interaction 7): the caller's leg, our To tag toward
/// the caller, and the phone's 200 OK.
fn bridged(endpoint: &mut Endpoint) -> (LegId, String, String) {
    register(endpoint);
    let (leg, tag, _) = answered(endpoint);
    run(endpoint, 5, 300);
    press(endpoint, leg, 300, 1);
    let call = drain(endpoint)
        .commands
        .iter()
        .find_map(|c| match c {
            Command::Route { request: RouteRequest::Enqueue { call, .. }, .. } => Some(*call),
            _ => None,
        })
        .unwrap();
    endpoint.handle_route(Timestamp::from_millis(400), RouteNotice::Queued { call, interaction: 7 });
    endpoint.handle_route(Timestamp::from_millis(400), RouteNotice::Offered { interaction: 7, agent: "alice".into() });
    let agent_leg = opened(&drain(endpoint));
    endpoint.media_opened(Timestamp::from_millis(400), agent_leg, addr("192.0.2.1:30002"));
    let invite = drain(endpoint).sip.remove(0).1;
    let ok = answer_from_phone(&invite);
    endpoint.handle_datagram(Timestamp::from_millis(450), ok.as_bytes(), addr(PHONE));
    drain(endpoint);
    (leg, tag, ok)
}

/// A REFER from the phone in its dialog, to `target`.
fn refer_from_phone(ok: &str, target: &str) -> String {
    let to = header(ok, "From").unwrap();
    let from = header(ok, "To").unwrap();
    format!(
        "REFER sip:switchboard@192.0.2.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP {PHONE};branch=z9hG4bK-refer-{target}\r\n\
         Max-Forwards: 70\r\nFrom: {from}\r\nTo: {to}\r\nCall-ID: {}\r\nCSeq: 2 REFER\r\n\
         Refer-To: <sip:{target}@192.0.2.1>\r\nContent-Length: 0\r\n\r\n",
        header(ok, "Call-ID").unwrap()
    )
}

#[test]
fn a_refer_from_the_agent_transfers_the_caller_and_a_refused_one_keeps_the_call() {
    let mut endpoint = endpoint();
    let (_, tag, ok) = bridged(&mut endpoint);
    // A transfer to an unknown name: accepted, then refused by the engine; the agent keeps it.
    endpoint.handle_datagram(Timestamp::from_millis(1000), refer_from_phone(&ok, "nobody").as_bytes(), addr(PHONE));
    let out = drain(&mut endpoint);
    assert_eq!(first_lines(&out), ["SIP/2.0 202 Accepted"]);
    let transfer = RouteRequest::Transfer { interaction: 7, agent: "alice".into(), target: "nobody".into() };
    assert!(out.commands.contains(&Command::Route { tenant: "acme".into(), request: transfer }));
    let refused = RouteNotice::Transferred { interaction: 7, result: Err("no queue or agent".into()) };
    endpoint.handle_route(Timestamp::from_millis(1010), refused);
    let out = drain(&mut endpoint);
    assert_eq!(first_lines(&out), ["NOTIFY sip:1001@192.0.2.20:5062 SIP/2.0"]);
    assert!(out.sip[0].1.ends_with("\r\n\r\nSIP/2.0 403 Forbidden\r\n"), "{}", out.sip[0].1);
    assert_eq!(header(&out.sip[0].1, "Event"), Some("refer"));
    endpoint.handle_datagram(Timestamp::from_millis(1020), ok_to(&out.sip[0].1).as_bytes(), addr(PHONE));
    // Now to bob: the NOTIFY says 200 and the phone's leg is released with a BYE.
    endpoint.handle_datagram(Timestamp::from_millis(2000), refer_from_phone(&ok, "bob").as_bytes(), addr(PHONE));
    assert_eq!(first_lines(&drain(&mut endpoint)), ["SIP/2.0 202 Accepted"]);
    endpoint.handle_route(Timestamp::from_millis(2010), RouteNotice::Transferred { interaction: 7, result: Ok(()) });
    let out = drain(&mut endpoint);
    assert_eq!(first_lines(&out), ["NOTIFY sip:1001@192.0.2.20:5062 SIP/2.0", "BYE sip:1001@192.0.2.20:5062 SIP/2.0"]);
    assert!(out.sip[0].1.ends_with("\r\n\r\nSIP/2.0 200 OK\r\n"));
    // The caller is on hold again, and may not transfer anyone.
    let held = run(&mut endpoint, 2010, 2100);
    assert!(held.rtp.iter().any(|(_, _, b)| RtpPacket::parse(b).unwrap().payload == [0x11; 160]));
    let from_caller = from_caller("REFER", 3, &tag, "z9hG4bK-caller-refer")
        .replace("Content-Length: 0", "Refer-To: <sip:bob@192.0.2.1>\r\nContent-Length: 0");
    endpoint.handle_datagram(Timestamp::from_millis(2200), from_caller.as_bytes(), addr(CALLER));
    assert_eq!(first_lines(&drain(&mut endpoint)), ["SIP/2.0 403 Forbidden"]);
}

/// The phone's 200 OK to a request of ours.
fn ok_to(request: &str) -> String {
    let copy = |name: &str| format!("{name}: {}\r\n", header(request, name).unwrap());
    format!(
        "SIP/2.0 200 OK\r\n{}{}{}{}{}Content-Length: 0\r\n\r\n",
        copy("Via"),
        copy("From"),
        copy("To"),
        copy("Call-ID"),
        copy("CSeq")
    )
}

#[test]
fn callers_on_hold_hear_their_position_then_the_music_again() {
    let announcements = sb_voice::Announcements {
        every: std::time::Duration::from_secs(5),
        before: beep(0x21),
        digits: std::array::from_fn(|d| beep(0x30 + d as u8)),
        after: None,
    };
    let mut endpoint = endpoint_with(Some(announcements));
    let (leg, _, _) = answered(&mut endpoint);
    run(&mut endpoint, 5, 300);
    press(&mut endpoint, leg, 300, 1);
    let call = drain(&mut endpoint)
        .commands
        .iter()
        .find_map(|c| match c {
            Command::Route { request: RouteRequest::Enqueue { call, .. }, .. } => Some(*call),
            _ => None,
        })
        .unwrap();
    endpoint.handle_route(Timestamp::from_millis(400), RouteNotice::Queued { call, interaction: 7 });
    // Five seconds into the queue the endpoint asks where the call waits.
    let out = run(&mut endpoint, 400, 5500);
    let asked: Vec<_> = out
        .commands
        .iter()
        .filter(|c| matches!(c, Command::Route { request: RouteRequest::Position { .. }, .. }))
        .collect();
    assert_eq!(asked, [&Command::Route { tenant: "acme".into(), request: RouteRequest::Position { interaction: 7 } }]);
    // 12th: "position", "1", "2", then the hold music again.
    endpoint.handle_route(Timestamp::from_millis(5500), RouteNotice::Position { interaction: 7, position: Some(12) });
    let heard: Vec<u8> =
        run(&mut endpoint, 5500, 5620).rtp.iter().map(|(_, _, b)| RtpPacket::parse(b).unwrap().payload[0]).collect();
    assert_eq!(&heard[..3], [0x21, 0x31, 0x32], "{heard:x?}");
    assert!(heard[3..].iter().all(|&code| code == 0x11), "{heard:x?}");
}

#[test]
fn the_split_sends_calls_to_the_legacy_trunk_by_caller_and_share_until_a_rollback_sends_all() {
    let trunk =
        Arc::new(Trunk { id: "legacy".into(), address: addr(TRUNK), host: "192.0.2.50".into(), credentials: None });
    let split = sb_voice::Split {
        trunk,
        rules: vec![sb_voice::SplitRule::Caller("4930".into(), true), sb_voice::SplitRule::Percent(50, true)],
    };
    let mut endpoint = endpoint_with_split(split);
    // Where a call from `caller` goes: the trunk's INVITE, or our 200 OK (the flow).
    let route = |endpoint: &mut Endpoint, caller: &str, n: u64| -> String {
        let invite = invite("5550100")
            .replace("4930123", caller)
            .replace("call-1@", &format!("call-{n}@"))
            .replace("z9hG4bK-call-1", &format!("z9hG4bK-call-{n}"));
        endpoint.handle_datagram(Timestamp::from_millis(n), invite.as_bytes(), addr(CALLER));
        let leg = opened(&drain(endpoint));
        endpoint.media_opened(Timestamp::from_millis(n), leg, addr("192.0.2.1:30000"));
        let out = drain(endpoint);
        let trunk_leg = out.commands.iter().find_map(|c| match c {
            Command::OpenMedia { leg } => Some(*leg),
            _ => None,
        });
        if let Some(trunk_leg) = trunk_leg {
            endpoint.media_opened(Timestamp::from_millis(n), trunk_leg, addr("192.0.2.1:30002"));
            return first_lines(&drain(endpoint))[0].to_owned();
        }
        first_lines(&out)[0].to_owned()
    };
    let to_trunk = "INVITE sip:5550100@192.0.2.50:5060 SIP/2.0";
    assert_eq!(route(&mut endpoint, "4930999", 1), to_trunk, "the caller rule");
    assert_eq!(route(&mut endpoint, "5551234", 2), "SIP/2.0 200 OK", "the first call reaching the 50% rule stays");
    assert_eq!(route(&mut endpoint, "5551234", 3), to_trunk, "the second goes");
    let rolled_back = sb_voice::Migration { rolled_back: true, switchboard_percent: None };
    endpoint.set_migration("acme", rolled_back);
    assert_eq!(route(&mut endpoint, "5551234", 4), to_trunk, "rolled back");
    endpoint.set_migration("acme", sb_voice::Migration::default());
    assert_eq!(route(&mut endpoint, "5551234", 5), "SIP/2.0 200 OK", "resumed");
    // A cutover phase giving Switchboard 25%: the caller rule still holds; of the other
    // calls, the 4th and the 8th stay with Switchboard, and the rest go.
    endpoint.set_migration("acme", sb_voice::Migration { rolled_back: false, switchboard_percent: Some(25) });
    assert_eq!(route(&mut endpoint, "4930999", 6), to_trunk, "the caller rule");
    let stayed: Vec<u64> = (7..15).filter(|n| route(&mut endpoint, "5551234", *n) == "SIP/2.0 200 OK").collect();
    assert_eq!(stayed, [10, 14]);
    // Rolled back within the phase, then resumed: the phase's share again.
    endpoint.set_migration("acme", sb_voice::Migration { rolled_back: true, switchboard_percent: Some(25) });
    assert_eq!(route(&mut endpoint, "5551234", 15), to_trunk, "rolled back");
}

fn endpoint_with_split(split: sb_voice::Split) -> Endpoint {
    let (flow, _) = sb_flow::parse("main.yaml", FLOW, &sb_flow::KnownNames::default()).unwrap();
    let mut prompts = HashMap::new();
    prompts.insert("welcome.wav".to_owned(), beep(0x21));
    prompts.insert("menu.wav".to_owned(), beep(0x22));
    let entry = Entry {
        number: "5550100".into(),
        tenant: "acme".into(),
        target: Target::Flow { flow: Arc::new(flow), schedules: Arc::new(|_: &str, _: Timestamp| true) },
        prompts: Arc::new(prompts),
        music_on_hold: None,
        record_calls: false,
        announcements: None,
        split: Some(Arc::new(split)),
    };
    Endpoint::new(EndpointConfig {
        entries: vec![Arc::new(entry)],
        local: addr("192.0.2.1:5060"),
        ..EndpointConfig::default()
    })
}
