//! The UDP driver through a real socket: a peer on 127.0.0.1 sends requests to a
//! [`SipServer`] and reads the answers.

use std::net::UdpSocket;

use sb_voice::{EndpointConfig, SipServer};

fn exchange(peer: &UdpSocket, request: &str) -> String {
    peer.send(request.as_bytes()).unwrap();
    let mut buffer = [0; 65_536];
    let len = peer.recv(&mut buffer).unwrap();
    String::from_utf8(buffer[..len].to_vec()).unwrap()
}

#[test]
fn serves_options_and_invite_over_udp_until_stopped() {
    let server = SipServer::spawn("127.0.0.1:0".parse().unwrap(), EndpointConfig::default(), None).unwrap();
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    peer.connect(server.local_addr()).unwrap();
    let local = peer.local_addr().unwrap();
    let request = |method: &str| {
        format!(
            "{method} sip:1000@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-{method}\r\n\
             Max-Forwards: 70\r\nFrom: <sip:test@{local}>;tag=1\r\nTo: <sip:1000@127.0.0.1>\r\n\
             Call-ID: {method}@test\r\nCSeq: 1 {method}\r\nContent-Length: 0\r\n\r\n"
        )
    };

    let ok = exchange(&peer, &request("OPTIONS"));
    assert!(ok.starts_with("SIP/2.0 200 OK\r\n"), "{ok}");
    assert!(ok.contains("\r\nCall-ID: OPTIONS@test\r\n"), "{ok}");

    // No numbers are configured: the INVITE is refused at once.
    let unavailable = exchange(&peer, &request("INVITE"));
    assert!(unavailable.starts_with("SIP/2.0 480 Temporarily Unavailable\r\n"), "{unavailable}");

    server.stop().unwrap();
}

#[test]
fn binding_a_taken_port_is_an_error() {
    let taken = UdpSocket::bind("127.0.0.1:0").unwrap();
    let error = SipServer::spawn(taken.local_addr().unwrap(), EndpointConfig::default(), None).unwrap_err();
    assert!(error.to_string().starts_with("binding the SIP socket udp:127.0.0.1:"), "{error}");
}
