//! Relaying RTP from one call leg to another without transcoding, as a back-to-back user
//! agent does: the far leg sees one continuous stream of its own.
//!
//! A [`Bridge`] takes packets received on leg A with [`Bridge::handle_packet`] and queues
//! the rewritten packets for leg B, drained with [`Bridge::poll_transmit`]. It replaces the
//! SSRC with leg B's, and maps sequence numbers and timestamps so that they continue across
//! a change of source on leg A (a re-INVITE, a switch from a prompt server to the agent):
//! the new source's first packet gets the next sequence number, a timestamp advanced by the
//! wall time since the previous packet, and the marker bit. Payload types are mapped by a
//! table, because each leg negotiates its own numbers (telephone-event may be 101 on one leg
//! and 96 on the other); a payload type without a mapping means the codecs do not match,
//! and the packet is refused so that the owner can transcode or drop it. CSRC lists, header
//! extensions and padding are not forwarded, since they belong to leg A's session.

use std::collections::VecDeque;

use thiserror::Error;

use crate::rtp::{PayloadType, RtpError, RtpHeader, RtpPacket, SeqUnwrapper};
use crate::time::Timestamp;

/// Why a packet from leg A was not forwarded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BridgeError {
    #[error("malformed RTP from leg A: {0}")]
    Rtp(#[from] RtpError),
    #[error("payload type {0} has no mapping to leg B (codecs do not match)")]
    UnmappedPayloadType(u8),
    #[error("RTP packet from before the start of its source's stream")]
    TooOld,
}

/// Leg B's stream as the bridge writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeConfig {
    /// The SSRC of the stream sent on leg B.
    pub ssrc: u32,
    pub first_sequence: u16,
    pub first_timestamp: u32,
    /// The RTP clock rate of the codecs, used to advance timestamps across a change of
    /// source (8000 for G.711 and telephone-event/8000).
    pub clock_rate: u32,
    /// Leg A's payload types and the matching ones on leg B.
    pub payload_types: Vec<(PayloadType, PayloadType)>,
}

/// Forwards RTP from leg A to leg B (see the module documentation).
#[derive(Debug)]
pub struct Bridge {
    config: BridgeConfig,
    source: Option<Source>,
    /// The extended output sequence number of the next new source's first packet.
    next_sequence: u64,
    /// The highest output timestamp and when it was sent, to continue after a new source.
    last_out: Option<(u32, Timestamp)>,
    transmits: VecDeque<Vec<u8>>,
}

/// The current source on leg A and how its numbers map to leg B's.
#[derive(Debug)]
struct Source {
    ssrc: u32,
    unwrapper: SeqUnwrapper,
    first_in: u64,
    first_out: u64,
    first_ts_in: u32,
    first_ts_out: u32,
    highest_out: u64,
}

impl Bridge {
    pub fn new(config: BridgeConfig) -> Bridge {
        let next_sequence = u64::from(config.first_sequence);
        Bridge { config, source: None, next_sequence, last_out: None, transmits: VecDeque::new() }
    }

    /// Takes one datagram received on leg A at `now`. On success the rewritten packet is
    /// queued for [`Bridge::poll_transmit`]; on error nothing changes.
    pub fn handle_packet(&mut self, now: Timestamp, bytes: &[u8]) -> Result<(), BridgeError> {
        let packet = RtpPacket::parse(bytes)?;
        let h = &packet.header;
        let out_pt = self
            .config
            .payload_types
            .iter()
            .find(|(a, _)| *a == h.payload_type)
            .map(|&(_, b)| b)
            .ok_or(BridgeError::UnmappedPayloadType(h.payload_type.get()))?;

        let mut new_source = false;
        if self.source.as_ref().is_none_or(|s| s.ssrc != h.ssrc) {
            new_source = true;
            let first_ts_out = match self.last_out {
                None => self.config.first_timestamp,
                Some((ts, at)) => {
                    let elapsed = now.since(at).as_millis().max(1);
                    let samples = elapsed.saturating_mul(u128::from(self.config.clock_rate)) / 1000;
                    ts.wrapping_add(samples as u32)
                }
            };
            let first_in = u64::from(h.sequence);
            let mut unwrapper = SeqUnwrapper::new();
            unwrapper.unwrap(h.sequence);
            self.source = Some(Source {
                ssrc: h.ssrc,
                unwrapper,
                first_in,
                first_out: self.next_sequence,
                first_ts_in: h.timestamp,
                first_ts_out,
                highest_out: self.next_sequence,
            });
        }
        let Some(source) = self.source.as_mut() else { return Ok(()) };
        let extended = if new_source { Some(source.first_in) } else { source.unwrapper.unwrap(h.sequence) };
        let extended = extended.filter(|&e| e >= source.first_in).ok_or(BridgeError::TooOld)?;
        let out_ext = source.first_out + (extended - source.first_in);
        let timestamp = source.first_ts_out.wrapping_add(h.timestamp.wrapping_sub(source.first_ts_in));
        let mut header = RtpHeader::new(out_pt, out_ext as u16, timestamp, self.config.ssrc);
        header.marker = h.marker || new_source;
        if out_ext >= source.highest_out {
            source.highest_out = out_ext;
            self.next_sequence = out_ext + 1;
            self.last_out = Some((timestamp, now));
        }
        self.transmits.push_back(header.serialize(packet.payload));
        Ok(())
    }

