//! `switchboard bench sip`: calls per second end to end, and concurrent bridged calls with
//! media, with sipp (Debian package sip-tester) as callers and agents' phones.
//!
//! The server runs in-process on 127.0.0.1 (the same code as `switchboard serve --sip`): a
//! tenant with one number whose flow plays a 2-second prompt and queues the call, and agents
//! whose phones one sipp process answers for all (they register first with digest
//! authentication, each from the same address). Each call is: INVITE → answer → prompt →
//! queue → offer → the phone rings and answers → the phone hangs up after the talk time →
//! the flow hangs up on the caller. A rate passes when every call of its step succeeds.
//!
//! The baseline is sipp calling sipp on the same machine in the same run: the same caller
//! scenario against a sipp that answers, waits as long as our prompt and the talk take,
//! and hangs up. The ratio of the highest rates passed is the figure.
//!
//! The media step holds many calls bridged at once: callers send speech (the A-law of a
//! capture that sip-tester ships, streamed with sipp's `rtp_stream` from the callers'
//! ordinary UDP socket) after the prompt, the phones echo it back (sipp `-rtp_echo`), and
//! the server relays both ways. (sipp's `play_pcap_audio` is not used there: it sends through a raw
//! socket per call, and the system hands a copy of every UDP datagram on the machine to
//! each open raw socket, so that at a thousand calls the callers, not the server, were what
//! the machine spent its time on.) Loss is what the server received against what the callers
//! sent, and what it relayed against what it received; the added jitter is the spread of
//! the delay between taking a packet off a socket and sending what it caused.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::stats::Latencies;

/// The capture of speech the callers send in the media step: A-law, 7 s, 236 packets of
/// 30 ms.
pub const SPEECH: &str = "/usr/share/sip-tester/g711a.pcap";
/// How many times each caller plays it.
const SPEECH_PLAYS: u64 = 2;
/// The bytes of one packet sipp's `rtp_stream` sends for A-law: 20 ms.
const STREAM_PACKET: usize = 160;

/// The size of the run.
#[derive(Clone, Debug)]
pub struct SipBench {
    /// Agents, each with a phone (all answered by one sipp).
    pub agents: u32,
    /// Call rates tried, in calls per second, in order; the run stops at the first failure.
    pub rates: Vec<u32>,
    /// Seconds of calls at each rate.
    pub step_seconds: u32,
    /// How long the agent talks before hanging up, in milliseconds.
    pub talk_ms: u32,
    /// Calls held bridged at once in the media steps, in order; the ramp stops at the first
    /// count with a failed call or 0.1% loss or more. Empty skips the media steps.
    pub concurrent: Vec<u32>,
}

/// One rate of a ramp.
#[derive(Clone, Debug)]
pub struct Step {
    /// What sipp was asked for.
    pub rate: u32,
    pub calls: u32,
    pub successful: u64,
    pub failed: u64,
    /// Calls per second sipp managed to start: calls / (elapsed − average call length).
    pub launched_per_second: f64,
    /// The average call length sipp measured.
    pub call_length: Duration,
    /// Why calls failed, as sipp counts it (its `Failed…(C)` columns that are not zero).
    pub failures: Vec<(String, u64)>,
}

impl Step {
    /// Every call completed, and sipp kept within 5% of the rate asked: a machine too busy
    /// to start calls at the rate has not carried it.
    pub fn passed(&self) -> bool {
        self.failed == 0
            && self.successful == u64::from(self.calls)
            && self.launched_per_second >= 0.95 * f64::from(self.rate)
    }
}

/// The media step's figures.
#[derive(Clone, Debug)]
pub struct MediaFigures {
    pub calls: u32,
    pub successful: u64,
    /// RTP packets the callers sent (two plays of the capture per call).
    pub sent_by_callers: u64,
    /// RTP packets the server took off the callers' legs.
    pub from_callers: u64,
    /// RTP packets the server took off the phones' legs (their echo of what it relayed).
    pub from_phones: u64,
    /// RTP packets relayed from one leg to the other, both ways.
    pub relayed: u64,
    /// RTP packets the server sent (prompts, and the relay both ways).
    pub sent: u64,
    pub send_errors: u64,
    /// The system's count of UDP datagrams dropped for lack of buffer during the step.
    pub kernel_drops: Option<u64>,
    /// Of those, the ones dropped at this process's sockets (the server's media legs and
    /// SIP socket), if /proc tells.
    pub socket_drops: Option<u64>,
    /// From a packet taken off a socket to the end of sending what it caused.
    pub delays: Latencies,
}

/// The result of a run.
#[derive(Clone, Debug)]
pub struct SipReport {
    pub bench: SipBench,
    pub switchboard: Vec<Step>,
    pub baseline: Vec<Step>,
    /// One entry per count tried, or why none was.
    pub media: Result<Vec<MediaFigures>, String>,
}

impl MediaFigures {
    /// The share of the callers' packets that Switchboard lost: not received on its sockets,
    /// or not sent on for want of room (on the paths it owns, not in sipp's echo).
    pub fn loss(&self) -> f64 {
        let lost = self.sent_by_callers.saturating_sub(self.from_callers) + self.send_errors;
        lost as f64 / self.sent_by_callers.max(1) as f64
    }

    /// The share of the packets relayed to the phones that did not come back: the round
    /// trip through sipp's echo, for comparison.
    pub fn echo_loss(&self) -> f64 {
        let to_phones = self.from_callers.min(self.relayed);
        (1.0 - self.from_phones as f64 / to_phones.max(1) as f64).max(0.0)
    }

