//! One call leg's media, sans-IO: what we send on the leg (prompts, music on hold, the
//! other leg's audio when bridged) and what we make of what we receive (DTMF digits, audio
//! to relay).
//!
//! A [`MediaLeg`] keeps one outgoing RTP stream (one SSRC, continuous sequence numbers and
//! timestamps) whatever feeds it: each prompt starts where the last one stopped, with the
//! timestamp advanced by the wall time in between, and the bridge continues the same stream
//! when the legs are joined. It latches the address RTP comes from (symmetric RTP, RFC 4961):
//! a phone behind NAT is reached where its packets come from, not where its SDP says.
//!
//! **Invariant:** no I/O and no clock; the owner passes the time and drains packets.

use std::net::SocketAddr;
use std::sync::Arc;

use sb_media::{
    Bridge, BridgeConfig, DtmfReceiver, Law, Negotiated, Player, PlayerConfig, RtpPacket, Timestamp, dtmf::Digit,
};

/// A prompt decoded once for both laws, shared by every call that plays it.
#[derive(Debug, Clone)]
pub struct Prompt {
    ulaw: Arc<[u8]>,
    alaw: Arc<[u8]>,
    /// The prompt's length in milliseconds, for logs.
    pub millis: u64,
}

impl Prompt {
    /// The prompt of a WAV file's audio.
    pub fn new(wav: &sb_media::Wav) -> Prompt {
        let ulaw: Arc<[u8]> = wav.to_g711(Law::MuLaw).into();
        let alaw: Arc<[u8]> = wav.to_g711(Law::ALaw).into();
        Prompt { millis: ulaw.len() as u64 / 8, ulaw, alaw }
    }

    /// The prompts one after the other, as one.
    pub fn concat(parts: &[&Prompt]) -> Prompt {
        let join = |law: Law| -> Arc<[u8]> { parts.iter().flat_map(|p| p.samples(law).to_vec()).collect() };
        let ulaw = join(Law::MuLaw);
        Prompt { millis: ulaw.len() as u64 / 8, ulaw, alaw: join(Law::ALaw) }
    }

    /// The G.711 codes of the prompt in `law`.
    pub fn samples(&self, law: Law) -> Arc<[u8]> {
        match law {
            Law::MuLaw => Arc::clone(&self.ulaw),
            Law::ALaw => Arc::clone(&self.alaw),
        }
    }
}

/// What the leg is playing.
#[derive(Debug)]
struct Playing {
    player: Player,
    /// Played again from the start when it ends (music on hold).
    looped: Option<Arc<[u8]>>,
}

/// One leg's media. See the module documentation.
#[derive(Debug)]
pub(crate) struct MediaLeg {
    /// Where we receive, once the driver has opened the socket.
    pub local: Option<SocketAddr>,
    /// What offer and answer agreed; `None` until then.
    pub negotiated: Option<Negotiated>,
    /// Where RTP goes: the latched source of the peer's packets, else the SDP's address.
    remote: Option<SocketAddr>,
    latched: bool,
    ssrc: u32,
    /// The next sequence number and timestamp of our stream, and when the last packet went.
    sequence: u16,
    timestamp: u32,
    last_sent: Option<Timestamp>,
    playing: Option<Playing>,
    dtmf: DtmfReceiver,
    /// Relays what this leg receives into the other leg's stream.
    pub bridge: Option<Bridge>,
    /// Packets received, for the call's record.
    pub received: u64,
}

/// The outcome of one received datagram.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Received {
    /// Nothing for the owner.
    Nothing,
    /// Audio to relay: the bridge has queued it, drain [`MediaLeg::relayed`].
    Relayed,
    /// Not RTP, or a payload type that was not negotiated.
    Dropped,
}

impl MediaLeg {
    pub fn new(ssrc: u32) -> MediaLeg {
        MediaLeg {
            local: None,
            negotiated: None,
            remote: None,
            latched: false,
            ssrc,
            // RFC 3550 wants random initial values; the SSRC is random enough to derive them.
            sequence: (ssrc >> 16) as u16,
            timestamp: ssrc.rotate_left(7),
            last_sent: None,
            playing: None,
            dtmf: DtmfReceiver::new(),
            bridge: None,
            received: 0,
        }
    }

    /// Sets what the SDP exchange agreed.
    pub fn negotiate(&mut self, negotiated: Negotiated) {
        if !self.latched {
            self.remote = Some(negotiated.remote_addr);
        }
        self.negotiated = Some(negotiated);
    }

