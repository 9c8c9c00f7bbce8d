//! SIP input as a peer can send it: one datagram parsed, the same bytes pushed into a stream
//! parser in two chunks, digest credentials, and the datagram handed to an endpoint with a
//! phone account (so REGISTERs reach the registrar). Nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sb_sip::{Limits, StreamParser, Timestamp, parse_datagram};
use sb_voice::digest::Credentials;
use sb_voice::{Endpoint, EndpointConfig, PhoneAccount};

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    if let Ok(message) = parse_datagram(data, &limits) {
        let _ = message.to_bytes();
    }
    let split = data.first().map_or(0, |b| usize::from(*b) % (data.len() + 1));
    let mut stream = StreamParser::new(limits.clone());
    stream.push(&data[..split]);
    let _ = stream.by_ref().count();
    stream.push(&data[split..]);
    let _ = stream.count();
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Credentials::parse(text);
    }
    let phones = vec![PhoneAccount { realm: "acme".into(), user: "1000".into(), agent: "alice".into(), password: "pw".into() }];
    let mut endpoint = Endpoint::new(EndpointConfig { phones, ..EndpointConfig::default() });
    let from = "192.0.2.7:5060".parse().expect("an address");
    endpoint.handle_datagram(Timestamp::from_millis(0), data, from);
    endpoint.handle_datagram(Timestamp::from_millis(600), data, from);
    endpoint.handle_timeout(Timestamp::from_millis(40_000));
    while endpoint.poll_transmit().is_some() {}
});
