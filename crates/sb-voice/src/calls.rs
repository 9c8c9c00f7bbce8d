//! Calls, sans-IO: the back-to-back user agent between a caller and an agent's phone.
//!
//! An INVITE to one of a tenant's numbers becomes a call: its media leg is opened (the
//! driver binds an RTP socket, [`Command::OpenMedia`]), the offer is answered with 200 OK,
//! and the number's contact flow runs ([`sb_flow::Call`]): prompts are played on the caller's
//! leg, RFC 4733 digits received on it go to the flow, and the flow's transfer to a queue
//! becomes a [`RouteRequest::Enqueue`] for the routing engine, while music on hold plays.
//! When the engine offers the call to an agent ([`RouteNotice::Offered`]) the agent's
//! registered phone is called with an offer of our own; its 200 OK connects the call
//! ([`RouteRequest::Accept`]) and the two legs' media are relayed to each other. When the
//! engine withdraws the offer (the agent did not answer in time, [`RouteNotice::OfferEnded`])
//! the phone's INVITE is cancelled and the call waits on. A caller who hangs up in the queue
//! is an abandon; a hang-up on either side of a connected call completes it, and after the
//! agent's hang-up the flow goes on (a survey, say).
//!
//! Dialogs are found by Call-ID and our tag. The 200 OK to the caller's INVITE is resent
//! (T1, doubling up to T2) until the ACK arrives, as RFC 3261 section 13.3.1.4 asks of the
//! user agent core; without an ACK after 64·T1 the call is ended with a BYE.
//!
//! **Invariant:** no I/O and no clock, like the rest of the endpoint.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use sb_flow::{Action, Flow, Schedules};
use sb_media::{AnswerConfig, Direction, OfferConfig, SessionDescription};
use sb_sip::{Message, Method, NameAddr, Request, Response, StatusCode, Timestamp, TransactionId, Transport, Uri};

use crate::endpoint::{Endpoint, push};
use crate::media::{MediaLeg, Prompt, Received, Recorder};

/// A call: one caller, its flow, and at most one agent's phone at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallId(pub u64);

impl fmt::Display for CallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "call{}", self.0)
    }
}

/// One media leg: an RTP socket the driver owns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LegId(pub u64);

impl fmt::Display for LegId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "leg{}", self.0)
    }
}

/// A number callers dial, with everything a call to it needs.
#[derive(Debug)]
pub struct Entry {
    /// As the request URI's user part carries it.
    pub number: String,
    /// The tenant the number belongs to, which is also the realm of its agents' phones.
    pub tenant: Arc<str>,
    /// Where its calls go.
    pub target: Target,
    /// The flow's prompts by the names the flow gives them.
    pub prompts: Arc<HashMap<String, Prompt>>,
    pub music_on_hold: Option<Prompt>,
    /// Whether conversations with agents are recorded.
    pub record_calls: bool,
    /// Position announcements for callers in a queue.
    pub announcements: Option<Announcements>,
    /// During a migration, the tenant's traffic split toward the legacy PBX.
    pub split: Option<Arc<Split>>,
}

/// A tenant's traffic split during a migration (see `sb_config::Split`): each new call to a
/// flow number goes to the legacy trunk or stays, by the first rule that matches.
#[derive(Debug)]
pub struct Split {
    pub trunk: Arc<Trunk>,
    pub rules: Vec<SplitRule>,
}

/// One rule of a [`Split`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SplitRule {
    /// Callers whose number starts with the prefix; `true` sends them to the legacy PBX.
    Caller(String, bool),
    /// Calls to the number.
    Number(String, bool),
    /// This share of the calls reaching the rule, in percent, spread evenly: with 10, the
    /// 10th, 20th, 30th... call.
    Percent(u8, bool),
}

/// What callers waiting in a queue hear every `every`: `before`, their position digit by
/// digit, then `after`.
#[derive(Debug, Clone)]
pub struct Announcements {
    pub every: Duration,
    pub before: Prompt,
    /// The prompts of the digits 0 to 9.
    pub digits: [Prompt; 10],
    pub after: Option<Prompt>,
}

impl Announcements {
    /// The announcement of `position`.
    pub fn of(&self, position: u32) -> Prompt {
        let mut parts = vec![&self.before];
        for digit in position.to_string().bytes() {
            parts.push(&self.digits[usize::from(digit - b'0')]);
        }
        parts.extend(&self.after);
        Prompt::concat(&parts)
    }
}

/// Where a number's calls go.
pub enum Target {
    /// Into a contact flow, with the tenant's business hours for its `business_hours` nodes.
    Flow { flow: Arc<Flow>, schedules: Arc<dyn Schedules + Send + Sync> },
    /// Straight on to a trunk: the call is answered when the trunk answers.
    Trunk(Arc<Trunk>),
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Flow { flow, .. } => write!(f, "Flow({})", flow.id),
            Target::Trunk(trunk) => write!(f, "Trunk({})", trunk.id),
        }
    }
}

/// A SIP trunk calls are forwarded to.
#[derive(Clone, PartialEq, Eq)]
pub struct Trunk {
    pub id: String,
    /// Where its requests go.
    pub address: SocketAddr,
    /// The host part of the request URIs we send it.
    pub host: String,
    /// User and password, for a trunk that challenges our INVITEs.
    pub credentials: Option<(String, String)>,
}

impl fmt::Debug for Trunk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Trunk").field("id", &self.id).field("address", &self.address).finish_non_exhaustive()
    }
}

/// What the driver must do for the calls.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Bind an RTP socket for the leg, then report its address with
    /// [`Endpoint::media_opened`] (or the failure with [`Endpoint::media_failed`]).
    OpenMedia { leg: LegId },
    /// The leg is over: close its socket.
    CloseMedia { leg: LegId },
    /// Tell the tenant's routing engine; answers come back as [`RouteNotice`]s.
    Route { tenant: Arc<str>, request: RouteRequest },
    /// Fetch `url` for the call's flow and report with [`Endpoint::handle_http_result`].
    Http { call: CallId, url: String, timeout: Duration },
    /// Something the flow decided that is stored, not played: a callback request or a
    /// survey answer, with the caller's number and the call's last interaction.
    Outcome { tenant: Arc<str>, call: CallId, caller: String, interaction: Option<u64>, action: Action },
    /// A recording to keep, as a WAV file.
    SaveRecording {
        tenant: Arc<str>,
        call: CallId,
        /// The queued interaction, for a conversation.
        interaction: Option<u64>,
        kind: RecordingKind,
        wav: Vec<u8>,
        /// The flow's variables, for a voicemail.
        attributes: Vec<(String, String)>,
    },
}

/// What a recording holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordingKind {
    /// A conversation with an agent: stereo, the caller on the left, the agent on the right.
    Conversation,
    /// A message the caller left: mono.
    Voicemail,
}

/// The longest conversation recorded, in milliseconds.
const MAX_RECORDING_MS: u64 = 4 * 3600 * 1000;

/// A voicemail being taken: the prompt plays, then the caller's audio is recorded.
#[derive(Debug)]
struct Voicemail {
    attributes: Vec<(String, String)>,
    max_ms: u64,
    /// Set once the prompt has ended.
    recorder: Option<Recorder>,
    deadline: Option<Timestamp>,
}

impl Voicemail {
    /// The caller speaks now, for at most `max_ms`.
    fn record(&mut self, now: Timestamp) {
        self.recorder = Some(Recorder::new(now, self.max_ms));
        self.deadline = Some(now.after_millis(self.max_ms));
    }
}

/// A request to a tenant's routing engine on behalf of a call.
#[derive(Debug, Clone, PartialEq)]
pub enum RouteRequest {
    /// A new voice interaction; answer with [`RouteNotice::Queued`] or
    /// [`RouteNotice::EnqueueFailed`].
    Enqueue {
        call: CallId,
        queue: String,
        priority: Option<u8>,
        skills: Vec<(String, u8)>,
        attributes: Vec<(String, String)>,
    },
    /// The agent's phone answered.
    Accept { interaction: u64, agent: String },
    /// The caller hung up before an agent answered.
    Abandon { interaction: u64 },
    /// The conversation is over.
    Complete { interaction: u64, agent: String },
    /// The agent transferred the call (a REFER from the phone) to `target`, a queue's or an
    /// agent's id; answer with [`RouteNotice::Transferred`].
    Transfer { interaction: u64, agent: String, target: String },
    /// Where the call waits in its queue; answer with [`RouteNotice::Position`].
    Position { interaction: u64 },
}

/// What a routing engine tells the calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteNotice {
    Queued {
        call: CallId,
        interaction: u64,
    },
    EnqueueFailed {
        call: CallId,
        reason: String,
    },
    /// Ring the agent's phone.
    Offered {
        interaction: u64,
        agent: String,
    },
    /// The offer was withdrawn (not answered in time, or the agent went away): stop ringing.
    OfferEnded {
        interaction: u64,
        agent: String,
    },
    /// The outcome of a [`RouteRequest::Transfer`]: `Err` says why it was refused.
    Transferred {
        interaction: u64,
        result: Result<(), String>,
    },
    /// The call's place in its queue (1: next), `None` once it no longer waits.
    Position {
        interaction: u64,
        position: Option<u32>,
    },
}