    pub fn law(&self) -> Law {
        self.negotiated.map_or(Law::MuLaw, |n| n.law)
    }

    /// Where to send, if anywhere: not before the SDP exchange, nor while the peer holds.
    pub fn destination(&self) -> Option<SocketAddr> {
        let negotiated = self.negotiated?;
        if !negotiated.direction.sends() {
            return None;
        }
        self.remote.filter(|addr| !addr.ip().is_unspecified() && addr.port() != 0)
    }

    /// Starts `prompt` at `now`, replacing what played. `looped`: music on hold.
    pub fn play(&mut self, now: Timestamp, prompt: &Prompt, looped: bool) {
        let samples = prompt.samples(self.law());
        self.start(now, Arc::clone(&samples), looped.then_some(samples));
    }

    fn start(&mut self, now: Timestamp, samples: Arc<[u8]>, looped: Option<Arc<[u8]>>) {
        self.resume_stream(now);
        let payload_type = self.negotiated.map_or(sb_media::PayloadType::PCMU, |n| n.payload_type);
        let config = PlayerConfig {
            law: self.law(),
            payload_type,
            ssrc: self.ssrc,
            first_sequence: self.sequence,
            first_timestamp: self.timestamp,
        };
        let mut player = Player::new(samples, config);
        player.start(now);
        self.playing = Some(Playing { player, looped });
    }

    /// Stops playback; the stream continues from where it stopped.
    pub fn stop(&mut self) {
        if let Some(playing) = self.playing.take() {
            self.sequence = playing.player.next_sequence();
            self.timestamp = playing.player.next_timestamp();
        }
    }

    /// Advances the timestamp by the silence since the last packet, so that the next packet
    /// is where a continuous clock would put it.
    fn resume_stream(&mut self, now: Timestamp) {
        self.stop();
        if let Some(last) = self.last_sent {
            let gap = now.as_millis().saturating_sub(last.as_millis());
            // The stream's next timestamp already covers the last packet's 20 ms.
            let silent = gap.saturating_sub(sb_media::pacer::PACKET_MS);
            self.timestamp = self.timestamp.wrapping_add((silent * 8) as u32);
        }
    }

    /// The packets due at `now`, with where they go; `true` when a prompt (not a loop) has
    /// just played to its end.
    pub fn poll_packets(&mut self, now: Timestamp, out: &mut Vec<(SocketAddr, Vec<u8>)>) -> bool {
        let destination = self.destination();
        let Some(playing) = &mut self.playing else { return false };
        while let Some(packet) = playing.player.poll_packet(now) {
            self.last_sent = Some(now);
            if let Some(to) = destination {
                out.push((to, packet));
            }
        }
        if !playing.player.finished() {
            return false;
        }
        match playing.looped.clone() {
            Some(samples) => {
                self.stop();
                self.start(now, Arc::clone(&samples), Some(samples));
                false
            }
            None => {
                self.stop();
                true
            }
        }
    }

    /// When the leg next needs the time: the next packet of a prompt, or the end of a DTMF
    /// event whose end packets were lost.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        let player = self.playing.as_ref().and_then(|p| p.player.poll_timeout());
        [player, self.dtmf.poll_timeout()].into_iter().flatten().min()
    }

    /// Takes a datagram received on the leg's socket.
    pub fn handle_packet(&mut self, now: Timestamp, bytes: &[u8], from: SocketAddr) -> Received {
        let Ok(packet) = RtpPacket::parse(bytes) else { return Received::Dropped };
        let Some(negotiated) = self.negotiated else { return Received::Dropped };
        self.received += 1;
        if !self.latched {
            self.latched = true;
            self.remote = Some(from);
        }
        let pt = packet.header.payload_type;
        if Some(pt) == negotiated.dtmf_payload_type {
            // Digits are recognised here; when bridged they go on to the other leg too.
            let h = &packet.header;
            if self.dtmf.handle_packet(now, h.timestamp, h.sequence, packet.payload).is_err() {
                return Received::Dropped;
            }
        } else if pt != negotiated.payload_type {
            return Received::Dropped;
        }
        match &mut self.bridge {
            Some(bridge) => match bridge.handle_packet(now, bytes) {
                Ok(()) => Received::Relayed,
                Err(_) => Received::Dropped,
            },
            None => Received::Nothing,
        }
    }

    /// Reports DTMF events that ended without their end packets.
    pub fn handle_timeout(&mut self, now: Timestamp) {
        self.dtmf.handle_timeout(now);
    }

    /// The next digit the caller pressed.
    pub fn poll_digit(&mut self) -> Option<Digit> {
        self.dtmf.poll_digit().map(|d| d.digit)
    }

    /// Relayed packets for the other leg, drained from this leg's bridge.
    pub fn relayed(&mut self) -> impl Iterator<Item = Vec<u8>> + '_ {
        std::iter::from_fn(|| self.bridge.as_mut()?.poll_transmit())
    }

    /// A bridge that writes this leg's outgoing stream from `from`'s packets: installed on
    /// the leg `from`, it continues this leg's numbering.
    pub fn bridge_from(&mut self, now: Timestamp, from: &MediaLeg) -> Option<Bridge> {
        self.resume_stream(now);
        let (ours, theirs) = (self.negotiated?, from.negotiated?);
        if ours.law != theirs.law {
            return None;
        }
        let mut payload_types = vec![(theirs.payload_type, ours.payload_type)];
        if let (Some(a), Some(b)) = (theirs.dtmf_payload_type, ours.dtmf_payload_type) {
            payload_types.push((a, b));
        }
        Some(Bridge::new(BridgeConfig {
            ssrc: self.ssrc,
            first_sequence: self.sequence,
            first_timestamp: self.timestamp,
            clock_rate: 8000,
            payload_types,
        }))
    }
}

