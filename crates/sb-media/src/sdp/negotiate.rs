//! SDP offer/answer (RFC 3264) for a B2BUA that anchors media: one audio stream over
//! RTP/AVP with G.711 (PCMU or PCMA) and, optionally, RFC 4733 telephone events.
//!
//! [`offer`] builds the description we send; [`answer`] answers a description we received
//! and says what was agreed in a [`Negotiated`]; [`process_answer`] reads the answer to an
//! offer of ours. Each media line of an offer gets a line in the answer, in the same order
//! (RFC 3264 §6): the first audio stream we can use is accepted, every other one (video, a
//! second audio stream, SRTP) is rejected with port 0.
//!
//! **Decision (codec):** the offerer's order wins: we take the first offered format that is
//! PCMU or PCMA and that [`AnswerConfig::codecs`] allows, whether it is the static payload
//! type (0 or 8) or a dynamic one whose `rtpmap` names `PCMU/8000` or `PCMA/8000`, and we
//! answer with that one codec so that nobody has to switch codecs mid-call.
//!
//! **Decision (hold):** [`Negotiated::direction`] is *our* direction: `sendrecv` for a
//! normal call, `recvonly` when the peer holds the call (it offered `a=sendonly`, or the
//! RFC 2543 `c=0.0.0.0`, which we read as "do not send to me"), `inactive` when neither side
//! may send. The driver must not send RTP unless `direction.sends()`.

use std::net::{IpAddr, SocketAddr};

use thiserror::Error;

use super::{Attribute, Connection, Direction, MediaDescription, Origin, Rtpmap, SessionDescription, Timing};
use crate::g711::Law;
use crate::rtp::PayloadType;

/// The packet duration assumed when a description has no `a=ptime` (RFC 3551 §4.5).
pub const DEFAULT_PTIME: u32 = 20;
/// The telephone events we offer and accept: the DTMF digits (RFC 4733 §3.2).
const TELEPHONE_EVENTS: &str = "0-15";

/// Offer or answer could not agree on an audio stream.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NegotiationError {
    #[error("the offer configuration lists no codec")]
    NoCodecs,
    #[error("the offer has no audio stream on RTP/AVP with a non-zero port")]
    NoAudio,
    #[error("no common codec: the offer has {offered}, we accept {accepted}")]
    NoCommonCodec { offered: String, accepted: String },
    #[error("the audio stream has no c= line at media or session level")]
    NoConnection,
    #[error("the answer has {answered} media lines for the {offered} of the offer")]
    MediaCountMismatch { offered: usize, answered: usize },
    #[error("the answer rejects the audio stream (port 0)")]
    AudioRejected,
    #[error("the answer's audio stream has none of the codecs we offered (it has {answered})")]
    NoOfferedCodec { answered: String },
}

impl NegotiationError {
    /// The SIP response to send when answering an offer failed: 488 Not Acceptable Here
    /// (RFC 3261 §21.4.26). `None` for errors in an answer, which has no response; the
    /// dialog should be ended with a BYE instead.
    pub fn sip_status(&self) -> Option<u16> {
        match self {
            NegotiationError::NoAudio | NegotiationError::NoCommonCodec { .. } | NegotiationError::NoConnection => {
                Some(488)
            }
            NegotiationError::NoCodecs
            | NegotiationError::MediaCountMismatch { .. }
            | NegotiationError::AudioRejected
            | NegotiationError::NoOfferedCodec { .. } => None,
        }
    }
}

/// What an offer from us contains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferConfig {
    /// Where we receive RTP (the media anchor's address and port).
    pub address: IpAddr,
    pub port: u16,
    /// In order of preference; a codec listed twice is offered once.
    pub codecs: Vec<Law>,
    /// The payload type to offer telephone-event on (101 by custom), or `None`.
    pub telephone_event: Option<PayloadType>,
    /// The packet duration we want to receive, in milliseconds.
    pub ptime: u32,
    pub session_id: u64,
    /// Raise it by one for each new offer in the dialog, for example a re-INVITE.
    pub session_version: u64,
    /// `sendrecv`, or `sendonly` to put the peer on hold.
    pub direction: Direction,
}

