//! DTMF as RFC 4733 telephone events: the 4-byte payload, a sender that turns a key press
//! into a paced series of packets, and a receiver that turns packets back into key presses.
//!
//! An event is identified by its RTP timestamp (the time its tone started); all packets of
//! one event carry that timestamp and a growing duration, the first has the marker bit, and
//! the last has the end bit and is sent three times (RFC 4733 §2.5.1). Packets are paced by
//! the owner's clock: [`DtmfSender::poll_packet`] with `now`, [`DtmfSender::poll_timeout`]
//! for when to ask again. The RTP sequence number and SSRC belong to the owner's stream, so
//! the sender hands out payload, marker and timestamp only.
//!
//! **Decision (receiver):** a digit is reported exactly once, at the first of: the first end
//! packet of its event arrives; a packet of a newer event (a later timestamp) arrives; or no
//! packet of the event has arrived for the receiver's timeout (500 ms by default, see
//! [`DtmfReceiver::poll_timeout`]), which covers an event whose end packets were all lost
//! and that is followed by silence. Packets of events older than the current one, and
//! packets of an event already reported, are ignored, so late retransmissions and
//! reordering do not report a digit twice. Losing the first packets of an event does not
//! matter, since any packet names the event.

use std::collections::VecDeque;
use std::time::Duration;

use thiserror::Error;

use crate::rtp::ts_diff;
use crate::time::Timestamp;

/// A DTMF key: RFC 4733 events 0..=15.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Digit(u8);

impl Digit {
    /// The key for an event code 0..=15 ('0'-'9', '*', '#', 'A'-'D').
    pub fn from_event(event: u8) -> Option<Digit> {
        (event <= 15).then_some(Digit(event))
    }

    /// The key for a character, accepting lower-case 'a'-'d'.
    pub fn from_char(c: char) -> Option<Digit> {
        let event = match c {
            '0'..='9' => c as u8 - b'0',
            '*' => 10,
            '#' => 11,
            'A'..='D' => c as u8 - b'A' + 12,
            'a'..='d' => c as u8 - b'a' + 12,
            _ => return None,
        };
        Some(Digit(event))
    }

    pub fn event(self) -> u8 {
        self.0
    }

    pub fn as_char(self) -> char {
        match self.0 {
            0..=9 => char::from(b'0' + self.0),
            10 => '*',
            11 => '#',
            _ => char::from(b'A' + (self.0 - 12)),
        }
    }
}

/// A telephone-event payload was malformed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DtmfError {
    #[error("telephone-event payload of {len} bytes is shorter than 4 bytes")]
    TooShort { len: usize },
}

/// One RFC 4733 telephone-event payload (§2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEvent {
    /// The event code; 0..=15 are DTMF digits, others (16 is flash) are not.
    pub event: u8,
    /// Set on the last packet(s) of an event.
    pub end: bool,
    /// Power level as minus dBm0, 0..=63 (only the low 6 bits are sent).
    pub volume: u8,
    /// How long the event has lasted so far, in timestamp units (samples at 8 kHz).
    pub duration: u16,
}

impl TelephoneEvent {
    /// Parses the first 4-byte event of a payload; anything after it (redundant events
    /// some senders add) is ignored.
    pub fn parse(payload: &[u8]) -> Result<TelephoneEvent, DtmfError> {
        let &[event, flags, d0, d1, ..] = payload else {
            return Err(DtmfError::TooShort { len: payload.len() });
        };
        Ok(TelephoneEvent {
            event,
            end: flags & 0x80 != 0,
            volume: flags & 0x3F,
            duration: u16::from_be_bytes([d0, d1]),
        })
    }

    pub fn to_bytes(self) -> [u8; 4] {
        let [d0, d1] = self.duration.to_be_bytes();
        [self.event, if self.end { 0x80 } else { 0 } | (self.volume & 0x3F), d0, d1]
    }

    pub fn digit(self) -> Option<Digit> {
        Digit::from_event(self.event)
    }
}

/// One packet from [`DtmfSender`]: the owner wraps it in an RTP header with its stream's
/// SSRC, next sequence number and the telephone-event payload type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DtmfPacket {
    pub marker: bool,
    pub timestamp: u32,
    pub payload: [u8; 4],
}