/// One side of a dialog as we keep it to send requests in it.
#[derive(Debug, Clone)]
struct Dialog {
    call_id: String,
    /// Our From (as UAC) or To (as UAS) value, with our tag.
    local: String,
    /// The peer's, with its tag.
    remote: String,
    /// The peer's Contact: the request URI of requests in the dialog.
    target: Uri,
    /// Where the peer's messages come from, and ours go.
    peer: SocketAddr,
    /// The transport the dialog's requests travel over.
    transport: Transport,
    cseq: u32,
}

/// The caller's side.
#[derive(Debug)]
struct Inbound {
    invite: Request,
    /// Where the INVITE came from: responses and requests in the dialog go there.
    from: SocketAddr,
    /// And over which transport.
    transport: Transport,
    tx: TransactionId,
    offer: SessionDescription,
    tag: String,
    dialog: Option<Dialog>,
    /// The 200 OK, resent until the ACK arrives: when next, and the interval.
    ok: Option<(Response, Timestamp, u64)>,
    /// When to give up waiting for the ACK.
    ack_deadline: Option<Timestamp>,
}

/// Where the agent's phone is.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Ringing {
    /// Waiting for the media leg, then the INVITE goes.
    Opening,
    /// The INVITE is out.
    Invited,
    /// The engine withdrew the offer: a CANCEL is out.
    Cancelling,
    /// The phone answered and the legs are bridged.
    Connected,
}

/// What a leg toward a phone or a trunk starts from.
struct OutLeg {
    /// The agent's id, or the trunk's.
    agent: String,
    /// The interaction offered (0 toward a trunk).
    interaction: u64,
    /// Where its requests go, and over what.
    to: (SocketAddr, Transport),
    /// Its request URI.
    contact: String,
    trunk: Option<Arc<Trunk>>,
}

/// The agent's side.
#[derive(Debug)]
struct AgentLeg {
    agent: String,
    interaction: u64,
    leg: LegId,
    media: MediaLeg,
    phone: SocketAddr,
    /// The transport the phone registered over (UDP toward trunks).
    transport: Transport,
    contact: String,
    state: Ringing,
    invite: Option<Request>,
    tx: Option<TransactionId>,
    offer: Option<SessionDescription>,
    dialog: Option<Dialog>,
    tag: String,
    /// Set when the leg goes to a trunk rather than an agent's phone.
    trunk: Option<Arc<Trunk>>,
    /// Whether the INVITE was resent with credentials after a challenge.
    authenticated: bool,
    /// Whether the caller has been told the far end rings.
    ringing_sent: bool,
    /// Whether the phone asked for a transfer that the engine has not answered yet.
    transferring: bool,
}

#[derive(Debug)]
pub(crate) struct CallState {
    entry: Arc<Entry>,
    /// The contact flow; `None` for a call forwarded to a trunk.
    flow: Option<sb_flow::Call>,
    inbound: Inbound,
    caller_leg: LegId,
    caller: MediaLeg,
    agent: Option<AgentLeg>,
    interaction: Option<u64>,
    /// Whether the flow asked for the queue and still waits there.
    queued: bool,
    /// The deadline the timer heap holds for the call.
    scheduled: Option<Timestamp>,
    caller_name: String,
    /// For a call to a trunk: our SDP answer, sent to the caller when the trunk answers.
    pending_answer: Option<Vec<u8>>,
    /// Sent to the legacy PBX by the tenant's traffic split.
    forward: Option<Arc<Trunk>>,
    /// When to ask for the next position announcement, while queued.
    next_announcement: Option<Timestamp>,
    /// Whether the caller hears an announcement (hold music resumes after it).
    announcing: bool,
    /// The conversation with the agent, when the number records calls.
    recorder: Option<Recorder>,
    voicemail: Option<Voicemail>,
}

/// Which side of a call a leg or dialog is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Caller,
    Agent,
}

/// The calls' part of the endpoint's state.
#[derive(Debug, Default)]
pub(crate) struct Calls {
    entries: HashMap<String, Arc<Entry>>,
    calls: HashMap<CallId, CallState>,
    /// (Call-ID, our tag) → the call and the side of the dialog.
    dialogs: HashMap<(String, String), (CallId, Side)>,
    legs: HashMap<LegId, (CallId, Side)>,
    /// Our INVITEs and CANCELs to agents' phones.
    client: HashMap<TransactionId, CallId>,
    /// The caller's INVITE transactions, for CANCEL.
    server: HashMap<TransactionId, CallId>,
    interactions: HashMap<u64, CallId>,
    timers: BinaryHeap<Reverse<(Timestamp, CallId)>>,
    /// Per tenant: how many calls reached each percent rule, and whether every call goes to
    /// the legacy PBX (a rollback).
    splits: HashMap<Arc<str>, SplitState>,
    pub commands: std::collections::VecDeque<Command>,
    pub rtp: std::collections::VecDeque<RtpTransmit>,
    next_id: u64,
    ssrc_seed: u64,
}

/// An RTP datagram to send from a leg's socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpTransmit {
    pub leg: LegId,
    pub to: SocketAddr,
    pub bytes: Vec<u8>,
}

/// A tenant's split as it runs.
#[derive(Debug, Default)]
struct SplitState {
    reached: HashMap<usize, u64>,
    rolled_back: bool,
    /// The cutover phase's share of new calls Switchboard answers, in percent: it replaces
    /// the percent rules of the tenant file.
    switchboard_percent: Option<u8>,
    /// Calls the phase's share was applied to.
    shared: u64,
}

/// Where a tenant's migration stands, as the server tells the endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Migration {
    /// Every new call goes to the legacy PBX.
    pub rolled_back: bool,
    /// The cutover phase's share of new calls that Switchboard answers, in percent;
    /// `None`: the percent rules of the tenant's split apply.
    pub switchboard_percent: Option<u8>,
}

impl Calls {
    /// Where the tenant's split sends a new call from `caller` to `entry`: the legacy trunk,
    /// or `None` for Switchboard.
    fn split(&mut self, entry: &Entry, caller: &str) -> Option<Arc<Trunk>> {
        let split = entry.split.as_ref()?;
        if !matches!(entry.target, Target::Flow { .. }) {
            return None;
        }
        let state = self.splits.entry(Arc::clone(&entry.tenant)).or_default();
        if state.rolled_back {
            return Some(Arc::clone(&split.trunk));
        }
        // Spread evenly: with 10, the 10th, 20th, 30th... call of `n` gets the share.
        let gets_share = |n: u64, percent: u8| n * u64::from(percent) / 100 != (n - 1) * u64::from(percent) / 100;
        for (i, rule) in split.rules.iter().enumerate() {
            let to_legacy = match rule {
                SplitRule::Caller(prefix, legacy) if caller.starts_with(prefix.as_str()) => *legacy,
                SplitRule::Number(number, legacy) if *number == entry.number => *legacy,
                SplitRule::Percent(..) if state.switchboard_percent.is_some() => continue,
                SplitRule::Percent(percent, legacy) => {
                    let n = state.reached.entry(i).or_default();
                    *n += 1;
                    if !gets_share(*n, *percent) {
                        continue;
                    }
                    *legacy
                }
                _ => continue,
            };
            return to_legacy.then(|| Arc::clone(&split.trunk));
        }
        let percent = state.switchboard_percent?;
        state.shared += 1;
        (!gets_share(state.shared, percent)).then(|| Arc::clone(&split.trunk))
    }

    pub fn new(entries: &[Arc<Entry>], seed: u64) -> Calls {
        let entries = entries.iter().map(|e| (e.number.clone(), Arc::clone(e))).collect();
        Calls { entries, ssrc_seed: seed, ..Calls::default() }
    }

    pub(crate) fn set_migration(&mut self, tenant: &str, migration: Migration) {
        let key: Arc<str> = tenant.into();
        let state = self.splits.entry(key).or_default();
        state.rolled_back = migration.rolled_back;
        if state.switchboard_percent != migration.switchboard_percent {
            state.switchboard_percent = migration.switchboard_percent;
            state.shared = 0;
        }
        tracing::info!(
            tenant,
            rolled_back = migration.rolled_back,
            switchboard_percent = migration.switchboard_percent,
            "traffic split changed"
        );
    }

    pub fn has_numbers(&self) -> bool {
        !self.entries.is_empty()
    }

    pub fn len(&self) -> usize {
        self.calls.len()
    }

    fn next(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// A pseudo-random SSRC (splitmix64 over a seed the driver chose and a counter).
    fn ssrc(&mut self) -> u32 {
        self.ssrc_seed = self.ssrc_seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.ssrc_seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) as u32
    }

    pub fn poll_timeout(&self) -> Option<Timestamp> {
        self.timers.peek().map(|Reverse((at, _))| *at)
    }
}

impl CallState {
    /// Puts the caller on hold: the music on hold, looped, or silence.
    fn hold(&mut self, now: Timestamp) {
        match self.entry.music_on_hold.clone() {
            Some(music) => self.caller.play(now, &music, true),
            None => self.caller.stop(),
        }
    }

