//! Prompt playback: a [`Player`] cuts G.711 audio into 20 ms RTP packets and hands them out
//! at the pace of the owner's clock.
//!
//! Packet `k` of a prompt is due `20·k` ms after [`Player::start`]; its sequence number is
//! the first one plus `k` and its RTP timestamp the first one plus `160·k` (8 kHz), both
//! wrapping. If the owner polls late (a busy task, a clock jump), every packet that is due
//! comes out at once, with the timestamps of the schedule, but never one ahead of time.
//! The first packet carries the marker bit, as the start of a talkspurt (RFC 3551 §4.1),
//! and a last partial frame is padded with the law's silence.

use std::sync::Arc;

use crate::g711::Law;
use crate::rtp::{PayloadType, RtpHeader};
use crate::time::Timestamp;

/// Samples, and so bytes of G.711, in one 20 ms packet at 8 kHz.
pub const SAMPLES_PER_PACKET: usize = 160;
/// The packet interval in milliseconds.
pub const PACKET_MS: u64 = 20;

/// The stream a [`Player`] sends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlayerConfig {
    /// The law of the samples, which decides the silence used for padding.
    pub law: Law,
    pub payload_type: PayloadType,
    pub ssrc: u32,
    /// The sequence number of the first packet.
    pub first_sequence: u16,
    /// The RTP timestamp of the first packet.
    pub first_timestamp: u32,
}

impl PlayerConfig {
    /// A stream with the law's static payload type (0 for µ-law, 8 for A-law).
    pub fn new(law: Law, ssrc: u32, first_sequence: u16, first_timestamp: u32) -> PlayerConfig {
        let payload_type = if law == Law::MuLaw { PayloadType::PCMU } else { PayloadType::PCMA };
        PlayerConfig { law, payload_type, ssrc, first_sequence, first_timestamp }
    }
}

/// Plays one prompt as a paced series of RTP packets.
#[derive(Debug)]
pub struct Player {
    /// Shared so that many calls can play the same cached prompt without copying it.
    samples: Arc<[u8]>,
    config: PlayerConfig,
    started: Option<Timestamp>,
    /// Packets handed out so far.
    sent: u64,
    total: u64,
}

impl Player {
    pub fn new(samples: Arc<[u8]>, config: PlayerConfig) -> Player {
        let total = samples.len().div_ceil(SAMPLES_PER_PACKET) as u64;
        Player { samples, config, started: None, sent: 0, total }
    }

    /// Starts playback at `now`: the first packet is due at once. Starting again does
    /// nothing; the schedule stays that of the first start.
    pub fn start(&mut self, now: Timestamp) {
        self.started.get_or_insert(now);
    }

    fn due(&self, start: Timestamp, packet: u64) -> Timestamp {
        start.after_millis(packet.saturating_mul(PACKET_MS))
    }

    /// The next serialized RTP packet if one is due at `now`. Call until `None`.
    pub fn poll_packet(&mut self, now: Timestamp) -> Option<Vec<u8>> {
        let start = self.started?;
        let k = self.sent;
        if k >= self.total || self.due(start, k) > now {
            return None;
        }
        let mut header =
            RtpHeader::new(self.config.payload_type, self.sequence_of(k), self.timestamp_of(k), self.config.ssrc);
        header.marker = k == 0;
        // `k < total`, so the offset is within the samples.
        let from = k as usize * SAMPLES_PER_PACKET;
        let chunk = &self.samples[from..(from + SAMPLES_PER_PACKET).min(self.samples.len())];
        let mut packet = header.serialize(chunk);
        packet.resize(header.len() + SAMPLES_PER_PACKET, self.config.law.silence());
        self.sent += 1;
        Some(packet)
    }