/// Records what one or two parties say, each on a track of its own, aligned on the clock:
/// a packet goes at the end of its track unless the track has fallen more than 40 ms behind
/// the time since the start (lost packets, a party that stopped sending), which is filled
/// with silence first.
#[derive(Debug)]
pub(crate) struct Recorder {
    start: Timestamp,
    tracks: [Vec<i16>; 2],
    /// The most samples a track may hold.
    limit: usize,
}

impl Recorder {
    pub fn new(start: Timestamp, max_millis: u64) -> Recorder {
        let limit = usize::try_from(max_millis.saturating_mul(8)).unwrap_or(usize::MAX);
        Recorder { start, tracks: [Vec::new(), Vec::new()], limit }
    }

    /// Adds the G.711 `payload` of `law` received at `now` to `track` (0 or 1).
    pub fn add(&mut self, now: Timestamp, track: usize, law: Law, payload: &[u8]) {
        let Some(track) = self.tracks.get_mut(track) else { return };
        let elapsed = now.as_millis().saturating_sub(self.start.as_millis());
        let due = usize::try_from(elapsed.saturating_mul(8)).unwrap_or(usize::MAX).saturating_sub(payload.len());
        if due > track.len() + 320 {
            track.resize(due.min(self.limit), 0);
        }
        let room = self.limit.saturating_sub(track.len());
        track.extend(payload.iter().take(room).map(|&code| law.decode(code)));
    }

    /// Whether the first track is as long as allowed.
    pub fn full(&self) -> bool {
        self.tracks[0].len() >= self.limit
    }

    /// Both tracks as a stereo WAV file: the first track on the left.
    pub fn stereo(&self) -> Vec<u8> {
        sb_media::Wav::stereo_pcm16(&self.tracks[0], &self.tracks[1]).unwrap_or_default()
    }