/// How [`DtmfSender`] sends tones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DtmfSenderConfig {
    /// How long a tone lasts, in milliseconds (default 100). At most 8000: longer tones
    /// would need RFC 4733's segmenting, which is not implemented, and are cut to 8 s.
    pub tone_ms: u32,
    /// The interval between packets in milliseconds (default 20, at most 1000).
    pub interval_ms: u32,
    /// The pause between two queued tones in milliseconds (default 60).
    pub gap_ms: u32,
    /// The power level as minus dBm0 (default 10).
    pub volume: u8,
    /// The RTP clock rate (8000 for telephone-event/8000).
    pub clock_rate: u32,
}

impl Default for DtmfSenderConfig {
    fn default() -> Self {
        DtmfSenderConfig { tone_ms: 100, interval_ms: 20, gap_ms: 60, volume: 10, clock_rate: 8000 }
    }
}

/// The longest tone whose duration fits the 16-bit field at 8 kHz.
const MAX_TONE_MS: u32 = 8000;
/// How often the end packet is sent (RFC 4733 §2.5.1.4 recommends three).
const END_REPEATS: u32 = 3;

/// Sends DTMF digits as telephone events, one after the other.
///
/// The RTP timestamp of an event is derived from the time its tone starts, through the
/// mapping the owner gives at construction (a wall time and the stream's RTP timestamp at
/// that time), so events line up with the audio of the same stream.
#[derive(Debug)]
pub struct DtmfSender {
    config: DtmfSenderConfig,
    origin: Timestamp,
    origin_rtp: u32,
    queue: VecDeque<(Digit, u32)>,
    current: Option<Tone>,
    /// The earliest time the next tone may start (after the previous one and its gap).
    next_start: Timestamp,
}

#[derive(Debug)]
struct Tone {
    digit: Digit,
    start: Timestamp,
    timestamp: u32,
    /// Packets in the tone, not counting the repeats of the end packet.
    tone_packets: u32,
    tone_ms: u32,
    /// Packets sent so far.
    sent: u32,
}

impl Tone {
    fn total_packets(&self) -> u32 {
        self.tone_packets + END_REPEATS - 1
    }
}

impl DtmfSender {
    /// A sender whose stream had RTP timestamp `origin_rtp` at time `origin`.
    pub fn new(config: DtmfSenderConfig, origin: Timestamp, origin_rtp: u32) -> DtmfSender {
        let config = DtmfSenderConfig {
            tone_ms: config.tone_ms.clamp(1, MAX_TONE_MS),
            interval_ms: config.interval_ms.clamp(1, 1000),
            volume: config.volume & 0x3F,
            ..config
        };
        DtmfSender { config, origin, origin_rtp, queue: VecDeque::new(), current: None, next_start: origin }
    }

    /// Queues `digit` with the configured tone length; it starts at `now` if nothing else
    /// is being sent.
    pub fn start(&mut self, now: Timestamp, digit: Digit) {
        self.start_for(now, digit, self.config.tone_ms);
    }

    /// Queues `digit` with a tone of `tone_ms` milliseconds (a long press), at most 8 s.
    pub fn start_for(&mut self, now: Timestamp, digit: Digit, tone_ms: u32) {
        self.queue.push_back((digit, tone_ms.clamp(1, MAX_TONE_MS)));
        self.advance(now);
    }

    fn advance(&mut self, now: Timestamp) {
        if self.current.is_some() {
            return;
        }
        let Some((digit, tone_ms)) = self.queue.pop_front() else { return };
        let start = now.max(self.next_start);
        let elapsed = start.since(self.origin).as_millis();
        let samples = elapsed.saturating_mul(u128::from(self.config.clock_rate)) / 1000;
        let timestamp = self.origin_rtp.wrapping_add(samples as u32);
        let tone_packets = tone_ms.div_ceil(self.config.interval_ms);
        self.current = Some(Tone { digit, start, timestamp, tone_packets, tone_ms, sent: 0 });
    }

    fn due(&self, tone: &Tone, packet: u32) -> Timestamp {
        // Packet k (from 0) goes out one interval after the part of the tone it reports.
        tone.start.after_millis(u64::from(packet + 1) * u64::from(self.config.interval_ms))
    }