    /// When the next packet is due, or `None` before the start and after the end.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        let start = self.started?;
        (self.sent < self.total).then(|| self.due(start, self.sent))
    }

    /// Whether every packet of the prompt has been handed out.
    pub fn finished(&self) -> bool {
        self.sent >= self.total
    }

    /// The sequence number the packet after the prompt's packets sent so far would have, to
    /// continue the stream with the next prompt.
    pub fn next_sequence(&self) -> u16 {
        self.sequence_of(self.sent)
    }

    /// The RTP timestamp right after the audio sent so far.
    pub fn next_timestamp(&self) -> u32 {
        self.timestamp_of(self.sent)
    }

    fn sequence_of(&self, k: u64) -> u16 {
        self.config.first_sequence.wrapping_add(k as u16)
    }

    fn timestamp_of(&self, k: u64) -> u32 {
        self.config.first_timestamp.wrapping_add((k as u32).wrapping_mul(SAMPLES_PER_PACKET as u32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtp::RtpPacket;

    fn player(len: usize, law: Law, seq: u16, ts: u32) -> Player {
        let samples: Arc<[u8]> = (0..len).map(|i| (i % 200) as u8).collect::<Vec<_>>().into();
        Player::new(samples, PlayerConfig::new(law, 0xABCD, seq, ts))
    }

    /// Runs the player on a virtual clock in steps of `step` ms from `from` until `until`
    /// (exclusive), returning each packet with the time it came out.
    fn run(p: &mut Player, from: u64, until: u64, step: u64) -> Vec<(u64, Vec<u8>)> {
        let mut out = Vec::new();
        let mut ms = from;
        while ms < until {
            while let Some(packet) = p.poll_packet(Timestamp::from_millis(ms)) {
                out.push((ms, packet));
            }
            ms += step;
        }
        out
    }

    #[test]
    fn sends_fifty_packets_per_second() {
        let mut p = player(8000 * 3, Law::MuLaw, 0, 0);
        p.start(Timestamp::from_millis(1000));
        assert_eq!(run(&mut p, 1000, 2000, 1).len(), 50);
        assert_eq!(run(&mut p, 2000, 3000, 7).len(), 50);
        assert!(!p.finished());
        assert_eq!(p.poll_timeout(), Some(Timestamp::from_millis(3000)));
        assert_eq!(run(&mut p, 3000, 5000, 1).len(), 50);
        assert!(p.finished());
        assert_eq!(p.poll_timeout(), None);
    }

    #[test]
    fn numbers_packets_and_marks_the_first() {
        let mut p = player(800, Law::MuLaw, 65534, u32::MAX - 159);
        p.start(Timestamp::ZERO);
        let got = run(&mut p, 0, 200, 1);
        assert_eq!(got.len(), 5);
        for (k, (ms, bytes)) in got.iter().enumerate() {
            let packet = RtpPacket::parse(bytes).unwrap();
            assert_eq!(*ms, 20 * k as u64);
            assert_eq!(packet.header.sequence, 65534u16.wrapping_add(k as u16));
            assert_eq!(packet.header.timestamp, (u32::MAX - 159).wrapping_add(160 * k as u32));
            assert_eq!(packet.header.marker, k == 0);
            assert_eq!(packet.header.payload_type, PayloadType::PCMU);
            assert_eq!(packet.header.ssrc, 0xABCD);
            assert_eq!(packet.payload.len(), 160);
            assert_eq!(packet.payload[0], ((160 * k) % 200) as u8);
        }
        assert_eq!(p.next_sequence(), 3);
        assert_eq!(p.next_timestamp(), 640);
    }

    #[test]
    fn catches_up_after_a_jump_but_never_runs_ahead() {
        let mut p = player(8000, Law::ALaw, 0, 0);
        assert_eq!(p.poll_packet(Timestamp::from_millis(500)), None, "not started");
        assert_eq!(p.poll_timeout(), None);
        p.start(Timestamp::ZERO);
        assert!(p.poll_packet(Timestamp::ZERO).is_some());
        assert_eq!(p.poll_packet(Timestamp::from_millis(19)), None);
        // Polled next at 105 ms: packets due at 20, 40, 60, 80 and 100 all come out.
        let got = run(&mut p, 105, 106, 1);
        assert_eq!(got.len(), 5);
        let seqs: Vec<u16> = got.iter().map(|g| RtpPacket::parse(&g.1).unwrap().header.sequence).collect();
        assert_eq!(seqs, [1, 2, 3, 4, 5]);
        assert_eq!(p.poll_timeout(), Some(Timestamp::from_millis(120)));
    }

    #[test]
    fn pads_the_last_frame_with_silence() {
        for (law, silence) in [(Law::MuLaw, 0xFF), (Law::ALaw, 0xD5)] {
            let mut p = player(170, law, 0, 0);
            p.start(Timestamp::ZERO);
            let got = run(&mut p, 0, 100, 1);
            assert_eq!(got.len(), 2);
            let last = RtpPacket::parse(&got[1].1).unwrap();
            assert_eq!(last.header.payload_type.get(), law.payload_type());
            assert_eq!(last.payload.len(), 160);
            assert_eq!(&last.payload[..10], &[160, 161, 162, 163, 164, 165, 166, 167, 168, 169]);
            assert!(last.payload[10..].iter().all(|&b| b == silence));
        }
    }

    #[test]
    fn empty_prompt_is_finished_at_once() {
        let mut p = player(0, Law::MuLaw, 0, 0);
        p.start(Timestamp::ZERO);
        assert!(p.finished());
        assert_eq!(p.poll_packet(Timestamp::from_millis(1000)), None);
        assert_eq!(p.poll_timeout(), None);
    }

    #[test]
    fn restarting_keeps_the_schedule() {
        let mut p = player(1600, Law::MuLaw, 0, 0);
        p.start(Timestamp::ZERO);
        p.start(Timestamp::from_millis(1000));
        assert_eq!(run(&mut p, 0, 100, 1).len(), 5);
    }
}
