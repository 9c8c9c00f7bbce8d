//! Property tests: the parsers and state machines take arbitrary bytes without panicking,
//! and what the writers produce parses back.

use proptest::prelude::*;
use sb_media::dtmf::TelephoneEvent;
use sb_media::rtp::{Extension, PayloadType, RtpHeader, RtpPacket};
use sb_media::{Bridge, BridgeConfig, Digit, DtmfReceiver, DtmfSender, DtmfSenderConfig, Law, Timestamp, Wav};

/// Bytes that start like a WAV file more often than random ones would.
fn wavish() -> impl Strategy<Value = Vec<u8>> {
    (any::<u32>(), prop::collection::vec(any::<u8>(), 0..200), any::<bool>()).prop_map(|(len, body, header)| {
        if !header {
            return body;
        }
        let mut out = b"RIFF".to_vec();
        out.extend_from_slice(&(len % 256).to_le_bytes());
        out.extend_from_slice(b"WAVEfmt ");
        out.extend(body);
        out
    })
}

proptest! {
    #[test]
    fn rtp_parse_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..100)) {
        if let Ok(p) = RtpPacket::parse(&bytes) {
            prop_assert!(p.header.len() + p.payload.len() + usize::from(p.padding) == bytes.len());
        }
    }

    #[test]
    fn rtp_v2_parse_never_panics(mut bytes in prop::collection::vec(any::<u8>(), 1..100)) {
        bytes[0] = 0x80 | (bytes[0] & 0x3F);
        let _ = RtpPacket::parse(&bytes);
    }

    #[test]
    fn rtp_serialize_parses_back(
        pt in 0u8..128, seq: u16, ts: u32, ssrc: u32, marker: bool,
        csrc in prop::collection::vec(any::<u32>(), 0..16),
        ext in prop::option::of((any::<u16>(), prop::collection::vec(any::<u8>(), 0..5))),
        payload in prop::collection::vec(any::<u8>(), 0..50),
    ) {
        let mut h = RtpHeader::new(PayloadType::new(pt).unwrap(), seq, ts, ssrc).with_csrc(csrc).unwrap();
        h.marker = marker;
        if let Some((profile, words)) = ext {
            let data = words.iter().flat_map(|&w| [w; 4]).collect();
            h = h.with_extension(Extension::new(profile, data).unwrap());
        }
        let bytes = h.serialize(&payload);
        let p = RtpPacket::parse(&bytes).unwrap();
        prop_assert_eq!(p.header, h);
        prop_assert_eq!(p.payload, &payload[..]);
    }

    #[test]
    fn telephone_event_parse_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..10)) {
        if let Ok(e) = TelephoneEvent::parse(&bytes) {
            prop_assert_eq!(&e.to_bytes()[..], &[bytes[0], bytes[1] & 0xBF, bytes[2], bytes[3]][..]);
        }
    }

    #[test]
    fn dtmf_receiver_reports_each_timestamp_at_most_once(
        packets in prop::collection::vec(
            (0u64..2000, 0u32..5, any::<u16>(), prop::collection::vec(any::<u8>(), 0..6)),
            0..60,
        ),
    ) {
        let mut r = DtmfReceiver::new();
        let mut seen = Vec::new();
        for (now, ts, seq, payload) in packets {
            let now = Timestamp::from_millis(now);
            r.handle_timeout(now);
            let _ = r.handle_packet(now, ts * 800, seq, &payload);
            while let Some(d) = r.poll_digit() {
                prop_assert!(!seen.contains(&d.timestamp), "timestamp {} reported twice", d.timestamp);
                seen.push(d.timestamp);
            }
        }
    }

    #[test]
    fn wav_parse_never_panics(bytes in wavish()) {
        let _ = Wav::parse(&bytes);
    }

    #[test]
    fn wav_write_parses_back(samples in prop::collection::vec(any::<i16>(), 0..300), law in 0u8..3) {
        let wav = match law {
            0 => Wav::Pcm16(samples),
            1 => Wav::G711 { law: Law::MuLaw, samples: samples.iter().map(|&s| s as u8).collect() },
            _ => Wav::G711 { law: Law::ALaw, samples: samples.iter().map(|&s| s as u8).collect() },
        };
        prop_assert_eq!(Wav::parse(&wav.to_bytes().unwrap()).unwrap(), wav);
    }

    #[test]
    fn bridge_never_panics(
        packets in prop::collection::vec((any::<u64>(), prop::collection::vec(any::<u8>(), 0..40)), 0..30),
    ) {
        let mut b = Bridge::new(BridgeConfig {
            ssrc: 1,
            first_sequence: 65530,
            first_timestamp: u32::MAX - 10,
            clock_rate: 8000,
            payload_types: (0..128).map(|n| (PayloadType::new(n).unwrap(), PayloadType::new(n).unwrap())).collect(),
        });
        for (now, mut bytes) in packets {
            if let Some(first) = bytes.first_mut() {
                *first = 0x80 | (*first & 0x0F);
            }
            let _ = b.handle_packet(Timestamp::from_millis(now), &bytes);
            while let Some(out) = b.poll_transmit() {
                prop_assert!(RtpPacket::parse(&out).is_ok());
            }
        }
    }

    #[test]
    fn dtmf_sender_ends_every_tone_with_three_end_packets(
        tone_ms: u32, interval_ms: u32, gap_ms in 0u32..1000, clock_rate in 0u32..100_000, origin_rtp: u32,
        presses in prop::collection::vec((0u8..16, 0u64..500), 1..4),
    ) {
        let config = DtmfSenderConfig { tone_ms, interval_ms, gap_ms, volume: 63, clock_rate };
        let mut s = DtmfSender::new(config, Timestamp::ZERO, origin_rtp);
        let mut now = Timestamp::ZERO;
        for (event, delay) in &presses {
            now = now.after_millis(*delay);
            s.start(now, Digit::from_event(*event).unwrap());
        }
        let mut ends = 0;
        while let Some(due) = s.poll_timeout() {
            now = now.max(due);
            let mut sent = 0;
            while let Some(p) = s.poll_packet(now) {
                ends += usize::from(p.payload[1] & 0x80 != 0);
                sent += 1;
            }
            prop_assert!(sent > 0, "nothing due at the time poll_timeout gave");
        }
        prop_assert_eq!(ends, 3 * presses.len());
        prop_assert!(s.is_idle());
    }
}
