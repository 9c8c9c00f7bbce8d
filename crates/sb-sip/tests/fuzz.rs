//! Property tests: the parsers never panic on hostile input, and the stream parser agrees
//! with the datagram parser however the bytes are chunked.
//!
//! The "fuzz" properties feed arbitrary bytes and random mutations (byte flips, truncations,
//! insertions, deletions) of the valid fixtures to both parsers. The framing properties
//! generate valid messages, serialize them, and check that parsing gives back the same
//! message whether the bytes arrive whole or in arbitrary chunks.

use proptest::prelude::*;
use proptest::sample::select;
use sb_sip::{
    Headers, Limits, Message, Method, NameAddr, ParseError, Request, Response, StatusCode, StreamParser, Uri, Via,
    parse_datagram,
};

fn fixtures() -> Vec<Vec<u8>> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/test_data/valid");
    let mut paths: Vec<_> = std::fs::read_dir(dir).expect("fixture folder").map(|e| e.expect("entry").path()).collect();
    paths.sort();
    paths.iter().map(|p| std::fs::read(p).expect("fixture")).collect()
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Truncate(usize),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let interesting =
        select(vec![b'\r', b'\n', b' ', b'\t', b':', b';', b',', b'"', b'<', b'>', b'[', b']', 0, 0xff, b'%']);
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<usize>(), interesting).prop_map(|(i, b)| Mutation::Flip(i, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..8)).prop_map(|(i, v)| Mutation::Insert(i, v)),
        (any::<usize>(), Just(b"\r\n".to_vec())).prop_map(|(i, v)| Mutation::Insert(i, v)),
        (any::<usize>(), 1..16usize).prop_map(|(i, n)| Mutation::Delete(i, n)),
    ]
}

fn apply(data: &mut Vec<u8>, m: &Mutation) {
    let len = data.len().max(1);
    match m {
        Mutation::Flip(i, b) => {
            if let Some(slot) = data.get_mut(i % len) {
                *slot = *b;
            }
        }
        Mutation::Truncate(i) => data.truncate(i % len),
        Mutation::Insert(i, bytes) => {
            let at = i % (data.len() + 1);
            data.splice(at..at, bytes.iter().copied());
        }
        Mutation::Delete(i, n) => {
            let at = i % len;
            let end = (at + n).min(data.len());
            if at < end {
                data.drain(at..end);
            }
        }
    }
}

/// Feeds `data` to a stream parser in chunks of the given sizes (cycled) and collects what
/// comes out, checking that nothing comes out after a framing error.
fn stream(data: &[u8], chunks: &[usize], limits: &Limits) -> Vec<Result<Message, ParseError>> {
    let mut parser = StreamParser::new(limits.clone());
    let mut out = Vec::new();
    let mut rest = data;
    let mut sizes = chunks.iter().cycle();
    while !rest.is_empty() {
        let n = sizes.next().copied().unwrap_or(1).clamp(1, rest.len());
        parser.push(&rest[..n]);
        rest = &rest[n..];
        let failed_before = parser.has_failed();
        let drained: Vec<_> = parser.by_ref().collect();
        if failed_before {
            assert!(drained.len() <= 1, "a failed parser reports its error once");
        }
        out.extend(drained);
    }
    if parser.has_failed() {
        parser.push(data);
        assert_eq!(parser.next(), None, "a failed parser stays failed");
    }
    out
}