    fn deadline(&self) -> Option<Timestamp> {
        let agent = self.agent.as_ref().and_then(|a| a.media.poll_timeout());
        let ok = self.inbound.ok.as_ref().map(|(_, at, _)| *at);
        let voicemail = self.voicemail.as_ref().and_then(|v| v.deadline);
        let announcement = self.next_announcement.filter(|_| self.queued);
        let flow = self.flow.as_ref().and_then(sb_flow::Call::poll_timeout);
        [flow, self.caller.poll_timeout(), agent, ok, self.inbound.ack_deadline, voicemail, announcement]
            .into_iter()
            .flatten()
            .min()
    }
}

impl Endpoint {
    /// A new INVITE (no To tag): a call to one of our numbers, or a refusal.
    pub(crate) fn new_invite(
        &mut self,
        now: Timestamp,
        id: TransactionId,
        request: &Request,
        from: SocketAddr,
        transport: Transport,
    ) {
        let number = request.uri.user().unwrap_or_default().to_owned();
        let Some(entry) = self.calls.entries.get(&number).cloned() else {
            let why = if self.calls.has_numbers() {
                format!("no number {number:?} here")
            } else {
                crate::endpoint::NO_FLOW.to_owned()
            };
            let status =
                if self.calls.has_numbers() { StatusCode::NOT_FOUND } else { StatusCode::TEMPORARILY_UNAVAILABLE };
            self.refuse(now, id, request, status, &why);
            return;
        };
        let offer = match sdp_of(request) {
            Ok(offer) => offer,
            Err(why) => {
                self.refuse(now, id, request, StatusCode::NOT_ACCEPTABLE_HERE, &why);
                return;
            }
        };
        let call = CallId(self.calls.next());
        let leg = LegId(self.calls.next());
        let tag = format!("{}c{}", self.config.tag_prefix, call.0);
        let caller_name = request.headers.from().ok().and_then(|f| f.uri.user().map(str::to_owned)).unwrap_or_default();
        let info = sb_flow::CallInfo { caller: caller_name.clone(), dialed: number };
        let forward = self.calls.split(&entry, &caller_name);
        let flow = match (&entry.target, &forward) {
            (Target::Flow { flow, schedules }, None) => {
                Some(sb_flow::Call::new(Arc::clone(flow), info, Arc::clone(schedules)))
            }
            _ => None,
        };
        let ssrc = self.calls.ssrc();
        tracing::info!(%call, %from, tenant = %entry.tenant, number = %entry.number, caller = %caller_name, "call arrives");
        let state = CallState {
            entry,
            flow,
            inbound: Inbound {
                invite: request.clone(),
                from,
                transport,
                tx: id,
                offer,
                tag,
                dialog: None,
                ok: None,
                ack_deadline: None,
            },
            caller_leg: leg,
            caller: MediaLeg::new(ssrc),
            agent: None,
            interaction: None,
            queued: false,
            scheduled: None,
            caller_name,
            pending_answer: None,
            forward,
            next_announcement: None,
            announcing: false,
            recorder: None,
            voicemail: None,
        };
        self.calls.calls.insert(call, state);
        self.calls.legs.insert(leg, (call, Side::Caller));
        self.calls.server.insert(id, call);
        // The transaction layer sends 100 Trying if the answer takes more than 200 ms.
        self.calls.commands.push_back(Command::OpenMedia { leg });
    }

    /// Refuses the caller's INVITE with `status` and a Warning saying why, with the call's To
    /// tag (the one a 180 from a trunk already carried).
    fn refuse_caller(&mut self, now: Timestamp, call: CallId, status: StatusCode, why: &str) {
        let Some(state) = self.calls.calls.get(&call) else { return };
        tracing::info!(%call, %status, why, "call refused");
        let mut response = Response::for_request_with_tag(&state.inbound.invite, status, &state.inbound.tag);
        push(&mut response.headers, "Server", &self.config.agent);
        push(&mut response.headers, "Warning", &self.warning(why));
        let tx = state.inbound.tx;
        self.send(now, tx, response);
    }

    /// Answers a request with `status` and a Warning saying why.
    fn refuse(&mut self, now: Timestamp, id: TransactionId, request: &Request, status: StatusCode, why: &str) {
        tracing::info!(status = %status, why, "request refused");
        let mut response = self.response(request, status);
        push(&mut response.headers, "Warning", &self.warning(why));
        self.send(now, id, response);
    }

    pub(crate) fn send(&mut self, now: Timestamp, id: TransactionId, response: Response) {
        if let Err(error) = self.layer.send_response(now, id, response) {
            tracing::warn!(%id, %error, "the transaction layer refused our response");
        }
    }

    /// The driver bound the leg's socket at `local`.
    pub fn media_opened(&mut self, now: Timestamp, leg: LegId, local: SocketAddr) {
        let Some(&(call, side)) = self.calls.legs.get(&leg) else { return };
        match side {
            Side::Caller => self.answer_caller(now, call, local),
            Side::Agent => self.invite_agent(now, call, local),
        }
        self.after(now, call);
        self.flush();
    }

    /// The driver could not open the leg's socket.
    pub fn media_failed(&mut self, now: Timestamp, leg: LegId, why: &str) {
        let Some(&(call, side)) = self.calls.legs.get(&leg) else { return };
        tracing::warn!(%call, %leg, why, "media leg not opened");
        match side {
            Side::Caller => {
                self.refuse_caller(now, call, StatusCode::SERVICE_UNAVAILABLE, "no media port available");
                self.end_call(now, call);
            }
            // The offer runs out and goes to someone else.
            Side::Agent => self.drop_agent(call),
        }
        self.flush();
    }

    fn answer_caller(&mut self, now: Timestamp, call: CallId, local: SocketAddr) {
        let Some(state) = self.calls.calls.get_mut(&call) else { return };
        state.caller.local = Some(local);
        let config = AnswerConfig::new(local.ip(), local.port(), call.0);
        let (answer, negotiated) = match sb_media::sdp::answer(&state.inbound.offer, &config) {
            Ok(done) => done,
            Err(error) => {
                self.refuse_caller(now, call, StatusCode::NOT_ACCEPTABLE_HERE, &error.to_string());
                self.end_call(now, call);
                return;
            }
        };
        state.caller.negotiate(negotiated);
        let trunk = match (&state.forward, &state.entry.target) {
            (Some(trunk), _) | (None, Target::Trunk(trunk)) => Some(Arc::clone(trunk)),
            (None, Target::Flow { .. }) => None,
        };
        if let Some(trunk) = trunk {
            // The caller is answered when the trunk answers.
            state.pending_answer = Some(answer.to_bytes());
            self.forward(now, call, trunk);
            return;
        }
        self.send_ok(now, call, answer.to_bytes());
        if let Some(flow) = self.calls.calls.get_mut(&call).and_then(|s| s.flow.as_mut()) {
            flow.start(now);
        }
        tracing::info!(%call, %local, "call answered");
        self.run_flow(now, call);
    }

    /// A 200 OK to an INVITE or re-INVITE with our `sdp`, our Contact and Server.
    fn ok_with_sdp(&self, request: &Request, tag: &str, sdp: Vec<u8>) -> Response {
        let mut ok = Response::for_request_with_tag(request, StatusCode::OK, tag);
        push(&mut ok.headers, "Contact", &self.contact());
        push(&mut ok.headers, "Allow", crate::endpoint::ALLOW);
        push(&mut ok.headers, "Server", &self.config.agent);
        push(&mut ok.headers, "Content-Type", "application/sdp");
        ok.body = sdp;
        ok
    }

    /// Sends the caller our 200 OK with `sdp`, and resends it until the ACK.
    fn send_ok(&mut self, now: Timestamp, call: CallId, sdp: Vec<u8>) {
        let Some(state) = self.calls.calls.get(&call) else { return };
        let ok = self.ok_with_sdp(&state.inbound.invite, &state.inbound.tag, sdp);
        let Some(state) = self.calls.calls.get_mut(&call) else { return };
        let invite = &state.inbound.invite;
        let peer = (state.inbound.from, state.inbound.transport);
        state.inbound.dialog = uas_dialog(invite, &ok, peer);
        if let Some(dialog) = &state.inbound.dialog {
            self.calls.dialogs.insert((dialog.call_id.clone(), state.inbound.tag.clone()), (call, Side::Caller));
        }
        let t1 = self.config.timers.t1_ms();
        state.inbound.ok = Some((ok.clone(), now.after_millis(t1), t1));
        state.inbound.ack_deadline = Some(now.after_millis(64 * t1));
        let tx = state.inbound.tx;
        self.send(now, tx, ok);
    }

    /// Our Contact: where peers send requests in our dialogs.
    fn contact(&self) -> String {
        format!("<sip:switchboard@{}>", self.config.local)
    }

    /// An ACK arrived outside a transaction: the ACK for a 200 OK of ours.
    pub(crate) fn ack(&mut self, request: &Request) {
        let (Ok(call_id), Some(tag)) = (request.headers.call_id(), request.headers.to_tag()) else { return };
        if let Some(&(call, Side::Caller)) = self.calls.dialogs.get(&(call_id.to_owned(), tag))
            && let Some(state) = self.calls.calls.get_mut(&call)
        {
            state.inbound.ok = None;
            state.inbound.ack_deadline = None;
        }
    }

