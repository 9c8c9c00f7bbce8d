//! Media building blocks for voice calls: G.711 companding, RTP packets, DTMF as RFC 4733
//! telephone events, WAV files as bytes, a 20 ms packetizer for prompts, and SDP with the
//! offer/answer rules that pick a call's codec.
//!
//! Everything here is sans-IO: parsers take `&[u8]`, writers return `Vec<u8>`, and the
//! state machines ([`DtmfSender`], [`DtmfReceiver`], [`Player`], [`Bridge`]) take `now` as
//! an input and are drained with `poll_*`. A driver owns the UDP sockets, the files and the
//! timers. Standards followed: RFC 3550 (RTP), RFC 3551 (audio profile), RFC 4733
//! (telephone events), RFC 8866 (SDP), RFC 3264 (offer/answer), ITU-T G.711.
//!
//! **Invariant:** no function in this crate reads a clock, does I/O, or panics on any input
//! bytes; malformed input is an error value.
//!
//! Playing a prompt under a virtual clock:
//!
//! ```
//! use std::sync::Arc;
//! use sb_media::{Law, Player, PlayerConfig, RtpPacket, Timestamp, Wav};
//!
//! // A 50 ms prompt, as a WAV file would arrive from storage.
//! let file = Wav::Pcm16(vec![0; 400]).to_bytes().unwrap();
//! let samples: Arc<[u8]> = Wav::parse(&file).unwrap().to_g711(Law::MuLaw).into();
//! let mut player = Player::new(samples, PlayerConfig::new(Law::MuLaw, 0x1234, 1, 0));
//! player.start(Timestamp::ZERO);
//! let mut sent = Vec::new();
//! while let Some(at) = player.poll_timeout() {
//!     while let Some(bytes) = player.poll_packet(at) {
//!         sent.push((at.as_millis(), RtpPacket::parse(&bytes).unwrap().header.sequence));
//!     }
//! }
//! assert_eq!(sent, [(0, 1), (20, 2), (40, 3)]);
//! assert!(player.finished());
//! ```

pub mod dtmf;
pub mod g711;
pub mod pacer;
pub mod relay;
pub mod rtp;
pub mod sdp;
mod time;
pub mod wav;

pub use dtmf::{
    Digit, DtmfError, DtmfPacket, DtmfReceiver, DtmfSender, DtmfSenderConfig, ReceivedDigit, TelephoneEvent,
};
pub use g711::Law;
pub use pacer::{Player, PlayerConfig};
pub use relay::{Bridge, BridgeConfig, BridgeError};
pub use rtp::{Extension, PayloadType, RtpError, RtpHeader, RtpPacket, SeqUnwrapper};
pub use sdp::{
    AnswerConfig, Direction, MediaDescription, Negotiated, NegotiationError, OfferConfig, SdpError, SessionDescription,
};
pub use time::Timestamp;
pub use wav::{Wav, WavError};
