//! An HTTP receiver on loopback that records each POST (path, headers, JSON body)
//! and answers 200 `{"err": 0}`, as Rollbar's item API does; or, `holding`, reads
//! nothing and never answers (a stalled service).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    /// Lower-case names.
    pub headers: HashMap<String, String>,
    pub body: Value,
}

pub struct ItemReceiver {
    pub url: String,
    pub received: Arc<Mutex<Vec<Received>>>,
}

impl ItemReceiver {
    pub fn start() -> ItemReceiver {
        ItemReceiver::serve(false)
    }

    /// Accepts connections and never answers.
    pub fn holding() -> ItemReceiver {
        ItemReceiver::serve(true)
    }

    fn serve(hold: bool) -> ItemReceiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/api/1/item/", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let r = received.clone();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for stream in listener.incoming().flatten() {
                if hold {
                    held.push(stream);
                    continue;
                }
                let r = r.clone();
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let path = line.split_whitespace().nth(1).unwrap_or_default().to_string();
                        let mut headers = HashMap::new();
                        loop {
                            let mut h = String::new();
                            if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                                break;
                            }
                            if let Some((k, v)) = h.split_once(':') {
                                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
                            }
                        }
                        let len = headers.get("content-length").and_then(|l| l.parse().ok()).unwrap_or(0);
                        let mut body = vec![0; len];
                        reader.read_exact(&mut body).unwrap();
                        let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
                        r.lock().unwrap().push(Received { path, headers, body });
                        let answer = r#"{"err": 0, "result": {"uuid": "x"}}"#;
                        let mut out = &stream;
                        let _ = write!(
                            out,
                            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{answer}",
                            answer.len()
                        );
                    }
                });
            }
        });
        ItemReceiver { url, received }
    }

    pub fn items(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits (20 s at most) until `n` items have arrived.
    pub fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.items().len() < n {
            assert!(Instant::now() < deadline, "{n} items expected, got {:?}", self.items());
            std::thread::sleep(Duration::from_millis(20));
        }
        self.items()
    }
}