impl OfferConfig {
    /// PCMU then PCMA, telephone-event on 101, 20 ms, `sendrecv`, version 1.
    pub fn new(address: IpAddr, port: u16, session_id: u64) -> OfferConfig {
        OfferConfig {
            address,
            port,
            codecs: vec![Law::MuLaw, Law::ALaw],
            telephone_event: PayloadType::new(101).ok(),
            ptime: DEFAULT_PTIME,
            session_id,
            session_version: 1,
            direction: Direction::SendRecv,
        }
    }
}

/// What we accept when answering an offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerConfig {
    /// Where we receive RTP.
    pub address: IpAddr,
    pub port: u16,
    /// The codecs we accept; the offer's order decides among them.
    pub codecs: Vec<Law>,
    /// Whether to accept telephone-event/8000 when offered.
    pub telephone_event: bool,
    /// The packet duration we want to receive, in milliseconds.
    pub ptime: u32,
    pub session_id: u64,
    pub session_version: u64,
    /// The most we allow: `sendrecv` normally, `sendonly` while we hold the call.
    pub direction: Direction,
}

impl AnswerConfig {
    /// PCMU and PCMA, telephone events, 20 ms, `sendrecv`, version 1.
    pub fn new(address: IpAddr, port: u16, session_id: u64) -> AnswerConfig {
        AnswerConfig {
            address,
            port,
            codecs: vec![Law::MuLaw, Law::ALaw],
            telephone_event: true,
            ptime: DEFAULT_PTIME,
            session_id,
            session_version: 1,
            direction: Direction::SendRecv,
        }
    }
}

/// What offer and answer agreed on for the audio stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    /// Where to send RTP. Its IP is unspecified (`0.0.0.0`) when the peer holds the call
    /// the RFC 2543 way; `direction` then does not send.
    pub remote_addr: SocketAddr,
    pub law: Law,
    /// The payload type of `law` on this call (0 or 8, or the dynamic one the offer chose).
    pub payload_type: PayloadType,
    /// The payload type of telephone-event/8000, if both sides support it.
    pub dtmf_payload_type: Option<PayloadType>,
    /// The packet duration the peer wants to receive, in milliseconds.
    pub ptime: u32,
    /// Our direction: whether we may send and whether the peer will send to us.
    pub direction: Direction,
}

impl Negotiated {
    /// Whether the peer has put the call on hold: it will not receive our media.
    pub fn is_held_by_peer(&self) -> bool {
        !self.direction.sends()
    }
}

/// Builds an audio offer.
pub fn offer(config: &OfferConfig) -> Result<SessionDescription, NegotiationError> {
    let mut codecs: Vec<Law> = Vec::new();
    for &law in &config.codecs {
        if !codecs.contains(&law) {
            codecs.push(law);
        }
    }
    if codecs.is_empty() {
        return Err(NegotiationError::NoCodecs);
    }
    let mut formats: Vec<String> = codecs.iter().map(|law| law.payload_type().to_string()).collect();
    let mut m = MediaDescription::new("audio", config.port, "RTP/AVP", Vec::new());
    for &law in &codecs {
        m.attributes.push(Attribute::Rtpmap(rtpmap(None, law)));
    }
    if let Some(pt) = config.telephone_event {
        formats.push(pt.get().to_string());
        m.attributes.extend(telephone_event_attributes(pt));
    }
    m.formats = formats;
    m.attributes.push(Attribute::Ptime(config.ptime));
    m.attributes.push(Attribute::Direction(config.direction));
    Ok(session(config.address, config.session_id, config.session_version, Vec::new(), vec![m]))
}

