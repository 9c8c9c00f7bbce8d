//! Example-based tests of whole messages: building responses, lookups through compact forms,
//! serialization details, and the stream parser's framing and failure rules.

use sb_sip::{Limits, Message, Method, ParseError, Request, Response, StatusCode, StreamParser, parse_datagram};

const INVITE: &str = "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n\
v: SIP/2.0/UDP bigbox3.site3.example.com;branch=z9hG4bK77ef4c2312983.1;received=192.0.2.1\r\n\
Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8, SIP/2.0/UDP 10.0.0.1:5070;rport=5071\r\n\
Max-Forwards: 69\r\n\
t: Bob <sip:bob@biloxi.example.com>\r\n\
f: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
i: a84b4c76e66710\r\n\
CSeq: 314159 INVITE\r\n\
m: <sip:alice@pc33.atlanta.example.com>\r\n\
Record-Route: <sip:bigbox3.site3.example.com;lr>\r\n\
c: application/sdp\r\n\
l: 4\r\n\
\r\n\
v=0\n";

fn invite() -> Request {
    match parse_datagram(INVITE.as_bytes(), &Limits::default()) {
        Ok(Message::Request(r)) => r,
        other => panic!("expected a request, got {other:?}"),
    }
}

#[test]
fn accessors_read_compact_forms_and_all_vias() {
    let r = invite();
    assert_eq!(r.method, Method::Invite);
    let via = r.via().unwrap();
    assert_eq!(via.len(), 3);
    assert_eq!(via[0].host.to_string(), "bigbox3.site3.example.com");
    assert_eq!(via[2].rport(), Some(Some(5071)));
    assert_eq!(r.top_via().unwrap(), via[0]);
    assert_eq!(r.branch().as_deref(), Some("z9hG4bK77ef4c2312983.1"));
    assert_eq!(r.call_id(), Ok("a84b4c76e66710"));
    assert_eq!(r.cseq().unwrap().seq, 314159);
    assert_eq!(r.from_tag().as_deref(), Some("1928301774"));
    assert_eq!(r.to_tag(), None);
    assert_eq!(r.contact().unwrap()[0].uri.to_string(), "sip:alice@pc33.atlanta.example.com");
    assert_eq!(r.content_length(), Ok(4));
    assert_eq!(r.max_forwards(), Ok(69));
    assert_eq!(r.headers.get("content-type"), Some("application/sdp"));
    assert_eq!(r.headers.get("CALL-ID"), Some("a84b4c76e66710"));
    assert_eq!(r.headers.values("via").len(), 3);
    assert_eq!(r.body, b"v=0\n");
}

#[test]
fn response_for_request_copies_the_dialog_headers() {
    let r = invite();
    let ringing = Response::for_request_with_tag(&r, StatusCode::RINGING, "a6c85cf");
    let expected = "SIP/2.0 180 Ringing\r\n\
v: SIP/2.0/UDP bigbox3.site3.example.com;branch=z9hG4bK77ef4c2312983.1;received=192.0.2.1\r\n\
Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8, SIP/2.0/UDP 10.0.0.1:5070;rport=5071\r\n\
t: \"Bob\" <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n\
f: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
i: a84b4c76e66710\r\n\
CSeq: 314159 INVITE\r\n\
Content-Length: 0\r\n\
\r\n";
    assert_eq!(ringing.to_string(), expected);
    assert_eq!(ringing.to_tag().as_deref(), Some("a6c85cf"));
    assert_eq!(parse_datagram(&ringing.to_bytes(), &Limits::default()), Ok(Message::Response(ringing.clone())));

    // 100 Trying never gets a To tag; a To that already has one keeps it.
    let trying = Response::for_request_with_tag(&r, StatusCode::TRYING, "x");
    assert_eq!(trying.to_tag(), None);
    assert_eq!(trying.reason, "Trying");
    let ok = Response::for_request_with_tag(&r, StatusCode::OK, "first");
    let mut in_dialog = r.clone();
    in_dialog.headers = ok.headers.clone();
    in_dialog.headers.push("Max-Forwards", "70").unwrap();
    let again = Response::for_request_with_tag(&in_dialog, StatusCode::OK, "second");
    assert_eq!(again.to_tag().as_deref(), Some("first"));
    // Without a tag, To is copied untouched.
    assert_eq!(Response::for_request(&r, StatusCode::BUSY_HERE).headers.get("To"), r.headers.get("t"));
}

#[test]
fn serialization_rewrites_content_length() {
    let mut r = invite();
    r.body = b"longer body".to_vec();
    let text = r.to_string();
    assert!(text.contains("\r\nl: 11\r\n"), "{text}");
    r.headers.remove("Content-Length");
    let text = r.to_string();
    assert!(text.ends_with("Content-Length: 11\r\n\r\nlonger body"), "{text}");
    // A duplicate Content-Length is dropped rather than left contradicting the body.
    r.headers.push("Content-Length", "1").unwrap();
    r.headers.push("l", "2").unwrap();
    assert_eq!(r.to_string().matches("Content-Length").count() + r.to_string().matches("\r\nl:").count(), 1);
}

#[test]
fn reason_phrase_cannot_inject_lines() {
    let r = invite();
    let mut resp = Response::for_request(&r, StatusCode::OK);
    resp.reason = "OK\r\nX-Injected: yes".into();
    let bytes = resp.to_bytes();
    let Ok(Message::Response(parsed)) = parse_datagram(&bytes, &Limits::default()) else {
        panic!("should parse");
    };
    assert!(!parsed.headers.contains("X-Injected"));
}

