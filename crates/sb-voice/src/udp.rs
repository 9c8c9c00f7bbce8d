//! The tokio driver that puts an [`Endpoint`] on a UDP socket.
//!
//! [`run_udp`] owns the socket and one timer: it reads datagrams and hands them to the
//! endpoint with the current time, wakes the endpoint when its next timer is due, and sends
//! every datagram the endpoint asks for. The clock is read here and only here: it is the
//! milliseconds since the driver started. [`SipServer`] runs it on a thread and runtime of
//! its own next to the HTTP server, and stops it when told to or when dropped.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sb_sip::Timestamp;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};

use crate::calls::{CallId, Command, LegId, RouteNotice, RouteRequest};
use crate::endpoint::{Endpoint, EndpointConfig};

/// Why the SIP server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum VoiceError {
    /// The UDP socket could not be bound.
    #[error("binding the SIP socket udp:{addr}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// The TCP listener could not be bound on the UDP socket's address and port.
    #[error("binding the SIP listener tcp:{addr}")]
    BindTcp {
        /// The address asked for.
        addr: SocketAddr,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// The driver's thread or runtime could not be started, or its socket set up.
    #[error("starting the SIP driver")]
    Start(#[source] std::io::Error),
    /// Receiving from the socket failed for a reason other than a peer's ICMP error.
    #[error("receiving on the SIP socket")]
    Receive(#[source] std::io::Error),
    /// The driver's thread panicked.
    #[error("the SIP driver thread panicked")]
    Panicked,
}

/// The receive buffer asked for each media leg's socket, in bytes.
const MEDIA_RECEIVE_BUFFER: usize = 1 << 20;

/// The largest UDP payload, plus one byte so that an oversized datagram is seen as such.
const BUFFER: usize = 65_536;

/// What the calls need from the rest of the server: the tenants' routing engines, HTTP
/// lookups and the storage of flow outcomes. The driver sends [`Command::Route`],
/// [`Command::Http`] and [`Command::Outcome`] on `commands` and takes the answers from
/// `feedback`. Without services, enqueueing fails and lookups fail, so flows take their
/// failure branches.
#[derive(Debug)]
pub struct Services {
    pub commands: mpsc::UnboundedSender<Command>,
    pub feedback: mpsc::UnboundedReceiver<Feedback>,
}

/// An answer for the calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Feedback {
    Route(RouteNotice),
    Http {
        call: CallId,
        result: Result<Vec<(String, String)>, String>,
    },
    /// Where a tenant's migration stands: rolled back (every new call to the legacy PBX),
    /// in a cutover phase, or back to the split's rules.
    Migration {
        tenant: String,
        migration: crate::Migration,
    },
}

/// A datagram received on a media leg's socket.
struct RtpIn {
    leg: LegId,
    from: SocketAddr,
    bytes: Vec<u8>,
    /// When the reader took it off the socket.
    at: Instant,
}

/// What the driver moved, reported when it stops: for logs and for `switchboard bench sip`.
#[derive(Debug, Clone, Default)]
pub struct DriverStats {
    /// RTP datagrams received on media legs.
    pub rtp_in: u64,
    /// RTP datagrams sent (prompts, music on hold, relayed audio).
    pub rtp_out: u64,
    /// RTP datagrams the system refused to send.
    pub rtp_send_errors: u64,
    /// Media legs opened.
    pub legs: u64,
    /// The endpoint's own counts (SIP datagrams, RTP by side, relayed).
    pub endpoint: crate::Stats,
    /// For received RTP, microseconds from the leg's task taking it off the socket to the
    /// endpoint handing what it caused to the sending task (the relay's added delay); at
    /// most [`DELAY_SAMPLES`].
    pub delays_us: Vec<u32>,
}

/// The most delay samples kept.
pub const DELAY_SAMPLES: usize = 4_000_000;

/// One media leg's socket and the task that reads it.
struct LegSocket {
    /// What the leg's task sends, so that the system's work of sending runs on the
    /// runtime's workers, next to the endpoint's loop.
    outgoing: mpsc::UnboundedSender<(SocketAddr, Vec<u8>)>,
    task: tokio::task::JoinHandle<()>,
}

/// Counts the legs' tasks keep.
#[derive(Debug, Default)]
struct SendCounts {
    sent: std::sync::atomic::AtomicU64,
    errors: std::sync::atomic::AtomicU64,
}

/// What a TCP connection's task tells the loop.
enum TcpIn {
    Message { from: SocketAddr, message: Result<sb_sip::Message, sb_sip::ParseError> },
    Closed { from: SocketAddr, id: u64 },
}

/// The loop's side of a TCP connection: its id (so that the end of an old connection does not
/// remove a newer one with the same peer) and where its bytes to send go.
type Connections = HashMap<SocketAddr, (u64, mpsc::UnboundedSender<Vec<u8>>)>;

/// Serves an [`Endpoint`] built from `config` on `socket`, and on TCP connections accepted
/// by `tcp` if given, until `shutdown` fires or its sender is dropped. Send errors are logged
/// and the datagram is lost, as UDP allows; the ICMP errors that Linux reports on the next
/// receive are ignored. A message for a TCP peer goes on its connection, which is opened if
/// there is none. Media legs get sockets of their own on the SIP socket's IP address, at ports
/// the system picks.
pub async fn run_udp(
    socket: UdpSocket,
    tcp: Option<tokio::net::TcpListener>,
    mut config: EndpointConfig,
    services: Option<Services>,
    mut shutdown: oneshot::Receiver<()>,
) -> Result<DriverStats, VoiceError> {
    let origin = Instant::now();
    let mut stats = DriverStats::default();
    // Receive times of the RTP handled since the last send, for the delay samples.
    let mut batch: Vec<Instant> = Vec::new();
    let now = || Timestamp::from_millis(u64::try_from(origin.elapsed().as_millis()).unwrap_or(u64::MAX));
    let local = socket.local_addr().map_err(VoiceError::Start)?;
    // What peers are told (Via, Contact, SDP), and where media sockets are bound: the
    // advertised address with media on the SIP socket's, or the socket's own.
    let (public_ip, media_ip) = match config.advertise {
        Some(ip) => (ip, local.ip()),
        None if local.ip().is_unspecified() => (IpAddr::V4(Ipv4Addr::LOCALHOST), IpAddr::V4(Ipv4Addr::LOCALHOST)),
        None => (local.ip(), local.ip()),
    };
    config.local = SocketAddr::new(public_ip, local.port());
    let mut endpoint = Endpoint::new(config);
    let mut buffer = vec![0; BUFFER];
    let (rtp_tx, mut rtp_rx) = mpsc::unbounded_channel::<RtpIn>();
    let mut legs: HashMap<LegId, LegSocket> = HashMap::new();
    let counts = Arc::new(SendCounts::default());
    let (commands, mut feedback) = match services {
        Some(Services { commands, feedback }) => (Some(commands), Some(feedback)),
        None => (None, None),
    };
    // Feedback the driver gives itself when there are no services.
    let mut local_feedback: Vec<Feedback> = Vec::new();
    let limits = endpoint.limits();
    let (tcp_tx, mut tcp_rx) = mpsc::unbounded_channel::<TcpIn>();
    let mut connections: Connections = HashMap::new();
    let mut next_connection = 0u64;
    loop {
        let deadline = endpoint.poll_timeout().map(|at| tokio::time::Instant::from_std(origin) + millis(at));
        tokio::select! {
            _ = &mut shutdown => break,
            received = socket.recv_from(&mut buffer) => match received {
                Ok((len, from)) => endpoint.handle_datagram(now(), &buffer[..len], from),
                Err(error) if is_peer_error(&error) => tracing::debug!(%error, "ICMP error from a peer"),
                Err(error) => return Err(VoiceError::Receive(error)),
            },
            Some(packet) = rtp_rx.recv() => {
                batch.push(packet.at);
                endpoint.handle_rtp(now(), packet.leg, &packet.bytes, packet.from);
                // Take whatever else has arrived before sending, to batch the work.
                while let Ok(packet) = rtp_rx.try_recv() {
                    batch.push(packet.at);
                    endpoint.handle_rtp(now(), packet.leg, &packet.bytes, packet.from);
                }
            },
            Some(answer) = recv(&mut feedback) => give(&mut endpoint, now(), answer),
            accepted = accept(&tcp) => match accepted {
                Ok((stream, from)) => {
                    next_connection += 1;
                    let (outgoing, to_send) = mpsc::unbounded_channel();
                    connections.insert(from, (next_connection, outgoing));
                    let link = ConnectionLink { from, id: next_connection, limits: limits.clone(), incoming: tcp_tx.clone() };
                    tokio::spawn(connection(stream, to_send, link));
                }
                Err(error) => tracing::warn!(%error, "accepting a SIP connection"),
            },
            Some(input) = tcp_rx.recv() => match input {
                TcpIn::Message { from, message } => endpoint.handle_stream_message(now(), message, from),
                TcpIn::Closed { from, id } => {
                    if connections.get(&from).is_some_and(|(current, _)| *current == id) {
                        connections.remove(&from);
                    }
                }
            },
            () = sleep_until(deadline) => endpoint.handle_timeout(now()),
        }
        loop {
            while let Some(command) = endpoint.poll_command() {
                match command {
                    Command::OpenMedia { leg } => match open_leg(media_ip, leg, &rtp_tx, &counts) {
                        Ok((addr, socket)) => {
                            stats.legs += 1;
                            legs.insert(leg, socket);
                            endpoint.media_opened(now(), leg, SocketAddr::new(public_ip, addr.port()));
                        }
                        Err(error) => endpoint.media_failed(now(), leg, &error.to_string()),
                    },
                    Command::CloseMedia { leg } => {
                        if let Some(socket) = legs.remove(&leg) {
                            socket.task.abort();
                        }
                    }
                    command => match &commands {
                        Some(commands) if commands.send(command.clone()).is_ok() => {}
                        _ => local_feedback.extend(unserved(command)),
                    },
                }
            }
            if local_feedback.is_empty() {
                break;
            }
            for answer in std::mem::take(&mut local_feedback) {
                give(&mut endpoint, now(), answer);
            }
        }
        while let Some(datagram) = endpoint.poll_transmit() {
            if datagram.transport.is_reliable() {
                let to = datagram.to;
                let open = connections.get(&to).is_some_and(|(_, out)| out.send(datagram.bytes.clone()).is_ok());
                if !open {
                    // No connection with the peer (or it just closed): open one.
                    next_connection += 1;
                    let (outgoing, to_send) = mpsc::unbounded_channel();
                    let _ = outgoing.send(datagram.bytes);
                    connections.insert(to, (next_connection, outgoing));
                    let link = ConnectionLink {
                        from: to,
                        id: next_connection,
                        limits: limits.clone(),
                        incoming: tcp_tx.clone(),
                    };
                    tokio::spawn(dial(to_send, link));
                }
            } else if let Err(error) = socket.send_to(&datagram.bytes, datagram.to).await {
                tracing::warn!(to = %datagram.to, %error, "SIP datagram not sent");
            }
        }
        while let Some(rtp) = endpoint.poll_rtp() {
            if let Some(leg) = legs.get(&rtp.leg) {
                let _ = leg.outgoing.send((rtp.to, rtp.bytes));
            }
        }
        if !batch.is_empty() {
            stats.rtp_in += batch.len() as u64;
            let sent = Instant::now();
            for at in batch.drain(..) {
                if stats.delays_us.len() < DELAY_SAMPLES {
                    let us = u32::try_from(sent.duration_since(at).as_micros()).unwrap_or(u32::MAX);
                    stats.delays_us.push(us);
                }
            }
        }
    }
    for leg in legs.into_values() {
        leg.task.abort();
    }
    stats.rtp_out = counts.sent.load(std::sync::atomic::Ordering::Relaxed);
    stats.rtp_send_errors = counts.errors.load(std::sync::atomic::Ordering::Relaxed);
    let sip = endpoint.stats();
    stats.endpoint = sip;
    tracing::info!(
        datagrams = sip.datagrams,
        bad_requests = sip.bad_requests,
        dropped = sip.dropped,
        rtp_in = stats.rtp_in,
        rtp_out = stats.rtp_out,
        legs = stats.legs,
        "SIP stopped"
    );
    Ok(stats)
}

/// The next connection, or never without a listener.
async fn accept(tcp: &Option<tokio::net::TcpListener>) -> std::io::Result<(tokio::net::TcpStream, SocketAddr)> {
    match tcp {
        Some(listener) => listener.accept().await,
        None => std::future::pending().await,
    }
}

/// What a connection's task needs to report to the loop.
struct ConnectionLink {
    from: SocketAddr,
    id: u64,
    limits: sb_sip::Limits,
    incoming: mpsc::UnboundedSender<TcpIn>,
}

/// Opens a connection to a peer we must reach over TCP, then serves it.
async fn dial(to_send: mpsc::UnboundedReceiver<Vec<u8>>, link: ConnectionLink) {
    match tokio::net::TcpStream::connect(link.from).await {
        Ok(stream) => connection(stream, to_send, link).await,
        Err(error) => {
            tracing::warn!(to = %link.from, %error, "SIP connection not opened; its messages are lost");
            let _ = link.incoming.send(TcpIn::Closed { from: link.from, id: link.id });
        }
    }
}

/// Reads SIP messages off a TCP connection (RFC 3261 section 18.3: framed by
/// Content-Length) and writes what the loop sends on it, until either side closes or the
/// stream cannot be framed any more.
async fn connection(
    stream: tokio::net::TcpStream,
    mut to_send: mpsc::UnboundedReceiver<Vec<u8>>,
    link: ConnectionLink,
) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let (mut reader, mut writer) = stream.into_split();
    let mut parser = sb_sip::StreamParser::new(link.limits);
    let mut buffer = vec![0; 16 * 1024];
    loop {
        tokio::select! {
            read = reader.read(&mut buffer) => {
                let Ok(n) = read else { break };
                if n == 0 {
                    break;
                }
                parser.push(&buffer[..n]);
                for message in &mut parser {
                    if link.incoming.send(TcpIn::Message { from: link.from, message }).is_err() {
                        return;
                    }
                }
                if parser.has_failed() {
                    tracing::info!(from = %link.from, "SIP stream cannot be framed; closing the connection");
                    break;
                }
            },
            Some(bytes) = to_send.recv() => {
                if let Err(error) = writer.write_all(&bytes).await {
                    tracing::debug!(to = %link.from, %error, "SIP connection write failed");
                    break;
                }
            },
        }
    }
    let _ = link.incoming.send(TcpIn::Closed { from: link.from, id: link.id });
}