/// Small limits, so that the fuzzer also reaches the limit checks.
fn small_limits() -> Limits {
    Limits { max_message_size: 600, max_headers: 12, max_line_length: 120, max_body: 200 }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..1500), chunks in prop::collection::vec(1..64usize, 1..8)) {
        let _ = parse_datagram(&data, &Limits::default());
        let _ = parse_datagram(&data, &small_limits());
        let _ = stream(&data, &chunks, &Limits::default());
        let _ = stream(&data, &chunks, &small_limits());
    }

    #[test]
    fn mutated_fixtures_never_panic(
        index in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(mutation(), 1..6),
        chunks in prop::collection::vec(1..200usize, 1..8),
    ) {
        let all = fixtures();
        let mut data = index.get(&all).clone();
        for m in &mutations {
            apply(&mut data, m);
        }
        for limits in [Limits::default(), small_limits()] {
            if let Ok(message) = parse_datagram(&data, &limits) {
                // Whatever is accepted serializes to something that parses the same way.
                let again = parse_datagram(&message.to_bytes(), &Limits::default());
                prop_assert_eq!(again.map(|m| m.to_bytes()), Ok(message.to_bytes()));
            }
            let _ = stream(&data, &chunks, &limits);
        }
    }

    /// Regression guard for slicing a start line in the middle of a UTF-8 character.
    #[test]
    fn arbitrary_start_lines_never_panic(start in "\\PC{0,40}", index in any::<prop::sample::Index>()) {
        let all = fixtures();
        let fixture = index.get(&all);
        let rest = fixture.iter().position(|&b| b == b'\n').map_or(&fixture[..0], |i| &fixture[i + 1..]);
        let mut data = start.into_bytes();
        data.extend_from_slice(b"\r\n");
        data.extend_from_slice(rest);
        let _ = parse_datagram(&data, &Limits::default());
        let _ = stream(&data, &[7], &Limits::default());
    }

    #[test]
    fn arbitrary_text_in_typed_parsers_never_panics(s in "\\PC{0,60}", t in "[sip:@;=<>\"\\[\\]a-z0-9%/ ,.]{0,40}") {
        for text in [&s, &t] {
            let _ = Uri::parse(text);
            let _ = NameAddr::parse_list(text);
            let _ = Via::parse_list(text);
            let _ = sb_sip::CSeq::parse(text);
        }
    }
}

fn token() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9]{1,10}"
}

fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{1,8}\\.example\\.(com|net)",
        (0..=255u8, 0..=255u8).prop_map(|(a, b)| format!("192.0.{a}.{b}")),
        (1..0xffffu32).prop_map(|n| format!("[2001:db8::{n:x}]")),
    ]
}

fn uri() -> impl Strategy<Value = String> {
    (
        select(vec!["sip", "sips"]),
        prop::option::of("[a-z0-9.+-]{1,10}"),
        host(),
        prop::option::of(1..65535u16),
        prop::option::of(token()),
    )
        .prop_map(|(scheme, user, host, port, param)| {
            let mut s = format!("{scheme}:");
            if let Some(user) = user {
                s.push_str(&format!("{user}@"));
            }
            s.push_str(&host);
            if let Some(port) = port {
                s.push_str(&format!(":{port}"));
            }
            if let Some(param) = param {
                s.push_str(&format!(";{param}"));
            }
            s
        })
}

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        select(vec![
            Method::Invite,
            Method::Ack,
            Method::Bye,
            Method::Cancel,
            Method::Options,
            Method::Register,
            Method::Refer,
            Method::Info,
            Method::Update,
            Method::Prack,
            Method::Subscribe,
            Method::Notify,
            Method::Message
        ]),
        "[A-Z]{3,9}".prop_map(|m| Method::parse(&m).expect("a token")),
    ]
}