    /// A BYE, re-INVITE or other request with a To tag: a request in one of our dialogs.
    /// Returns `false` when it belongs to no dialog.
    pub(crate) fn in_dialog(&mut self, now: Timestamp, id: TransactionId, request: &Request) -> bool {
        let (Ok(call_id), Some(tag)) = (request.headers.call_id(), request.headers.to_tag()) else { return false };
        let Some(&(call, side)) = self.calls.dialogs.get(&(call_id.to_owned(), tag)) else { return false };
        match request.method {
            Method::Bye => {
                let ok = Response::for_request(request, StatusCode::OK);
                self.send(now, id, ok);
                match side {
                    Side::Caller => self.caller_left(now, call),
                    Side::Agent => self.agent_left(now, call),
                }
            }
            Method::Invite => self.reinvite(now, id, request, call, side),
            Method::Refer => self.refer(now, id, request, call, side),
            _ => {
                let response = self.response(request, StatusCode::METHOD_NOT_ALLOWED);
                self.send(now, id, response);
            }
        }
        self.after(now, call);
        true
    }

    /// A re-INVITE: a hold (`sendonly`, `c=0.0.0.0`), a resume, or a new address. Answered
    /// from the same port, with the direction the offer allows.
    fn reinvite(&mut self, now: Timestamp, id: TransactionId, request: &Request, call: CallId, side: Side) {
        let Some(state) = self.calls.calls.get_mut(&call) else { return };
        let media = match side {
            Side::Caller => &mut state.caller,
            Side::Agent => match &mut state.agent {
                Some(agent) => &mut agent.media,
                None => return,
            },
        };
        let answered = sdp_of(request).and_then(|offer| {
            let local = media.local.ok_or_else(|| "no media leg".to_owned())?;
            let mut config = AnswerConfig::new(local.ip(), local.port(), call.0);
            config.session_version = 2 + u64::from(request.headers.cseq().map_or(0, |c| c.seq));
            if let Some(current) = media.negotiated {
                config.codecs = vec![current.law];
            }
            sb_media::sdp::answer(&offer, &config).map_err(|e| e.to_string())
        });
        let tag = request.headers.to_tag().unwrap_or_default();
        match answered {
            Ok((answer, negotiated)) => {
                media.negotiate(negotiated);
                let held = negotiated.direction == Direction::RecvOnly || negotiated.direction == Direction::Inactive;
                tracing::info!(%call, ?side, held, "re-INVITE answered");
                let ok = self.ok_with_sdp(request, &tag, answer.to_bytes());
                self.send(now, id, ok);
            }
            Err(why) => self.refuse(now, id, request, StatusCode::NOT_ACCEPTABLE_HERE, &why),
        }
    }

    /// A REFER from the agent's phone (RFC 3515): a blind transfer of the caller to the queue
    /// or agent its Refer-To names (`sip:billing@...`, `sip:bob@...`). Accepted with 202
    /// while the routing engine decides; a NOTIFY then tells the phone the outcome. Callers
    /// and trunks may not transfer.
    fn refer(&mut self, now: Timestamp, id: TransactionId, request: &Request, call: CallId, side: Side) {
        // `get` finds the compact form `r` too.
        let target = request
            .headers
            .get("Refer-To")
            .and_then(|value| NameAddr::parse(value).ok())
            .and_then(|refer_to| refer_to.uri.user().map(str::to_owned));
        let Some(state) = self.calls.calls.get_mut(&call) else { return };
        let tenant = Arc::clone(&state.entry.tenant);
        let agent = state
            .agent
            .as_mut()
            .filter(|a| side == Side::Agent && a.trunk.is_none() && a.state == Ringing::Connected && !a.transferring);
        let (Some(agent), Some(target)) = (agent, target) else {
            let why = if side == Side::Agent {
                "a REFER needs a Refer-To naming a queue or an agent"
            } else {
                "only the agent transfers a call"
            };
            let status = if side == Side::Agent { StatusCode::BAD_REQUEST } else { StatusCode::FORBIDDEN };
            self.refuse(now, id, request, status, why);
            return;
        };
        agent.transferring = true;
        let request_to_engine = RouteRequest::Transfer {
            interaction: agent.interaction,
            agent: agent.agent.clone(),
            target: target.clone(),
        };
        tracing::info!(%call, agent = %agent.agent, target, "the agent transfers the call");
        let tag = request.headers.to_tag().unwrap_or_default();
        let accepted = Response::for_request_with_tag(request, StatusCode::ACCEPTED, &tag);
        self.send(now, id, accepted);
        self.calls.commands.push_back(Command::Route { tenant, request: request_to_engine });
    }

    /// The engine's answer to a transfer: tell the phone (NOTIFY with a sipfrag), and on
    /// success release its leg and put the caller back on hold.
    fn transferred(&mut self, now: Timestamp, call: CallId, result: Result<(), String>) {
        let Some(state) = self.calls.calls.get_mut(&call) else { return };
        let Some(agent) = state.agent.as_mut().filter(|a| a.transferring) else { return };
        agent.transferring = false;
        let frag = match &result {
            Ok(()) => "SIP/2.0 200 OK\r\n",
            Err(_) => "SIP/2.0 403 Forbidden\r\n",
        };
        if let Some(dialog) = &mut agent.dialog {
            let (mut notify, peer) = self.config.in_dialog_request(Method::Notify, dialog);
            push(&mut notify.headers, "Event", "refer");
            push(&mut notify.headers, "Subscription-State", "terminated;reason=noresource");
            push(&mut notify.headers, "Content-Type", "message/sipfrag;version=2.0");
            notify.body = frag.as_bytes().to_vec();
            self.send_request(now, notify, peer);
        }
        match result {
            Ok(()) => {
                tracing::info!(%call, "transferred; the caller waits again");
                self.save_conversation(call);
                self.hang_up_agent(now, call);
                if let Some(state) = self.calls.calls.get_mut(&call) {
                    state.caller.bridge = None;
                    state.hold(now);
                }
            }
            Err(why) => tracing::info!(%call, why, "transfer refused; the agent keeps the call"),
        }
    }

    /// Tells a caller still on hold where it waits.
    fn announce(&mut self, now: Timestamp, call: CallId, position: Option<u32>) {
        let Some(state) = self.calls.calls.get_mut(&call) else { return };
        let on_hold = state.queued && state.agent.as_ref().is_none_or(|a| a.state != Ringing::Connected);
        let (Some(position), Some(announcements), true) = (position, &state.entry.announcements, on_hold) else {
            return;
        };
        let prompt = announcements.of(position);
        tracing::debug!(%call, position, "position announced");
        state.caller.play(now, &prompt, false);
        state.announcing = true;
    }

    /// A CANCEL for the caller's INVITE: before the answer it ends the call with 487.
    pub(crate) fn cancel(&mut self, now: Timestamp, invite: TransactionId) {
        let Some(&call) = self.calls.server.get(&invite) else { return };
        let Some(state) = self.calls.calls.get(&call) else { return };
        if state.inbound.dialog.is_none() {
            let request = state.inbound.invite.clone();
            let tag = state.inbound.tag.clone();
            let terminated = Response::for_request_with_tag(&request, StatusCode::REQUEST_TERMINATED, &tag);
            self.send(now, invite, terminated);
            tracing::info!(%call, "call cancelled before the answer");
            self.hang_up_agent(now, call);
            self.end_call(now, call);
        }
    }

    /// The caller hung up.
    fn caller_left(&mut self, now: Timestamp, call: CallId) {
        self.save_voicemail(call);
        self.save_conversation(call);
        let Some(state) = self.calls.calls.get_mut(&call) else { return };
        if let Some(flow) = &mut state.flow {
            flow.handle_hangup(now);
        }
        let tenant = Arc::clone(&state.entry.tenant);
        let connected = state.agent.as_ref().is_some_and(|a| a.state == Ringing::Connected);
        tracing::info!(%call, connected, "caller hung up");
        if let Some(interaction) = state.interaction {
            let request = match &state.agent {
                Some(agent) if connected => RouteRequest::Complete { interaction, agent: agent.agent.clone() },
                _ => RouteRequest::Abandon { interaction },
            };
            self.calls.commands.push_back(Command::Route { tenant, request });
        }
        self.hang_up_agent(now, call);
        self.end_call(now, call);
    }

    /// The agent hung up a connected call; the caller's flow goes on.
    fn agent_left(&mut self, now: Timestamp, call: CallId) {
        self.save_conversation(call);
        let Some(state) = self.calls.calls.get_mut(&call) else { return };
        let Some(agent) = state.agent.take() else { return };
        if agent.trunk.is_some() {
            // A forwarded call ends with its far end.
            tracing::info!(%call, trunk = %agent.agent, "the trunk hung up");
            self.forget_agent(&agent);
            self.hang_up_caller(now, call);
            return;
        }
        tracing::info!(%call, agent = %agent.agent, "agent hung up");
        let tenant = Arc::clone(&state.entry.tenant);
        state.caller.bridge = None;
        state.queued = false;
        if let Some(flow) = &mut state.flow {
            flow.handle_agent_finished(now);
        }
        self.forget_agent(&agent);
        let request = RouteRequest::Complete { interaction: agent.interaction, agent: agent.agent };
        self.calls.commands.push_back(Command::Route { tenant, request });
        self.run_flow(now, call);
    }