async fn recv(feedback: &mut Option<mpsc::UnboundedReceiver<Feedback>>) -> Option<Feedback> {
    match feedback {
        Some(feedback) => feedback.recv().await,
        None => std::future::pending().await,
    }
}

fn give(endpoint: &mut Endpoint, now: Timestamp, answer: Feedback) {
    match answer {
        Feedback::Route(notice) => endpoint.handle_route(now, notice),
        Feedback::Http { call, result } => endpoint.handle_http_result(now, call, result),
        Feedback::Migration { tenant, migration } => endpoint.set_migration(&tenant, migration),
    }
}

/// The answer to a command when no service takes it.
fn unserved(command: Command) -> Option<Feedback> {
    match command {
        Command::Route { request: RouteRequest::Enqueue { call, .. }, .. } => {
            let reason = "no routing engine serves this endpoint".to_owned();
            Some(Feedback::Route(RouteNotice::EnqueueFailed { call, reason }))
        }
        Command::Http { call, .. } => {
            Some(Feedback::Http { call, result: Err("no HTTP client serves this endpoint".to_owned()) })
        }
        _ => None,
    }
}

/// Binds a leg's socket and starts its task, which reads it and sends what the endpoint
/// asks.
fn open_leg(
    ip: IpAddr,
    leg: LegId,
    packets: &mpsc::UnboundedSender<RtpIn>,
    counts: &Arc<SendCounts>,
) -> std::io::Result<(SocketAddr, LegSocket)> {
    use std::sync::atomic::Ordering::Relaxed;
    let std_socket = std::net::UdpSocket::bind(SocketAddr::new(ip, 0))?;
    std_socket.set_nonblocking(true)?;
    // Room for a second of a busy leg's packets, so that a loop busy for a moment loses
    // nothing (the system caps it at net.core.rmem_max).
    let _ = socket2::SockRef::from(&std_socket).set_recv_buffer_size(MEDIA_RECEIVE_BUFFER);
    let socket = UdpSocket::from_std(std_socket)?;
    let addr = socket.local_addr()?;
    let (outgoing, mut to_send) = mpsc::unbounded_channel::<(SocketAddr, Vec<u8>)>();
    let packets = packets.clone();
    let counts = Arc::clone(counts);
    let task = tokio::spawn(async move {
        let mut buffer = vec![0; 2048];
        loop {
            tokio::select! {
                received = socket.recv_from(&mut buffer) => match received {
                    Ok((len, from)) => {
                        let packet = RtpIn { leg, from, bytes: buffer[..len].to_vec(), at: Instant::now() };
                        if packets.send(packet).is_err() {
                            return;
                        }
                    }
                    Err(error) if is_peer_error(&error) => {}
                    Err(error) => {
                        tracing::warn!(%leg, %error, "RTP socket failed");
                        return;
                    }
                },
                // Waits for room in the send buffer rather than dropping the packet.
                Some((to, bytes)) = to_send.recv() => match socket.send_to(&bytes, to).await {
                    Ok(_) => {
                        counts.sent.fetch_add(1, Relaxed);
                    }
                    Err(error) => {
                        counts.errors.fetch_add(1, Relaxed);
                        tracing::debug!(%leg, %to, %error, "RTP datagram not sent");
                    }
                },
            }
        }
    });
    Ok((addr, LegSocket { outgoing, task }))
}

