//! `docker push` through the Engine API, layer by layer: the engine uploads only
//! the layers the registry lacks, and each layer's fate is reported.

use std::collections::BTreeMap;
use std::io::IsTerminal;

use base64::Engine as _;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::docker::raw;
use crate::error::{Error, Result};

/// Registry credentials, as ECR's GetAuthorizationToken hands them out.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub username: String,
    pub password: String,
    pub server: String,
}

impl Credentials {
    /// The X-Registry-Auth header: base64url of the JSON auth config.
    pub fn header(&self) -> String {
        let json = serde_json::json!({
            "username": self.username,
            "password": self.password,
            "serveraddress": self.server,
        });
        base64::engine::general_purpose::URL_SAFE.encode(json.to_string())
    }
}

/// What happened to one layer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum LayerOutcome {
    Pushed { bytes: u64 },
    AlreadyExists,
    Mounted,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PushReport {
    pub digest: Option<String>,
    pub layers: BTreeMap<String, LayerOutcome>,
}

impl PushReport {
    pub fn pushed(&self) -> usize {
        self.layers.values().filter(|l| matches!(l, LayerOutcome::Pushed { .. })).count()
    }
    pub fn reused(&self) -> usize {
        self.layers.len() - self.pushed()
    }
    pub fn bytes(&self) -> u64 {
        self.layers.values().map(|l| if let LayerOutcome::Pushed { bytes } = l { *bytes } else { 0 }).sum()
    }
}

/// Per-layer progress: a bar per layer on a terminal, a line per finished layer otherwise.
struct Progress {
    multi: Option<MultiProgress>,
    bars: BTreeMap<String, ProgressBar>,
    prefix: String,
}

impl Progress {
    fn new(prefix: &str) -> Progress {
        let multi = std::io::stderr().is_terminal().then(MultiProgress::new);
        Progress { multi, bars: BTreeMap::new(), prefix: prefix.to_string() }
    }

    fn update(&mut self, layer: &str, status: &str, current: u64, total: u64) {
        let Some(multi) = &self.multi else { return };
        let bar = self.bars.entry(layer.to_string()).or_insert_with(|| {
            let bar = multi.add(ProgressBar::new(total.max(1)));
            bar.set_style(
                ProgressStyle::with_template("{prefix} {bar:30} {bytes}/{total_bytes} {msg}").expect("valid template"),
            );
            bar.set_prefix(format!("{}{layer}", self.prefix));
            bar
        });
        if total > 0 {
            bar.set_length(total);
        }
        bar.set_position(current);
        bar.set_message(status.to_string());
    }

    fn finish(&mut self, layer: &str, outcome: &LayerOutcome) {
        let text = match outcome {
            LayerOutcome::Pushed { bytes } => format!("pushed ({})", indicatif::HumanBytes(*bytes)),
            LayerOutcome::AlreadyExists => "already in the registry".to_string(),
            LayerOutcome::Mounted => "mounted from another repository".to_string(),
        };
        match self.bars.get(layer) {
            Some(bar) => bar.finish_with_message(text),
            None if self.multi.is_some() => {}
            None => eprintln!("{}layer {layer}: {text}", self.prefix),
        }
    }
}

/// Pushes `repo:tag` (already tagged locally). `prefix` starts each progress line.
pub async fn push(repo: &str, tag: &str, credentials: &Credentials, prefix: &str) -> Result<PushReport> {
    let path = format!("/images/{repo}/push?tag={tag}");
    let mut report = PushReport::default();
    let mut sizes: BTreeMap<String, u64> = BTreeMap::new();
    let mut progress = Progress::new(prefix);
    let image = format!("{repo}:{tag}");
    raw::post_stream(&path, &credentials.header(), |line| {
        if let Some(message) = line["errorDetail"]["message"].as_str().or(line["error"].as_str()) {
            return Err(Error::PushFailed { image: image.clone(), detail: message.to_string() });
        }
        if let Some(digest) = line["aux"]["Digest"].as_str() {
            report.digest = Some(digest.to_string());
        }
        let (Some(id), Some(status)) = (line["id"].as_str(), line["status"].as_str()) else { return Ok(()) };
        let detail = &line["progressDetail"];
        let (current, total) = (detail["current"].as_u64().unwrap_or(0), detail["total"].as_u64().unwrap_or(0));
        if total > 0 {
            sizes.insert(id.to_string(), total);
        }
        let outcome = match status {
            "Pushed" => Some(LayerOutcome::Pushed { bytes: sizes.get(id).copied().unwrap_or(0) }),
            "Layer already exists" => Some(LayerOutcome::AlreadyExists),
            s if s.starts_with("Mounted from") => Some(LayerOutcome::Mounted),
            _ => None,
        };
        match outcome {
            Some(outcome) => {
                progress.finish(id, &outcome);
                report.layers.insert(id.to_string(), outcome);
            }
            None => progress.update(id, status, current, total),
        }
        Ok(())
    })
    .await
    .map_err(|e| match e {
        Error::Docker { detail, .. } => Error::PushFailed { image: image.clone(), detail },
        other => other,
    })?;
    if report.digest.is_none() {
        return Err(Error::PushFailed { image, detail: "the engine reported no manifest digest".into() });
    }
    Ok(report)
}
