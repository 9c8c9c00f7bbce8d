//! A minimal HTTP/1.1 client over plain TCP, blocking, for the server's own outgoing calls:
//! the alert webhook's POST and the contact flows' lookups (GET). One request per
//! connection (`Connection: close`); the answer is read to its end, with chunked transfer
//! coding undone. No TLS: addresses are `http://` (see `sb_config::Webhook`).

use std::io::{Read as _, Write as _};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use sb_config::Webhook;

/// The largest answer read, in bytes.
const MAX_ANSWER: usize = 1 << 20;

/// An answer: its status and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Sends `method` to `url` with an optional JSON body, and reads the answer, all within
/// `timeout`. Errors say what failed, for logs and for the flow's record.
pub fn request(method: &str, url: &Webhook, json: Option<&str>, timeout: Duration) -> Result<Answer, String> {
    request_as(method, url, json, None, timeout)
}

/// [`request`] with a bearer token, as Switchboard's own API takes it.
pub fn request_as(
    method: &str,
    url: &Webhook,
    json: Option<&str>,
    token: Option<&str>,
    timeout: Duration,
) -> Result<Answer, String> {
    let deadline = Instant::now() + timeout;
    let left = || deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1));
    let addr = (url.host.as_str(), url.port)
        .to_socket_addrs()
        .map_err(|e| format!("resolving {}: {e}", url.host))?
        .next()
        .ok_or_else(|| format!("{} has no address", url.host))?;
    let mut stream = TcpStream::connect_timeout(&addr, left()).map_err(|e| format!("connecting to {addr}: {e}"))?;
    stream.set_write_timeout(Some(left())).map_err(|e| e.to_string())?;
    let body = json.unwrap_or("");
    let mut content = match json {
        Some(_) => format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()),
        None => String::new(),
    };
    if let Some(token) = token {
        content.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    let head = format!(
        "{method} {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: switchboard\r\nAccept: application/json\r\n{content}Connection: close\r\n\r\n",
        url.path, url.host
    );
    stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(body.as_bytes())).map_err(|e| e.to_string())?;
    let mut answer = Vec::new();
    let mut buffer = [0u8; 8192];
    loop {
        stream.set_read_timeout(Some(left())).map_err(|e| e.to_string())?;
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => {
                answer.extend_from_slice(&buffer[..n]);
                if answer.len() > MAX_ANSWER {
                    return Err(format!("the answer is longer than {MAX_ANSWER} bytes"));
                }
            }
            Err(e) if answer.is_empty() => return Err(format!("no answer: {e}")),
            Err(e) => return Err(format!("the answer was cut short: {e}")),
        }
    }
    parse(&answer)
}

/// Reads a whole HTTP/1.1 answer.
fn parse(answer: &[u8]) -> Result<Answer, String> {
    let end = answer.windows(4).position(|w| w == b"\r\n\r\n").ok_or("the answer has no end of headers")?;
    let head = std::str::from_utf8(&answer[..end]).map_err(|_| "the answer's headers are not text")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .strip_prefix("HTTP/1.")
        .and_then(|rest| rest.get(2..5))
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or_else(|| format!("not an HTTP answer: {status_line:?}"))?;
    let chunked = lines.any(|line| {
        line.split_once(':').is_some_and(|(name, value)| {
            name.trim().eq_ignore_ascii_case("transfer-encoding") && value.to_ascii_lowercase().contains("chunked")
        })
    });
    let raw = &answer[end + 4..];
    let body = if chunked { dechunk(raw)? } else { raw.to_vec() };
    Ok(Answer { status, body })
}

/// Undoes chunked transfer coding (RFC 9112 section 7.1); trailers are ignored.
fn dechunk(mut raw: &[u8]) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let line_end = raw.windows(2).position(|w| w == b"\r\n").ok_or("a chunk size line is cut short")?;
        let size_text = std::str::from_utf8(&raw[..line_end]).map_err(|_| "a chunk size is not text")?;
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| format!("bad chunk size {size_text:?}"))?;
        raw = &raw[line_end + 2..];
        if size == 0 {
            return Ok(body);
        }
        let chunk = raw.get(..size).ok_or("a chunk is cut short")?;
        body.extend_from_slice(chunk);
        raw = raw.get(size + 2..).ok_or("a chunk is cut short")?;
    }
}

/// The pairs a flow's lookup takes from a JSON object: each member by name, strings as they
/// are, numbers and booleans as written, `null` as empty; nested objects are flattened with
/// dots (`{"owner": {"name": "Ann"}}` gives `owner.name`), arrays kept as JSON text.
pub fn pairs(body: &[u8]) -> Result<Vec<(String, String)>, String> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| format!("the answer is not JSON: {e}"))?;
    let serde_json::Value::Object(object) = value else {
        return Err("the answer is not a JSON object".to_owned());
    };
    let mut out = Vec::new();
    flatten("", &object, &mut out);
    Ok(out)
}

fn flatten(prefix: &str, object: &serde_json::Map<String, serde_json::Value>, out: &mut Vec<(String, String)>) {
    for (name, value) in object {
        let key = if prefix.is_empty() { name.clone() } else { format!("{prefix}.{name}") };
        match value {
            serde_json::Value::Object(inner) => flatten(&key, inner, out),
            serde_json::Value::String(text) => out.push((key, text.clone())),
            serde_json::Value::Null => out.push((key, String::new())),
            other => out.push((key, other.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_read_plain_and_chunked() {
        let plain = parse(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}").unwrap();
        assert_eq!(plain, Answer { status: 200, body: b"{}".to_vec() });
        let chunked =
            parse(b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=1\r\nde\r\n0\r\n\r\n")
                .unwrap();
        assert_eq!(chunked, Answer { status: 404, body: b"abcde".to_vec() });
        assert!(parse(b"SIP/2.0 200 OK\r\n\r\n").unwrap_err().contains("not an HTTP answer"));
        assert!(parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").unwrap_err().contains("zz"));
    }

    #[test]
    fn json_objects_become_pairs() {
        let body =
            br#"{"name": "Ann", "vip": true, "balance": 12.5, "note": null, "owner": {"team": "b2b"}, "tags": [1]}"#;
        let pairs = pairs(body).unwrap();
        let get = |k: &str| pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
        assert_eq!(get("name"), Some("Ann"));
        assert_eq!(get("vip"), Some("true"));
        assert_eq!(get("balance"), Some("12.5"));
        assert_eq!(get("note"), Some(""));
        assert_eq!(get("owner.team"), Some("b2b"));
        assert_eq!(get("tags"), Some("[1]"));
        assert!(super::pairs(b"[1, 2]").unwrap_err().contains("not a JSON object"));
        assert!(super::pairs(b"<html>").unwrap_err().contains("not JSON"));
    }
}