#[test]
fn datagram_content_length_rules() {
    let with_extra = INVITE.replace("v=0\n", "v=0\nEXTRA");
    let Ok(Message::Request(r)) = parse_datagram(with_extra.as_bytes(), &Limits::default()) else {
        panic!("extra bytes after the body are ignored");
    };
    assert_eq!(r.body, b"v=0\n");
    let short = INVITE.replace("v=0\n", "v=");
    assert_eq!(
        parse_datagram(short.as_bytes(), &Limits::default()),
        Err(ParseError::ContentLengthTooLarge { declared: 4, available: 2 })
    );
    let limits = Limits { max_body: 3, ..Limits::default() };
    assert_eq!(parse_datagram(INVITE.as_bytes(), &limits), Err(ParseError::BodyTooLarge { len: 4, max: 3 }));
    let limits = Limits { max_message_size: 100, ..Limits::default() };
    assert!(matches!(parse_datagram(INVITE.as_bytes(), &limits), Err(ParseError::MessageTooLarge { .. })));
    let limits = Limits { max_headers: 5, ..Limits::default() };
    assert_eq!(parse_datagram(INVITE.as_bytes(), &limits), Err(ParseError::TooManyHeaders { line: 7, max: 5 }));
}

#[test]
fn stream_skips_keepalives_and_keeps_going_after_a_malformed_message() {
    let bad = INVITE.replace("CSeq: 314159 INVITE", "CSeq: 314159 BYE");
    let mut p = StreamParser::new(Limits::default());
    p.push(b"\r\n\r\n");
    assert_eq!(p.next(), None);
    p.push(bad.as_bytes());
    p.push(b"\r\n");
    p.push(INVITE.as_bytes());
    assert!(matches!(p.next(), Some(Err(ParseError::CSeqMethod { line: 8, .. }))));
    assert_eq!(p.next(), Some(Ok(Message::Request(invite()))));
    assert_eq!(p.next(), None);
    assert!(!p.has_failed());
    assert_eq!(p.buffered(), 0);
}

#[test]
fn stream_fails_for_good_after_a_framing_error() {
    let no_length = INVITE.replace("l: 4\r\n", "");
    let mut p = StreamParser::new(Limits::default());
    p.push(no_length.as_bytes());
    assert_eq!(p.next(), Some(Err(ParseError::MissingContentLength)));
    assert!(p.has_failed());
    p.push(INVITE.as_bytes());
    assert_eq!(p.next(), None);
    assert_eq!(p.buffered(), 0);
}

#[test]
fn stream_enforces_limits_before_the_headers_end() {
    let limits = Limits { max_message_size: 300, max_line_length: 100, ..Limits::default() };
    let mut p = StreamParser::new(limits.clone());
    p.push(b"INVITE sip:a@b SIP/2.0\r\nX-Long: ");
    assert_eq!(p.next(), None);
    p.push(&[b'a'; 100]);
    assert_eq!(p.next(), Some(Err(ParseError::LineTooLong { line: 2, len: 108, max: 100 })));
    assert_eq!(p.buffered(), 0);

    let mut p = StreamParser::new(limits.clone());
    for _ in 0..40 {
        p.push(b"X-Short: 123\r\n");
    }
    assert!(matches!(p.next(), Some(Err(ParseError::MessageTooLarge { max: 300, .. }))));

    let mut p = StreamParser::new(Limits { max_body: 3, ..Limits::default() });
    p.push(INVITE.split("\r\n\r\n").next().unwrap_or_default().as_bytes());
    p.push(b"\r\n\r\n");
    assert_eq!(p.next(), Some(Err(ParseError::BodyTooLarge { len: 4, max: 3 })));
}

#[test]
fn start_line_with_multibyte_character_is_an_error_not_a_panic() {
    let text = INVITE.replacen("INVITE sip:bob@biloxi.example.com SIP/2.0", "SIP\u{e9}/2.0 200 OK", 1);
    assert!(matches!(parse_datagram(text.as_bytes(), &Limits::default()), Err(ParseError::StartLine { .. })));
}

#[test]
fn cancel_and_ack_copy_what_rfc3261_asks() {
    let mut r = invite();
    r.headers.push("Route", "<sip:proxy.example.com;lr>").unwrap();
    let cancel = Request::cancel_for(&r).unwrap();
    let expected = "CANCEL sip:bob@biloxi.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP bigbox3.site3.example.com;branch=z9hG4bK77ef4c2312983.1;received=192.0.2.1\r\n\
Max-Forwards: 70\r\n\
From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
To: Bob <sip:bob@biloxi.example.com>\r\n\
Call-ID: a84b4c76e66710\r\n\
CSeq: 314159 CANCEL\r\n\
Route: <sip:proxy.example.com;lr>\r\n\
Content-Length: 0\r\n\
\r\n";
    assert_eq!(cancel.to_string(), expected);
    assert_eq!(parse_datagram(&cancel.to_bytes(), &Limits::default()), Ok(Message::Request(cancel.clone())));

    let busy = Response::for_request_with_tag(&r, StatusCode::BUSY_HERE, "b7");
    let ack = Request::ack_for(&r, &busy).unwrap();
    assert_eq!(ack.method, Method::Ack);
    assert_eq!(ack.cseq().unwrap().to_string(), "314159 ACK");
    assert_eq!(ack.to_tag().as_deref(), Some("b7"));
    assert_eq!(ack.branch(), r.branch());
    assert_eq!(ack.via().unwrap().len(), 1);
    assert_eq!(ack.headers.get("Route"), Some("<sip:proxy.example.com;lr>"));

    r.headers.remove("CSeq");
    assert_eq!(Request::cancel_for(&r), Err(sb_sip::HeaderError::Missing("CSeq")));
}