    /// The next packet to send on leg B.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmits.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pt(n: u8) -> PayloadType {
        PayloadType::new(n).unwrap()
    }

    fn bridge() -> Bridge {
        Bridge::new(BridgeConfig {
            ssrc: 0xB,
            first_sequence: 1000,
            first_timestamp: 50_000,
            clock_rate: 8000,
            payload_types: vec![(pt(0), pt(0)), (pt(101), pt(96))],
        })
    }

    fn packet(ssrc: u32, seq: u16, ts: u32, pt_in: u8) -> Vec<u8> {
        RtpHeader::new(pt(pt_in), seq, ts, ssrc)
            .with_csrc(vec![9])
            .unwrap()
            .serialize_padded(&[1, 2, 3], std::num::NonZeroU8::new(1).unwrap())
    }

    /// Sends packets through the bridge and returns (marker, pt, seq, ts, ssrc) of each output.
    fn forward(b: &mut Bridge, now: u64, bytes: &[u8]) -> (bool, u8, u16, u32, u32) {
        b.handle_packet(Timestamp::from_millis(now), bytes).unwrap();
        let out = b.poll_transmit().unwrap();
        let p = RtpPacket::parse(&out).unwrap();
        assert_eq!(p.payload, &[1, 2, 3]);
        assert!(p.header.csrc().is_empty());
        assert_eq!(p.padding, 0);
        let h = p.header;
        (h.marker, h.payload_type.get(), h.sequence, h.timestamp, h.ssrc)
    }

    #[test]
    fn rewrites_ssrc_sequence_and_timestamp() {
        let mut b = bridge();
        assert_eq!(forward(&mut b, 0, &packet(0xA, 65535, 7, 0)), (true, 0, 1000, 50_000, 0xB));
        assert_eq!(forward(&mut b, 20, &packet(0xA, 0, 167, 0)), (false, 0, 1001, 50_160, 0xB));
        // Reordered: 2 before 1.
        assert_eq!(forward(&mut b, 40, &packet(0xA, 2, 487, 0)), (false, 0, 1003, 50_480, 0xB));
        assert_eq!(forward(&mut b, 41, &packet(0xA, 1, 327, 0)), (false, 0, 1002, 50_320, 0xB));
        assert_eq!(forward(&mut b, 42, &packet(0xA, 3, 327, 101)), (false, 96, 1004, 50_320, 0xB));
    }

    #[test]
    fn continues_across_a_change_of_source() {
        let mut b = bridge();
        forward(&mut b, 0, &packet(0xA, 10, 0, 0));
        forward(&mut b, 20, &packet(0xA, 11, 160, 0));
        // A new source 100 ms later, with unrelated numbers.
        assert_eq!(forward(&mut b, 120, &packet(0xC, 5000, 999_999, 0)), (true, 0, 1002, 50_160 + 800, 0xB));
        assert_eq!(forward(&mut b, 140, &packet(0xC, 5001, 1_000_159, 0)), (false, 0, 1003, 50_960 + 160, 0xB));
    }

    #[test]
    fn refuses_unmapped_payload_types_and_old_packets() {
        let mut b = bridge();
        let now = Timestamp::ZERO;
        assert_eq!(b.handle_packet(now, &packet(0xA, 1, 0, 8)), Err(BridgeError::UnmappedPayloadType(8)));
        assert_eq!(b.handle_packet(now, &[0x80]), Err(BridgeError::Rtp(RtpError::TooShort { len: 1 })));
        b.handle_packet(now, &packet(0xA, 10, 0, 0)).unwrap();
        assert_eq!(b.handle_packet(now, &packet(0xA, 9, 0, 0)), Err(BridgeError::TooOld));
        assert!(b.poll_transmit().is_some());
        assert_eq!(b.poll_transmit(), None);
    }
}