fn millis(at: Timestamp) -> Duration {
    Duration::from_millis(at.as_millis())
}

/// Sleeps until `deadline`, or forever without one.
async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// Errors a receive reports for an earlier send that a peer refused.
fn is_peer_error(error: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    matches!(
        error.kind(),
        ErrorKind::ConnectionRefused
            | ErrorKind::ConnectionReset
            | ErrorKind::HostUnreachable
            | ErrorKind::NetworkUnreachable
    )
}

/// A SIP endpoint served on UDP from a thread of its own. Dropping it stops the driver and
/// waits for the thread.
#[derive(Debug)]
pub struct SipServer {
    addr: SocketAddr,
    /// Tells the driver to stop; dropping it does too.
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<DriverStats, VoiceError>>>,
}

impl SipServer {
    /// Binds UDP and TCP on `addr` (port 0 picks a free port, the same for both) and serves
    /// the endpoint on them in the background. Binding happens before this returns, so
    /// errors show here.
    pub fn spawn(
        addr: SocketAddr,
        config: EndpointConfig,
        services: Option<Services>,
    ) -> Result<SipServer, VoiceError> {
        // With port 0 the system picks a free UDP port, whose TCP twin may be taken: then
        // another pick, a few times. A port asked for is bound as asked, or refused.
        let attempts = if addr.port() == 0 { 20 } else { 1 };
        let mut bound = None;
        for attempt in 1..=attempts {
            let socket = std::net::UdpSocket::bind(addr).map_err(|source| VoiceError::Bind { addr, source })?;
            let local = socket.local_addr().map_err(VoiceError::Start)?;
            match std::net::TcpListener::bind(local) {
                Ok(listener) => {
                    bound = Some((socket, local, listener));
                    break;
                }
                Err(e) if attempt < attempts && e.kind() == std::io::ErrorKind::AddrInUse => continue,
                Err(source) => return Err(VoiceError::BindTcp { addr: local, source }),
            }
        }
        let Some((socket, local, listener)) = bound else { unreachable!("the last attempt returns its error") };
        socket.set_nonblocking(true).map_err(VoiceError::Start)?;
        listener.set_nonblocking(true).map_err(VoiceError::Start)?;
        // Two workers: the media legs' readers run next to the endpoint's loop.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("sip")
            .enable_all()
            .build()
            .map_err(VoiceError::Start)?;
        let (shutdown, stop) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("sip-udp".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let socket = UdpSocket::from_std(socket).map_err(VoiceError::Start)?;
                    let listener = tokio::net::TcpListener::from_std(listener).map_err(VoiceError::Start)?;
                    tracing::info!(addr = %local, "serving SIP over UDP and TCP");
                    run_udp(socket, Some(listener), config, services, stop).await
                })
            })
            .map_err(VoiceError::Start)?;
        Ok(SipServer { addr: local, shutdown: Some(shutdown), thread: Some(thread) })
    }

    /// The address the socket is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops the driver and waits for its thread; reports how it ended and what it moved.
    pub fn stop(mut self) -> Result<DriverStats, VoiceError> {
        self.finish()
    }

    fn finish(&mut self) -> Result<DriverStats, VoiceError> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        match self.thread.take() {
            Some(thread) => thread.join().map_err(|_| VoiceError::Panicked)?,
            None => Ok(DriverStats::default()),
        }
    }
}

impl Drop for SipServer {
    fn drop(&mut self) {
        if let Err(error) = self.finish() {
            tracing::warn!(%error, "the SIP driver ended with an error");
        }
    }
}