    /// The share of what reached the server's sockets (from callers and phones) that the
    /// system dropped there for want of room, which [`MediaFigures::loss`] does not see on
    /// the phones' side.
    pub fn socket_loss(&self) -> f64 {
        let received = self.from_callers + self.from_phones + self.socket_drops.unwrap_or(0);
        self.socket_drops.unwrap_or(0) as f64 / received.max(1) as f64
    }

    /// Every call completed with less than 0.1% loss, on the callers' path and at the
    /// server's sockets (which must be known).
    pub fn passed(&self) -> bool {
        self.successful == u64::from(self.calls)
            && self.loss() < 0.001
            && self.socket_drops.is_some()
            && self.socket_loss() < 0.001
    }
}

impl SipReport {
    fn best(steps: &[Step]) -> Option<&Step> {
        steps.iter().filter(|s| s.passed()).max_by_key(|s| s.rate)
    }
}

/// The prompt every call hears, in milliseconds.
const PROMPT_MS: u32 = 2000;

/// A scratch directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Result<Scratch, String> {
        let stamp = Instant::now().elapsed().as_nanos() ^ u128::from(std::process::id());
        let dir = std::env::temp_dir().join(format!("switchboard-bench-sip-{}-{stamp}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        Ok(Scratch(dir))
    }

    fn write(&self, name: &str, bytes: &[u8]) -> Result<PathBuf, String> {
        let path = self.0.join(name);
        std::fs::write(&path, bytes).map_err(|e| format!("writing {}: {e}", path.display()))?;
        Ok(path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A child process killed when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The server under test, in-process, with its scratch files.
struct Running {
    scratch: Scratch,
    server: sb_server::Spawned,
    sip: sb_voice::SipServer,
    token: String,
}

impl Running {
    /// Writes the tenant, flow and prompt and starts HTTP and SIP on free ports.
    fn start(agents: u32) -> Result<Running, String> {
        let scratch = Scratch::new()?;
        let tenant = scratch.write("tenant.yaml", tenant_yaml(agents).as_bytes())?;
        scratch.write("flow.yaml", FLOW.as_bytes())?;
        scratch.write("prompt.wav", &tone_wav(PROMPT_MS))?;
        let config = sb_config::load(&tenant).map_err(|e| e.report.to_string())?;
        let database = format!("sqlite:{}", scratch.0.join("state.db").display());
        let mut store = sb_storage::open(&database).map_err(|e| e.to_string())?;
        let token = crate::api::store_admin_token(store.as_mut(), "bench")?;
        let tenants = vec![(config, store)];
        let any: SocketAddr = "127.0.0.1:0".parse().expect("an address");
        let (sip, link) = sb_server::start_sip(any, None, &[tenant], &tenants).map_err(|e| format!("{e:#}"))?;
        let limits = sb_server::throttle::Limits::new(usize::MAX);
        let server = sb_server::spawn_with(tenants, any, limits, Some(link)).map_err(|e| format!("{e:#}"))?;
        Ok(Running { scratch, server, sip, token })
    }

    /// Makes every agent available over the HTTP API, as their desktops would.
    fn agents_available(&self, agents: u32) -> Result<(), String> {
        for i in 1..=agents {
            let path = format!("/api/v1/agents/a{i:05}/presence");
            let status = put(self.server.addr, &self.token, &path, r#"{"presence": "available"}"#)?;
            if status != 204 {
                return Err(format!("PUT {path} answered {status}"));
            }
        }
        Ok(())
    }

    /// Registers every agent's phone from `port` with digest authentication, as the phones
    /// would (the one sipp that then answers for them all listens on that port).
    fn register_phones(&self, agents: u32, port: u16) -> Result<(), String> {
        let socket = UdpSocket::bind(("127.0.0.1", port)).map_err(|e| format!("binding the phones' port: {e}"))?;
        socket.set_read_timeout(Some(Duration::from_secs(5))).map_err(|e| e.to_string())?;
        let sip = self.sip.local_addr();
        let uri = format!("sip:{sip}");
        let mut buffer = [0u8; 4096];
        for i in 1..=agents {
            let user = format!("7{i:05}");
            let mut authorization = String::new();
            for cseq in 1..=2 {
                let request = format!(
                    "REGISTER {uri} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-reg-{i}-{cseq}\r\n\
                     Max-Forwards: 70\r\nFrom: <sip:{user}@127.0.0.1>;tag=r{i}\r\nTo: <sip:{user}@127.0.0.1>\r\n\
                     Call-ID: reg-{i}@bench\r\nCSeq: {cseq} REGISTER\r\nContact: <sip:{user}@127.0.0.1:{port}>\r\n\
                     Expires: 3600\r\n{authorization}Content-Length: 0\r\n\r\n"
                );
                socket.send_to(request.as_bytes(), sip).map_err(|e| e.to_string())?;
                let len = socket.recv(&mut buffer).map_err(|e| format!("no answer to phone {user}'s REGISTER: {e}"))?;
                let answer = String::from_utf8_lossy(&buffer[..len]);
                let status = answer.get(8..11).unwrap_or_default();
                match (cseq, status) {
                    (1, "401") => {
                        let challenge = answer
                            .lines()
                            .find_map(|l| l.strip_prefix("WWW-Authenticate: "))
                            .ok_or_else(|| format!("a 401 without a challenge: {answer}"))?;
                        let value = sb_voice::digest::authorize(
                            challenge,
                            &user,
                            &format!("pw{i}"),
                            "REGISTER",
                            &uri,
                            "bench",
                        )?;
                        authorization = format!("Authorization: {value}\r\n");
                    }
                    (2, "200") => {}
                    _ => {
                        return Err(format!(
                            "phone {user} could not register: {}",
                            answer.lines().next().unwrap_or("")
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    fn stop(self) -> Result<sb_voice::DriverStats, String> {
        let stats = self.sip.stop().map_err(|e| e.to_string())?;
        self.server.stop().map_err(|e| format!("{e:#}"))?;
        Ok(stats)
    }
}

/// A sipp command for `scenario` against `target` from local `port`, in `dir`.
fn sipp(dir: &Path, scenario: &Path, target: &str, port: u16) -> Command {
    let mut command = Command::new("sipp");
    command
        .arg(target)
        .args(["-t", "u1", "-i", "127.0.0.1", "-p", &port.to_string(), "-nostdin", "-timeout", "600s"])
        .arg("-sf")
        .arg(scenario)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

/// A free UDP port on 127.0.0.1, even, with the port two above free too (sipp uses both
/// for media).
fn free_port() -> Result<u16, String> {
    for _ in 0..100 {
        let port = UdpSocket::bind("127.0.0.1:0").and_then(|s| s.local_addr()).map_err(|e| e.to_string())?.port();
        if port % 2 == 0 && port < 65_000 && UdpSocket::bind(("127.0.0.1", port + 2)).is_ok() {
            return Ok(port);
        }
    }
    Err("no free UDP port pair".to_owned())
}

/// Sends a PUT with a JSON body and an API token; returns the status.
fn put(addr: SocketAddr, token: &str, path: &str, body: &str) -> Result<u16, String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    let request = format!(
        "PUT {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).map_err(|e| e.to_string())?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).map_err(|e| e.to_string())?;
    answer.get(9..12).and_then(|code| code.parse().ok()).ok_or_else(|| format!("not an HTTP answer: {answer:?}"))
}

/// Starts the agents' phones: one sipp answering every INVITE on `port`, talking for
/// `talk_ms` and hanging up; with `echo`, it sends back the RTP it receives.
fn phones(dir: &Path, sip: SocketAddr, port: u16, talk_ms: u32, echo: bool) -> Result<Killed, String> {
    let scenario = dir.join(format!("phone-{talk_ms}.xml"));
    std::fs::write(&scenario, answering(talk_ms)).map_err(|e| e.to_string())?;
    let mut command = sipp(dir, &scenario, &sip.to_string(), port);
    command.args(["-mp", &free_port()?.to_string()]);
    if echo {
        command.arg("-rtp_echo");
    }
    command.spawn().map(Killed).map_err(|e| format!("starting the phones' sipp: {e}"))
}

/// Runs `calls` calls at `rate` from a sipp caller to `target` and reads its statistics.
fn callers(dir: &Path, target: &str, scenario: &str, name: &str, rate: u32, calls: u32) -> Result<Step, String> {
    let file = dir.join(format!("{name}.xml"));
    std::fs::write(&file, scenario).map_err(|e| e.to_string())?;
    let stats = dir.join(format!("{name}-{rate}.csv"));
    let _ = std::fs::remove_file(&stats);
    let mut command = sipp(dir, &file, target, 0);
    command.args(["-r", &rate.to_string(), "-m", &calls.to_string(), "-l", "100000", "-mp", &free_port()?.to_string()]);
    command.args(["-trace_stat", "-fd", "1", "-stf"]).arg(&stats);
    let started = Instant::now();
    let output = command.output().map_err(|e| format!("running sipp: {e}"))?;
    let elapsed = started.elapsed();
    let text = std::fs::read_to_string(&stats).map_err(|e| format!("sipp wrote no statistics: {e}"))?;
    let last = read_stats(&text).ok_or_else(|| {
        format!("sipp's statistics are unreadable; it said: {}", String::from_utf8_lossy(&output.stderr).trim())
    })?;
    let launch = elapsed.saturating_sub(last.call_length).as_secs_f64().max(0.001);
    Ok(Step {
        rate,
        calls,
        successful: last.successful,
        failed: last.failed.max(u64::from(calls).saturating_sub(last.successful + last.failed)),
        launched_per_second: f64::from(calls) / launch,
        call_length: last.call_length,
        failures: last.failures,
    })
}

/// The last row of a sipp statistics file.
struct StatRow {
    successful: u64,
    failed: u64,
    call_length: Duration,
    failures: Vec<(String, u64)>,
}

fn read_stats(text: &str) -> Option<StatRow> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<&str> = lines.next()?.split(';').collect();
    let last: Vec<&str> = lines.next_back()?.split(';').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).and_then(|i| last.get(i)).copied();
    let number = |name: &str| column(name)?.trim().parse::<u64>().ok();
    // HH:MM:SS:microseconds.
    let length = column("CallLength(C)")?;
    let parts: Vec<u64> = length.split(':').map(|p| p.parse().ok()).collect::<Option<_>>()?;
    let [h, m, sec, us] = parts[..] else { return None };
    let call_length = Duration::from_secs(h * 3600 + m * 60 + sec) + Duration::from_micros(us);
    let failures = header
        .iter()
        .filter(|h| h.starts_with("Failed") && h.ends_with("(C)") && **h != "FailedCall(C)")
        .filter_map(|h| Some((h.trim_end_matches("(C)").to_owned(), number(h).filter(|n| *n > 0)?)))
        .collect();
    Some(StatRow { successful: number("SuccessfulCall(C)")?, failed: number("FailedCall(C)")?, call_length, failures })
}

/// Tries each rate until one fails or is not kept up.
fn ramp(
    bench: &SipBench,
    target: &str,
    dir: &Path,
    name: &str,
    progress: &mut dyn FnMut(String),
) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    for &rate in &bench.rates {
        let calls = rate * bench.step_seconds;
        progress(format!("{name}: {calls} calls at {rate} calls/s"));
        let step = callers(dir, target, &caller(None), name, rate, calls)?;
        let passed = step.passed();
        steps.push(step);
        if !passed {
            break;
        }
    }
    Ok(steps)
}

/// Runs the benchmark; `progress` hears what is being done.
pub fn run(bench: &SipBench, progress: &mut dyn FnMut(String)) -> Result<SipReport, String> {
    which("sipp").ok_or("sipp is not installed (Debian package sip-tester)")?;
    if bench.rates.is_empty() || bench.agents == 0 || bench.step_seconds == 0 {
        return Err("give at least one rate, one agent and one second per step".to_owned());
    }
    // Switchboard: callers -> prompt -> queue -> the agents' phones.
    progress(format!("starting the server with {} agents", bench.agents));
    let running = Running::start(bench.agents)?;
    running.agents_available(bench.agents)?;
    let phone_port = free_port()?;
    progress(format!("registering {} phones", bench.agents));
    running.register_phones(bench.agents, phone_port)?;
    let sip = running.sip.local_addr();
    let answering = phones(&running.scratch.0, sip, phone_port, bench.talk_ms, false)?;
    let switchboard = ramp(bench, &sip.to_string(), &running.scratch.0, "switchboard", progress)?;
    drop(answering);
    running.stop()?;
    // sipp to sipp: the same callers against a sipp that answers and hangs up as late.
    let scratch = Scratch::new()?;
    let direct_port = free_port()?;
    let nowhere: SocketAddr = "127.0.0.1:9".parse().expect("an address");
    let direct = phones(&scratch.0, nowhere, direct_port, PROMPT_MS + bench.talk_ms, false)?;
    let baseline = ramp(bench, &format!("127.0.0.1:{direct_port}"), &scratch.0, "sipp-to-sipp", progress)?;
    drop(direct);
    let media = if bench.concurrent.is_empty() {
        Err("skipped (no --concurrent counts)".to_owned())
    } else if !Path::new(SPEECH).is_file() {
        Err(format!("skipped: {SPEECH} is missing (Debian package sip-tester)"))
    } else {
        match std::fs::read(SPEECH).map_err(|e| e.to_string()).and_then(|capture| alaw_of(&capture)) {
            Ok(speech) => media_steps(&bench.concurrent, &speech, progress),
            Err(e) => Err(format!("{SPEECH}: {e}")),
        }
    };
    Ok(SipReport { bench: bench.clone(), switchboard, baseline, media })
}

/// The media steps, in order, until one fails. A step that cannot run ends the steps, not
/// the benchmark: the rates measured before stand.
fn media_steps(counts: &[u32], speech: &[u8], progress: &mut dyn FnMut(String)) -> Result<Vec<MediaFigures>, String> {
    let mut steps = Vec::new();
    for &calls in counts {
        match media(calls, speech, progress) {
            Ok(step) => {
                let passed = step.passed();
                steps.push(step);
                if !passed {
                    break;
                }
            }
            Err(e) => {
                let why = format!("the step of {calls} calls could not run: {e}");
                if steps.is_empty() {
                    return Err(why);
                }
                progress(why);
                break;
            }
        }
    }
    Ok(steps)
}

/// One media step: `calls` calls bridged at once, speech both ways, on a server of its own
/// so that its counts are the step's alone.
fn media(calls: u32, speech: &[u8], progress: &mut dyn FnMut(String)) -> Result<MediaFigures, String> {
    let packets = (speech.len() / STREAM_PACKET) as u64;
    let agents = calls + calls / 10;
    progress(format!("media: starting the server with {agents} agents"));
    let running = Running::start(agents)?;
    running.agents_available(agents)?;
    let phone_port = free_port()?;
    progress(format!("media: registering {agents} phones"));
    running.register_phones(agents, phone_port)?;
    let sip = running.sip.local_addr();
    // The plays of the speech after the prompt, then half a second, then the phone hangs up.
    let speech_ms = u32::try_from(SPEECH_PLAYS * packets * 20).map_err(|_| format!("{SPEECH} is too long"))?;
    let talk_ms = SPEECH_AFTER_MS + speech_ms + 500;
    let echoing = phones(&running.scratch.0, sip, phone_port, talk_ms, true)?;
    let drops_before = udp_receive_errors();
    let sampler = SocketDrops::start();
    let rate = calls.div_ceil(10).max(1);
    progress(format!(
        "media: {calls} calls at {rate} calls/s, each with {:.1} s of speech both ways",
        f64::from(speech_ms) / 1000.0
    ));
    let speech = running.scratch.write("speech.alaw", speech)?;
    let step = callers(&running.scratch.0, &sip.to_string(), &caller(Some(&speech)), "media", rate, calls)?;
    let drops_after = udp_receive_errors();
    let socket_drops = sampler.finish();
    drop(echoing);
    let stats = running.stop()?;
    let mut delays = Latencies::with_capacity(stats.delays_us.len());
    for us in &stats.delays_us {
        delays.record(Duration::from_micros(u64::from(*us)));
    }
    Ok(MediaFigures {
        calls,
        successful: step.successful,
        sent_by_callers: u64::from(calls) * SPEECH_PLAYS * packets,
        from_callers: stats.endpoint.rtp_from_callers,
        from_phones: stats.endpoint.rtp_from_agents,
        relayed: stats.endpoint.rtp_relayed,
        sent: stats.rtp_out,
        send_errors: stats.rtp_send_errors,
        kernel_drops: drops_before.zip(drops_after).map(|(a, b)| b.saturating_sub(a)),
        socket_drops,
        delays,
    })
}

/// The system's count of UDP datagrams dropped for want of receive buffer.
fn udp_receive_errors() -> Option<u64> {
    let snmp = std::fs::read_to_string("/proc/net/snmp").ok()?;
    let mut udp = snmp.lines().filter(|l| l.starts_with("Udp:"));
    let names: Vec<&str> = udp.next()?.split_whitespace().collect();
    let values: Vec<&str> = udp.next()?.split_whitespace().collect();
    let i = names.iter().position(|n| *n == "RcvbufErrors")?;
    values.get(i)?.parse().ok()
}

/// Counts the datagrams the system drops at this process's UDP sockets (the server's, in
/// the media step) while it runs, from the `drops` column of /proc/self/net/udp. A socket's
/// count goes when it closes, so a thread reads the table every 100 ms and keeps the highest
/// count seen of each socket, less what it had when the count started. What a socket drops
/// in its last 100 ms is not seen; in the media step no audio flows then (the phones hang up
/// half a second after the speech ends).
struct SocketDrops {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<Option<u64>>,
}

impl SocketDrops {
    fn start() -> SocketDrops {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopping = std::sync::Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut first: HashMap<u64, u64> = HashMap::new();
            let mut highest: HashMap<u64, u64> = HashMap::new();
            let mut started = true;
            loop {
                let done = stopping.load(std::sync::atomic::Ordering::Relaxed);
                let own = own_sockets()?;
                let table = std::fs::read_to_string("/proc/self/net/udp").ok()?;
                for (inode, drops) in udp_drops(&table).filter(|(inode, _)| own.contains(inode)) {
                    if started {
                        first.insert(inode, drops);
                    }
                    let seen = highest.entry(inode).or_insert(drops);
                    *seen = (*seen).max(drops);
                }
                started = false;
                if done {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            Some(highest.iter().map(|(inode, n)| n - first.get(inode).copied().unwrap_or(0).min(*n)).sum())
        });
        SocketDrops { stop, thread }
    }

    fn finish(self) -> Option<u64> {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.thread.join().ok().flatten()
    }
}

/// The inodes of this process's sockets.
fn own_sockets() -> Option<HashSet<u64>> {
    let entries = std::fs::read_dir("/proc/self/fd").ok()?;
    Some(
        entries
            .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
            .filter_map(|target| target.to_str()?.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok())
            .collect(),
    )
}

/// `(inode, drops)` of each socket in a /proc/net/udp table.
fn udp_drops(table: &str) -> impl Iterator<Item = (u64, u64)> + '_ {
    table.lines().skip(1).filter_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        Some((fields.get(9)?.parse().ok()?, fields.get(12)?.parse().ok()?))
    })
}

/// A phone that answers any INVITE with A-law audio, talks for `talk_ms` and hangs up.
fn answering(talk_ms: u32) -> String {
    format!(
        r#"<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="phone">
  <recv request="INVITE" crlf="true">
    <action><ereg regexp="tag=([^;>]*)" search_in="hdr" header="From:" assign_to="from,theirs"/></action>
  </recv>
  <Reference variables="from"/>
  <send><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:phone@[local_ip]:[local_port]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=phone 1 1 IN IP4 [local_ip]
      s=-
      c=IN IP4 [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8
      a=rtpmap:8 PCMA/8000

    ]]></send>
  <recv request="ACK" crlf="true"/>
  <pause milliseconds="{talk_ms}"/>
  <send retrans="500"><![CDATA[
      BYE sip:switchboard@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:phone@[local_ip]>;tag=[pid]SIPpTag01[call_number]
      To: <sip:caller@[remote_ip]>;tag=[$theirs]
      [last_Call-ID:]
      CSeq: 2 BYE
      Max-Forwards: 70
      Content-Length: 0

    ]]></send>
  <recv response="200"/>
</scenario>
"#
    )
}

/// When a caller with speech starts it, after the answer: once the prompt has played.
const SPEECH_AFTER_MS: u32 = 2300;

/// A caller of 5550100 that waits to be hung up on; with `speech`, it streams that file of
/// A-law [`SPEECH_PLAYS`] times over, from [`SPEECH_AFTER_MS`] after the answer.
fn caller(speech: Option<&Path>) -> String {
    let (port, talk) = match speech {
        Some(file) => (
            "[rtpstream_audio_port]",
            format!(
                "  <pause milliseconds=\"{SPEECH_AFTER_MS}\"/>\n  <nop><action><exec rtp_stream=\"{},{SPEECH_PLAYS},8\"/></action></nop>\n",
                file.display()
            ),
        ),
        None => ("[media_port]", String::new()),
    };
    format!(
        r#"<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="caller">
  <send retrans="500"><![CDATA[
      INVITE sip:5550100@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:caller@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:5550100@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:caller@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=caller 1 1 IN IP4 [local_ip]
      s=-
      c=IN IP4 [media_ip]
      t=0 0
      m=audio {port} RTP/AVP 8
      a=rtpmap:8 PCMA/8000

    ]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rrs="true"/>
  <send><![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:caller@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]></send>
{talk}  <recv request="BYE" timeout="60000"/>
  <send><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]></send>
</scenario>
"#
    )
}

/// The A-law payloads (RTP payload type 8) of a capture in the classic pcap format, of
/// Ethernet frames carrying IPv4 and UDP, in order, cut to whole 20 ms packets.
fn alaw_of(pcap: &[u8]) -> Result<Vec<u8>, String> {
    let little = match pcap.get(..4) {
        Some([0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1]) => true,
        Some([0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d]) => false,
        _ => return Err("not a pcap capture (unknown magic number)".to_owned()),
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b: [u8; 4] = pcap.get(at..at + 4)?.try_into().ok()?;
        Some(if little { u32::from_le_bytes(b) } else { u32::from_be_bytes(b) })
    };
    let link = u32_at(20).ok_or("the capture's header is cut short")?;
    if link != 1 {
        return Err(format!("link type {link} is not Ethernet (1)"));
    }
    let mut alaw = Vec::new();
    let mut at = 24;
    while at < pcap.len() {
        let cut = || format!("record at byte {at} is cut short");
        let length = u32_at(at + 8).ok_or_else(cut)? as usize;
        let end = at.checked_add(16).and_then(|start| start.checked_add(length)).ok_or_else(cut)?;
        let frame = pcap.get(at + 16..end).ok_or_else(cut)?;
        at = end;
        // Ethernet II with IPv4, then the IPv4 header's own length, then UDP, whose length
        // bounds the datagram (a frame may carry padding after it).
        if frame.get(12..14) != Some(&[0x08, 0x00]) || frame.get(23) != Some(&17) {
            continue;
        }
        let udp = 14 + usize::from(frame[14] & 0x0f) * 4;
        let Some(udp_length) = frame.get(udp + 4..udp + 6).map(|l| usize::from(u16::from_be_bytes([l[0], l[1]])))
        else {
            continue;
        };
        let Some(datagram) = frame.get(udp + 8..udp + udp_length.max(8)) else { continue };
        // Datagrams that are not RTP are passed over.
        if let Ok(packet) = sb_media::RtpPacket::parse(datagram)
            && packet.header.payload_type == sb_media::PayloadType::PCMA
        {
            alaw.extend_from_slice(packet.payload);
        }
    }
    alaw.truncate(alaw.len() / STREAM_PACKET * STREAM_PACKET);
    if alaw.is_empty() {
        return Err("no A-law RTP (payload type 8) in the capture".to_owned());
    }
    Ok(alaw)
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?.to_str()?.split(':').map(|dir| Path::new(dir).join(program)).find(|path| path.is_file())
}

const FLOW: &str = "
flow: bench
version: 1
start: prompt
nodes:
  prompt: {play: prompt.wav, next: queue}
  queue: {queue: calls}
";

fn tenant_yaml(agents: u32) -> String {
    let mut yaml = String::from(
        "tenant: {id: bench, name: SIP benchmark, time_zone: UTC}\nskills: [{id: help}]\n\
         queues: [{id: calls, channels: [voice], skills: {help: 1}, offer_timeout: 10s}]\n\
         voice:\n  numbers: [{number: \"5550100\", flow: flow.yaml}]\nagents:\n",
    );
    for i in 1..=agents {
        yaml.push_str(&format!(
            "  - {{id: a{i:05}, skills: {{help: 1}}, queues: [calls], phone: {{user: \"7{i:05}\", password: pw{i}}}}}\n"
        ));
    }
    yaml
}

/// A 16-bit PCM WAV file of `millis` of a 440 Hz tone.
fn tone_wav(millis: u32) -> Vec<u8> {
    let samples: Vec<i16> = (0..millis * 8)
        .map(|i| (6000.0 * (2.0 * std::f64::consts::PI * 440.0 * f64::from(i) / 8000.0).sin()) as i16)
        .collect();
    let data = samples.len() as u32 * 2;
    let mut wav = Vec::with_capacity(44 + data as usize);
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes());
    wav.extend_from_slice(&8000u32.to_le_bytes());
    wav.extend_from_slice(&16000u32.to_le_bytes());
    wav.extend_from_slice(&2u16.to_le_bytes());
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data.to_le_bytes());
    for s in samples {
        wav.extend_from_slice(&s.to_le_bytes());
    }
    wav
}

impl fmt::Display for SipReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.bench;
        writeln!(
            f,
            "SIP calls end to end: answer -> {} s prompt -> queue -> agent's phone answers -> {} ms talk -> hang-up",
            PROMPT_MS / 1000,
            b.talk_ms
        )?;
        writeln!(
            f,
            "  ({} agents, {} s of calls per rate, sipp as callers and phones, on 127.0.0.1)",
            b.agents, b.step_seconds
        )?;
        for (name, steps) in [("Switchboard", &self.switchboard), ("sipp to sipp", &self.baseline)] {
            writeln!(f, "  {name}:")?;
            for s in steps {
                writeln!(
                    f,
                    "    {:>5} calls/s asked: {:>6} calls, {:>6} completed, {:>5} failed, started at {:>7.1} calls/s, average call {:.2} s{}",
                    s.rate,
                    s.calls,
                    s.successful,
                    s.failed,
                    s.launched_per_second,
                    s.call_length.as_secs_f64(),
                    match (s.passed(), s.failed) {
                        (true, _) => String::new(),
                        (false, 0) => "  NOT KEPT UP".to_owned(),
                        (false, _) if s.failures.is_empty() => "  FAILED".to_owned(),
                        (false, _) => format!(
                            "  FAILED ({})",
                            s.failures.iter().map(|(why, n)| format!("{why}: {n}")).collect::<Vec<_>>().join(", ")
                        ),
                    }
                )?;
            }
        }
        match (SipReport::best(&self.switchboard), SipReport::best(&self.baseline)) {
            (Some(o), Some(t)) => writeln!(
                f,
                "  highest rate with no failed call: Switchboard {} calls/s, sipp to sipp {} calls/s: ratio {:.2} (target >= 300 calls/s: {})",
                o.rate,
                t.rate,
                f64::from(o.rate) / f64::from(t.rate),
                if o.rate >= 300 { "MET" } else { "NOT MET" }
            )?,
            (None, _) => {
                writeln!(f, "  Switchboard failed calls at every rate tried (target >= 300 calls/s: NOT MET)")?
            }
            (Some(o), None) => {
                writeln!(f, "  Switchboard {} calls/s; sipp to sipp failed at every rate tried", o.rate)?
            }
        }
        match &self.media {
            Err(why) => writeln!(f, "Concurrent bridged calls with media: {why}")?,
            Ok(steps) => {
                writeln!(f, "Concurrent bridged calls with media relayed (speech both ways, phones echo it):")?;
                for m in steps {
                    let (p50, p99) = (m.delays.quantile(0.5), m.delays.quantile(0.99));
                    writeln!(
                        f,
                        "  {:>5} calls: {} completed; from callers {} of {} sent, relayed {} (send errors {}): loss {:.3}%{}",
                        m.calls,
                        m.successful,
                        m.from_callers,
                        m.sent_by_callers,
                        m.relayed,
                        m.send_errors,
                        m.loss() * 100.0,
                        if m.passed() { "" } else { "  FAILED" }
                    )?;
                    writeln!(
                        f,
                        "         added delay p50 {:.2} ms, p99 {:.2} ms, max {:.1} ms (jitter, p99 - p50: {:.2} ms); phones' echo back {} ({:.3}% lost on the round trip through sipp); sent in all {}",
                        p50.as_secs_f64() * 1e3,
                        p99.as_secs_f64() * 1e3,
                        m.delays.quantile(1.0).as_secs_f64() * 1e3,
                        p99.saturating_sub(p50).as_secs_f64() * 1e3,
                        m.from_phones,
                        m.echo_loss() * 100.0,
                        m.sent
                    )?;
                    if let Some(drops) = m.kernel_drops {
                        writeln!(
                            f,
                            "         UDP receive-buffer drops on the whole machine: {drops} (the audio sent to the callers is not read by their sipp)"
                        )?;
                    }
                    match m.socket_drops {
                        Some(drops) => writeln!(
                            f,
                            "         at Switchboard's own sockets (media legs and SIP): {drops} dropped ({:.3}% of what reached them)",
                            m.socket_loss() * 100.0
                        )?,
                        None => writeln!(
                            f,
                            "         drops at Switchboard's own sockets: unknown (/proc/self/net/udp unreadable), so the step cannot pass"
                        )?,
                    }
                }
                let best = steps.iter().filter(|m| m.passed()).map(|m| m.calls).max();
                writeln!(
                    f,
                    "  largest count with < 0.1% loss: {} (target >= 1,000: {})",
                    best.map_or("none".to_owned(), |n| n.to_string()),
                    if best.is_some_and(|n| n >= 1000) { "MET" } else { "NOT MET" }
                )?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sipp_statistics_are_read_by_column_name() {
        let text = "StartTime;SuccessfulCall(C);FailedCall(C);FailedMaxUDPRetrans(C);FailedCallRejected(C);FailedTimeoutOnRecv(P);FailedTimeoutOnRecv(C);CallLength(C);\n\
                    a;1;0;0;0;0;0;00:00:01:000000;\n\
                    b;498;2;0;1;1;1;00:00:03:250000;\n";
        let row = read_stats(text).unwrap();
        assert_eq!((row.successful, row.failed), (498, 2));
        assert_eq!(row.call_length, Duration::from_millis(3250));
        // The reasons are the cumulative columns that are not zero.
        assert_eq!(row.failures, [("FailedCallRejected".to_owned(), 1), ("FailedTimeoutOnRecv".to_owned(), 1)]);
        assert!(read_stats("StartTime;\nb;\n").is_none());
    }

    #[test]
    fn a_rate_passes_only_with_every_call_and_the_pace_kept() {
        let step = |successful, failed, launched| Step {
            rate: 100,
            calls: 1000,
            successful,
            failed,
            launched_per_second: launched,
            call_length: Duration::from_secs(3),
            failures: vec![],
        };
        assert!(step(1000, 0, 99.0).passed());
        assert!(!step(999, 1, 99.0).passed());
        assert!(!step(1000, 0, 80.0).passed(), "sipp could not keep the pace");
    }

    /// A little-endian Ethernet capture of the given IPv4 payloads (protocol, bytes).
    fn capture(packets: &[(u8, Vec<u8>)]) -> Vec<u8> {
        let mut pcap = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
        pcap.extend_from_slice(&[0; 8]);
        pcap.extend_from_slice(&65535u32.to_le_bytes());
        pcap.extend_from_slice(&1u32.to_le_bytes());
        for (protocol, payload) in packets {
            let mut frame = vec![0; 12];
            frame.extend_from_slice(&[0x08, 0x00, 0x45, 0, 0, 0, 0, 0, 0, 0, 64, *protocol]);
            frame.extend_from_slice(&[0; 10]);
            let udp_length = (8 + payload.len()) as u16;
            frame.extend_from_slice(&[0, 0, 0, 0]);
            frame.extend_from_slice(&udp_length.to_be_bytes());
            frame.extend_from_slice(&[0, 0]);
            frame.extend_from_slice(payload);
            // An Ethernet trailer, which is not the datagram's.
            frame.extend_from_slice(&[0xee; 4]);
            pcap.extend_from_slice(&[0; 8]);
            pcap.extend_from_slice(&(frame.len() as u32).to_le_bytes());
            pcap.extend_from_slice(&(frame.len() as u32).to_le_bytes());
            pcap.extend_from_slice(&frame);
        }
        pcap
    }

    fn rtp(payload_type: u8, fill: u8, len: usize) -> Vec<u8> {
        let mut packet = vec![0x80, payload_type, 0, 1, 0, 0, 0, 160, 1, 2, 3, 4];
        packet.extend(std::iter::repeat_n(fill, len));
        packet
    }

    #[test]
    fn the_speech_is_the_captures_alaw_payloads_in_whole_packets() {
        let pcap = capture(&[
            (17, rtp(8, 0xd5, 240)),
            (17, rtp(0, 0xff, 160)),
            (6, rtp(8, 0x11, 160)),
            (17, rtp(8, 0x55, 240)),
        ]);
        let alaw = alaw_of(&pcap).unwrap();
        // 480 bytes of A-law make three 160-byte packets; µ-law and TCP are left out, and so
        // are the frames' trailers.
        assert_eq!(alaw.len(), 480);
        assert!(alaw[..240].iter().all(|b| *b == 0xd5) && alaw[240..].iter().all(|b| *b == 0x55));
        // RTP padding is not audio: its last byte says how long it is.
        let mut padded = rtp(8, 0x77, 164);
        padded[0] |= 0x20;
        *padded.last_mut().unwrap() = 4;
        let alaw = alaw_of(&capture(&[(17, padded)])).unwrap();
        assert_eq!(alaw, vec![0x77; 160]);
        assert!(alaw_of(b"not a capture at all").unwrap_err().contains("magic"));
        assert!(alaw_of(&capture(&[(17, rtp(0, 0xff, 160))])).unwrap_err().contains("no A-law"));
        let mut cut = pcap.clone();
        cut.truncate(pcap.len() - 5);
        assert!(alaw_of(&cut).unwrap_err().contains("cut short"));
    }

    #[test]
    fn media_loss_counts_what_switchboard_lost() {
        let figures = |from_callers, send_errors| figures_with(from_callers, send_errors, 0);
        assert!(figures(4720, 0).passed());
        assert!(figures(4718, 0).passed(), "0.04% lost");
        assert!(!figures(4710, 0).passed(), "0.2% lost");
        assert!(!figures(4720, 10).passed(), "0.2% not sent on");
        assert!((figures(4720, 0).echo_loss() - 0.5).abs() < 1e-9);
        // 7,080 reached the sockets and 8 more were dropped there: 0.11%, on the phones' side.
        assert!(!figures_with(4720, 0, 8).passed());
        assert!(figures_with(4720, 0, 7).passed());
        // Drops that cannot be read are not taken for none.
        assert!(!MediaFigures { socket_drops: None, ..figures(4720, 0) }.passed());
    }

    fn figures_with(from_callers: u64, send_errors: u64, socket_drops: u64) -> MediaFigures {
        MediaFigures {
            calls: 10,
            successful: 10,
            sent_by_callers: 4720,
            from_callers,
            from_phones: from_callers / 2,
            relayed: from_callers,
            sent: 0,
            send_errors,
            kernel_drops: None,
            socket_drops: Some(socket_drops),
            delays: Latencies::default(),
        }
    }

    #[test]
    fn socket_drops_are_read_by_inode_from_the_udp_table() {
        let table = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n\
            \x20 1: 0100007F:A1B2 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4242 2 0000000000000000 17\n\
            \x20 2: 0100007F:A1B3 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4243 2 0000000000000000 0\n";
        assert_eq!(udp_drops(table).collect::<Vec<_>>(), [(4242, 17), (4243, 0)]);
        // This process's own sockets are found through /proc/self/fd.
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let inodes = own_sockets().expect("/proc/self/fd is readable");
        let listed = std::fs::read_to_string("/proc/self/net/udp").unwrap();
        let port = format!(":{:04X} ", socket.local_addr().unwrap().port());
        let line =
            listed.lines().find(|l| l.split_whitespace().nth(1).is_some_and(|a| format!("{a} ").ends_with(&port)));
        let inode: u64 = line.and_then(|l| l.split_whitespace().nth(9)?.parse().ok()).expect("the socket is listed");
        assert!(inodes.contains(&inode));
    }
}
