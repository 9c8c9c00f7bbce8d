//! SIP through the real boundary: `switchboard serve --sip 127.0.0.1:0` answers sipp
//! (installed from the Debian package sip-tester) running small scenarios as a real peer,
//! and a malformed datagram sent from the test itself.

mod common;

use std::net::UdpSocket;
use std::process::{Command, Stdio};

use common::{Scratch, Server, TENANT};

/// Starts the server with SIP on a free port.
fn start(scratch: &Scratch) -> (Server, String) {
    let config = scratch.file("tenant.yaml", TENANT);
    let server = Server::start_with(&[&config], &common::sqlite(scratch), &["--sip", "127.0.0.1:0"]);
    let sip = server.sip.clone().expect("the server printed its SIP address");
    (server, sip)
}

/// Runs sipp with `scenario` against `target` for `calls` calls and asserts that every call
/// succeeded (exit status 0), showing sipp's output and error log otherwise.
fn sipp(scratch: &Scratch, name: &str, scenario: &str, target: &str, calls: u32) {
    sipp_over("u1", scratch, name, scenario, target, calls);
}

/// [`sipp`] over `transport`, sipp's name for it: `u1` (UDP) or `t1` (one TCP connection).
fn sipp_over(transport: &str, scratch: &Scratch, name: &str, scenario: &str, target: &str, calls: u32) {
    let file = scratch.file(&format!("{name}.xml"), scenario);
    let errors = scratch.0.join(format!("{name}-errors.log"));
    let output = Command::new("sipp")
        .arg(target)
        .args(["-t", transport, "-i", "127.0.0.1", "-m", &calls.to_string(), "-timeout", "20s", "-nostdin"])
        .arg("-sf")
        .arg(&file)
        .arg("-trace_err")
        .arg("-error_file")
        .arg(&errors)
        .current_dir(&scratch.0)
        .stdin(Stdio::null())
        .output()
        .expect("sipp runs (Debian package sip-tester)");
    if !output.status.success() {
        panic!(
            "sipp {name} ended with {}\nstderr:\n{}\nerrors:\n{}\nstdout:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr),
            std::fs::read_to_string(&errors).unwrap_or_default(),
            String::from_utf8_lossy(&output.stdout),
        );
    }
}