    fn forget_agent(&mut self, agent: &AgentLeg) {
        self.calls.legs.remove(&agent.leg);
        if let Some(tx) = agent.tx {
            self.calls.client.remove(&tx);
        }
        if let Some(dialog) = &agent.dialog {
            self.calls.dialogs.remove(&(dialog.call_id.clone(), agent.tag.clone()));
        }
        self.calls.commands.push_back(Command::CloseMedia { leg: agent.leg });
    }

    /// Ends the agent's leg whatever its state: BYE when connected, CANCEL when ringing.
    fn hang_up_agent(&mut self, now: Timestamp, call: CallId) {
        let Some(state) = self.calls.calls.get_mut(&call) else { return };
        let Some(mut agent) = state.agent.take() else { return };
        match agent.state {
            Ringing::Connected => {
                if let Some(dialog) = &mut agent.dialog {
                    let (bye, peer) = self.config.in_dialog_request(Method::Bye, dialog);
                    self.send_request(now, bye, peer);
                }
            }
            Ringing::Invited => {
                if let Some(invite) = &agent.invite
                    && let Ok(cancel) = Request::cancel_for(invite)
                {
                    self.send_request(now, cancel, (agent.phone, agent.transport));
                }
            }
            Ringing::Opening | Ringing::Cancelling => {}
        }
        self.forget_agent(&agent);
    }

    /// Sends a request whose answer nobody waits for (BYE, CANCEL, NOTIFY).
    fn send_request(&mut self, now: Timestamp, request: Request, to: (SocketAddr, Transport)) {
        if let Err(error) = self.layer.send_request(now, request, to.0, to.1) {
            tracing::warn!(%error, "request not sent");
        }
    }

    /// Sends the call's INVITE toward a phone or a trunk and keeps its transaction, whose
    /// responses [`Endpoint::call_response`] reads.
    fn send_invite(&mut self, now: Timestamp, call: CallId, invite: Request, to: (SocketAddr, Transport)) {
        match self.layer.send_request(now, invite, to.0, to.1) {
            Ok(tx) => {
                if let Some(agent) = self.calls.calls.get_mut(&call).and_then(|s| s.agent.as_mut()) {
                    agent.tx = Some(tx);
                }
                self.calls.client.insert(tx, call);
            }
            Err(error) => tracing::warn!(%call, %error, "INVITE not sent"),
        }
    }

    /// Removes the call and closes its legs; sends nothing.
    fn end_call(&mut self, _now: Timestamp, call: CallId) {
        let Some(state) = self.calls.calls.remove(&call) else { return };
        self.calls.legs.remove(&state.caller_leg);
        self.calls.server.remove(&state.inbound.tx);
        if let Some(dialog) = &state.inbound.dialog {
            self.calls.dialogs.remove(&(dialog.call_id.clone(), state.inbound.tag.clone()));
        }
        if let Some(interaction) = state.interaction {
            self.calls.interactions.remove(&interaction);
        }
        if let Some(agent) = &state.agent {
            self.forget_agent(agent);
        }
        self.calls.commands.push_back(Command::CloseMedia { leg: state.caller_leg });
        tracing::info!(%call, received = state.caller.received, "call ended");
    }

    /// Carries out what the flow asks until it waits.
    fn run_flow(&mut self, now: Timestamp, call: CallId) {
        loop {
            let Some(state) = self.calls.calls.get_mut(&call) else { return };
            let Some(action) = state.flow.as_mut().and_then(sb_flow::Call::poll_action) else { return };
            let tenant = Arc::clone(&state.entry.tenant);
            match action {
                Action::Play { file } => match state.entry.prompts.get(&file) {
                    Some(prompt) => {
                        let prompt = prompt.clone();
                        state.caller.play(now, &prompt, false);
                    }
                    None => {
                        tracing::warn!(%call, file, "prompt not loaded; skipped");
                        if let Some(flow) = &mut state.flow {
                            flow.handle_play_finished(now);
                        }
                    }
                },
                Action::StopPlayback => state.caller.stop(),
                Action::HttpRequest { url, timeout } => {
                    self.calls.commands.push_back(Command::Http { call, url, timeout });
                }
                Action::Enqueue { queue, priority, skills, attributes } => {
                    state.queued = true;
                    state.next_announcement = state.entry.announcements.as_ref().map(|a| now.after(a.every));
                    state.hold(now);
                    let skills = skills.into_iter().map(|(s, p)| (s, p.get())).collect();
                    let request =
                        RouteRequest::Enqueue { call, queue, priority: priority.map(|p| p.get()), skills, attributes };
                    self.calls.commands.push_back(Command::Route { tenant, request });
                }
                Action::RecordVoicemail { prompt, max_length, attributes } => {
                    let max_ms = u64::try_from(max_length.as_millis()).unwrap_or(u64::MAX);
                    let mut voicemail = Voicemail { attributes, max_ms, recorder: None, deadline: None };
                    match state.entry.prompts.get(&prompt) {
                        Some(prompt) => {
                            let prompt = prompt.clone();
                            state.caller.play(now, &prompt, false);
                        }
                        None => voicemail.record(now),
                    }
                    state.voicemail = Some(voicemail);
                }
                Action::RequestCallback { .. } | Action::SurveyAnswer { .. } => {
                    let (caller, interaction) = (state.caller_name.clone(), state.interaction);
                    self.calls.commands.push_back(Command::Outcome { tenant, call, caller, interaction, action });
                }
                Action::Hangup => {
                    self.hang_up_caller(now, call);
                    return;
                }
                Action::Note(event) => tracing::info!(%call, ?event, "flow"),
            }
        }
    }

    /// The flow hung up: BYE to the caller (after the ACK we have, or not) and the end.
    fn hang_up_caller(&mut self, now: Timestamp, call: CallId) {
        self.save_conversation(call);
        let Some(state) = self.calls.calls.get_mut(&call) else { return };
        if let Some(dialog) = &mut state.inbound.dialog {
            let (bye, peer) = self.config.in_dialog_request(Method::Bye, dialog);
            self.send_request(now, bye, peer);
        }
        self.hang_up_agent(now, call);
        self.end_call(now, call);
    }

    /// Reschedules the call's timer after anything happened to it.
    fn after(&mut self, _now: Timestamp, call: CallId) {
        let Some(state) = self.calls.calls.get_mut(&call) else { return };
        let deadline = state.deadline();
        if deadline != state.scheduled {
            state.scheduled = deadline;
            if let Some(at) = deadline {
                self.calls.timers.push(Reverse((at, call)));
            }
        }
    }

    /// Fires the calls' timers due at `now`.
    pub(crate) fn call_timers(&mut self, now: Timestamp) {
        while let Some(&Reverse((at, call))) = self.calls.timers.peek() {
            if at > now {
                break;
            }
            self.calls.timers.pop();
            let Some(state) = self.calls.calls.get_mut(&call) else { continue };
            if state.scheduled != Some(at) {
                continue;
            }
            state.scheduled = None;
            self.call_timeout(now, call);
            self.after(now, call);
        }
    }

    fn call_timeout(&mut self, now: Timestamp, call: CallId) {
        let Some(state) = self.calls.calls.get_mut(&call) else { return };
        if let Some((ok, at, interval)) = &mut state.inbound.ok
            && *at <= now
        {
            let next = (*interval * 2).min(self.config.timers.t2_ms());
            *interval = next;
            *at = now.after_millis(next);
            let ok = ok.clone();
            if let Some(dialog) = &state.inbound.dialog {
                self.layer.send_stateless(Message::Response(ok), dialog.peer, dialog.transport);
            }
        }
        let Some(state) = self.calls.calls.get_mut(&call) else { return };
        if state.inbound.ack_deadline.is_some_and(|at| at <= now) {
            tracing::warn!(%call, "no ACK for our 200 OK; hanging up");
            state.inbound.ok = None;
            state.inbound.ack_deadline = None;
            self.hang_up_caller(now, call);
            return;
        }
        self.pump_media(now, call);
        let Some(state) = self.calls.calls.get_mut(&call) else { return };
        let voicemail_over = state
            .voicemail
            .as_ref()
            .is_some_and(|v| v.deadline.is_some_and(|at| at <= now) || v.recorder.as_ref().is_some_and(Recorder::full));
        if voicemail_over {
            self.finish_voicemail(now, call);
            return;
        }
        if state.queued
            && let Some(at) = state.next_announcement.filter(|at| *at <= now)
        {
            let every = state.entry.announcements.as_ref().map_or(Duration::from_secs(30), |a| a.every);
            state.next_announcement = Some(at.after(every));
            let on_hold = state.agent.as_ref().is_none_or(|a| a.state != Ringing::Connected);
            if let (Some(interaction), true) = (state.interaction, on_hold) {
                let tenant = Arc::clone(&state.entry.tenant);
                self.calls
                    .commands
                    .push_back(Command::Route { tenant, request: RouteRequest::Position { interaction } });
            }
        }
        let Some(state) = self.calls.calls.get_mut(&call) else { return };
        if let Some(flow) = &mut state.flow {
            flow.handle_timeout(now);
        }
        self.run_flow(now, call);
    }