/// Answers an offer: one answer media line per offered one, the first usable audio stream
/// accepted and the others rejected. Fails when no audio stream can be accepted; the error
/// of the first audio stream tried explains why.
pub fn answer(
    offer: &SessionDescription,
    local: &AnswerConfig,
) -> Result<(SessionDescription, Negotiated), NegotiationError> {
    let mut negotiated = None;
    let mut first_error = None;
    let mut media = Vec::with_capacity(offer.media.len());
    for m in &offer.media {
        if negotiated.is_none() && is_usable_audio(m) {
            match answer_audio(offer, m, local) {
                Ok((answered, agreed)) => {
                    media.push(answered);
                    negotiated = Some(agreed);
                    continue;
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        media.push(MediaDescription::new(&m.media, 0, &m.proto, m.formats.clone()));
    }
    let Some(negotiated) = negotiated else { return Err(first_error.unwrap_or(NegotiationError::NoAudio)) };
    // RFC 3264 §6: the answer's t= line equals the offer's.
    let answer = session(local.address, local.session_id, local.session_version, offer.timing.clone(), media);
    Ok((answer, negotiated))
}

/// Reads the answer to an offer we sent.
pub fn process_answer(offer: &SessionDescription, answer: &SessionDescription) -> Result<Negotiated, NegotiationError> {
    if offer.media.len() != answer.media.len() {
        return Err(NegotiationError::MediaCountMismatch { offered: offer.media.len(), answered: answer.media.len() });
    }
    let Some(index) = offer.media.iter().position(is_usable_audio) else { return Err(NegotiationError::NoAudio) };
    let (ours, theirs) = (&offer.media[index], &answer.media[index]);
    if theirs.port == 0 {
        return Err(NegotiationError::AudioRejected);
    }
    let connection = answer.media_connection(theirs).ok_or(NegotiationError::NoConnection)?;
    let offered: Vec<PayloadType> = ours.payload_types().collect();
    let (law, payload_type) = theirs
        .payload_types()
        .filter(|pt| offered.contains(pt))
        .find_map(|pt| Some((law_of(ours, pt)?, pt)))
        .ok_or_else(|| NegotiationError::NoOfferedCodec { answered: describe(theirs) })?;
    let dtmf_payload_type = theirs.payload_types().find(|&pt| offered.contains(&pt) && is_telephone_event(ours, pt));
    let their_direction = peer_direction(answer.media_direction(theirs), connection);
    Ok(Negotiated {
        remote_addr: SocketAddr::new(connection.address, theirs.port),
        law,
        payload_type,
        dtmf_payload_type,
        ptime: theirs.ptime().unwrap_or(DEFAULT_PTIME),
        direction: offer.media_direction(ours).intersect(their_direction.reversed()),
    })
}

fn is_usable_audio(m: &MediaDescription) -> bool {
    m.media.eq_ignore_ascii_case("audio") && m.port != 0 && m.proto.eq_ignore_ascii_case("RTP/AVP")
}

fn answer_audio(
    offer: &SessionDescription,
    m: &MediaDescription,
    local: &AnswerConfig,
) -> Result<(MediaDescription, Negotiated), NegotiationError> {
    let connection = offer.media_connection(m).ok_or(NegotiationError::NoConnection)?;
    let (law, payload_type) = m
        .payload_types()
        .find_map(|pt| law_of(m, pt).filter(|law| local.codecs.contains(law)).map(|law| (law, pt)))
        .ok_or_else(|| NegotiationError::NoCommonCodec { offered: describe(m), accepted: accepted(&local.codecs) })?;
    let dtmf_payload_type =
        if local.telephone_event { m.payload_types().find(|&pt| is_telephone_event(m, pt)) } else { None };
    let direction = peer_direction(offer.media_direction(m), connection).reversed().intersect(local.direction);

    let mut answered = MediaDescription::new("audio", local.port, &m.proto, vec![payload_type.get().to_string()]);
    answered.attributes.push(Attribute::Rtpmap(rtpmap(Some(payload_type), law)));
    if let Some(pt) = dtmf_payload_type {
        answered.formats.push(pt.get().to_string());
        answered.attributes.extend(telephone_event_attributes(pt));
    }
    answered.attributes.push(Attribute::Ptime(local.ptime));
    answered.attributes.push(Attribute::Direction(direction));
    let negotiated = Negotiated {
        remote_addr: SocketAddr::new(connection.address, m.port),
        law,
        payload_type,
        dtmf_payload_type,
        ptime: m.ptime().unwrap_or(DEFAULT_PTIME),
        direction,
    };
    Ok((answered, negotiated))
}

/// The direction the peer declared, with `c=0.0.0.0` read as "do not send to me".
fn peer_direction(declared: Direction, connection: &Connection) -> Direction {
    if connection.is_unspecified() { declared.intersect(Direction::SendOnly) } else { declared }
}

/// The G.711 law a payload type carries in a media section: its `rtpmap` if it has one,
/// else the static assignment of RFC 3551.
fn law_of(m: &MediaDescription, pt: PayloadType) -> Option<Law> {
    match m.rtpmap(pt.get()) {
        Some(map) if map.is("PCMU", 8000) => Some(Law::MuLaw),
        Some(map) if map.is("PCMA", 8000) => Some(Law::ALaw),
        Some(_) => None,
        None => match pt.get() {
            0 => Some(Law::MuLaw),
            8 => Some(Law::ALaw),
            _ => None,
        },
    }
}

fn is_telephone_event(m: &MediaDescription, pt: PayloadType) -> bool {
    m.rtpmap(pt.get()).is_some_and(|map| map.is("telephone-event", 8000))
}

fn rtpmap(pt: Option<PayloadType>, law: Law) -> Rtpmap {
    Rtpmap {
        payload_type: pt.map_or(law.payload_type(), PayloadType::get),
        encoding: match law {
            Law::MuLaw => "PCMU",
            Law::ALaw => "PCMA",
        }
        .to_owned(),
        clock_rate: 8000,
        channels: None,
    }
}

fn telephone_event_attributes(pt: PayloadType) -> [Attribute; 2] {
    [
        Attribute::Rtpmap(Rtpmap {
            payload_type: pt.get(),
            encoding: "telephone-event".to_owned(),
            clock_rate: 8000,
            channels: None,
        }),
        Attribute::Fmtp { format: pt.get().to_string(), params: TELEPHONE_EVENTS.to_owned() },
    ]
}

/// The formats of a media section for an error message: `PCMU/8000 (0), G729 (18)`.
fn describe(m: &MediaDescription) -> String {
    let names: Vec<String> = m
        .formats
        .iter()
        .map(|f| {
            let map = f.parse().ok().and_then(|pt| m.rtpmap(pt));
            match (map, f.as_str()) {
                (Some(map), _) => format!("{}/{} ({f})", map.encoding, map.clock_rate),
                (None, "0") => "PCMU (0)".to_owned(),
                (None, "8") => "PCMA (8)".to_owned(),
                (None, "9") => "G722 (9)".to_owned(),
                (None, "18") => "G729 (18)".to_owned(),
                (None, _) => format!("format {f}"),
            }
        })
        .collect();
    if names.is_empty() { "no formats".to_owned() } else { names.join(", ") }
}

fn accepted(codecs: &[Law]) -> String {
    let names: Vec<&str> = codecs
        .iter()
        .map(|law| match law {
            Law::MuLaw => "PCMU",
            Law::ALaw => "PCMA",
        })
        .collect();
    if names.is_empty() { "nothing".to_owned() } else { names.join(", ") }
}

fn session(
    address: IpAddr,
    session_id: u64,
    session_version: u64,
    mut timing: Vec<Timing>,
    media: Vec<MediaDescription>,
) -> SessionDescription {
    if timing.is_empty() {
        timing.push(Timing { start: 0, stop: 0, repeats: Vec::new() });
    }
    SessionDescription {
        origin: Origin {
            username: "-".to_owned(),
            session_id,
            session_version,
            net_type: "IN".to_owned(),
            addr_type: if address.is_ipv4() { "IP4" } else { "IP6" }.to_owned(),
            address: address.to_string(),
        },
        session_name: "-".to_owned(),
        other: Vec::new(),
        connection: Some(Connection { address, multicast: None }),
        bandwidths: Vec::new(),
        timing,
        attributes: Vec::new(),
        media,
    }
}
