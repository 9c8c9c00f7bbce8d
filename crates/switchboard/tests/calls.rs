//! Calls end to end through `switchboard serve --sip`: a caller (sipp) dials the tenant's
//! number, hears the IVR, presses 1 with RFC 4733 events from sip-tester's DTMF captures,
//! waits in the queue, and is bridged to the agent's phone (sipp again), which registered
//! with digest authentication; the routing engine's record of the interaction is checked
//! over the HTTP API afterwards.

mod common;

use std::net::UdpSocket;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use common::{Scratch, Server, TENANT, switchboard_as as switchboard};

/// The digit captures and the A-law speech capture the Debian package sip-tester ships.
const DTMF_1: &str = "/usr/share/sip-tester/dtmf_2833_1.pcap";
const SPEECH: &str = "/usr/share/sip-tester/g711a.pcap";

/// The shared tenant, with a desk phone for alice (user 1001) and the number 5550100.
fn tenant() -> String {
    let with_phone = TENANT.replace(
        "  - id: alice\n    skills: {support: 3}\n",
        "  - id: alice\n    skills: {support: 3}\n    phone: {user: \"1001\", password: wonderland}\n",
    );
    format!(
        "{with_phone}voice:\n  music_on_hold: hold.wav\n  record_calls: true\n  recordings: calls\n  numbers:\n    - {{number: \"5550100\", flow: menu.yaml}}\n"
    )
}