    /// The next packet that is due at `now`, if any. Call until `None`.
    pub fn poll_packet(&mut self, now: Timestamp) -> Option<DtmfPacket> {
        self.advance(now);
        let interval = self.config.interval_ms;
        let tone = self.current.as_ref()?;
        let k = tone.sent;
        if self.due(tone, k) > now {
            return None;
        }
        let last = tone.tone_packets - 1;
        let end = k >= last;
        let ms = if end { u64::from(tone.tone_ms) } else { u64::from(k + 1) * u64::from(interval) };
        let duration = (ms * u64::from(self.config.clock_rate) / 1000).min(u64::from(u16::MAX)) as u16;
        let event = TelephoneEvent { event: tone.digit.event(), end, volume: self.config.volume, duration };
        let packet = DtmfPacket { marker: k == 0, timestamp: tone.timestamp, payload: event.to_bytes() };
        let finished = k + 1 >= tone.total_packets();
        let after = self.due(tone, k).after_millis(u64::from(self.config.gap_ms));
        if let Some(tone) = self.current.as_mut() {
            tone.sent += 1;
        }
        if finished {
            self.current = None;
            self.next_start = after;
        }
        Some(packet)
    }

    /// When the next packet is due, if anything is queued or being sent.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        match &self.current {
            Some(tone) => Some(self.due(tone, tone.sent)),
            None if !self.queue.is_empty() => Some(self.next_start),
            None => None,
        }
    }

    /// Whether every queued digit has been sent completely.
    pub fn is_idle(&self) -> bool {
        self.current.is_none() && self.queue.is_empty()
    }
}

/// A digit recognised by [`DtmfReceiver`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceivedDigit {
    pub digit: Digit,
    /// The RTP timestamp of the event (when the tone started).
    pub timestamp: u32,
    /// The longest duration seen for the event, in timestamp units.
    pub duration: u16,
    /// Whether an end packet was seen; `false` if the digit was reported because a newer
    /// event started.
    pub ended: bool,
}

/// Turns received telephone-event packets into digits, each exactly once (see the module
/// documentation for when a digit is reported).
#[derive(Debug)]
pub struct DtmfReceiver {
    /// How long an event may go without packets before it is taken as ended.
    timeout: Duration,
    current: Option<Current>,
    digits: VecDeque<ReceivedDigit>,
}

#[derive(Debug)]
struct Current {
    timestamp: u32,
    event: u8,
    duration: u16,
    reported: bool,
    /// When the last packet of this event arrived.
    last_seen: Timestamp,
}

impl Default for DtmfReceiver {
    fn default() -> Self {
        DtmfReceiver::new()
    }
}

impl DtmfReceiver {
    /// A receiver that takes an event as ended after 500 ms without its packets.
    pub fn new() -> DtmfReceiver {
        DtmfReceiver::with_timeout(Duration::from_millis(500))
    }

    /// A receiver that takes an event as ended after `timeout` without its packets.
    pub fn with_timeout(timeout: Duration) -> DtmfReceiver {
        DtmfReceiver { timeout, current: None, digits: VecDeque::new() }
    }

    /// Takes one packet of the telephone-event payload type, received at `now`, with its RTP
    /// timestamp and sequence number. Malformed payloads are an error and change nothing.
    /// The sequence number is not needed (events are told apart by timestamp) but is taken
    /// so that the owner need not decide; events other than digits 0..=15 are ignored.
    pub fn handle_packet(
        &mut self,
        now: Timestamp,
        timestamp: u32,
        _sequence: u16,
        payload: &[u8],
    ) -> Result<(), DtmfError> {
        let event = TelephoneEvent::parse(payload)?;
        match &mut self.current {
            Some(current) if current.timestamp == timestamp => {
                if current.reported {
                    return Ok(());
                }
                current.duration = current.duration.max(event.duration);
                current.last_seen = current.last_seen.max(now);
                // A packet with the same timestamp but another event code is a broken
                // sender; the first code seen wins.
                if event.end {
                    current.reported = true;
                    Self::report(&mut self.digits, current, true);
                }
            }
            Some(current) if ts_diff(timestamp, current.timestamp) < 0 => {}
            _ => {
                if let Some(previous) = &mut self.current
                    && !previous.reported
                {
                    previous.reported = true;
                    Self::report(&mut self.digits, previous, false);
                }
                let mut current = Current {
                    timestamp,
                    event: event.event,
                    duration: event.duration,
                    reported: event.end,
                    last_seen: now,
                };
                if event.end {
                    Self::report(&mut self.digits, &mut current, true);
                }
                self.current = Some(current);
            }
        }
        Ok(())
    }

