//! RTP packets (RFC 3550 §5.1): parsing from bytes, serializing, and the wrap-around
//! arithmetic of 16-bit sequence numbers and 32-bit timestamps.
//!
//! [`RtpPacket::parse`] borrows the payload from the datagram and checks everything the
//! header claims against the bytes that are there: version 2, the CSRC list, the extension
//! header and its length, and the padding count. [`RtpHeader::serialize`] writes a packet
//! back. Sequence numbers and timestamps wrap, so comparisons go through
//! [`SeqUnwrapper`], [`seq_diff`] and [`ts_diff`] rather than `<`.

use thiserror::Error;

/// The fixed part of an RTP header, in bytes.
pub const FIXED_HEADER_LEN: usize = 12;

/// A malformed RTP packet, or a header that cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RtpError {
    #[error("RTP packet of {len} bytes is shorter than the 12-byte fixed header")]
    TooShort { len: usize },
    #[error("RTP version is {version}, expected 2")]
    BadVersion { version: u8 },
    #[error("RTP header announces {count} CSRCs but the packet ends after {len} bytes")]
    TruncatedCsrc { count: usize, len: usize },
    #[error("RTP header extension does not fit in the packet of {len} bytes")]
    TruncatedExtension { len: usize },
    #[error("RTP padding count is {count} but only {available} bytes follow the header")]
    BadPadding { count: usize, available: usize },
    #[error("an RTP header holds at most 15 CSRCs, got {count}")]
    TooManyCsrcs { count: usize },
    #[error("RTP extension data must be a multiple of 4 bytes and at most 262140, got {len}")]
    BadExtensionLength { len: usize },
    #[error("RTP payload type must be 0..=127, got {0}")]
    BadPayloadType(u8),
}

/// An RTP payload type, 0..=127 (RFC 3551 §6 assigns 0 to PCMU and 8 to PCMA; 96..=127
/// are dynamic, used for example for telephone-event).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PayloadType(u8);

impl PayloadType {
    pub const PCMU: PayloadType = PayloadType(0);
    pub const PCMA: PayloadType = PayloadType(8);

    pub fn new(pt: u8) -> Result<PayloadType, RtpError> {
        if pt <= 127 { Ok(PayloadType(pt)) } else { Err(RtpError::BadPayloadType(pt)) }
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

/// A header extension (RFC 3550 §5.3.1): a profile-defined 16-bit value and data whose
/// length is a multiple of four bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    profile: u16,
    data: Vec<u8>,
}

impl Extension {
    pub fn new(profile: u16, data: Vec<u8>) -> Result<Extension, RtpError> {
        if data.len() % 4 != 0 || data.len() / 4 > usize::from(u16::MAX) {
            return Err(RtpError::BadExtensionLength { len: data.len() });
        }
        Ok(Extension { profile, data })
    }

    pub fn profile(&self) -> u16 {
        self.profile
    }

    pub fn data(&self) -> &[u8] {
        &self.data
    }
}

/// An RTP header. The CSRC list and the extension are behind constructors because their
/// sizes are limited by the wire format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpHeader {
    pub marker: bool,
    pub payload_type: PayloadType,
    pub sequence: u16,
    pub timestamp: u32,
    pub ssrc: u32,
    csrc: Vec<u32>,
    extension: Option<Extension>,
}

impl RtpHeader {
    /// A header without CSRCs or extension.
    pub fn new(payload_type: PayloadType, sequence: u16, timestamp: u32, ssrc: u32) -> RtpHeader {
        RtpHeader { marker: false, payload_type, sequence, timestamp, ssrc, csrc: Vec::new(), extension: None }
    }

    /// This header with the given contributing sources (at most 15).
    pub fn with_csrc(mut self, csrc: Vec<u32>) -> Result<RtpHeader, RtpError> {
        if csrc.len() > 15 {
            return Err(RtpError::TooManyCsrcs { count: csrc.len() });
        }
        self.csrc = csrc;
        Ok(self)
    }

