//! The tokio driver that puts an [`Endpoint`] on a UDP socket.
//!
//! [`run_udp`] owns the socket and one timer: it reads datagrams and hands them to the
//! endpoint with the current time, wakes the endpoint when its next timer is due, and sends
//! every datagram the endpoint asks for. The clock is read here and only here: it is the
//! milliseconds since the driver started. [`SipServer`] runs it on a thread and runtime of
//! its own next to the HTTP server, and stops it when told to or when dropped.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use sb_sip::Timestamp;
use tokio::net::UdpSocket;
use tokio::sync::oneshot;

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

/// Serves an [`Endpoint`] built from `config` on `socket` until `shutdown` fires or its sender is
/// dropped. Send errors are logged and the datagram is lost, as UDP allows; the ICMP errors
/// that Linux reports on the next receive are ignored.
pub async fn run_udp(
    socket: UdpSocket,
    config: EndpointConfig,
    mut shutdown: oneshot::Receiver<()>,
) -> Result<(), VoiceError> {
    let origin = Instant::now();
    let now = || Timestamp::from_millis(u64::try_from(origin.elapsed().as_millis()).unwrap_or(u64::MAX));
    let mut endpoint = Endpoint::new(config);
    let mut buffer = vec![0; BUFFER];
    loop {
        let deadline = endpoint.poll_timeout().map(|at| tokio::time::Instant::from_std(origin) + millis(at));
        tokio::select! {
            _ = &mut shutdown => break,
            received = socket.recv_from(&mut buffer) => match received {
                Ok((len, from)) => endpoint.handle_datagram(now(), &buffer[..len], from),
                Err(error) if is_peer_error(&error) => tracing::debug!(%error, "ICMP error from a peer"),
                Err(error) => return Err(VoiceError::Receive(error)),
            },
            () = sleep_until(deadline) => endpoint.handle_timeout(now()),
        }
        while let Some(datagram) = endpoint.poll_transmit() {
            if let Err(error) = socket.send_to(&datagram.bytes, datagram.to).await {
                tracing::warn!(to = %datagram.to, %error, "SIP datagram not sent");
            }
        }
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
    pub fn spawn(addr: SocketAddr, config: EndpointConfig) -> Result<SipServer, VoiceError> {
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
                    run_udp(socket, config, stop).await
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