const OPTIONS: &str = r#"<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="OPTIONS ping">
  <send retrans="500">
    <![CDATA[
      OPTIONS sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 OPTIONS
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200">
    <action>
      <ereg regexp="INVITE" search_in="hdr" header="Allow:" check_it="true" assign_to="allow"/>
    </action>
  </recv>
  <Reference variables="allow"/>
</scenario>
"#;

#[test]
fn sipp_options_pings_get_200() {
    let scratch = Scratch::new();
    let (_server, sip) = start(&scratch);
    sipp(&scratch, "options", OPTIONS, &sip, 5);
}

const INVITE: &str = r#"<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="INVITE to an unconfigured number">
  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=z9hG4bK-[pid]-[call_number]-invite
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000

    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="480">
    <action>
      <ereg regexp="no contact flow configured" search_in="hdr" header="Warning:" check_it="true" assign_to="warning"/>
    </action>
  </recv>
  <Reference variables="warning"/>
  <send>
    <![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=z9hG4bK-[pid]-[call_number]-invite
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
</scenario>
"#;

#[test]
fn sipp_invite_to_an_unconfigured_number_gets_480() {
    let scratch = Scratch::new();
    let (_server, sip) = start(&scratch);
    sipp(&scratch, "invite", INVITE, &sip, 3);
}

/// One request of the OTHERS scenario, answered with `status`.
fn exchange(method: &str, cseq: u32, status: u16) -> String {
    format!(
        r#"  <send retrans="500">
    <![CDATA[
      {method} sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: {cseq} {method}
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="{status}"/>
"#
    )
}

#[test]
fn sipp_register_bye_and_unknown_methods_are_refused() {
    let scratch = Scratch::new();
    let (_server, sip) = start(&scratch);
    let scenario = format!(
        "<?xml version=\"1.0\" encoding=\"ISO-8859-1\" ?>\n<scenario name=\"refusals\">\n{}{}{}</scenario>\n",
        exchange("REGISTER", 1, 403),
        exchange("BYE", 2, 481),
        exchange("MESSAGE", 3, 405),
    );
    sipp(&scratch, "refusals", &scenario, &sip, 2);
}

#[test]
fn request_with_a_broken_cseq_gets_400() {
    let scratch = Scratch::new();
    let (_server, sip) = start(&scratch);
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    peer.connect(&sip).unwrap();
    let local = peer.local_addr().unwrap();
    let request = format!(
        "OPTIONS sip:1000@{sip} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-broken\r\n\
         Max-Forwards: 70\r\nFrom: <sip:test@{local}>;tag=1\r\nTo: <sip:1000@{sip}>\r\n\
         Call-ID: broken@test\r\nCSeq: abc OPTIONS\r\nContent-Length: 0\r\n\r\n"
    );
    peer.send(request.as_bytes()).unwrap();
    let mut buffer = [0; 65_536];
    let len = peer.recv(&mut buffer).unwrap();
    let answer = String::from_utf8_lossy(&buffer[..len]);
    assert!(answer.starts_with("SIP/2.0 400 Bad Request\r\n"), "{answer}");
    assert!(answer.contains("\r\nCall-ID: broken@test\r\n"), "{answer}");
    assert!(answer.contains("\r\nCSeq: abc OPTIONS\r\n"), "{answer}");
    assert!(answer.contains("\r\nWarning: 399 switchboard \"line 7: header \\\"CSeq\\\""), "{answer}");
}

/// The shared tenant with a desk phone for alice (user 1001).
fn with_phones() -> String {
    common::TENANT.replace(
        "  - id: alice\n    skills: {support: 3}\n",
        "  - id: alice\n    skills: {support: 3}\n    phone: {user: \"1001\", password: wonderland}\n",
    )
}

/// A REGISTER for user 1001, challenged with 401; sipp answers the challenge with
/// `password` and expects `last` (200 with the binding, or 403).
fn register(password: &str, last: &str) -> String {
    let request = |cseq: u32, auth: &str| {
        format!(
            r#"  <send retrans="500">
    <![CDATA[
      REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:1001@[remote_ip]>;tag=[pid]SIPpTag[call_number]
      To: <sip:1001@[remote_ip]>
      Call-ID: [call_id]
      CSeq: {cseq} REGISTER
      Contact: <sip:1001@[local_ip]:[local_port]>
      Expires: 120
      Max-Forwards: 70{auth}
      Content-Length: 0

    ]]>
  </send>
"#
        )
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"ISO-8859-1\" ?>\n<scenario name=\"register\">\n{}  <recv response=\"401\" auth=\"true\"/>\n{}{last}</scenario>\n",
        request(1, ""),
        request(2, &format!("\n      [authentication username=1001 password={password}]")),
    )
}

#[test]
fn sipp_phones_register_with_digest_authentication() {
    let scratch = Scratch::new();
    let config = scratch.file("tenant.yaml", &with_phones());
    let server = Server::start_with(&[&config], &common::sqlite(&scratch), &["--sip", "127.0.0.1:0"]);
    let sip = server.sip.clone().expect("the server printed its SIP address");
    let registered = expect(200, "Contact:", "sip:1001@127.0.0.1:[0-9]+.;expires=120");
    sipp(&scratch, "register", &register("wonderland", &registered), &sip, 2);
    let refused = expect(403, "Warning:", "authentication failed for 1001");
    sipp(&scratch, "wrong-password", &register("looking-glass", &refused), &sip, 2);
}

#[test]
fn sipp_over_tcp_pings_and_registers_on_one_connection() {
    let scratch = Scratch::new();
    let config = scratch.file("tenant.yaml", &with_phones());
    let server = Server::start_with(&[&config], &common::sqlite(&scratch), &["--sip", "127.0.0.1:0"]);
    let sip = server.sip.clone().expect("the server printed its SIP address");
    sipp_over("t1", &scratch, "options-tcp", OPTIONS, &sip, 3);
    let registered = expect(200, "Contact:", "sip:1001@127.0.0.1:[0-9]+.;expires=120");
    sipp_over("t1", &scratch, "register-tcp", &register("wonderland", &registered), &sip, 1);
}

/// A sipp step that expects a `status` response whose `header` matches `regexp`.
fn expect(status: u16, header: &str, regexp: &str) -> String {
    format!(
        r#"  <recv response="{status}">
    <action>
      <ereg regexp="{regexp}" search_in="hdr" header="{header}" check_it="true" assign_to="found"/>
    </action>
  </recv>
  <Reference variables="found"/>
"#
    )
}