    /// This header with an extension.
    pub fn with_extension(mut self, extension: Extension) -> RtpHeader {
        self.extension = Some(extension);
        self
    }

    pub fn csrc(&self) -> &[u32] {
        &self.csrc
    }

    pub fn extension(&self) -> Option<&Extension> {
        self.extension.as_ref()
    }

    /// The header's length on the wire.
    pub fn len(&self) -> usize {
        FIXED_HEADER_LEN + 4 * self.csrc.len() + self.extension.as_ref().map_or(0, |e| 4 + e.data.len())
    }

    /// Always false: a header has at least its fixed part.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The packet with this header and `payload`, without padding.
    pub fn serialize(&self, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len() + payload.len());
        self.write(payload, 0, &mut out);
        out
    }

    /// The packet with this header and `payload`, followed by `padding` bytes of padding
    /// (the last of which holds the count), as RFC 3550 §5.1 describes for block ciphers.
    pub fn serialize_padded(&self, payload: &[u8], padding: std::num::NonZeroU8) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len() + payload.len() + usize::from(padding.get()));
        self.write(payload, padding.get(), &mut out);
        out
    }

    fn write(&self, payload: &[u8], padding: u8, out: &mut Vec<u8>) {
        // Both lengths are checked by the constructors, so the casts below cannot truncate.
        let count = self.csrc.len() as u8;
        let first = 0x80 | if padding > 0 { 0x20 } else { 0 } | if self.extension.is_some() { 0x10 } else { 0 } | count;
        out.push(first);
        out.push(if self.marker { 0x80 } else { 0 } | self.payload_type.0);
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        for c in &self.csrc {
            out.extend_from_slice(&c.to_be_bytes());
        }
        if let Some(e) = &self.extension {
            out.extend_from_slice(&e.profile.to_be_bytes());
            out.extend_from_slice(&((e.data.len() / 4) as u16).to_be_bytes());
            out.extend_from_slice(&e.data);
        }
        out.extend_from_slice(payload);
        if padding > 0 {
            out.extend(std::iter::repeat_n(0, usize::from(padding) - 1));
            out.push(padding);
        }
    }
}

/// A parsed RTP packet whose payload borrows from the datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    pub header: RtpHeader,
    /// The payload, without padding.
    pub payload: &'a [u8],
    /// How many bytes of padding followed the payload (0 without the P bit).
    pub padding: u8,
}

impl<'a> RtpPacket<'a> {
    /// Parses one RTP packet, checking every length against the bytes present.
    pub fn parse(bytes: &'a [u8]) -> Result<RtpPacket<'a>, RtpError> {
        let len = bytes.len();
        let fixed = bytes.get(..FIXED_HEADER_LEN).ok_or(RtpError::TooShort { len })?;
        let version = fixed[0] >> 6;
        if version != 2 {
            return Err(RtpError::BadVersion { version });
        }
        let has_padding = fixed[0] & 0x20 != 0;
        let has_extension = fixed[0] & 0x10 != 0;
        let count = usize::from(fixed[0] & 0x0F);
        let marker = fixed[1] & 0x80 != 0;
        let payload_type = PayloadType(fixed[1] & 0x7F);
        let sequence = u16::from_be_bytes([fixed[2], fixed[3]]);
        let timestamp = u32::from_be_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]);
        let ssrc = u32::from_be_bytes([fixed[8], fixed[9], fixed[10], fixed[11]]);

