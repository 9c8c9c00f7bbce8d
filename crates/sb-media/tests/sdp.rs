//! SDP offer/answer on the fixtures of `test_data/sdp/` (synthetic, see
//! `test_data/README.md`): the answers we produce are compared in full, and property tests
//! check that parsing never panics and that a parsed body survives a round trip.

use std::net::{IpAddr, SocketAddr};

use proptest::prelude::*;
use sb_media::Law;
use sb_media::rtp::PayloadType;
use sb_media::sdp::{
    AnswerConfig, Direction, Negotiated, NegotiationError, OfferConfig, SessionDescription, answer, offer,
    process_answer,
};

const FIXTURES: &[&str] = &[
    "desk_phone_offer.sdp",
    "trunk_pcma_offer.sdp",
    "video_offer.sdp",
    "g729_only_offer.sdp",
    "hold_sendonly_offer.sdp",
    "hold_zero_address_offer.sdp",
    "answer_from_trunk.sdp",
];

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/test_data/sdp/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn parse(name: &str) -> SessionDescription {
    SessionDescription::parse(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn anchor() -> IpAddr {
    "198.51.100.5".parse().unwrap()
}

fn local() -> AnswerConfig {
    AnswerConfig::new(anchor(), 30000, 42)
}

fn pt(n: u8) -> PayloadType {
    PayloadType::new(n).unwrap()
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// Answers `offer` with `config` and compares the answer's text (written with LF here for
/// legibility) and what was agreed.
fn check_answer(offer: &SessionDescription, config: &AnswerConfig, expect_sdp: &str, expect: Negotiated) {
    let (sdp, negotiated) = answer(offer, config).unwrap();
    assert_eq!(sdp.to_string(), expect_sdp.replace('\n', "\r\n"));
    assert_eq!(negotiated, expect);
    // What we write, we read back as written.
    assert_eq!(SessionDescription::parse(&sdp.to_bytes()).unwrap(), sdp);
}

#[test]
fn fixtures_round_trip_byte_for_byte() {
    // The fixtures are written in canonical form, so serializing gives the file back.
    for name in FIXTURES {
        assert_eq!(parse(name).to_bytes(), fixture(name), "{name}");
    }
}

#[test]
fn desk_phone_gets_pcmu_and_telephone_events() {
    let expect = "v=0
o=- 42 1 IN IP4 198.51.100.5
s=-
c=IN IP4 198.51.100.5
t=0 0
m=audio 30000 RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=ptime:20
a=sendrecv
";
    let negotiated = Negotiated {
        remote_addr: addr("192.0.2.51:11780"),
        law: Law::MuLaw,
        payload_type: pt(0),
        dtmf_payload_type: Some(pt(101)),
        ptime: 20,
        direction: Direction::SendRecv,
    };
    check_answer(&parse("desk_phone_offer.sdp"), &local(), expect, negotiated);
}

#[test]
fn our_codec_list_filters_but_the_offer_order_decides() {
    let config = AnswerConfig { codecs: vec![Law::ALaw], telephone_event: false, ..local() };
    let (sdp, negotiated) = answer(&parse("desk_phone_offer.sdp"), &config).unwrap();
    assert_eq!((negotiated.law, negotiated.payload_type, negotiated.dtmf_payload_type), (Law::ALaw, pt(8), None));
    assert_eq!(sdp.media[0].formats, ["8"]);
    // Both allowed: the phone listed PCMU first.
    let (_, negotiated) = answer(&parse("video_offer.sdp"), &local()).unwrap();
    assert_eq!(negotiated.law, Law::ALaw, "the softphone listed PCMA first");
}

#[test]
fn trunk_with_pcma_only_and_media_level_connection() {
    let expect = "v=0
o=- 42 1 IN IP4 198.51.100.5
s=-
c=IN IP4 198.51.100.5
t=0 0
m=audio 30000 RTP/AVP 8 101
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=ptime:20
a=sendrecv
";
    let negotiated = Negotiated {
        remote_addr: addr("198.51.100.21:34512"),
        law: Law::ALaw,
        payload_type: pt(8),
        dtmf_payload_type: Some(pt(101)),
        ptime: 20,
        direction: Direction::SendRecv,
    };
    check_answer(&parse("trunk_pcma_offer.sdp"), &local(), expect, negotiated);
}

#[test]
fn video_line_is_rejected_in_place() {
    let expect = "v=0
o=- 42 1 IN IP4 198.51.100.5
s=-
c=IN IP4 198.51.100.5
t=0 0
m=video 0 RTP/AVP 96
m=audio 30000 RTP/AVP 8 97
a=rtpmap:8 PCMA/8000
a=rtpmap:97 telephone-event/8000
a=fmtp:97 0-15
a=ptime:20
a=sendrecv
";
    let negotiated = Negotiated {
        remote_addr: addr("192.0.2.77:9076"),
        law: Law::ALaw,
        payload_type: pt(8),
        dtmf_payload_type: Some(pt(97)),
        ptime: 20,
        direction: Direction::SendRecv,
    };
    check_answer(&parse("video_offer.sdp"), &local(), expect, negotiated);
}

#[test]
fn g729_only_is_not_acceptable_here() {
    let err = answer(&parse("g729_only_offer.sdp"), &local()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "no common codec: the offer has G729/8000 (18), telephone-event/8000 (101), we accept PCMU, PCMA"
    );
    assert_eq!(err.sip_status(), Some(488));
}

#[test]
fn sendonly_offer_is_hold_and_answered_recvonly() {
    let expect = "v=0
o=- 42 2 IN IP4 198.51.100.5
s=-
c=IN IP4 198.51.100.5
t=0 0
m=audio 30000 RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=ptime:20
a=recvonly
";
    let negotiated = Negotiated {
        remote_addr: addr("192.0.2.51:11780"),
        law: Law::MuLaw,
        payload_type: pt(0),
        dtmf_payload_type: Some(pt(101)),
        ptime: 20,
        direction: Direction::RecvOnly,
    };
    let config = AnswerConfig { session_version: 2, ..local() };
    check_answer(&parse("hold_sendonly_offer.sdp"), &config, expect, negotiated);
    assert!(negotiated.is_held_by_peer());
}

#[test]
fn zero_address_offer_is_hold() {
    let expect = "v=0
o=- 42 1 IN IP4 198.51.100.5
s=-
c=IN IP4 198.51.100.5
t=0 0
m=audio 30000 RTP/AVP 0
a=rtpmap:0 PCMU/8000
a=ptime:20
a=recvonly
";
    let negotiated = Negotiated {
        remote_addr: addr("0.0.0.0:5004"),
        law: Law::MuLaw,
        payload_type: pt(0),
        dtmf_payload_type: None,
        ptime: 20,
        direction: Direction::RecvOnly,
    };
    check_answer(&parse("hold_zero_address_offer.sdp"), &local(), expect, negotiated);
}

fn offer_body(media: &str) -> SessionDescription {
    let body = format!("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n{media}");
    SessionDescription::parse(body.as_bytes()).unwrap()
}

#[test]
fn dynamic_payload_type_mapped_to_pcmu_is_accepted() {
    let offer = offer_body(
        "m=audio 5000 RTP/AVP 96 101\r\na=rtpmap:96 pcmu/8000\r\na=rtpmap:101 telephone-event/8000\r\na=ptime:30\r\n",
    );
    let (sdp, negotiated) = answer(&offer, &local()).unwrap();
    assert_eq!((negotiated.law, negotiated.payload_type, negotiated.ptime), (Law::MuLaw, pt(96), 30));
    assert_eq!(sdp.media[0].formats, ["96", "101"]);
    assert!(sdp.media[0].rtpmap(96).unwrap().is("PCMU", 8000));
}

#[test]
fn static_payload_type_remapped_elsewhere_is_not_taken_for_g711() {
    // A wrong but possible rtpmap: the mapping wins over the static table.
    let offer = offer_body("m=audio 5000 RTP/AVP 0 8\r\na=rtpmap:0 G729/8000\r\n");
    assert_eq!(answer(&offer, &local()).unwrap().1.payload_type, pt(8));
    // Telephone events at 48 kHz do not go with 8 kHz G.711.
    let offer = offer_body("m=audio 5000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/48000\r\n");
    assert_eq!(answer(&offer, &local()).unwrap().1.dtmf_payload_type, None);
}

#[test]
fn second_audio_and_srtp_lines_are_rejected() {
    let offer = offer_body(
        "m=audio 5000 RTP/SAVP 0\r\nm=audio 5002 RTP/AVP 8\r\nm=audio 5004 RTP/AVP 0\r\nm=image 0 udptl t38\r\n",
    );
    let (sdp, negotiated) = answer(&offer, &local()).unwrap();
    let lines: Vec<_> =
        sdp.media.iter().map(|m| format!("{} {} {} {:?}", m.media, m.port, m.proto, m.formats)).collect();
    assert_eq!(
        lines,
        [
            "audio 0 RTP/SAVP [\"0\"]",
            "audio 30000 RTP/AVP [\"8\"]",
            "audio 0 RTP/AVP [\"0\"]",
            "image 0 udptl [\"t38\"]"
        ]
    );
    assert_eq!(negotiated.remote_addr, addr("192.0.2.1:5002"));
}

#[test]
fn offers_without_usable_audio_are_errors() {
    let err = answer(&offer_body("m=audio 5000 RTP/SAVP 0\r\n"), &local()).unwrap_err();
    assert_eq!((err.clone(), err.sip_status()), (NegotiationError::NoAudio, Some(488)));
    assert_eq!(answer(&offer_body(""), &local()), Err(NegotiationError::NoAudio));
    assert_eq!(answer(&offer_body("m=audio 0 RTP/AVP 0\r\n"), &local()), Err(NegotiationError::NoAudio));
    let no_c = SessionDescription::parse(b"v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nm=audio 5000 RTP/AVP 0\r\n").unwrap();
    assert_eq!(answer(&no_c, &local()), Err(NegotiationError::NoConnection));
    // The first failure explains; a later usable stream still wins.
    let offer = offer_body("m=audio 5000 RTP/AVP 18\r\nm=audio 5002 RTP/AVP 8\r\n");
    assert_eq!(answer(&offer, &local()).unwrap().1.payload_type, pt(8));
}

#[test]
fn we_hold_while_answering() {
    let config = AnswerConfig { direction: Direction::SendOnly, ..local() };
    let (sdp, negotiated) = answer(&parse("desk_phone_offer.sdp"), &config).unwrap();
    assert_eq!(sdp.media[0].direction(), Some(Direction::SendOnly));
    assert_eq!(negotiated.direction, Direction::SendOnly);
    let (sdp, _) = answer(&parse("hold_sendonly_offer.sdp"), &config).unwrap();
    assert_eq!(sdp.media[0].direction(), Some(Direction::Inactive));
}

fn our_offer() -> SessionDescription {
    offer(&OfferConfig::new(anchor(), 30000, 77)).unwrap()
}

#[test]
fn offer_is_built_as_expected() {
    let expect = "v=0
o=- 77 1 IN IP4 198.51.100.5
s=-
c=IN IP4 198.51.100.5
t=0 0
m=audio 30000 RTP/AVP 0 8 101
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=ptime:20
a=sendrecv
";
    assert_eq!(our_offer().to_string(), expect.replace('\n', "\r\n"));
    let config = OfferConfig {
        address: "2001:db8::5".parse().unwrap(),
        codecs: vec![Law::ALaw, Law::ALaw],
        telephone_event: None,
        direction: Direction::SendOnly,
        session_version: 9,
        ..OfferConfig::new(anchor(), 30000, 77)
    };
    let v6 = offer(&config).unwrap().to_string();
    assert!(v6.starts_with("v=0\r\no=- 77 9 IN IP6 2001:db8::5\r\ns=-\r\nc=IN IP6 2001:db8::5\r\n"), "{v6}");
    assert!(v6.ends_with("m=audio 30000 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=ptime:20\r\na=sendonly\r\n"), "{v6}");
    let empty = OfferConfig { codecs: Vec::new(), ..config };
    assert_eq!(offer(&empty), Err(NegotiationError::NoCodecs));
}

#[test]
fn trunk_answer_to_our_offer() {
    let negotiated = process_answer(&our_offer(), &parse("answer_from_trunk.sdp")).unwrap();
    let expect = Negotiated {
        remote_addr: addr("198.51.100.21:36000"),
        law: Law::ALaw,
        payload_type: pt(8),
        dtmf_payload_type: Some(pt(101)),
        ptime: 30,
        direction: Direction::SendRecv,
    };
    assert_eq!(negotiated, expect);
}

#[test]
fn bad_answers_are_errors() {
    let offer = our_offer();
    let answer_with = |media: &str| offer_body(media);
    assert_eq!(process_answer(&offer, &answer_with("m=audio 0 RTP/AVP 0\r\n")), Err(NegotiationError::AudioRejected));
    assert_eq!(
        process_answer(&offer, &answer_with("")),
        Err(NegotiationError::MediaCountMismatch { offered: 1, answered: 0 })
    );
    let err = process_answer(&offer, &answer_with("m=audio 5000 RTP/AVP 18\r\n")).unwrap_err();
    assert_eq!(err.to_string(), "the answer's audio stream has none of the codecs we offered (it has G729 (18))");
    assert_eq!(err.sip_status(), None);
    // Telephone events the answer names but we did not offer are not used.
    let got = process_answer(&offer, &answer_with("m=audio 5000 RTP/AVP 0 96\r\na=rtpmap:96 telephone-event/8000\r\n"));
    assert_eq!(got.unwrap().dtmf_payload_type, None);
}

#[test]
fn answers_to_our_hold_and_theirs() {
    let hold = offer(&OfferConfig { direction: Direction::SendOnly, ..OfferConfig::new(anchor(), 30000, 77) }).unwrap();
    let recvonly = offer_body("m=audio 5000 RTP/AVP 0\r\na=recvonly\r\n");
    assert_eq!(process_answer(&hold, &recvonly).unwrap().direction, Direction::SendOnly);
    let inactive = offer_body("m=audio 5000 RTP/AVP 0\r\na=inactive\r\n");
    assert_eq!(process_answer(&our_offer(), &inactive).unwrap().direction, Direction::Inactive);
    let zero = SessionDescription::parse(
        b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n",
    )
    .unwrap();
    let negotiated = process_answer(&our_offer(), &zero).unwrap();
    assert_eq!(negotiated.direction, Direction::RecvOnly);
    assert!(negotiated.is_held_by_peer());
}

/// Applies byte edits to a fixture: delete, insert or overwrite at a position.
fn mutated() -> impl Strategy<Value = Vec<u8>> {
    let edits = prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, any::<u8>()), 1..6);
    (prop::sample::select(FIXTURES), edits).prop_map(|(name, edits)| {
        let mut bytes = fixture(name);
        for (at, op, byte) in edits {
            // Printable bytes and line ends most of the time, so more mutants parse.
            let byte = match byte % 4 {
                0 => byte,
                1 => b"\r\n =:/0123456789"[usize::from(byte % 16)],
                _ => 0x20 + byte % 0x5F,
            };
            let at = at.index(bytes.len() + 1);
            match op {
                0 if at < bytes.len() => {
                    bytes.remove(at);
                }
                1 => bytes.insert(at, byte),
                _ if at < bytes.len() => bytes[at] = byte,
                _ => bytes.push(byte),
            }
        }
        bytes
    })
}

/// Whatever parses: it serializes to a body that parses to the same value, and answering
/// and processing our own answer do not panic and agree.
fn check_stable(bytes: &[u8]) -> Result<(), TestCaseError> {
    let Ok(sdp) = SessionDescription::parse(bytes) else { return Ok(()) };
    let again = SessionDescription::parse(&sdp.to_bytes());
    prop_assert_eq!(again.as_ref(), Ok(&sdp), "{}", sdp);
    if let Ok((ours, negotiated)) = answer(&sdp, &local()) {
        prop_assert_eq!(SessionDescription::parse(&ours.to_bytes()), Ok(ours.clone()));
        let processed = process_answer(&sdp, &ours);
        prop_assert_eq!(
            processed.map(|n| (n.law, n.dtmf_payload_type)),
            Ok((negotiated.law, negotiated.dtmf_payload_type))
        );
    }
    Ok(())
}

/// A line that is often valid SDP: known line types with plausible values, attributes with
/// known and unknown names and values that have spaces at either end.
fn sdp_line() -> impl Strategy<Value = String> {
    let text = "[ -~]{0,20}";
    let attribute_name = prop::sample::select(
        &["rtpmap", "fmtp", "ptime", "maxptime", "rtcp", "sendrecv", "sendonly", "recvonly", "inactive", "x-y"][..],
    );
    let attribute_value = prop_oneof![
        Just(String::new()),
        "[0-9]{1,3}",
        "[0-9]{1,3} [A-Za-z-]{1,8}/[0-9]{1,5}(/[0-9])?",
        "[0-9]{1,3} [ -~]{0,12}",
        text,
    ];
    prop_oneof![
        (attribute_name, any::<bool>(), attribute_value).prop_map(|(n, colon, v)| if colon {
            format!("a={n}:{v}")
        } else {
            format!("a={n}")
        }),
        (prop::sample::select(&["i", "u", "e", "p", "k", "z", "r"][..]), text).prop_map(|(l, v)| format!("{l}={v}")),
        (0u32..70000, "( [0-9]{1,3}){0,4}", prop::sample::select(&["audio", "video", "image"][..]))
            .prop_map(|(port, formats, media)| format!("m={media} {port} RTP/AVP{formats}")),
        (any::<bool>(), any::<[u8; 4]>()).prop_map(|(zero, ip)| if zero {
            "c=IN IP4 0.0.0.0".to_owned()
        } else {
            format!("c=IN IP4 {}.{}.{}.{}", ip[0], ip[1], ip[2], ip[3])
        }),
        Just("c=IN IP6 2001:db8::7".to_owned()),
        (any::<u32>(), any::<u32>()).prop_map(|(a, b)| format!("t={a} {b}")),
        (0u32..1000).prop_map(|kbps| format!("b=AS:{kbps}")),
    ]
}

proptest! {
    #[test]
    fn sdp_parse_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        check_stable(&bytes)?;
    }

    #[test]
    fn mutated_fixtures_never_panic_and_round_trip(bytes in mutated()) {
        check_stable(&bytes)?;
    }

    #[test]
    fn sdp_shaped_lines_round_trip(lines in prop::collection::vec(sdp_line(), 0..16)) {
        let mut body = String::from("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n");
        for line in lines {
            body.push_str(&line);
            body.push_str("\r\n");
        }
        check_stable(body.as_bytes())?;
    }

    #[test]
    fn our_offers_are_answered_with_what_we_prefer(
        first_alaw: bool, both: bool, te in prop::option::of(96u8..128), ptime in 10u32..61,
        version: u64, port in 1u16..,
    ) {
        let (first, second) = if first_alaw { (Law::ALaw, Law::MuLaw) } else { (Law::MuLaw, Law::ALaw) };
        let codecs = if both { vec![first, second] } else { vec![first] };
        let config = OfferConfig {
            codecs, telephone_event: te.map(pt), ptime, session_version: version,
            ..OfferConfig::new(anchor(), port, 5)
        };
        let ours = offer(&config).unwrap();
        prop_assert_eq!(SessionDescription::parse(&ours.to_bytes()), Ok(ours.clone()));
        let (theirs, negotiated) = answer(&ours, &AnswerConfig::new("192.0.2.9".parse().unwrap(), 4000, 1)).unwrap();
        prop_assert_eq!(negotiated.law, first);
        prop_assert_eq!(negotiated.dtmf_payload_type, config.telephone_event);
        prop_assert_eq!(negotiated.ptime, ptime);
        prop_assert_eq!(negotiated.remote_addr, SocketAddr::new(anchor(), port));
        let back = process_answer(&ours, &theirs).unwrap();
        prop_assert_eq!((back.law, back.dtmf_payload_type, back.direction), (first, config.telephone_event, Direction::SendRecv));
        prop_assert_eq!(back.remote_addr, addr("192.0.2.9:4000"));
    }
}