    /// When [`DtmfReceiver::handle_timeout`] should be called: the timeout after the last
    /// packet of an event that has not been reported yet.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        let current = self.current.as_ref().filter(|c| !c.reported)?;
        Some(current.last_seen.after(self.timeout))
    }

    /// Reports the current event as a digit if its packets stopped before its end packet
    /// arrived and the timeout has passed; early calls do nothing.
    pub fn handle_timeout(&mut self, now: Timestamp) {
        if self.poll_timeout().is_none_or(|due| due > now) {
            return;
        }
        if let Some(current) = &mut self.current {
            current.reported = true;
            Self::report(&mut self.digits, current, false);
        }
    }

    fn report(digits: &mut VecDeque<ReceivedDigit>, current: &mut Current, ended: bool) {
        if let Some(digit) = Digit::from_event(current.event) {
            digits.push_back(ReceivedDigit { digit, timestamp: current.timestamp, duration: current.duration, ended });
        }
    }

    /// The next recognised digit, in the order they were recognised.
    pub fn poll_digit(&mut self) -> Option<ReceivedDigit> {
        self.digits.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(c: char) -> Digit {
        Digit::from_char(c).unwrap()
    }

    #[test]
    fn digits_map_to_events_and_back() {
        let all = "0123456789*#ABCD";
        for (i, c) in all.chars().enumerate() {
            assert_eq!(d(c).event() as usize, i);
            assert_eq!(Digit::from_event(i as u8).unwrap().as_char(), c);
        }
        assert_eq!(Digit::from_char('b'), Some(d('B')));
        assert_eq!(Digit::from_char('E'), None);
        assert_eq!(Digit::from_event(16), None);
    }

    #[test]
    fn payload_round_trips() {
        let e = TelephoneEvent { event: 11, end: true, volume: 10, duration: 800 };
        assert_eq!(e.to_bytes(), [11, 0x8A, 0x03, 0x20]);
        assert_eq!(TelephoneEvent::parse(&e.to_bytes()), Ok(e));
        // The reserved bit is ignored.
        assert_eq!(TelephoneEvent::parse(&[5, 0x4A, 0, 160]).unwrap().volume, 10);
        assert_eq!(TelephoneEvent::parse(&[5, 0, 0]), Err(DtmfError::TooShort { len: 3 }));
        assert_eq!(TelephoneEvent::parse(&[16, 0, 0, 0]).unwrap().digit(), None);
    }

    /// Runs the sender on a 1 ms virtual clock until idle and returns (time, packet) pairs.
    fn drain(sender: &mut DtmfSender, from: u64) -> Vec<(u64, DtmfPacket, TelephoneEvent)> {
        let mut out = Vec::new();
        for ms in from..from + 20_000 {
            let now = Timestamp::from_millis(ms);
            while let Some(p) = sender.poll_packet(now) {
                out.push((ms, p, TelephoneEvent::parse(&p.payload).unwrap()));
            }
            if sender.is_idle() {
                break;
            }
        }
        out
    }

    #[test]
    fn sender_paces_a_default_tone() {
        let mut s = DtmfSender::new(DtmfSenderConfig::default(), Timestamp::ZERO, 1000);
        s.start(Timestamp::from_millis(40), d('5'));
        assert_eq!(s.poll_timeout(), Some(Timestamp::from_millis(60)));
        let got = drain(&mut s, 40);
        let times: Vec<u64> = got.iter().map(|g| g.0).collect();
        assert_eq!(times, [60, 80, 100, 120, 140, 160, 180]);
        let durations: Vec<u16> = got.iter().map(|g| g.2.duration).collect();
        assert_eq!(durations, [160, 320, 480, 640, 800, 800, 800]);
        let ends: Vec<bool> = got.iter().map(|g| g.2.end).collect();
        assert_eq!(ends, [false, false, false, false, true, true, true]);
        let markers: Vec<bool> = got.iter().map(|g| g.1.marker).collect();
        assert_eq!(markers, [true, false, false, false, false, false, false]);
        // 40 ms after the origin at 8 kHz.
        assert!(got.iter().all(|g| g.1.timestamp == 1000 + 320 && g.2.event == 5 && g.2.volume == 10));
        assert!(s.is_idle());
        assert_eq!(s.poll_timeout(), None);
    }

    #[test]
    fn sender_catches_up_without_sending_early() {
        let mut s = DtmfSender::new(DtmfSenderConfig::default(), Timestamp::ZERO, 0);
        s.start(Timestamp::ZERO, d('1'));
        assert_eq!(s.poll_packet(Timestamp::from_millis(19)), None);
        let mut n = 0;
        while s.poll_packet(Timestamp::from_millis(65)).is_some() {
            n += 1;
        }
        assert_eq!(n, 3);
    }

    #[test]
    fn queued_digits_get_distinct_timestamps_and_a_gap() {
        let mut s = DtmfSender::new(DtmfSenderConfig::default(), Timestamp::ZERO, 0);
        s.start(Timestamp::ZERO, d('7'));
        s.start(Timestamp::ZERO, d('7'));
        let got = drain(&mut s, 0);
        assert_eq!(got.len(), 14);
        let (first, second) = got.split_at(7);
        assert!(first.iter().all(|g| g.1.timestamp == 0));
        // The first tone's last packet goes out at 140 ms; the second starts 60 ms later.
        assert!(second.iter().all(|g| g.1.timestamp == 200 * 8));
        assert!(second[0].1.marker);
        assert_eq!(second[0].0, 220);
    }

    #[test]
    fn long_press_duration_and_odd_lengths() {
        let mut s = DtmfSender::new(DtmfSenderConfig::default(), Timestamp::ZERO, 0);
        s.start_for(Timestamp::ZERO, d('#'), 1010);
        let got = drain(&mut s, 0);
        // 51 packets for 1010 ms (the last covers 10 ms) plus two repeats of the end.
        assert_eq!(got.len(), 53);
        assert_eq!(got[49].2.duration, 8000);
        assert_eq!(got[50].2.duration, 8080);
        assert!(got[50].2.end && !got[49].2.end);
    }

    /// Feeds packets to a receiver and returns the digits as a string.
    fn receive(packets: &[(u32, u16, TelephoneEvent)]) -> String {
        let mut r = DtmfReceiver::new();
        let mut out = String::new();
        for (ts, seq, e) in packets {
            r.handle_packet(Timestamp::ZERO, *ts, *seq, &e.to_bytes()).unwrap();
            while let Some(got) = r.poll_digit() {
                out.push(got.digit.as_char());
            }
        }
        out
    }

    /// The packets a sender produces for `digit` at RTP timestamp `ts`, numbered from `seq`.
    fn event(digit: char, ts: u32, seq: u16, tone_ms: u32) -> Vec<(u32, u16, TelephoneEvent)> {
        let mut s = DtmfSender::new(DtmfSenderConfig::default(), Timestamp::ZERO, ts);
        s.start_for(Timestamp::ZERO, d(digit), tone_ms);
        drain(&mut s, 0).into_iter().enumerate().map(|(i, g)| (g.1.timestamp, seq + i as u16, g.2)).collect()
    }

    #[test]
    fn receiver_reports_once_despite_end_repeats() {
        let packets = event('4', 100, 1, 100);
        assert_eq!(receive(&packets), "4");
        let mut r = DtmfReceiver::new();
        for p in &packets {
            r.handle_packet(Timestamp::ZERO, p.0, p.1, &p.2.to_bytes()).unwrap();
        }
        let got = r.poll_digit().unwrap();
        assert_eq!((got.timestamp, got.duration, got.ended), (100, 800, true));
        assert_eq!(r.poll_digit(), None);
    }

    #[test]
    fn receiver_survives_loss_of_start_packets() {
        let packets = event('9', 0, 1, 100);
        assert_eq!(receive(&packets[3..]), "9");
        assert_eq!(receive(&packets[6..]), "9");
    }

    #[test]
    fn receiver_reports_when_all_end_packets_are_lost() {
        let mut packets: Vec<_> = event('1', 0, 1, 100).into_iter().filter(|p| !p.2.end).collect();
        assert_eq!(receive(&packets), "");
        packets.extend(event('2', 8000, 10, 100));
        assert_eq!(receive(&packets), "12");
    }

    #[test]
    fn receiver_ignores_duplicates_and_late_packets() {
        let first = event('3', 0, 1, 100);
        let second = event('6', 1600, 8, 100);
        let mut packets = first.clone();
        packets.extend(first.iter().cloned());
        packets.extend(second.iter().take(2).cloned());
        // A late end packet of the first event after the second started.
        packets.push(first[6]);
        packets.extend(second.iter().skip(2).cloned());
        packets.extend(second.iter().cloned());
        assert_eq!(receive(&packets), "36");
    }

    #[test]
    fn receiver_handles_reordering_within_an_event() {
        let mut packets = event('8', 0, 1, 100);
        packets.swap(4, 5);
        packets.swap(1, 3);
        assert_eq!(receive(&packets), "8");
    }

    #[test]
    fn receiver_reports_back_to_back_same_digit() {
        let mut packets = event('5', 0, 1, 100);
        packets.extend(event('5', 1600, 8, 100));
        packets.extend(event('5', 3200, 15, 100));
        assert_eq!(receive(&packets), "555");
    }

    #[test]
    fn receiver_waits_for_the_end_of_a_long_press() {
        let packets = event('0', 0, 1, 3000);
        let end = packets.iter().position(|p| p.2.end).unwrap();
        assert_eq!(receive(&packets[..end]), "");
        assert_eq!(receive(&packets), "0");
    }

    #[test]
    fn receiver_handles_timestamp_wrap() {
        let mut packets = event('1', u32::MAX - 100, 1, 100);
        packets.extend(event('2', 1500, 8, 100));
        assert_eq!(receive(&packets), "12");
    }

    #[test]
    fn receiver_rejects_short_payloads_and_ignores_non_digits() {
        let mut r = DtmfReceiver::new();
        assert_eq!(r.handle_packet(Timestamp::ZERO, 0, 0, &[1, 2]), Err(DtmfError::TooShort { len: 2 }));
        r.handle_packet(Timestamp::ZERO, 0, 0, &[16, 0x80, 0, 160]).unwrap();
        assert_eq!(r.poll_digit(), None);
    }

    #[test]
    fn receiver_times_out_an_event_whose_end_was_lost() {
        let mut r = DtmfReceiver::with_timeout(Duration::from_millis(300));
        assert_eq!(r.poll_timeout(), None);
        // Packets of '2' every 20 ms from 20 to 100 ms, but no end packet.
        for (i, p) in event('2', 4000, 1, 200).iter().filter(|p| !p.2.end).enumerate().take(5) {
            let now = Timestamp::from_millis(20 * (i as u64 + 1));
            r.handle_packet(now, p.0, p.1, &p.2.to_bytes()).unwrap();
        }
        assert_eq!(r.poll_timeout(), Some(Timestamp::from_millis(400)));
        r.handle_timeout(Timestamp::from_millis(399));
        assert_eq!(r.poll_digit(), None);
        r.handle_timeout(Timestamp::from_millis(400));
        let got = r.poll_digit().unwrap();
        assert_eq!((got.digit, got.timestamp, got.duration, got.ended), (d('2'), 4000, 800, false));
        assert_eq!(r.poll_timeout(), None);
        // The end packets arriving after all are not a second digit.
        let end = TelephoneEvent { event: 2, end: true, volume: 10, duration: 1600 };
        r.handle_packet(Timestamp::from_millis(500), 4000, 12, &end.to_bytes()).unwrap();
        r.handle_timeout(Timestamp::from_millis(5000));
        assert_eq!(r.poll_digit(), None);
    }

    #[test]
    fn receiver_has_no_timeout_after_a_reported_digit() {
        let mut r = DtmfReceiver::new();
        for p in event('1', 0, 1, 100) {
            r.handle_packet(Timestamp::ZERO, p.0, p.1, &p.2.to_bytes()).unwrap();
        }
        assert_eq!(r.poll_timeout(), None);
        assert!(r.poll_digit().is_some());
    }
}