        let mut at = FIXED_HEADER_LEN;
        let csrc_bytes = bytes.get(at..at + 4 * count).ok_or(RtpError::TruncatedCsrc { count, len })?;
        let csrc = csrc_bytes.chunks_exact(4).map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]])).collect();
        at += 4 * count;

        let extension = if has_extension {
            let head = bytes.get(at..at + 4).ok_or(RtpError::TruncatedExtension { len })?;
            let profile = u16::from_be_bytes([head[0], head[1]]);
            let words = usize::from(u16::from_be_bytes([head[2], head[3]]));
            let data = bytes.get(at + 4..at + 4 + 4 * words).ok_or(RtpError::TruncatedExtension { len })?;
            at += 4 + 4 * words;
            Some(Extension { profile, data: data.to_vec() })
        } else {
            None
        };

        let rest = &bytes[at..];
        let padding = if has_padding {
            let count = rest.last().copied().unwrap_or(0);
            if count == 0 || usize::from(count) > rest.len() {
                return Err(RtpError::BadPadding { count: usize::from(count), available: rest.len() });
            }
            count
        } else {
            0
        };
        let payload = &rest[..rest.len() - usize::from(padding)];
        let header = RtpHeader { marker, payload_type, sequence, timestamp, ssrc, csrc, extension };
        Ok(RtpPacket { header, payload, padding })
    }
}

/// How far sequence number `a` is ahead of `b` (negative if behind), taking the shorter
/// way around the 16-bit circle.
pub fn seq_diff(a: u16, b: u16) -> i16 {
    a.wrapping_sub(b) as i16
}

/// How far timestamp `a` is ahead of `b` (negative if behind), taking the shorter way
/// around the 32-bit circle.
pub fn ts_diff(a: u32, b: u32) -> i32 {
    a.wrapping_sub(b) as i32
}

/// The timestamp `samples` later, wrapping.
pub fn ts_add(ts: u32, samples: u32) -> u32 {
    ts.wrapping_add(samples)
}

/// Extends 16-bit sequence numbers to 64 bits by counting wrap-arounds (RFC 3550 A.1).
///
/// The first packet's number is its extended number (cycle zero). Each later number is
/// placed within ±32768 of the highest extended number seen, so both forward wraps and
/// reordered packets from just before a wrap are numbered correctly. A packet that would
/// come before extended number zero (a straggler from before the first packet, across a
/// wrap) has no extended number and gets `None`: it is older than the whole stream.
#[derive(Debug, Clone, Default)]
pub struct SeqUnwrapper {
    highest: Option<u64>,
}

impl SeqUnwrapper {
    pub fn new() -> SeqUnwrapper {
        SeqUnwrapper::default()
    }

    /// The extended number of `seq`, remembering it if it is the highest so far.
    pub fn unwrap(&mut self, seq: u16) -> Option<u64> {
        let Some(highest) = self.highest else {
            self.highest = Some(u64::from(seq));
            return Some(u64::from(seq));
        };
        let extended = extend_seq(highest, seq)?;
        if extended > highest {
            self.highest = Some(extended);
        }
        Some(extended)
    }

    /// The highest extended number seen so far.
    pub fn highest(&self) -> Option<u64> {
        self.highest
    }
}

