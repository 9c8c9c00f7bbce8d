//! Media input as a peer can send it: an SDP body (parsed, written back, answered), an RTP
//! packet and a WAV file. Nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sb_media::sdp::answer;
use sb_media::{AnswerConfig, RtpPacket, SessionDescription, Wav};

fuzz_target!(|data: &[u8]| {
    if let Ok(sdp) = SessionDescription::parse(data) {
        let bytes = sdp.to_bytes();
        assert!(SessionDescription::parse(&bytes).is_ok(), "what we write must read back");
        let local = AnswerConfig::new("192.0.2.1".parse().expect("an address"), 40_000, 1);
        let _ = answer(&sdp, &local);
    }
    let _ = RtpPacket::parse(data);
    let _ = Wav::parse(data);
});
