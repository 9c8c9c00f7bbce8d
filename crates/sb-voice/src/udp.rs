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
    Http { call: CallId, result: Result<Vec<(String, String)>, String> },
}

/// A datagram received on a media leg's socket.
struct RtpIn {
    leg: LegId,
    from: SocketAddr,
    bytes: Vec<u8>,
}

/// One media leg's socket and the task that reads it.
struct LegSocket {
    socket: Arc<UdpSocket>,
    reader: tokio::task::JoinHandle<()>,
}

/// Serves an [`Endpoint`] built from `config` on `socket` until `shutdown` fires or its sender is
/// dropped. Send errors are logged and the datagram is lost, as UDP allows; the ICMP errors
/// that Linux reports on the next receive are ignored. Media legs get sockets of their own
/// on the SIP socket's IP address, at ports the system picks.
pub async fn run_udp(
    socket: UdpSocket,
    mut config: EndpointConfig,
    services: Option<Services>,
    mut shutdown: oneshot::Receiver<()>,
) -> Result<(), VoiceError> {
    let origin = Instant::now();
    let now = || Timestamp::from_millis(u64::try_from(origin.elapsed().as_millis()).unwrap_or(u64::MAX));
    let local = socket.local_addr().map_err(VoiceError::Start)?;
    let media_ip = if local.ip().is_unspecified() { IpAddr::V4(Ipv4Addr::LOCALHOST) } else { local.ip() };
    config.local = SocketAddr::new(media_ip, local.port());
    let mut endpoint = Endpoint::new(config);
    let mut buffer = vec![0; BUFFER];
    let (rtp_tx, mut rtp_rx) = mpsc::unbounded_channel::<RtpIn>();
    let mut legs: HashMap<LegId, LegSocket> = HashMap::new();
    let (commands, mut feedback) = match services {
        Some(Services { commands, feedback }) => (Some(commands), Some(feedback)),
        None => (None, None),
    };
    // Feedback the driver gives itself when there are no services.
    let mut local_feedback: Vec<Feedback> = Vec::new();
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
                endpoint.handle_rtp(now(), packet.leg, &packet.bytes, packet.from);
                // Take whatever else has arrived before sending, to batch the work.
                while let Ok(packet) = rtp_rx.try_recv() {
                    endpoint.handle_rtp(now(), packet.leg, &packet.bytes, packet.from);
                }
            },
            Some(answer) = recv(&mut feedback) => give(&mut endpoint, now(), answer),
            () = sleep_until(deadline) => endpoint.handle_timeout(now()),
        }
        loop {
            while let Some(command) = endpoint.poll_command() {
                match command {
                    Command::OpenMedia { leg } => match open_leg(media_ip, leg, &rtp_tx) {
                        Ok((addr, socket)) => {
                            legs.insert(leg, socket);
                            endpoint.media_opened(now(), leg, addr);
                        }
                        Err(error) => endpoint.media_failed(now(), leg, &error.to_string()),
                    },
                    Command::CloseMedia { leg } => {
                        if let Some(socket) = legs.remove(&leg) {
                            socket.reader.abort();
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
            if let Err(error) = socket.send_to(&datagram.bytes, datagram.to).await {
                tracing::warn!(to = %datagram.to, %error, "SIP datagram not sent");
            }
        }
        while let Some(rtp) = endpoint.poll_rtp() {
            if let Some(leg) = legs.get(&rtp.leg)
                && let Err(error) = leg.socket.try_send_to(&rtp.bytes, rtp.to)
            {
                tracing::debug!(leg = %rtp.leg, to = %rtp.to, %error, "RTP datagram not sent");
            }
        }
    }
    for leg in legs.into_values() {
        leg.reader.abort();
    }
    let stats = endpoint.stats();
    tracing::info!(
        datagrams = stats.datagrams,
        bad_requests = stats.bad_requests,
        dropped = stats.dropped,
        "SIP stopped"
    );
    Ok(())
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

/// Binds a leg's socket and starts the task that reads it.
fn open_leg(
    ip: IpAddr,
    leg: LegId,
    packets: &mpsc::UnboundedSender<RtpIn>,
) -> std::io::Result<(SocketAddr, LegSocket)> {
    let std_socket = std::net::UdpSocket::bind(SocketAddr::new(ip, 0))?;
    std_socket.set_nonblocking(true)?;
    let socket = Arc::new(UdpSocket::from_std(std_socket)?);
    let addr = socket.local_addr()?;
    let reader = {
        let socket = Arc::clone(&socket);
        let packets = packets.clone();
        tokio::spawn(async move {
            let mut buffer = vec![0; 2048];
            loop {
                match socket.recv_from(&mut buffer).await {
                    Ok((len, from)) => {
                        if packets.send(RtpIn { leg, from, bytes: buffer[..len].to_vec() }).is_err() {
                            return;
                        }
                    }
                    Err(error) if is_peer_error(&error) => {}
                    Err(error) => {
                        tracing::warn!(%leg, %error, "RTP socket failed");
                        return;
                    }
                }
            }
        })
    };
    Ok((addr, LegSocket { socket, reader }))
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
    thread: Option<std::thread::JoinHandle<Result<(), VoiceError>>>,
}

impl SipServer {
    /// Binds `addr` (port 0 picks a free port) and serves the endpoint on it in the
    /// background. Binding happens before this returns, so errors show here.
    pub fn spawn(
        addr: SocketAddr,
        config: EndpointConfig,
        services: Option<Services>,
    ) -> Result<SipServer, VoiceError> {
        let socket = std::net::UdpSocket::bind(addr).map_err(|source| VoiceError::Bind { addr, source })?;
        let local = socket.local_addr().map_err(VoiceError::Start)?;
        socket.set_nonblocking(true).map_err(VoiceError::Start)?;
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(VoiceError::Start)?;
        let (shutdown, stop) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("sip-udp".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let socket = UdpSocket::from_std(socket).map_err(VoiceError::Start)?;
                    tracing::info!(addr = %local, "serving SIP over UDP");
                    run_udp(socket, config, services, stop).await
                })
            })
            .map_err(VoiceError::Start)?;
        Ok(SipServer { addr: local, shutdown: Some(shutdown), thread: Some(thread) })
    }

    /// The address the socket is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops the driver and waits for its thread; reports how it ended.
    pub fn stop(mut self) -> Result<(), VoiceError> {
        self.finish()
    }

    fn finish(&mut self) -> Result<(), VoiceError> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        match self.thread.take() {
            Some(thread) => thread.join().map_err(|_| VoiceError::Panicked)?,
            None => Ok(()),
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