/// The extended sequence number of `seq` nearest to `reference`, or `None` if it would be
/// negative.
pub fn extend_seq(reference: u64, seq: u16) -> Option<u64> {
    let delta = i64::from(seq_diff(seq, reference as u16));
    reference.checked_add_signed(delta)
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU8;

    use super::*;

    fn header() -> RtpHeader {
        let mut h = RtpHeader::new(PayloadType::PCMU, 0x1234, 0xDEAD_BEEF, 0x0102_0304);
        h.marker = true;
        h
    }

    #[test]
    fn parse_fixed_header() {
        let bytes = [0x80, 0x88, 0x12, 0x34, 0xDE, 0xAD, 0xBE, 0xEF, 1, 2, 3, 4, 0xAA, 0xBB];
        let p = RtpPacket::parse(&bytes).unwrap();
        assert!(p.header.marker);
        assert_eq!(p.header.payload_type, PayloadType::PCMA);
        assert_eq!(p.header.sequence, 0x1234);
        assert_eq!(p.header.timestamp, 0xDEAD_BEEF);
        assert_eq!(p.header.ssrc, 0x0102_0304);
        assert_eq!(p.payload, &[0xAA, 0xBB]);
        assert_eq!(p.padding, 0);
    }

    #[test]
    fn round_trip_with_csrc_extension_and_padding() {
        let ext = Extension::new(0xBEDE, vec![1, 2, 3, 4, 5, 6, 7, 8]).unwrap();
        let h = header().with_csrc(vec![7, 8, 9]).unwrap().with_extension(ext);
        let bytes = h.serialize_padded(b"hello", NonZeroU8::new(3).unwrap());
        assert_eq!(bytes.len(), 12 + 12 + 12 + 5 + 3);
        assert_eq!(bytes[0], 0x80 | 0x20 | 0x10 | 3);
        let p = RtpPacket::parse(&bytes).unwrap();
        assert_eq!(p.header, h);
        assert_eq!(p.payload, b"hello");
        assert_eq!(p.padding, 3);
        assert_eq!(RtpPacket::parse(&h.serialize(b"")).unwrap().payload, b"");
    }

    fn check_err(bytes: &[u8], expect: RtpError) {
        assert_eq!(RtpPacket::parse(bytes), Err(expect));
    }

    #[test]
    fn malformed_packets_are_errors() {
        check_err(&[0x80, 0, 0], RtpError::TooShort { len: 3 });
        check_err(&[0x40; 12], RtpError::BadVersion { version: 1 });
        check_err(&[0x82, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4], RtpError::TruncatedCsrc { count: 2, len: 16 });
        check_err(&[0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xBE, 0xDE], RtpError::TruncatedExtension { len: 14 });
        check_err(
            &[0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xBE, 0xDE, 0, 1, 9, 9],
            RtpError::TruncatedExtension { len: 18 },
        );
        check_err(&[0xA0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 5], RtpError::BadPadding { count: 5, available: 2 });
        check_err(&[0xA0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0], RtpError::BadPadding { count: 0, available: 2 });
        check_err(&[0xA0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], RtpError::BadPadding { count: 0, available: 0 });
    }

    #[test]
    fn padding_may_take_the_whole_payload() {
        let p = RtpPacket::parse(&[0xA0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]).unwrap();
        assert_eq!(p.payload, b"");
        assert_eq!(p.padding, 2);
    }

    #[test]
    fn header_limits_are_checked() {
        assert_eq!(header().with_csrc(vec![0; 16]), Err(RtpError::TooManyCsrcs { count: 16 }));
        assert_eq!(Extension::new(1, vec![0; 3]), Err(RtpError::BadExtensionLength { len: 3 }));
        assert_eq!(PayloadType::new(128), Err(RtpError::BadPayloadType(128)));
        assert_eq!(PayloadType::new(101).map(PayloadType::get), Ok(101));
    }

    #[test]
    fn sequence_numbers_unwrap_across_wraps_and_reordering() {
        let mut u = SeqUnwrapper::new();
        let got: Vec<_> = [65534, 65535, 1, 0, 2, 65533].into_iter().map(|s| u.unwrap(s)).collect();
        let expect = [65534, 65535, 65537, 65536, 65538, 65533].map(Some);
        assert_eq!(got, expect);
        assert_eq!(u.highest(), Some(65538));
        // Ten full cycles later.
        for i in 0..10 * 65536u64 {
            u.unwrap((i % 65536) as u16);
        }
        assert!(u.highest().unwrap() > 10 * 65536);
    }

    #[test]
    fn stragglers_from_before_the_stream_have_no_extended_number() {
        let mut u = SeqUnwrapper::new();
        assert_eq!(u.unwrap(3), Some(3));
        assert_eq!(u.unwrap(65535), None);
        assert_eq!(u.unwrap(2), Some(2));
    }

    #[test]
    fn timestamp_arithmetic_wraps() {
        assert_eq!(ts_add(u32::MAX - 79, 160), 80);
        assert_eq!(ts_diff(80, u32::MAX - 79), 160);
        assert_eq!(ts_diff(u32::MAX - 79, 80), -160);
        assert_eq!(seq_diff(1, 65535), 2);
        assert_eq!(seq_diff(65535, 1), -2);
    }
}