/// A welcome, a menu where 1 looks the caller up in the CRM and goes to the queue, and
/// anything else (or silence) hangs up. `CRM` is replaced by the test CRM's address.
const FLOW: &str = "
flow: main
version: 1
start: welcome
nodes:
  welcome:
    play: welcome.wav
    next: menu
  menu:
    menu: {prompt: menu.wav, timeout: 5s, retries: 0}
    options:
      \"1\": lookup
    no_input: bye
    no_match: bye
    fallback: bye
  lookup:
    http: {url: \"http://CRM/customers?number={caller}\", timeout: 2s, into: crm}
    next: phone
    on_error: phone
  phone:
    queue: phone
  bye:
    hangup: true
";

/// A 16-bit PCM WAV file of `millis` of a tone at `hz`.
fn tone(millis: u32, hz: f64) -> Vec<u8> {
    let samples: Vec<i16> = (0..millis * 8)
        .map(|i| (8000.0 * (2.0 * std::f64::consts::PI * hz * f64::from(i) / 8000.0).sin()) as i16)
        .collect();
    let data = samples.len() as u32 * 2;
    let mut wav = Vec::new();
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    for field in [16u32.to_le_bytes().to_vec(), 1u16.to_le_bytes().to_vec(), 1u16.to_le_bytes().to_vec()] {
        wav.extend_from_slice(&field);
    }
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

/// A CRM that knows caller 4930123 as Ann Example (a JSON object, as the flow's `http`
/// node expects) and answers 404 for anyone else.
fn crm() -> String {
    use std::io::{Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut request = [0u8; 2048];
            let len = stream.read(&mut request).unwrap_or(0);
            let request = String::from_utf8_lossy(&request[..len]);
            let answer = if request.starts_with("GET /customers?number=4930123 HTTP/1.1\r\n") {
                let body = r#"{"name": "Ann Example", "account": {"tier": "gold"}}"#;
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                )
            } else {
                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_owned()
            };
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    addr
}

/// Writes the tenant, its flow and prompts, and starts the server with SIP.
fn start(scratch: &Scratch) -> (Server, String) {
    start_with(scratch, &tenant(), &FLOW.replace("CRM", &crm()))
}

/// Writes the prompts every test flow plays.
fn write_prompts(scratch: &Scratch) {
    for (name, millis, hz) in [("welcome.wav", 400, 440.0), ("menu.wav", 3000, 660.0), ("hold.wav", 1000, 330.0)] {
        std::fs::write(scratch.0.join(name), tone(millis, hz)).unwrap();
    }
}

/// Writes `config` as the tenant, `flow` as its menu and the prompts, and starts the server
/// with SIP; returns it and its SIP address.
fn start_with(scratch: &Scratch, config: &str, flow: &str) -> (Server, String) {
    let config = scratch.file("tenant.yaml", config);
    scratch.file("menu.yaml", flow);
    write_prompts(scratch);
    let server = Server::start_with(&[&config], &common::sqlite(scratch), &["--sip", "127.0.0.1:0"]);
    let sip = server.sip.clone().expect("the server printed its SIP address");
    (server, sip)
}

/// A sipp command for `scenario` against `target` from local `port` (0: any), over UDP.
fn sipp(scratch: &Scratch, name: &str, scenario: &str, target: &str, port: u16) -> Command {
    sipp_over("u1", scratch, name, scenario, target, port)
}

/// The same over `transport`, sipp's name for it: `u1` (UDP) or `t1` (one TCP connection).
fn sipp_over(transport: &str, scratch: &Scratch, name: &str, scenario: &str, target: &str, port: u16) -> Command {
    let file = scratch.file(&format!("{name}.xml"), scenario);
    let mut command = Command::new("sipp");
    command
        .arg(target)
        .args(["-t", transport, "-i", "127.0.0.1", "-m", "1", "-timeout", "30s", "-nostdin", "-p", &port.to_string()])
        .arg("-sf")
        .arg(&file)
        .arg("-trace_err")
        .arg("-error_file")
        .arg(scratch.0.join(format!("{name}-errors.log")))
        .current_dir(&scratch.0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Asserts that sipp ended well, showing its logs otherwise.
fn check(scratch: &Scratch, name: &str, output: Output) {
    if !output.status.success() {
        panic!(
            "sipp {name} ended with {}\nstderr:\n{}\nerrors:\n{}\nstdout:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr),
            std::fs::read_to_string(scratch.0.join(format!("{name}-errors.log"))).unwrap_or_default(),
            String::from_utf8_lossy(&output.stdout),
        );
    }
}

fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Phone 1001 (alice's) registers from `port` (401, then 200).
fn register(scratch: &Scratch, sip: &str, port: u16) {
    register_as(scratch, sip, port, "1001", "wonderland");
}

/// Phone `user` registers from `port` with `password` (401, then 200).
fn register_as(scratch: &Scratch, sip: &str, port: u16, user: &str, password: &str) {
    let request = |cseq: u32, auth: &str| {
        format!(
            r#"  <send retrans="500"><![CDATA[
      REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{user}@[remote_ip]>;tag=[pid]SIPpTag[call_number]
      To: <sip:{user}@[remote_ip]>
      Call-ID: [call_id]
      CSeq: {cseq} REGISTER
      Contact: <sip:{user}@[local_ip]:[local_port]>
      Expires: 300
      Max-Forwards: 70{auth}
      Content-Length: 0

    ]]></send>
"#
        )
    };
    let scenario = format!(
        "<?xml version=\"1.0\" encoding=\"ISO-8859-1\" ?>\n<scenario name=\"register\">\n{}  <recv response=\"401\" auth=\"true\"/>\n{}  <recv response=\"200\"/>\n</scenario>\n",
        request(1, ""),
        request(2, &format!("\n      [authentication username={user} password={password}]")),
    );
    let output = sipp(scratch, "register", &scenario, sip, port).output().expect("sipp runs");
    check(scratch, "register", output);
}

/// The agent's phone: rings, answers with audio, talks for `talk_ms`, hangs up.
fn phone(talk_ms: u32) -> String {
    format!(
        r#"<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="agent phone">
  <recv request="INVITE" crlf="true">
    <action>
      <ereg regexp="tag=([^;>]*)" search_in="hdr" header="From:" assign_to="from,theirs"/>
    </action>
  </recv>
  <Reference variables="from"/>
  <send><![CDATA[
      SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:1001@[local_ip]:[local_port]>
      Content-Length: 0

    ]]></send>
  <send retrans="500"><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:1001@[local_ip]:[local_port]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=agent 1 1 IN IP4 [local_ip]
      s=-
      c=IN IP4 [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8 101
      a=rtpmap:8 PCMA/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-15

    ]]></send>
  <recv request="ACK" crlf="true"/>
  <nop><action><exec play_pcap_audio="{SPEECH}"/></action></nop>
  <pause milliseconds="{talk_ms}"/>
  <send retrans="500"><![CDATA[
      BYE sip:switchboard@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:1001@[local_ip]>;tag=[pid]SIPpTag01[call_number]
      To: <sip:switchboard@[remote_ip]>;tag=[$theirs]
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

/// The caller: dials 5550100, listens to the welcome, presses the digit in `pcap` (a
/// capture played as RTP), then waits for the flow to hang up.
fn caller(pcap: &str) -> String {
    caller_then(pcap, WAIT_FOR_BYE)
}

/// The end of a call where the flow hangs up.
const WAIT_FOR_BYE: &str = r#"  <recv request="BYE" timeout="20000"/>
  <send><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]></send>
"#;

/// The end of a call where the caller gives up after two seconds in the queue.
const HANG_UP: &str = r#"  <pause milliseconds="2000"/>
  <send retrans="500"><![CDATA[
      BYE sip:switchboard@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:4930123@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Max-Forwards: 70
      Content-Length: 0

    ]]></send>
  <recv response="200"/>
"#;

/// The caller's INVITE, ACK and digit, then `end`.
fn caller_then(pcap: &str, end: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="caller">
  <send retrans="500"><![CDATA[
      INVITE sip:5550100@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:4930123@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:5550100@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:4930123@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=caller 1 1 IN IP4 [local_ip]
      s=-
      c=IN IP4 [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8 101
      a=rtpmap:8 PCMA/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-15

    ]]></send>
  <recv response="100" optional="true"/>
  <recv response="200" rrs="true"/>
  <send><![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:4930123@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]></send>
  <pause milliseconds="800"/>
  <nop><action><exec play_pcap_audio="{pcap}"/></action></nop>
  <pause milliseconds="300"/>
  <nop><action><exec play_pcap_audio="{SPEECH}"/></action></nop>
{end}</scenario>
"#
    )
}

/// The interaction once the engine has taken the end of the call: the hang-up reaches the
/// engine after the SIP answer, so the test asks until the state is no longer live.
fn settled(server: &Server, id: u64) -> serde_json::Value {
    let mut last = serde_json::Value::Null;
    for _ in 0..100 {
        let (status, interaction) = server.call("GET", &format!("/api/v1/interactions/{id}"), None);
        if status == 200 && !["waiting", "offered", "connected"].contains(&interaction["state"].as_str().unwrap_or(""))
        {
            return interaction;
        }
        last = interaction;
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("interaction {id} is still live: {last}");
}

fn spawn(mut command: Command) -> Child {
    command.spawn().expect("sipp runs (Debian package sip-tester)")
}

#[test]
fn a_caller_goes_through_the_menu_and_the_queue_to_the_agents_phone() {
    assert!(Path::new(DTMF_1).exists(), "{DTMF_1} comes with the Debian package sip-tester");
    let scratch = Scratch::new();
    let (server, sip) = start(&scratch);
    let phone_port = free_port();
    register(&scratch, &sip, phone_port);
    assert_eq!(server.call("PUT", "/api/v1/agents/alice/presence", Some(r#"{"presence": "available"}"#)).0, 204);
    let agent = spawn(sipp(&scratch, "phone", &phone(1500), &sip, phone_port));
    let caller = spawn(sipp(&scratch, "caller", &caller(DTMF_1), &sip, 0));
    let caller = caller.wait_with_output().unwrap();
    let agent = agent.wait_with_output().unwrap();
    check(&scratch, "phone", agent);
    check(&scratch, "caller", caller);
    // The engine saw a voice interaction in queue "phone", answered by alice and completed.
    let interaction = settled(&server, 1);
    assert_eq!(interaction["channel"], "voice", "{interaction}");
    assert_eq!(interaction["queue"], "phone", "{interaction}");
    assert_eq!(interaction["agent"], "alice", "{interaction}");
    // The CRM's answer went along with the call.
    assert_eq!(interaction["attributes"]["crm.name"], "Ann Example", "{interaction}");
    assert_eq!(interaction["attributes"]["crm.account.tier"], "gold", "{interaction}");
    assert!(["wrap_up", "completed"].contains(&interaction["state"].as_str().unwrap()), "{interaction}");
    // The conversation was recorded, each party on a channel of its own.
    let recording = std::fs::read_dir(scratch.0.join("calls"))
        .expect("the recordings directory")
        .map(|entry| entry.unwrap().path())
        .find(|path| path.file_name().unwrap().to_string_lossy().starts_with("conversation-1-"))
        .expect("a recording of interaction 1");
    let wav = std::fs::read(&recording).unwrap();
    assert_eq!(u16::from_le_bytes([wav[22], wav[23]]), 2, "a stereo file");
    let frames: Vec<(i16, i16)> =
        wav[44..].chunks(4).map(|f| (i16::from_le_bytes([f[0], f[1]]), i16::from_le_bytes([f[2], f[3]]))).collect();
    let loudest = |channel: fn(&(i16, i16)) -> i16| frames.iter().map(|f| channel(f).unsigned_abs()).max().unwrap_or(0);
    assert!(loudest(|f| f.0) > 1000, "the caller's side holds speech");
    assert!(loudest(|f| f.1) > 1000, "the agent's side holds speech");
}

#[test]
fn a_caller_who_hangs_up_in_the_queue_is_an_abandon() {
    let scratch = Scratch::new();
    let (server, sip) = start(&scratch);
    // Nobody is available: the call waits, with music on hold, until the caller gives up.
    let caller = sipp(&scratch, "caller", &caller_then(DTMF_1, HANG_UP), &sip, 0).output().unwrap();
    check(&scratch, "caller", caller);
    let interaction = settled(&server, 1);
    assert_eq!(interaction["channel"], "voice", "{interaction}");
    assert_eq!(interaction["state"], "abandoned", "{interaction}");
}

/// A legacy PBX behind a trunk: challenges the first INVITE (401), checks the credentials
/// of the second with sipp's digest verification, rings, answers and hangs up after a
/// second.
const LEGACY_PBX: &str = r#"<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="legacy PBX">
  <recv request="INVITE" crlf="true"/>
  <send><![CDATA[
      SIP/2.0 401 Unauthorized
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      WWW-Authenticate: Digest realm="legacy", nonce="[pid]n[call_number]", qop="auth"
      Content-Length: 0

    ]]></send>
  <recv request="ACK"/>
  <recv request="INVITE" crlf="true">
    <action>
      <verifyauth assign_to="authorized" username="switchboard" password="trunk-secret"/>
    </action>
  </recv>
  <nop test="authorized" next="accept"/>
  <send><![CDATA[
      SIP/2.0 403 Forbidden
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag02[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]></send>
  <recv request="ACK"/>
  <nop next="end"/>
  <label id="accept"/>
  <send><![CDATA[
      SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag02[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]></send>
  <send retrans="500"><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag02[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:pbx@[local_ip]:[local_port]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=pbx 1 1 IN IP4 [local_ip]
      s=-
      c=IN IP4 [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8 101
      a=rtpmap:8 PCMA/8000
      a=rtpmap:101 telephone-event/8000

    ]]></send>
  <recv request="ACK" crlf="true">
    <!-- Our side of the dialog, for the BYE's To. -->
    <action><ereg regexp=".*" search_in="hdr" header="From:" assign_to="theirs"/></action>
  </recv>
  <pause milliseconds="1000"/>
  <send retrans="500"><![CDATA[
      BYE sip:switchboard@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:pbx@[local_ip]>;tag=[pid]SIPpTag02[call_number]
      To: [$theirs]
      [last_Call-ID:]
      CSeq: 3 BYE
      Max-Forwards: 70
      Content-Length: 0

    ]]></send>
  <recv response="200"/>
  <label id="end"/>
</scenario>
"#;

/// A caller of the forwarded number 5550200: rings, is answered by the PBX, is hung up on.
const FORWARDED_CALLER: &str = r#"<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="caller of a forwarded number">
  <send retrans="500"><![CDATA[
      INVITE sip:5550200@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:4930123@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:5550200@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:4930123@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=caller 1 1 IN IP4 [local_ip]
      s=-
      c=IN IP4 [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8 101
      a=rtpmap:8 PCMA/8000
      a=rtpmap:101 telephone-event/8000

    ]]></send>
  <recv response="100" optional="true"/>
  <recv response="180"/>
  <recv response="200" rrs="true"/>
  <send><![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:4930123@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]></send>
  <recv request="BYE" timeout="10000"/>
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
"#;

#[test]
fn a_forwarded_number_reaches_the_legacy_pbx_through_an_authenticated_trunk() {
    let scratch = Scratch::new();
    let pbx_port = free_port();
    let trunk = format!(
        "  trunks:\n    - {{id: legacy, address: \"127.0.0.1:{pbx_port}\", user: switchboard, password: trunk-secret}}\n  numbers:\n    - {{number: \"5550200\", trunk: legacy}}\n"
    );
    // The server must outlive the calls.
    let (_server, sip) =
        start_with(&scratch, &tenant().replace("  numbers:\n", &trunk), &FLOW.replace("CRM", "127.0.0.1:9"));
    let pbx = spawn(sipp(&scratch, "pbx", LEGACY_PBX, &sip, pbx_port));
    let caller = sipp(&scratch, "forwarded", FORWARDED_CALLER, &sip, 0).output().unwrap();
    let pbx = pbx.wait_with_output().unwrap();
    check(&scratch, "pbx", pbx);
    check(&scratch, "forwarded", caller);
}

#[test]
fn a_caller_over_tcp_reaches_the_agent_and_the_flow_hangs_up_on_the_same_connection() {
    let scratch = Scratch::new();
    let (server, sip) = start(&scratch);
    let phone_port = free_port();
    register(&scratch, &sip, phone_port);
    assert_eq!(server.call("PUT", "/api/v1/agents/alice/presence", Some(r#"{"presence": "available"}"#)).0, 204);
    let agent = spawn(sipp(&scratch, "phone", &phone(1000), &sip, phone_port));
    // The caller's INVITE, its digit and the flow's BYE all travel over one TCP connection.
    let caller = sipp_over("t1", &scratch, "caller", &caller(DTMF_1), &sip, 0).output().unwrap();
    check(&scratch, "phone", agent.wait_with_output().unwrap());
    check(&scratch, "caller", caller);
    let interaction = settled(&server, 1);
    assert_eq!(interaction["agent"], "alice", "{interaction}");
}

/// An agent's phone that rings and is never picked up: it takes the CANCEL and ends the
/// INVITE with 487.
const UNANSWERED_PHONE: &str = r#"<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="unanswered phone">
  <recv request="INVITE" crlf="true">
    <action><ereg regexp="([0-9]+) INVITE" search_in="hdr" header="CSeq:" assign_to="cseq,number"/></action>
  </recv>
  <Reference variables="cseq"/>
  <send><![CDATA[
      SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]></send>
  <recv request="CANCEL" timeout="20000"/>
  <send><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]></send>
  <send><![CDATA[
      SIP/2.0 487 Request Terminated
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      CSeq: [$number] INVITE
      Content-Length: 0

    ]]></send>
  <recv request="ACK"/>
</scenario>
"#;

#[test]
fn an_agent_who_does_not_answer_goes_not_ready_and_the_call_waits_on() {
    let scratch = Scratch::new();
    // Offers run out after 2 s in this tenant.
    let config = tenant().replace(
        "  - id: phone\n    channels: [voice]\n",
        "  - id: phone\n    channels: [voice]\n    offer_timeout: 2s\n",
    );
    assert!(config.contains("offer_timeout: 2s"), "the shared tenant changed: {config}");
    let (server, sip) = start_with(&scratch, &config, &FLOW.replace("CRM", &crm()));
    let phone_port = free_port();
    register(&scratch, &sip, phone_port);
    assert_eq!(server.call("PUT", "/api/v1/agents/alice/presence", Some(r#"{"presence": "available"}"#)).0, 204);
    let agent = spawn(sipp(&scratch, "phone", UNANSWERED_PHONE, &sip, phone_port));
    // The caller waits 6 s in the queue, longer than the offer, then gives up.
    let hang_up_later = HANG_UP.replace("<pause milliseconds=\"2000\"/>", "<pause milliseconds=\"6000\"/>");
    let caller = spawn(sipp(&scratch, "caller", &caller_then(DTMF_1, &hang_up_later), &sip, 0));
    check(&scratch, "phone", agent.wait_with_output().unwrap());
    // The phone was cancelled while the caller still waits: alice is not ready, "missed".
    let (status, agents) = server.call("GET", "/api/v1/agents", None);
    assert_eq!(status, 200, "{agents}");
    let alice = agents.as_array().unwrap().iter().find(|a| a["agent"] == "alice").unwrap().clone();
    assert_eq!((alice["presence"].as_str(), alice["reason"].as_str()), (Some("not_ready"), Some("missed")), "{alice}");
    let (_, waiting) = server.call("GET", "/api/v1/interactions/1", None);
    assert_eq!(waiting["state"], "waiting", "{waiting}");
    check(&scratch, "caller", caller.wait_with_output().unwrap());
    assert_eq!(settled(&server, 1)["state"], "abandoned");
}

/// baresip (Debian package baresip-core) as alice's softphone: it registers with digest
/// authentication, answers by itself and sends a 440 Hz tone (its tone generator works at
/// 48 kHz in stereo only, so baresip resamples to and from the call's 8 kHz).
struct Baresip(Child);

impl Baresip {
    fn start(scratch: &Scratch, sip: &str) -> Baresip {
        use std::io::BufRead as _;
        let dir = scratch.0.join("baresip");
        std::fs::create_dir_all(&dir).unwrap();
        let config = format!(
            "poll_method epoll\nsip_listen 127.0.0.1:{}\nsip_trans_def udp\nmodule_path /usr/lib/baresip/modules\n\
             module g711.so\nmodule ausine.so\nmodule aufile.so\naudio_player aufile,{}\naudio_source ausine,440\n\
             audio_alert aufile,/dev/null\nmodule_app account.so\nmodule_app menu.so\n\
             ausrc_srate 48000\nauplay_srate 48000\nausrc_channels 2\nauplay_channels 2\n",
            free_port(),
            dir.join("heard.wav").display()
        );
        std::fs::write(dir.join("config"), config).unwrap();
        let account = format!("<sip:1001@{sip}>;auth_pass=wonderland;answermode=auto;regint=60\n");
        std::fs::write(dir.join("accounts"), account).unwrap();
        let mut child = Command::new("baresip")
            .arg("-f")
            .arg(&dir)
            .args(["-t", "60", "-s"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(dir.join("baresip-errors.log")).unwrap())
            .spawn()
            .expect("baresip runs (Debian package baresip-core)");
        // Registered once it prints the registrar's 200.
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let mut seen = Vec::new();
        loop {
            match lines.next() {
                Some(Ok(line)) if line.contains("200 OK") => break,
                Some(Ok(line)) => seen.push(line),
                _ => panic!("baresip did not register:\n{}", seen.join("\n")),
            }
        }
        // Keep reading so that baresip never blocks on a full pipe; keep what it says.
        let log = dir.join("baresip.log");
        std::thread::spawn(move || {
            let mut text = seen.join("\n");
            for line in lines.map_while(Result::ok) {
                text.push('\n');
                text.push_str(&line);
                let _ = std::fs::write(&log, &text);
            }
        });
        Baresip(child)
    }
}

impl Drop for Baresip {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn baresip_registers_with_digest_and_answers_the_queued_call_by_itself() {
    let scratch = Scratch::new();
    let (server, sip) = start(&scratch);
    let baresip = Baresip::start(&scratch, &sip);
    assert_eq!(server.call("PUT", "/api/v1/agents/alice/presence", Some(r#"{"presence": "available"}"#)).0, 204);
    // The caller talks with the softphone for about three seconds, then hangs up.
    let hang_up = HANG_UP.replace("<pause milliseconds=\"2000\"/>", "<pause milliseconds=\"3000\"/>");
    let caller = sipp(&scratch, "caller", &caller_then(DTMF_1, &hang_up), &sip, 0).output().unwrap();
    check(&scratch, "caller", caller);
    let interaction = settled(&server, 1);
    let said = ["baresip/baresip.log", "baresip/baresip-errors.log"]
        .map(|log| std::fs::read_to_string(scratch.0.join(log)).unwrap_or_default())
        .join("\n");
    assert_eq!(interaction["agent"], "alice", "{interaction}\nbaresip said:\n{said}");
    assert!(["wrap_up", "completed"].contains(&interaction["state"].as_str().unwrap()), "{interaction}");
    // baresip's tone is on the agent's channel of the recording.
    let recording = std::fs::read_dir(scratch.0.join("calls"))
        .expect("the recordings directory")
        .map(|entry| entry.unwrap().path())
        .find(|path| path.file_name().unwrap().to_string_lossy().starts_with("conversation-1-"))
        .expect("a recording of interaction 1");
    let wav = std::fs::read(&recording).unwrap();
    let agent_side: Vec<i16> = wav[44..].chunks(4).map(|f| i16::from_le_bytes([f[2], f[3]])).collect();
    let loud = agent_side.iter().filter(|s| s.unsigned_abs() > 1000).count();
    assert!(loud > 8000, "about a second of baresip's tone at least, found {loud} loud samples");
    drop(baresip);
}

/// Alice's phone: answers, talks for a second, then transfers the caller to bob with a
/// REFER (RFC 3515), takes the NOTIFY with the outcome and the BYE that releases it.
const TRANSFERRING_PHONE: &str = r#"<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="transferring phone">
  <recv request="INVITE" crlf="true">
    <action><ereg regexp="tag=([^;>]*)" search_in="hdr" header="From:" assign_to="from,theirs"/></action>
  </recv>
  <Reference variables="from"/>
  <send retrans="500"><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:1001@[local_ip]:[local_port]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=agent 1 1 IN IP4 [local_ip]
      s=-
      c=IN IP4 [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8
      a=rtpmap:8 PCMA/8000

    ]]></send>
  <recv request="ACK" crlf="true"/>
  <pause milliseconds="1000"/>
  <send retrans="500"><![CDATA[
      REFER sip:switchboard@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:1001@[local_ip]>;tag=[pid]SIPpTag01[call_number]
      To: <sip:switchboard@[remote_ip]>;tag=[$theirs]
      [last_Call-ID:]
      CSeq: 2 REFER
      Contact: <sip:1001@[local_ip]:[local_port]>
      Refer-To: <sip:bob@[remote_ip]>
      Referred-By: <sip:1001@[local_ip]>
      Max-Forwards: 70
      Content-Length: 0

    ]]></send>
  <recv response="202"/>
  <recv request="NOTIFY">
    <action><ereg regexp="SIP/2.0 200" search_in="body" check_it="true" assign_to="outcome"/></action>
  </recv>
  <Reference variables="outcome"/>
  <send><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]></send>
  <recv request="BYE"/>
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
"#;

#[test]
fn an_agent_transfers_the_call_to_another_agent_with_refer() {
    let scratch = Scratch::new();
    let config = tenant().replace(
        "  - id: bob\n    skills: {support: 3}\n",
        "  - id: bob\n    skills: {support: 3}\n    phone: {user: \"1002\", password: builder}\n",
    );
    assert!(config.contains("1002"), "the shared tenant changed: {config}");
    let (server, sip) = start_with(&scratch, &config, &FLOW.replace("CRM", &crm()));
    let (alice_port, bob_port) = (free_port(), free_port());
    register(&scratch, &sip, alice_port);
    register_as(&scratch, &sip, bob_port, "1002", "builder");
    // Only alice takes new calls; bob is reached by the transfer.
    assert_eq!(server.call("PUT", "/api/v1/agents/alice/presence", Some(r#"{"presence": "available"}"#)).0, 204);
    let alice = spawn(sipp(&scratch, "alice", TRANSFERRING_PHONE, &sip, alice_port));
    let caller = spawn(sipp(&scratch, "caller", &caller(DTMF_1), &sip, 0));
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(server.call("PUT", "/api/v1/agents/bob/presence", Some(r#"{"presence": "available"}"#)).0, 204);
    let bob = spawn(sipp(&scratch, "bob", &phone(1000).replace("1001", "1002"), &sip, bob_port));
    check(&scratch, "alice", alice.wait_with_output().unwrap());
    check(&scratch, "bob", bob.wait_with_output().unwrap());
    check(&scratch, "caller", caller.wait_with_output().unwrap());
    let interaction = settled(&server, 1);
    assert_eq!(interaction["agent"], "bob", "{interaction}");
}

#[test]
fn a_missing_prompt_stops_the_start_and_names_the_file() {
    let scratch = Scratch::new();
    let config = tenant().replace("voice:\n", "voice:\n  announcements: {every: 30s, prompts: position}\n");
    let config = scratch.file("tenant.yaml", &config);
    scratch.file("menu.yaml", &FLOW.replace("CRM", "127.0.0.1:9"));
    write_prompts(&scratch);
    std::fs::create_dir_all(scratch.0.join("position")).unwrap();
    std::fs::write(scratch.0.join("position/position.wav"), tone(500, 500.0)).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["serve", "--listen", "127.0.0.1:0", "--sip", "127.0.0.1:0", "--database"])
        .arg(common::sqlite(&scratch))
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("voice.announcements"), "{stderr}");
    assert!(stderr.contains("position/0.wav"), "{stderr}");
}

/// After the agent, a survey; or, with 2, a call back instead of waiting.
const SURVEY_FLOW: &str = "
flow: after
version: 1
start: menu
nodes:
  menu:
    menu: {prompt: welcome.wav, timeout: 5s, retries: 0}
    options: {\"1\": phone, \"2\": callback}
    no_input: bye
    no_match: bye
    fallback: bye
  phone: {queue: phone, after_call: survey}
  survey:
    survey: {prompt: welcome.wav, scale: 5, timeout: 5s, into: csat}
    next: bye
  callback:
    callback_offer: {prompt: welcome.wav, accept_digit: \"4\", queue: phone, timeout: 5s}
    accepted: bye
    declined: bye
  bye: {hangup: true}
";

/// A caller who presses the digits of `pcaps` (sip-tester's captures), `gap_ms` apart, and
/// is then hung up on.
fn caller_pressing(pcaps: &[&str], gap_ms: u32) -> String {
    let presses: String = pcaps
        .iter()
        .map(|pcap| format!("  <pause milliseconds=\"{gap_ms}\"/>\n  <nop><action><exec play_pcap_audio=\"{pcap}\"/></action></nop>\n"))
        .collect();
    let play = |pcap: &str| format!("  <nop><action><exec play_pcap_audio=\"{pcap}\"/></action></nop>\n");
    let talk =
        format!("  <pause milliseconds=\"800\"/>\n{}  <pause milliseconds=\"300\"/>\n{}", play(DTMF_1), play(SPEECH));
    let scenario = caller(DTMF_1);
    assert!(scenario.contains(&talk), "the caller scenario changed");
    scenario.replace(&talk, &presses)
}

#[test]
fn a_survey_after_the_agent_and_a_call_back_request_are_stored() {
    let scratch = Scratch::new();
    let database = common::sqlite(&scratch);
    let (server, sip) = start_with(&scratch, &tenant(), SURVEY_FLOW);
    let phone_port = free_port();
    register(&scratch, &sip, phone_port);
    assert_eq!(server.call("PUT", "/api/v1/agents/alice/presence", Some(r#"{"presence": "available"}"#)).0, 204);
    let agent = spawn(sipp(&scratch, "phone", &phone(1000), &sip, phone_port));
    // 1: the queue; alice talks for a second; the survey asks, and the caller gives 4.
    let dtmf_4 = "/usr/share/sip-tester/dtmf_2833_4.pcap";
    let surveyed = sipp(&scratch, "surveyed", &caller_pressing(&[DTMF_1, dtmf_4], 1500), &sip, 0).output().unwrap();
    check(&scratch, "phone", agent.wait_with_output().unwrap());
    check(&scratch, "surveyed", surveyed);
    // 2 then 4: a call back, queued with the caller's number. (The captures' RTP timestamps
    // grow with the digit, and an event older than the last one is ignored, so the digits
    // are pressed in that order.)
    let presses = ["/usr/share/sip-tester/dtmf_2833_2.pcap", dtmf_4];
    let called_back = sipp(&scratch, "called-back", &caller_pressing(&presses, 800), &sip, 0).output().unwrap();
    check(&scratch, "called-back", called_back);
    let mut store = sb_storage::open(&database).unwrap();
    let events = store.events("restart-test", 0, 1000).unwrap();
    let survey = events.iter().find_map(|e| match e.event {
        sb_storage::LogEvent::Survey { interaction, score } => Some((interaction, score)),
        _ => None,
    });
    assert_eq!(survey, Some((1, 4)), "the survey of interaction 1");
    let callback = settled_or_waiting(&server, 2);
    assert_eq!(callback["queue"], "phone", "{callback}");
    assert_eq!(callback["attributes"]["callback_number"], "4930123", "{callback}");
}

/// An interaction as the API shows it, once it exists.
fn settled_or_waiting(server: &Server, id: u64) -> serde_json::Value {
    for _ in 0..100 {
        let (status, interaction) = server.call("GET", &format!("/api/v1/interactions/{id}"), None);
        if status == 200 {
            return interaction;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("interaction {id} never appeared");
}

/// A legacy PBX that answers `calls` calls without asking for credentials and hangs up on
/// each after half a second.
const ANSWERING_PBX: &str = r#"<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="legacy PBX">
  <recv request="INVITE" crlf="true">
    <action><ereg regexp="tag=([^;>]*)" search_in="hdr" header="From:" assign_to="from,theirs"/></action>
  </recv>
  <Reference variables="from"/>
  <send retrans="500"><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag02[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:pbx@[local_ip]:[local_port]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=pbx 1 1 IN IP4 [local_ip]
      s=-
      c=IN IP4 [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8
      a=rtpmap:8 PCMA/8000

    ]]></send>
  <recv request="ACK" crlf="true"/>
  <pause milliseconds="500"/>
  <send retrans="500"><![CDATA[
      BYE sip:switchboard@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:pbx@[local_ip]>;tag=[pid]SIPpTag02[call_number]
      To: <sip:switchboard@[remote_ip]>;tag=[$theirs]
      [last_Call-ID:]
      CSeq: 2 BYE
      Max-Forwards: 70
      Content-Length: 0

    ]]></send>
  <recv response="200"/>
</scenario>
"#;

/// A caller of 5550100 who is answered (by Switchboard's flow or by the legacy PBX) and
/// hung up on.
const ANSWERED_CALLER: &str = r#"<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="caller">
  <send retrans="500"><![CDATA[
      INVITE sip:5550100@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:4930123@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:5550100@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:4930123@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=caller 1 1 IN IP4 [local_ip]
      s=-
      c=IN IP4 [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8
      a=rtpmap:8 PCMA/8000

    ]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rrs="true"/>
  <send><![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:4930123@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]></send>
"#;

/// The migration plan of the end-to-end test: a pilot where the legacy PBX keeps a tenth of
/// the calls, whose gate needs a whole day, then all calls; one readiness step blocks the
/// second phase.
const PLAN: &str = "tenant: acme
queues: [support]
phases:
  - id: pilot
    switchboard_percent: 90
    agents: [\"1001\"]
    gate:
      days: 1
      require: [\"service_level >= baseline - 2\"]
  - id: full
    switchboard_percent: 100
readiness:
  - {step: team_alignment, owner: Sam, status: done}
  - {step: infrastructure_evaluation, owner: Lee, status: done, blocks: pilot}
  - {step: integrations, owner: Lee, status: done}
  - {step: regulatory, owner: Priya, status: done}
  - {step: agent_readiness, owner: Dana, status: done}
  - {step: implementation_and_testing, owner: Lee, status: done, blocks: pilot}
  - {step: launch_and_optimisation, owner: Dana, status: todo, blocks: full}
";

/// The migration end to end: an Asterisk center's queues.conf and queue_log imported, its
/// baseline and a replay, then the cutover on a running server: the pilot phase started by
/// `migrate advance` sends a tenth of the sipp calls to a sipp legacy PBX, the next advance
/// is refused (gate and readiness), a freeze refuses user changes, and a rollback sends every
/// new call to the PBX, also after a restart.
#[test]
fn a_migrated_center_cuts_over_by_phases_and_rolls_back_to_the_legacy_pbx() {
    let scratch = Scratch::new();
    let path = |name: &str| scratch.0.join(name).display().to_string();
    let database = common::sqlite(&scratch);
    // Import the legacy center: configuration, then history; baseline and replay.
    let (code, out) = switchboard(
        &["migrate", "import", "asterisk", "--queues", "crates/sb-migrate/test_data/asterisk/queues.conf"]
            .into_iter()
            .chain(["--tenant-id", "acme", "-o", &path("imported.yaml")])
            .collect::<Vec<_>>(),
        None,
    );
    assert_eq!(code, 0, "{out}");
    let log = "crates/sb-migrate/test_data/asterisk/queue_log";
    let (code, out) =
        switchboard(&["migrate", "history", "asterisk", "--queue-log", log, "-d", &database, "--tenant", "acme"], None);
    assert_eq!(code, 0, "{out}");
    let (code, out) =
        switchboard(&["migrate", "baseline", "-d", &database, "--tenant", "acme", "-o", &path("b")], None);
    assert_eq!(code, 0, "{out}");
    let (code, out) = switchboard(
        &["migrate", "replay", "-c", &path("imported.yaml"), "-d", &database, "--stress", "1,2", "-o", &path("r")],
        None,
    );
    assert_eq!(code, 0, "{out}");
    // The imported tenant answers 5550100 with a greeting; its split names the legacy PBX.
    let pbx_port = free_port();
    let voice = format!(
        "voice:\n  trunks:\n    - {{id: legacy, address: \"127.0.0.1:{pbx_port}\"}}\n  split:\n    trunk: legacy\n    rules:\n      - {{percent: 50, to: legacy}}\n  numbers:\n    - {{number: \"5550100\", flow: menu.yaml}}\n"
    );
    let imported = std::fs::read_to_string(path("imported.yaml")).unwrap();
    let greeting = "flow: greeting\nversion: 1\nstart: hello\nnodes:\n  hello: {play: welcome.wav, next: bye}\n  bye: {hangup: true}\n";
    let config = scratch.file("tenant.yaml", &format!("{imported}{voice}"));
    scratch.file("menu.yaml", greeting);
    write_prompts(&scratch);
    let plan = scratch.file("plan.yaml", PLAN).display().to_string();
    let server = Server::start_with(&[&config], &database, &["--sip", "127.0.0.1:0"]);
    let sip = server.sip.clone().expect("the server printed its SIP address");
    let token = server.token.clone().expect("the administrator's session");
    let url = format!("http://{}", server.addr);
    let config = config.display().to_string();
    let cutover = |command: &str, extra: &[&str]| {
        let args = ["migrate", command, "--plan", &plan, "-c", &config, "-d", &database, "--server", &url];
        switchboard(&args.iter().copied().chain(extra.iter().copied()).collect::<Vec<_>>(), Some(&token))
    };
    let (code, status) = cutover("status", &["-o", &path("status")]);
    assert_eq!(code, 0, "{status}");
    assert!(status.contains("phase: not started"), "{status}");
    // The baseline of queue support: 4 legacy calls, 3 answered within 20 s of 4 offered.
    let calls_row: Vec<&str> = status.lines().find(|l| l.starts_with("calls")).unwrap().split_whitespace().collect();
    assert_eq!(calls_row, ["calls", "4"], "{status}");
    assert!(status.contains("[ ] launch_and_optimisation     Dana (todo, blocks full)"), "{status}");
    assert!(std::fs::read_to_string(path("status/status.svg")).unwrap().contains("<svg"));

    // Into the pilot: the legacy PBX keeps a tenth of the calls (not the tenant file's half).
    let (code, out) = cutover("advance", &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("phase pilot started (the first phase): Switchboard answers 90% of new calls"), "{out}");
    assert!(out.contains("pilot agents: 1001; no other agent may become available"), "{out}");
    let caller = format!("{ANSWERED_CALLER}{WAIT_FOR_BYE}</scenario>\n");
    let calls = |name: &str, callers: u32, to_pbx: u32| {
        let mut pbx = sipp(&scratch, &format!("{name}-pbx"), ANSWERING_PBX, &sip, pbx_port);
        pbx.args(["-m", &to_pbx.to_string()]);
        let pbx = spawn(pbx);
        let mut command = sipp(&scratch, name, &caller, &sip, 0);
        command.args(["-m", &callers.to_string(), "-r", "10", "-l", "1"]);
        check(&scratch, name, command.output().unwrap());
        // The PBX took exactly `to_pbx` calls (sipp -m), and no caller failed.
        check(&scratch, &format!("{name}-pbx"), pbx.wait_with_output().unwrap());
    };
    calls("pilot", 20, 2);

    // The next phase may not start: the pilot has no whole day yet, and a step blocks it.
    let (code, out) = cutover("advance", &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("the phase has 0 whole days so far; its gate needs 1"), "{out}");
    assert!(out.contains("readiness step launch_and_optimisation is todo (owner Dana)"), "{out}");
    let (_, state) = server.call("GET", "/api/v1/migration", None);
    assert_eq!((state["phase"].as_str(), state["switchboard_percent"].as_u64()), (Some("pilot"), Some(90)));
    assert_eq!(state["agents"], serde_json::json!(["1001"]));
    // Only the pilot agent may become available.
    let available = Some(r#"{"presence": "available"}"#);
    assert_eq!(server.call("PUT", "/api/v1/agents/1001/presence", available).0, 204);
    let (status, answer) = server.call("PUT", "/api/v1/agents/1002/presence", available);
    assert_eq!(status, 409, "{answer}");
    assert!(
        answer["error"]["message"].as_str().unwrap().contains("agent 1002 is not in the pilot group of phase pilot"),
        "{answer}"
    );

    // A freeze refuses user changes until lifted.
    let reason = ["--server", url.as_str(), "--reason", "cutover weekend"];
    let (code, out) = switchboard(&[&["migrate", "freeze"][..], &reason].concat(), Some(&token));
    assert_eq!(code, 0, "{out}");
    let user = r#"{"username": "zoe", "role": "supervisor", "password": "a-long-password"}"#;
    let (status, answer) = server.call("POST", "/api/v1/users", Some(user));
    assert_eq!(status, 409, "{answer}");
    assert!(answer["error"]["message"].as_str().unwrap().contains("frozen for the migration"), "{answer}");
    let (_, agents) = server.call("GET", "/api/v1/agents", None);
    let agent = agents[0]["agent"].as_str().unwrap_or_else(|| panic!("{agents}")).to_owned();
    let skills = format!("/api/v1/agents/{agent}/skills");
    let (status, answer) = server.call("PUT", &skills, Some(r#"{"skills": {"support": 2}}"#));
    assert_eq!((status, answer["error"]["code"].as_str()), (409, Some("frozen")), "{answer}");
    let (code, out) = switchboard(&[&["migrate", "unfreeze"][..], &reason].concat(), Some(&token));
    assert_eq!(code, 0, "{out}");
    assert_eq!(server.call("POST", "/api/v1/users", Some(user)).0, 201);

    // Roll back: every new call goes to the PBX; recorded in the audit log.
    let rollback = ["migrate", "rollback", "--server", &url, "--reason", "pilot agents cannot log in"];
    let (code, out) = switchboard(&rollback, Some(&token));
    assert_eq!(code, 0, "{out}");
    calls("rolled-back", 3, 3);
    let (_, audit) = server.call("GET", "/api/v1/audit", None);
    let entry = |action: &str| {
        let entry = audit.as_array().unwrap().iter().find(|e| e["action"] == action).cloned();
        entry.unwrap_or_else(|| panic!("no {action} in the audit log: {audit}"))
    };
    assert_eq!(entry("migration.rollback")["detail"], "pilot agents cannot log in");
    assert_eq!(entry("migration.rollback")["actor"], "admin");
    assert_eq!(entry("migration.phase")["detail"], "phase pilot (90% to Switchboard): the first phase");

    // The rollback holds after a restart.
    server.kill();
    let mut server = Server::start_with(&[Path::new(&config)], &database, &["--sip", "127.0.0.1:0"]);
    server.token = Some(token.clone());
    let sip = server.sip.clone().unwrap();
    let url = format!("http://{}", server.addr);
    let mut pbx = sipp(&scratch, "restarted-pbx", ANSWERING_PBX, &sip, pbx_port);
    pbx.args(["-m", "2"]);
    let pbx = spawn(pbx);
    let mut command = sipp(&scratch, "restarted", &caller, &sip, 0);
    command.args(["-m", "2", "-r", "10", "-l", "1"]);
    check(&scratch, "restarted", command.output().unwrap());
    check(&scratch, "restarted-pbx", pbx.wait_with_output().unwrap());
    let args = ["migrate", "status", "--plan", &plan, "-c", &config, "-d", &database, "--server", &url];
    let (code, status) = switchboard(&args, Some(&token));
    assert_eq!(code, 0, "{status}");
    assert!(status.contains("ROLLED BACK: every new call goes to the legacy PBX (last change by admin"), "{status}");
    assert!(status.contains("phase: pilot (1 of 2)"), "{status}");
}

/// The answered caller whose 200 OK must offer media, and a Contact, at 127.0.0.2: the
/// address given with --sip-advertise, not the socket's 0.0.0.0.
fn advertised_caller() -> String {
    let checked = r#"<recv response="200" rrs="true">
    <action>
      <ereg regexp="c=IN IP4 127\.0\.0\.2" search_in="body" check_it="true" assign_to="media"/>
      <ereg regexp="Contact: &lt;sip:[^@]*@127\.0\.0\.2:" search_in="msg" check_it="true" assign_to="contact"/>
    </action>
  </recv>
  <Reference variables="media,contact"/>"#;
    let plain = r#"<recv response="200" rrs="true"/>"#;
    assert!(ANSWERED_CALLER.contains(plain));
    ANSWERED_CALLER.replace(plain, checked)
}

#[test]
fn a_server_on_every_address_tells_peers_the_advertised_one() {
    let scratch = Scratch::new();
    let greeting = "flow: greeting\nversion: 1\nstart: hello\nnodes:\n  hello: {play: welcome.wav, next: bye}\n  bye: {hangup: true}\n";
    let config = scratch.file("tenant.yaml", &tenant());
    scratch.file("menu.yaml", greeting);
    write_prompts(&scratch);
    // Every address without --sip-advertise: refused, with the reason.
    let refused = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["serve", "--listen", "127.0.0.1:0", "--sip", "0.0.0.0:0", "--database", &common::sqlite(&scratch)])
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("give --sip-advertise IP"), "{stderr}");
    let server = Server::start_with(
        &[&config],
        &common::sqlite(&scratch),
        &["--sip", "0.0.0.0:0", "--sip-advertise", "127.0.0.2"],
    );
    let port = server.sip.clone().unwrap().rsplit_once(':').unwrap().1.to_owned();
    let target = format!("127.0.0.1:{port}");
    let caller = format!("{}{WAIT_FOR_BYE}</scenario>\n", advertised_caller());
    check(&scratch, "advertised", sipp(&scratch, "advertised", &caller, &target, 0).output().unwrap());
}
