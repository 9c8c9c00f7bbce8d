//! Snapshot tests of the raw messages in `test_data/`.
//!
//! Every file in `test_data/valid/` must parse as a datagram; its snapshot is a summary of
//! the parsed message and of what the typed accessors return. Every file in
//! `test_data/invalid/` must be rejected; its snapshot is the error message. Valid files
//! that carry a Content-Length must also come out of the stream parser unchanged, fed whole
//! or one byte at a time. To add a case, drop a `.sip` file (CRLF line ends) into one of the
//! folders, run `INSTA_UPDATE=always cargo test -p sb-sip`, and read the new snapshot before
//! keeping it.

use std::fmt::Write as _;
use std::path::Path;

use sb_sip::{Limits, Message, ParseError, StreamParser, parse_datagram};

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).expect("fixtures are readable")
}

/// A readable account of a parsed message.
fn summary(message: &Message) -> String {
    let mut out = String::new();
    match message {
        Message::Request(r) => writeln!(out, "request {} {}", r.method, r.uri),
        Message::Response(r) => writeln!(out, "response {} {:?}", r.status, r.reason),
    }
    .unwrap();
    out.push_str("headers:\n");
    for field in message.headers().iter() {
        writeln!(out, "  {}: {}", field.name(), field.value()).unwrap();
    }
    match message.via() {
        Ok(via) => {
            for (i, v) in via.iter().enumerate() {
                writeln!(
                    out,
                    "via[{i}]: {v}  (branch {:?}, received {:?}, rport {:?})",
                    v.branch(),
                    v.received(),
                    v.rport()
                )
                .unwrap();
            }
        }
        Err(e) => writeln!(out, "via: {e}").unwrap(),
    }
    writeln!(out, "call-id: {:?}", message.call_id()).unwrap();
    writeln!(out, "cseq: {}", message.cseq().map(|c| c.to_string()).unwrap_or_else(|e| e.to_string())).unwrap();
    for (label, addr) in [("from", message.from()), ("to", message.to())] {
        match addr {
            Ok(a) => writeln!(out, "{label}: {a}  (display {:?}, tag {:?})", a.display_name, a.tag()).unwrap(),
            Err(e) => writeln!(out, "{label}: {e}").unwrap(),
        }
    }
    match message.contact() {
        Ok(contacts) => {
            for c in contacts {
                writeln!(out, "contact: {c}").unwrap();
            }
        }
        Err(e) => writeln!(out, "contact: {e}").unwrap(),
    }
    writeln!(out, "content-length header: {:?}", message.content_length()).unwrap();
    writeln!(out, "max-forwards: {:?}", message.max_forwards()).unwrap();
    writeln!(out, "branch: {:?}, from-tag: {:?}, to-tag: {:?}", message.branch(), message.from_tag(), message.to_tag())
        .unwrap();
    writeln!(out, "body ({} bytes): \"{}\"", message.body().len(), message.body().escape_ascii()).unwrap();
    out
}

#[test]
fn valid_fixtures() {
    insta::glob!("../test_data/valid", "*.sip", |path| {
        let data = read(path);
        let message = parse_datagram(&data, &Limits::default())
            .unwrap_or_else(|e| panic!("{} should parse: {e}", path.display()));
        // The canonical form parses back to the same message, and is stable.
        let bytes = message.to_bytes();
        let again = parse_datagram(&bytes, &Limits::default()).expect("serialized messages parse");
        assert_eq!(again.to_bytes(), bytes, "{}", path.display());
        assert_eq!(again.body(), message.body());
        insta::assert_snapshot!(summary(&message));
    });
}

#[test]
fn valid_fixtures_through_the_stream_parser() {
    insta::glob!("../test_data/valid", "*.sip", |path| {
        let data = read(path);
        let expected = parse_datagram(&data, &Limits::default()).expect("valid fixtures parse");
        if expected.content_length().is_err() {
            // Without a Content-Length a stream message cannot be framed.
            let mut parser = StreamParser::new(Limits::default());
            parser.push(&data);
            assert_eq!(parser.next(), Some(Err(ParseError::MissingContentLength)));
            assert!(parser.has_failed());
            parser.push(&data);
            assert_eq!(parser.next(), None);
            return;
        }
        let declared = expected.content_length().unwrap_or_default();
        let skip = data.chunks(2).take_while(|c| *c == b"\r\n").count() * 2;
        let end = skip + data[skip..].windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4 + declared;
        let framed = &data[..end];
        let mut whole = StreamParser::new(Limits::default());
        whole.push(framed);
        whole.push(framed);
        assert_eq!(whole.next(), Some(Ok(expected.clone())));
        assert_eq!(whole.next(), Some(Ok(expected.clone())));
        assert_eq!(whole.next(), None);
        let mut bytewise = StreamParser::new(Limits::default());
        let mut got = Vec::new();
        for b in framed {
            bytewise.push(&[*b]);
            got.extend(bytewise.by_ref());
        }
        assert_eq!(got, vec![Ok(expected)]);
        assert_eq!(bytewise.buffered(), 0);
    });
}

#[test]
fn invalid_fixtures() {
    insta::glob!("../test_data/invalid", "*.sip", |path| {
        let data = read(path);
        let error = match parse_datagram(&data, &Limits::default()) {
            Ok(message) => panic!("{} should be rejected, but parses as:\n{}", path.display(), summary(&message)),
            Err(e) => e,
        };
        insta::assert_snapshot!(error.to_string());
    });
}