prop_compose! {
    fn headers(method: Method)(
        vias in prop::collection::vec((select(vec!["UDP", "TCP", "TLS", "WS"]), host(), prop::option::of(1..65535u16), token()), 1..4),
        one_line in any::<bool>(),
        from_name in prop::option::of("[A-Za-z][A-Za-z ,\"\\\\]{0,12}"),
        from in uri(),
        to in uri(),
        from_tag in token(),
        to_tag in prop::option::of(token()),
        call_id in "[a-zA-Z0-9.-]{1,20}(@[a-z.]{1,10})?",
        seq in 0..(1u32 << 31),
        max_forwards in any::<u8>(),
        compact in any::<bool>(),
        extras in prop::collection::vec(("X-[A-Za-z0-9-]{1,10}", "[!-~]([ -~]{0,30}[!-~])?"), 0..4),
    ) -> Headers {
        let mut h = Headers::new();
        let vias: Vec<String> = vias
            .iter()
            .map(|(t, host, port, branch)| {
                let port = port.map(|p| format!(":{p}")).unwrap_or_default();
                format!("SIP/2.0/{t} {host}{port};branch=z9hG4bK{branch}")
            })
            .collect();
        if one_line {
            h.push("Via", &vias.join(", ")).unwrap();
        } else {
            for via in &vias {
                h.push(if compact { "v" } else { "Via" }, via).unwrap();
            }
        }
        let mut from = NameAddr::new(Uri::parse(&from).unwrap());
        from.display_name = from_name;
        from.params.push(sb_sip::Param { name: "tag".into(), value: Some(from_tag) });
        h.push(if compact { "f" } else { "From" }, &from.to_string()).unwrap();
        let to_tag = to_tag.map(|t| format!(";tag={t}")).unwrap_or_default();
        h.push(if compact { "t" } else { "To" }, &format!("<{to}>{to_tag}")).unwrap();
        h.push(if compact { "i" } else { "Call-ID" }, &call_id).unwrap();
        h.push("CSeq", &format!("{seq} {method}")).unwrap();
        h.push("Max-Forwards", &max_forwards.to_string()).unwrap();
        for (name, value) in extras {
            h.push(&name, &value).unwrap();
        }
        h
    }
}

fn message() -> impl Strategy<Value = Message> {
    let request = (method(), uri())
        .prop_flat_map(|(m, u)| (Just(m.clone()), Just(u), headers(m), prop::collection::vec(any::<u8>(), 0..120)))
        .prop_map(|(method, uri, mut headers, body)| {
            headers.push(if body.len() % 2 == 0 { "Content-Length" } else { "l" }, &body.len().to_string()).unwrap();
            Message::Request(Request { method, uri: Uri::parse(&uri).unwrap(), headers, body })
        });
    let response = (100..=699u16, "([A-Za-z]{1,8}( [A-Za-z]{1,8}){0,2})?", method())
        .prop_flat_map(|(code, reason, m)| {
            (Just(code), Just(reason), headers(m), prop::collection::vec(any::<u8>(), 0..120))
        })
        .prop_map(|(code, reason, mut headers, body)| {
            headers.remove("Max-Forwards");
            headers.push("Content-Length", &body.len().to_string()).unwrap();
            Message::Response(Response { status: StatusCode::new(code).unwrap(), reason, headers, body })
        });
    prop_oneof![request, response]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn serialized_messages_parse_back_unchanged(m in message()) {
        let bytes = m.to_bytes();
        prop_assert_eq!(parse_datagram(&bytes, &Limits::default()), Ok(m));
    }

    #[test]
    fn stream_chunking_does_not_change_the_messages(
        messages in prop::collection::vec(message(), 1..4),
        keepalives in prop::collection::vec(0..3usize, 4),
        chunks in prop::collection::vec(1..97usize, 1..10),
    ) {
        let mut data = Vec::new();
        for (i, m) in messages.iter().enumerate() {
            data.extend(b"\r\n".repeat(keepalives[i]));
            data.extend(m.to_bytes());
        }
        let expected: Vec<_> = messages.iter().map(|m| parse_datagram(&m.to_bytes(), &Limits::default())).collect();
        prop_assert_eq!(&expected, &messages.iter().cloned().map(Ok).collect::<Vec<_>>());
        prop_assert_eq!(stream(&data, &chunks, &Limits::default()), expected.clone());
        prop_assert_eq!(stream(&data, &[data.len()], &Limits::default()), expected);
    }
}