    /// The first track as a mono WAV file.
    pub fn mono(&self) -> Vec<u8> {
        sb_media::Wav::Pcm16(self.tracks[0].clone()).to_bytes().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sb_media::{Direction, PayloadType, RtpHeader, Wav};

    fn negotiated(remote: &str) -> Negotiated {
        Negotiated {
            remote_addr: remote.parse().unwrap(),
            law: Law::MuLaw,
            payload_type: PayloadType::PCMU,
            dtmf_payload_type: Some(PayloadType::new(101).unwrap()),
            ptime: 20,
            direction: Direction::SendRecv,
        }
    }

    fn prompt(samples: usize) -> Prompt {
        Prompt::new(&Wav::G711 { law: Law::MuLaw, samples: (0..samples).map(|i| i as u8).collect() })
    }

    fn packets(leg: &mut MediaLeg, now: u64) -> (Vec<(SocketAddr, Vec<u8>)>, bool) {
        let mut out = Vec::new();
        let ended = leg.poll_packets(Timestamp::from_millis(now), &mut out);
        (out, ended)
    }

    #[test]
    fn prompts_continue_one_stream_and_report_their_end() {
        let mut leg = MediaLeg::new(0x1234_5678);
        leg.negotiate(negotiated("192.0.2.1:4000"));
        leg.play(Timestamp::ZERO, &prompt(320), false);
        let (first, ended) = packets(&mut leg, 20);
        assert_eq!(first.len(), 2);
        assert!(ended);
        assert_eq!(first[0].0, "192.0.2.1:4000".parse().unwrap());
        let a = RtpPacket::parse(&first[0].1).unwrap().header;
        let b = RtpPacket::parse(&first[1].1).unwrap().header;
        assert_eq!((b.sequence, b.timestamp), (a.sequence.wrapping_add(1), a.timestamp.wrapping_add(160)));
        // The next prompt 100 ms after the last packet: same SSRC, next sequence, and the
        // timestamp where a continuous 8 kHz clock is 100 ms later.
        leg.play(Timestamp::from_millis(120), &prompt(160), false);
        let (next, _) = packets(&mut leg, 120);
        let c = RtpPacket::parse(&next[0].1).unwrap().header;
        assert_eq!(c.ssrc, a.ssrc);
        assert_eq!(c.sequence, b.sequence.wrapping_add(1));
        assert_eq!(c.timestamp, b.timestamp.wrapping_add(800));
    }

    #[test]
    fn music_on_hold_loops_and_symmetric_rtp_latches_the_source() {
        let mut leg = MediaLeg::new(7);
        leg.negotiate(negotiated("192.0.2.1:4000"));
        leg.play(Timestamp::ZERO, &prompt(160), true);
        for t in 0..5 {
            let (out, ended) = packets(&mut leg, t * 20);
            assert_eq!(out.len(), 1, "packet {t}");
            assert!(!ended);
        }
        let nat: SocketAddr = "198.51.100.7:31000".parse().unwrap();
        let rtp = RtpHeader::new(PayloadType::PCMU, 1, 0, 99).serialize(&[0xff; 160]);
        assert_eq!(leg.handle_packet(Timestamp::from_millis(100), &rtp, nat), Received::Nothing);
        assert_eq!(packets(&mut leg, 100).0[0].0, nat);
        // Garbage and other payload types are dropped.
        assert_eq!(leg.handle_packet(Timestamp::from_millis(100), b"x", nat), Received::Dropped);
        let g722 = RtpHeader::new(PayloadType::new(9).unwrap(), 2, 160, 99).serialize(&[0; 160]);
        assert_eq!(leg.handle_packet(Timestamp::from_millis(100), &g722, nat), Received::Dropped);
    }

    #[test]
    fn the_recorder_keeps_each_party_on_its_track_in_time() {
        let mut recorder = Recorder::new(Timestamp::from_millis(1000), 1000);
        let law = Law::MuLaw;
        let loud = law.encode(8000);
        recorder.add(Timestamp::from_millis(1020), 0, law, &[loud; 160]);
        // The other party's first packet comes 200 ms in: silence before it.
        recorder.add(Timestamp::from_millis(1200), 1, law, &[loud; 160]);
        let wav = recorder.stereo();
        let samples: Vec<i16> = wav[44..].chunks(2).map(|c| i16::from_le_bytes([c[0], c[1]])).collect();
        let (left, right): (Vec<i16>, Vec<i16>) = samples.chunks(2).map(|f| (f[0], f[1])).unzip();
        assert_eq!(left.len(), 1600);
        assert!(left[..160].iter().all(|&x| x > 7000) && left[160..].iter().all(|&x| x == 0));
        assert!(right[..1440].iter().all(|&x| x == 0) && right[1440..].iter().all(|&x| x > 7000));
        // Nothing beyond the limit.
        for t in 0..100 {
            recorder.add(Timestamp::from_millis(1040 + t * 20), 0, law, &[loud; 160]);
        }
        assert!(recorder.full());
        assert_eq!(recorder.mono().len(), 44 + 8000 * 2);
    }

    #[test]
    fn telephone_events_become_digits() {
        let mut leg = MediaLeg::new(7);
        leg.negotiate(negotiated("192.0.2.1:4000"));
        let from: SocketAddr = "192.0.2.1:4000".parse().unwrap();
        let dtmf = PayloadType::new(101).unwrap();
        // Digit 5, two updates and an end packet (RFC 4733 section 2.3).
        for (seq, end, duration) in [(1u16, false, 160u16), (2, false, 320), (3, true, 480)] {
            let payload = [5, if end { 0x80 } else { 0 } | 10, (duration >> 8) as u8, duration as u8];
            let packet = RtpHeader::new(dtmf, seq, 8000, 99).serialize(&payload);
            leg.handle_packet(Timestamp::from_millis(u64::from(seq) * 20), &packet, from);
        }
        assert_eq!(leg.poll_digit().map(|d| d.as_char()), Some('5'));
        assert_eq!(leg.poll_digit(), None);
    }
}