    /// Sends the packets due on the call's legs and hands digits and prompt ends to the flow.
    fn pump_media(&mut self, now: Timestamp, call: CallId) {
        let Some(state) = self.calls.calls.get_mut(&call) else { return };
        let mut out = Vec::new();
        let ended = state.caller.poll_packets(now, &mut out);
        for (to, bytes) in out.drain(..) {
            self.calls.rtp.push_back(RtpTransmit { leg: state.caller_leg, to, bytes });
        }
        if let Some(agent) = &mut state.agent {
            agent.media.poll_packets(now, &mut out);
            for (to, bytes) in out.drain(..) {
                self.calls.rtp.push_back(RtpTransmit { leg: agent.leg, to, bytes });
            }
        }
        state.caller.handle_timeout(now);
        if ended && state.announcing {
            // The announcement is over: back to the hold music.
            state.announcing = false;
            state.hold(now);
        } else if ended {
            match &mut state.voicemail {
                // The voicemail's prompt is over: the caller speaks now.
                Some(voicemail) if voicemail.recorder.is_none() => voicemail.record(now),
                _ => {
                    if let Some(flow) = &mut state.flow {
                        flow.handle_play_finished(now);
                    }
                }
            }
        }
        let mut hash = false;
        while let Some(digit) = state.caller.poll_digit() {
            if state.voicemail.as_ref().is_some_and(|v| v.recorder.is_some()) {
                // # ends a message.
                hash |= digit.as_char() == '#';
                continue;
            }
            // Digits reach the flow only while no agent is connected.
            if state.agent.as_ref().is_none_or(|a| a.state != Ringing::Connected) {
                tracing::debug!(%call, digit = %digit.as_char(), "digit");
                if let Some(flow) = &mut state.flow {
                    flow.handle_digit(now, digit.as_char());
                }
            }
        }
        if hash {
            self.finish_voicemail(now, call);
        }
    }

    /// One datagram received on a leg's socket.
    pub fn handle_rtp(&mut self, now: Timestamp, leg: LegId, bytes: &[u8], from: SocketAddr) {
        let Some(&(call, side)) = self.calls.legs.get(&leg) else { return };
        match side {
            Side::Caller => self.stats_mut().rtp_from_callers += 1,
            Side::Agent => self.stats_mut().rtp_from_agents += 1,
        }
        let Some(state) = self.calls.calls.get_mut(&call) else { return };
        let (media, other) = match (side, &mut state.agent) {
            (Side::Caller, Some(agent)) => (&mut state.caller, Some((&mut agent.media, agent.leg))),
            (Side::Caller, None) => (&mut state.caller, None),
            (Side::Agent, Some(agent)) => (&mut agent.media, Some((&mut state.caller, state.caller_leg))),
            (Side::Agent, None) => return,
        };
        let received = media.handle_packet(now, bytes, from);
        if received != Received::Dropped
            && (state.recorder.is_some() || state.voicemail.is_some())
            && let (Ok(packet), Some(negotiated)) = (sb_media::RtpPacket::parse(bytes), media.negotiated)
            && packet.header.payload_type == negotiated.payload_type
        {
            let track = usize::from(side == Side::Agent);
            if let Some(recorder) = &mut state.recorder {
                recorder.add(now, track, negotiated.law, packet.payload);
            }
            if let Some(recorder) = state.voicemail.as_mut().and_then(|v| v.recorder.as_mut())
                && side == Side::Caller
            {
                recorder.add(now, 0, negotiated.law, packet.payload);
            }
        }
        if received == Received::Relayed {
            let relayed: Vec<Vec<u8>> = media.relayed().collect();
            if let Some((other, other_leg)) = other
                && let Some(to) = other.destination()
            {
                let count = relayed.len() as u64;
                for bytes in relayed {
                    self.calls.rtp.push_back(RtpTransmit { leg: other_leg, to, bytes });
                }
                self.stats_mut().rtp_relayed += count;
            }
        }
        self.pump_media(now, call);
        self.run_flow(now, call);
        self.after(now, call);
        self.flush();
    }

    /// The answer to the flow's HTTP request.
    pub fn handle_http_result(&mut self, now: Timestamp, call: CallId, result: Result<Vec<(String, String)>, String>) {
        let Some(flow) = self.calls.calls.get_mut(&call).and_then(|s| s.flow.as_mut()) else { return };
        flow.handle_http_result(now, result);
        self.run_flow(now, call);
        self.after(now, call);
        self.flush();
    }

    /// What a routing engine says about a call.
    pub fn handle_route(&mut self, now: Timestamp, notice: RouteNotice) {
        match notice {
            RouteNotice::Queued { call, interaction } => {
                if let Some(state) = self.calls.calls.get_mut(&call) {
                    state.interaction = Some(interaction);
                    self.calls.interactions.insert(interaction, call);
                    tracing::info!(%call, interaction, "call queued");
                } else {
                    // The caller left while the engine was queueing the call.
                    tracing::info!(%call, interaction, "caller left before the call was queued");
                }
            }
            RouteNotice::EnqueueFailed { call, reason } => {
                if let Some(state) = self.calls.calls.get_mut(&call) {
                    tracing::warn!(%call, reason, "the queue refused the call");
                    state.queued = false;
                    state.caller.stop();
                    if let Some(flow) = &mut state.flow {
                        flow.handle_enqueue_failed(now, reason);
                    }
                    self.run_flow(now, call);
                    self.after(now, call);
                }
            }
            RouteNotice::Offered { interaction, agent } => {
                if let Some(&call) = self.calls.interactions.get(&interaction) {
                    self.ring(now, call, interaction, agent);
                    self.after(now, call);
                }
            }
            RouteNotice::OfferEnded { interaction, agent } => {
                if let Some(&call) = self.calls.interactions.get(&interaction) {
                    self.withdraw(now, call, &agent);
                    self.after(now, call);
                }
            }
            RouteNotice::Position { interaction, position } => {
                if let Some(&call) = self.calls.interactions.get(&interaction) {
                    self.announce(now, call, position);
                    self.after(now, call);
                }
            }
            RouteNotice::Transferred { interaction, result } => {
                if let Some(&call) = self.calls.interactions.get(&interaction) {
                    self.transferred(now, call, result);
                    self.after(now, call);
                }
            }
        }
        self.flush();
    }

    /// Rings the agent's registered phone for the call.
    fn ring(&mut self, now: Timestamp, call: CallId, interaction: u64, agent: String) {
        let Some(state) = self.calls.calls.get(&call) else { return };
        let realm = Arc::clone(&state.entry.tenant);
        let Some(user) =
            self.config.phones.iter().find(|p| p.realm == *realm && p.agent == agent).map(|p| p.user.clone())
        else {
            tracing::warn!(%call, agent, "the agent has no phone; the offer will time out");
            return;
        };
        let Some(binding) =
            self.registrar.contacts(now, &realm, &user).first().map(|b| (b.contact.clone(), b.source, b.transport))
        else {
            tracing::warn!(%call, agent, user, "the agent's phone is not registered; the offer will time out");
            return;
        };
        if state.agent.as_ref().is_some_and(|a| a.transferring) {
            // The engine offers the transferred call before its answer to the transfer
            // arrives: the transfer has succeeded.
            self.transferred(now, call, Ok(()));
        }
        if self.calls.calls.get(&call).is_some_and(|s| s.agent.is_some()) {
            // A new offer replaces a leg that is still going away.
            self.hang_up_agent(now, call);
        }
        tracing::info!(%call, agent, contact = %binding.0, "ringing the agent's phone");
        self.open_out_leg(
            call,
            OutLeg { agent, interaction, to: (binding.1, binding.2), contact: binding.0, trunk: None },
        );
    }

    /// Starts the leg to `trunk` for a call to a forwarded number: the request URI is the
    /// number dialled at the trunk's host.
    fn forward(&mut self, _now: Timestamp, call: CallId, trunk: Arc<Trunk>) {
        let Some(state) = self.calls.calls.get(&call) else { return };
        let host = if trunk.host.contains(':') { format!("[{}]", trunk.host) } else { trunk.host.clone() };
        let contact = format!("sip:{}@{host}:{}", state.entry.number, trunk.address.port());
        tracing::info!(%call, trunk = %trunk.id, to = %trunk.address, "forwarding the call to a trunk");
        let to = (trunk.address, Transport::Udp);
        self.open_out_leg(call, OutLeg { agent: trunk.id.clone(), interaction: 0, to, contact, trunk: Some(trunk) });
    }

    /// Creates the call's leg toward a phone or a trunk and asks the driver for its socket;
    /// the INVITE goes once the socket is open.
    fn open_out_leg(&mut self, call: CallId, out: OutLeg) {
        let leg = LegId(self.calls.next());
        let ssrc = self.calls.ssrc();
        let kind = if out.trunk.is_some() { 't' } else { 'a' };
        let tag = format!("{}{kind}{}", self.config.tag_prefix, leg.0);
        let Some(state) = self.calls.calls.get_mut(&call) else { return };
        state.agent = Some(AgentLeg {
            agent: out.agent,
            interaction: out.interaction,
            leg,
            media: MediaLeg::new(ssrc),
            phone: out.to.0,
            transport: out.to.1,
            contact: out.contact,
            state: Ringing::Opening,
            invite: None,
            tx: None,
            offer: None,
            dialog: None,
            tag,
            trunk: out.trunk,
            authenticated: false,
            ringing_sent: false,
            transferring: false,
        });
        self.calls.legs.insert(leg, (call, Side::Agent));
        self.calls.commands.push_back(Command::OpenMedia { leg });
    }

