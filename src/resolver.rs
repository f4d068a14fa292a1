//! The system resolver, asked one question: which name servers does the world see
//! for a domain (a plain DNS NS query over UDP, bounded by a timeout). Used to
//! warn, before ACM waits for DNS validation, when the domain is not delegated to
//! its Route 53 hosted zone.
//!
//! The resolver is the first `nameserver` of /etc/resolv.conf (port 53), or
//! `CRUDDUR_DNS_RESOLVER` (`host:port`; `off` skips the check).

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::UdpSocket;

const TIMEOUT: Duration = Duration::from_secs(3);
const NS: u16 = 2;

/// The resolver's address, if one is configured.
pub fn system_resolver() -> Option<SocketAddr> {
    if let Ok(addr) = std::env::var("CRUDDUR_DNS_RESOLVER") {
        return addr.parse().ok();
    }
    let conf = std::fs::read_to_string("/etc/resolv.conf").ok()?;
    conf.lines().find_map(|l| {
        let ip = l.trim().strip_prefix("nameserver")?.trim();
        let ip: std::net::IpAddr = ip.split('%').next()?.parse().ok()?;
        Some(SocketAddr::new(ip, 53))
    })
}

/// The NS names the resolver returns for `domain`, lower-case without the final
/// dot; an error string when it does not answer in time or answers garbage.
pub async fn name_servers(resolver: SocketAddr, domain: &str) -> Result<Vec<String>, String> {
    let bind = if resolver.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" };
    let socket = UdpSocket::bind(bind).await.map_err(|e| e.to_string())?;
    let id = (std::process::id() as u16) ^ 0x5a5a;
    let query = query(id, domain);
    socket.send_to(&query, resolver).await.map_err(|e| format!("cannot send to {resolver}: {e}"))?;
    let mut buf = [0u8; 4096];
    let answer = async {
        loop {
            let (n, from) = socket.recv_from(&mut buf).await.map_err(|e| e.to_string())?;
            if from == resolver && n >= 12 && u16::from_be_bytes([buf[0], buf[1]]) == id {
                return parse_ns(&buf[..n]);
            }
        }
    };
    match tokio::time::timeout(TIMEOUT, answer).await {
        Ok(result) => result,
        Err(_) => Err(format!("no answer from {resolver} within {} s", TIMEOUT.as_secs())),
    }
}

fn query(id: u16, domain: &str) -> Vec<u8> {
    let mut q = Vec::with_capacity(32 + domain.len());
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]); // RD; one question
    for label in domain.trim_end_matches('.').split('.') {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.extend_from_slice(&[0, 0, NS as u8, 0, 1]); // root, QTYPE NS, QCLASS IN
    q
}

/// A (possibly compressed) name at `pos`: the name and the position after it.
fn name(msg: &[u8], mut pos: usize) -> Result<(String, usize), String> {
    let mut labels = Vec::new();
    let mut end = None;
    for _ in 0..64 {
        let len = *msg.get(pos).ok_or("truncated name")? as usize;
        if len == 0 {
            return Ok((labels.join(".").to_ascii_lowercase(), end.unwrap_or(pos + 1)));
        }
        if len & 0xc0 == 0xc0 {
            let low = *msg.get(pos + 1).ok_or("truncated pointer")? as usize;
            end.get_or_insert(pos + 2);
            pos = ((len & 0x3f) << 8) | low;
            continue;
        }
        let label = msg.get(pos + 1..pos + 1 + len).ok_or("truncated label")?;
        labels.push(String::from_utf8_lossy(label).into_owned());
        pos += 1 + len;
    }
    Err("name too long".into())
}

fn parse_ns(msg: &[u8]) -> Result<Vec<String>, String> {
    let rcode = msg[3] & 0x0f;
    if rcode != 0 {
        return Err(format!("the resolver answered rcode {rcode}"));
    }
    let count = |i: usize| u16::from_be_bytes([msg[i], msg[i + 1]]) as usize;
    let (questions, answers) = (count(4), count(6));
    let mut pos = 12;
    for _ in 0..questions {
        pos = name(msg, pos)?.1 + 4;
    }
    let mut out = Vec::new();
    for _ in 0..answers {
        pos = name(msg, pos)?.1;
        let head = msg.get(pos..pos + 10).ok_or("truncated record")?;
        let (kind, len) = (u16::from_be_bytes([head[0], head[1]]), u16::from_be_bytes([head[8], head[9]]) as usize);
        if kind == NS {
            out.push(name(msg, pos + 10)?.0);
        }
        pos += 10 + len;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_compressed_ns_answer() {
        let mut msg = query(7, "example.com");
        msg[2] = 0x81;
        msg[3] = 0x80;
        msg[7] = 2; // two answers
        for ns in ["ns-1.awsdns-01.org", "ns-2.awsdns-02.com"] {
            msg.extend_from_slice(&[0xc0, 12, 0, 2, 0, 1, 0, 0, 0, 60]);
            let mut rdata = Vec::new();
            for l in ns.split('.') {
                rdata.push(l.len() as u8);
                rdata.extend_from_slice(l.as_bytes());
            }
            rdata.push(0);
            msg.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
            msg.extend_from_slice(&rdata);
        }
        assert_eq!(parse_ns(&msg).unwrap(), vec!["ns-1.awsdns-01.org", "ns-2.awsdns-02.com"]);
        assert_eq!(name(&msg, 12).unwrap().0, "example.com");
    }
}