    /// The trunk failed the call: the caller gets `status` with a Warning saying why.
    fn trunk_failed(&mut self, now: Timestamp, call: CallId, status: StatusCode, why: &str) {
        let Some(state) = self.calls.calls.get(&call) else { return };
        if state.inbound.dialog.is_some() {
            return;
        }
        self.refuse_caller(now, call, status, why);
        self.drop_agent(call);
        self.end_call(now, call);
    }

    /// The agent leg's socket is open: send the INVITE with our offer.
    fn invite_agent(&mut self, now: Timestamp, call: CallId, local: SocketAddr) {
        let sip = self.config.local;
        let Some(state) = self.calls.calls.get_mut(&call) else { return };
        let caller = state.caller_name.clone();
        let law = state.caller.law();
        let Some(agent) = &mut state.agent else { return };
        agent.media.local = Some(local);
        let mut config = OfferConfig::new(local.ip(), local.port(), call.0);
        // The caller's codec only, so that the legs can be relayed without transcoding.
        config.codecs = vec![law];
        let Ok(offer) = sb_media::sdp::offer(&config) else { return };
        let Ok(target) = Uri::parse(agent.contact.trim_matches(|c| c == '<' || c == '>')) else {
            tracing::warn!(%call, contact = %agent.contact, "the phone's contact is not a SIP URI");
            return;
        };
        let n = agent.leg.0;
        let user = if caller.is_empty() || !caller.chars().all(|c| c.is_ascii_alphanumeric() || "+-._".contains(c)) {
            "anonymous".to_owned()
        } else {
            caller
        };
        let fields = [
            ("Via", format!("SIP/2.0/UDP {sip};branch=z9hG4bK{}i{n}", self.config.tag_prefix)),
            ("Max-Forwards", "70".to_owned()),
            ("From", format!("<sip:{user}@{}>;tag={}", sip.ip(), agent.tag)),
            ("To", format!("<{target}>")),
            ("Call-ID", format!("{}-{n}@{}", self.config.tag_prefix, sip.ip())),
            ("CSeq", "1 INVITE".to_owned()),
            ("Contact", format!("<sip:switchboard@{sip}>")),
            ("Content-Type", "application/sdp".to_owned()),
        ];
        let invite =
            Request { method: Method::Invite, uri: target, headers: headers_of(&fields), body: offer.to_bytes() };
        agent.offer = Some(offer);
        agent.invite = Some(invite.clone());
        agent.state = Ringing::Invited;
        let to = (agent.phone, agent.transport);
        self.send_invite(now, call, invite, to);
    }

    /// The engine withdrew the offer: cancel the ringing phone.
    fn withdraw(&mut self, now: Timestamp, call: CallId, agent_id: &str) {
        let Some(state) = self.calls.calls.get_mut(&call) else { return };
        let Some(agent) = &mut state.agent else { return };
        if agent.agent != agent_id || agent.state == Ringing::Connected {
            return;
        }
        tracing::info!(%call, agent = agent_id, "offer withdrawn; cancelling the phone");
        match agent.state {
            Ringing::Invited => {
                agent.state = Ringing::Cancelling;
                if let Some(invite) = &agent.invite
                    && let Ok(cancel) = Request::cancel_for(invite)
                {
                    let phone = (agent.phone, agent.transport);
                    self.send_request(now, cancel, phone);
                }
            }
            Ringing::Opening => self.drop_agent(call),
            Ringing::Cancelling | Ringing::Connected => {}
        }
    }

    /// Hands the conversation's recording to the driver, if the call was recorded.
    fn save_conversation(&mut self, call: CallId) {
        let Some(state) = self.calls.calls.get_mut(&call) else { return };
        let Some(recorder) = state.recorder.take() else { return };
        self.calls.commands.push_back(Command::SaveRecording {
            tenant: Arc::clone(&state.entry.tenant),
            call,
            interaction: state.interaction,
            kind: RecordingKind::Conversation,
            wav: recorder.stereo(),
            attributes: Vec::new(),
        });
    }

    /// Hands a voicemail being recorded to the driver; `true` if there was one.
    fn save_voicemail(&mut self, call: CallId) -> bool {
        let Some(state) = self.calls.calls.get_mut(&call) else { return false };
        let Some(voicemail) = state.voicemail.take() else { return false };
        if let Some(recorder) = voicemail.recorder {
            self.calls.commands.push_back(Command::SaveRecording {
                tenant: Arc::clone(&state.entry.tenant),
                call,
                interaction: None,
                kind: RecordingKind::Voicemail,
                wav: recorder.mono(),
                attributes: voicemail.attributes,
            });
        }
        true
    }

    /// The voicemail is over (its time is up, the caller pressed #): keep it, go on.
    fn finish_voicemail(&mut self, now: Timestamp, call: CallId) {
        if self.save_voicemail(call)
            && let Some(flow) = self.calls.calls.get_mut(&call).and_then(|s| s.flow.as_mut())
        {
            flow.handle_recording_finished(now);
        }
        self.run_flow(now, call);
    }

    /// Forgets the agent leg without signalling.
    fn drop_agent(&mut self, call: CallId) {
        if let Some(agent) = self.calls.calls.get_mut(&call).and_then(|s| s.agent.take()) {
            self.forget_agent(&agent);
        }
    }

    /// A response to one of our client transactions. Returns `false` if it is not a call's.
    pub(crate) fn call_response(&mut self, now: Timestamp, tx: TransactionId, response: &Response) -> bool {
        let Some(&call) = self.calls.client.get(&tx) else { return false };
        let status = response.status.as_u16();
        let Some(state) = self.calls.calls.get_mut(&call) else { return true };
        let Some(agent) = &mut state.agent else { return true };
        if agent.tx != Some(tx) {
            return true;
        }
        if let Some(trunk) = agent.trunk.clone() {
            if (180..200).contains(&status) && !agent.ringing_sent {
                // The far end rings: so does the caller.
                agent.ringing_sent = true;
                let ringing =
                    Response::for_request_with_tag(&state.inbound.invite, StatusCode::RINGING, &state.inbound.tag);
                let tx = state.inbound.tx;
                self.send(now, tx, ringing);
                return true;
            }
            if (status == 401 || status == 407) && !agent.authenticated && trunk.credentials.is_some() {
                self.authenticate(now, call, response);
                return true;
            }
            if status >= 300 && agent.state != Ringing::Cancelling {
                let code = StatusCode::new(status).filter(|_| status < 700 && status != 401 && status != 407);
                let why = format!("trunk {} answered {} {}", trunk.id, status, response.reason);
                self.trunk_failed(now, call, code.unwrap_or(StatusCode::SERVICE_UNAVAILABLE), &why);
                return true;
            }
        }
        if status < 200 {
            return true;
        }
        if status >= 300 {
            // The phone refused or we cancelled; the transaction layer sent the ACK. The
            // engine's offer runs out and the agent goes not-ready, so a phone that refuses
            // everything does not take every call.
            tracing::info!(%call, status, agent = %agent.agent, "the agent's phone did not answer");
            self.drop_agent(call);
            self.after(now, call);
            return true;
        }
        // 2xx: ACK it (again, if it is a retransmission), then connect unless withdrawn.
        let peer = (agent.phone, agent.transport);
        let Some(invite) = agent.invite.clone() else { return true };
        let dialog = uac_dialog(&invite, response, peer);
        let Some(mut dialog) = dialog else { return true };
        let ack = self.config.ack_for_2xx(&invite, &dialog);
        self.layer.send_stateless(Message::Request(ack), peer.0, peer.1);
        let Some(state) = self.calls.calls.get_mut(&call) else { return true };
        let Some(agent) = &mut state.agent else { return true };
        if agent.state == Ringing::Connected {
            return true;
        }
        if agent.state == Ringing::Cancelling {
            // Answered as we cancelled: hang up at once.
            let (bye, peer) = self.config.in_dialog_request(Method::Bye, &mut dialog);
            self.send_request(now, bye, peer);
            self.drop_agent(call);
            return true;
        }
        let negotiated = match (agent.offer.as_ref(), sdp_of_response(response)) {
            (Some(offer), Ok(answer)) => sb_media::sdp::process_answer(offer, &answer).map_err(|e| e.to_string()),
            (_, Err(why)) => Err(why),
            (None, _) => Err("no offer".to_owned()),
        };
        self.calls.dialogs.insert((dialog.call_id.clone(), agent.tag.clone()), (call, Side::Agent));
        agent.dialog = Some(dialog);
        let negotiated = match negotiated {
            Ok(n) => n,
            Err(why) => {
                tracing::warn!(%call, why, "the phone's answer is unusable; hanging up on it");
                self.hang_up_agent(now, call);
                return true;
            }
        };
        agent.media.negotiate(negotiated);
        agent.state = Ringing::Connected;
        // Bridge both ways: each leg's received audio continues the other leg's stream.
        state.caller.stop();
        state.announcing = false;
        let to_agent = agent.media.bridge_from(now, &state.caller);
        let to_caller = state.caller.bridge_from(now, &agent.media);
        state.caller.bridge = to_agent;
        agent.media.bridge = to_caller;
        if state.entry.record_calls {
            state.recorder = Some(Recorder::new(now, MAX_RECORDING_MS));
        }
        if agent.trunk.is_some() {
            tracing::info!(%call, trunk = %agent.agent, "the trunk answered; legs bridged");
            if let Some(sdp) = state.pending_answer.take() {
                self.send_ok(now, call, sdp);
            }
            self.after(now, call);
            return true;
        }
        let request = RouteRequest::Accept { interaction: agent.interaction, agent: agent.agent.clone() };
        tracing::info!(%call, agent = %agent.agent, "agent answered; legs bridged");
        let tenant = Arc::clone(&state.entry.tenant);
        self.calls.commands.push_back(Command::Route { tenant, request });
        self.after(now, call);
        true
    }

    /// A client transaction of a call timed out: the phone never answered.
    pub(crate) fn call_timeout_tx(&mut self, now: Timestamp, tx: TransactionId) -> bool {
        let Some(call) = self.calls.client.remove(&tx) else { return false };
        let is_invite = self.calls.calls.get(&call).and_then(|s| s.agent.as_ref()).is_some_and(|a| a.tx == Some(tx));
        let trunk = self.calls.calls.get(&call).and_then(|s| s.agent.as_ref()).and_then(|a| a.trunk.clone());
        if is_invite && let Some(trunk) = trunk {
            let why = format!("trunk {} did not answer", trunk.id);
            self.trunk_failed(now, call, StatusCode::SERVICE_UNAVAILABLE, &why);
        } else if is_invite {
            tracing::info!(%call, "the agent's phone did not respond");
            self.drop_agent(call);
            self.after(now, call);
        }
        true
    }

    /// Resends the INVITE to a trunk with credentials for its challenge (RFC 3261 section
    /// 22.2): the same Call-ID and From tag, the next CSeq, a new branch.
    fn authenticate(&mut self, now: Timestamp, call: CallId, challenge: &Response) {
        let cnonce = format!("{:08x}", self.calls.ssrc());
        let Some(state) = self.calls.calls.get_mut(&call) else { return };
        let Some(agent) = &mut state.agent else { return };
        let (Some(trunk), Some(invite)) = (agent.trunk.clone(), agent.invite.clone()) else { return };
        let Some((user, password)) = &trunk.credentials else { return };
        let proxy = challenge.status.as_u16() == 407;
        let (ask, answer) =
            if proxy { ("Proxy-Authenticate", "Proxy-Authorization") } else { ("WWW-Authenticate", "Authorization") };
        let uri = invite.uri.to_string();
        let credentials = challenge
            .headers
            .get(ask)
            .ok_or_else(|| format!("a {} without {ask}", challenge.status))
            .and_then(|value| crate::digest::authorize(value, user, password, "INVITE", &uri, &cnonce));
        let credentials = match credentials {
            Ok(credentials) => credentials,
            Err(why) => {
                let why = format!("trunk {}: {why}", trunk.id);
                self.trunk_failed(now, call, StatusCode::SERVICE_UNAVAILABLE, &why);
                return;
            }
        };
        let mut retry = invite.clone();
        let seq = invite.headers.cseq().map_or(1, |c| c.seq) + 1;
        let via =
            format!("SIP/2.0/UDP {};branch=z9hG4bK{}i{}a", self.config.local, self.config.tag_prefix, agent.leg.0);
        push_set(&mut retry.headers, "Via", &via);
        push_set(&mut retry.headers, "CSeq", &format!("{seq} INVITE"));
        push_set(&mut retry.headers, answer, &credentials);
        agent.authenticated = true;
        agent.invite = Some(retry.clone());
        if let Some(old) = agent.tx.take() {
            self.calls.client.remove(&old);
        }
        let to = (trunk.address, agent.transport);
        self.send_invite(now, call, retry, to);
    }

    /// Moves the transaction layer's output to ours.
    pub(crate) fn flush(&mut self) {
        while let Some(transmit) = self.layer.poll_transmit() {
            self.transmits.push_back(crate::endpoint::Datagram {
                to: transmit.to,
                transport: transmit.transport,
                bytes: transmit.message.to_bytes(),
            });
        }
    }
}

impl crate::endpoint::EndpointConfig {
    /// A request in `dialog` (BYE, say), with the next CSeq.
    fn in_dialog_request(&self, method: Method, dialog: &mut Dialog) -> (Request, (SocketAddr, Transport)) {
        dialog.cseq += 1;
        let branch =
            format!("z9hG4bK{}{}x{}{}", self.tag_prefix, dialog.call_id.len(), dialog.cseq, fnv(&dialog.call_id));
        let request = self.dialog_request(method, dialog, dialog.cseq, &branch);
        (request, (dialog.peer, dialog.transport))
    }

    /// A request in `dialog` without a body: its From, To and Call-ID, our Via with
    /// `branch`, and CSeq `seq`.
    fn dialog_request(&self, method: Method, dialog: &Dialog, seq: u32, branch: &str) -> Request {
        let fields = [
            ("Via", format!("SIP/2.0/UDP {};branch={branch}", self.local)),
            ("Max-Forwards", "70".to_owned()),
            ("From", dialog.local.clone()),
            ("To", dialog.remote.clone()),
            ("Call-ID", dialog.call_id.clone()),
            ("CSeq", format!("{seq} {method}")),
            ("Content-Length", "0".to_owned()),
        ];
        Request { method, uri: dialog.target.clone(), headers: headers_of(&fields), body: Vec::new() }
    }

    /// The ACK for a 2xx to our INVITE (RFC 3261 section 13.2.2.4): a new branch, the
    /// INVITE's CSeq number.
    fn ack_for_2xx(&self, invite: &Request, dialog: &Dialog) -> Request {
        let seq = invite.headers.cseq().map_or(1, |c| c.seq);
        let branch = format!("z9hG4bK{}ack{}", self.tag_prefix, fnv(&dialog.call_id));
        self.dialog_request(Method::Ack, dialog, seq, &branch)
    }
}

/// Header fields we build, in order; our values hold no control characters.
fn headers_of(fields: &[(&str, String)]) -> sb_sip::Headers {
    let mut headers = sb_sip::Headers::new();
    for (name, value) in fields {
        push(&mut headers, name, value);
    }
    headers
}

/// Replaces a field we build; our values hold no control characters.
fn push_set(headers: &mut sb_sip::Headers, name: &str, value: &str) {
    if let Err(error) = headers.set(name, value) {
        tracing::warn!(name, %error, "header not set");
    }
}

/// A short hash to make branches unique per dialog.
fn fnv(text: &str) -> String {
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    format!("{hash:x}")
}

/// The dialog our 200 OK to `invite` creates (RFC 3261 section 12.1.1): our side is the
/// 200's To, the target the INVITE's Contact.
fn uas_dialog(invite: &Request, ok: &Response, peer: (SocketAddr, Transport)) -> Option<Dialog> {
    let target = invite.headers.contact().ok()?.into_iter().next()?.uri;
    dialog(invite, (ok.headers.get("To")?, invite.headers.get("From")?), target, peer, 0)
}

/// The dialog the phone's 2xx to our INVITE creates (RFC 3261 section 12.1.2): our side is
/// the INVITE's From, the target the 2xx's Contact (else the INVITE's URI).
fn uac_dialog(invite: &Request, ok: &Response, peer: (SocketAddr, Transport)) -> Option<Dialog> {
    let target = ok.headers.contact().ok()?.into_iter().next().map(|c: NameAddr| c.uri).unwrap_or(invite.uri.clone());
    dialog(invite, (invite.headers.get("From")?, ok.headers.get("To")?), target, peer, 1)
}

fn dialog(
    invite: &Request,
    (local, remote): (&str, &str),
    target: Uri,
    (peer, transport): (SocketAddr, Transport),
    cseq: u32,
) -> Option<Dialog> {
    let call_id = invite.headers.call_id().ok()?.to_owned();
    Some(Dialog { call_id, local: local.to_owned(), remote: remote.to_owned(), target, peer, transport, cseq })
}

/// The SDP offer in a request's body.
fn sdp_of(request: &Request) -> Result<SessionDescription, String> {
    sdp_body(request.headers.get("Content-Type"), &request.body)
}

fn sdp_of_response(response: &Response) -> Result<SessionDescription, String> {
    sdp_body(response.headers.get("Content-Type"), &response.body)
}

fn sdp_body(content_type: Option<&str>, body: &[u8]) -> Result<SessionDescription, String> {
    if body.is_empty() {
        return Err("an SDP offer is required in the INVITE".to_owned());
    }
    let is_sdp =
        content_type.is_some_and(|t| t.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("application/sdp"));
    if !is_sdp {
        return Err(format!("the body is {}, not application/sdp", content_type.unwrap_or("untyped")));
    }
    SessionDescription::parse(body).map_err(|e| format!("SDP: {e}"))
}
