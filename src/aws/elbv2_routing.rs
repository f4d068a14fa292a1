//! What an ALB listener or rule does with a request, and what a rule matches: the
//! plain values the ELBv2 wrapper (`aws::elbv2_listeners`) returns and takes.

/// What a listener or rule does with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Forward(String),
    /// A forward to several target groups by weight (ECS's blue-green, canary and
    /// linear releases move a rule's traffic this way).
    Weighted(Vec<(String, i32)>),
    /// 301 to HTTPS on 443, keeping host, path and query.
    RedirectHttps,
    Other(String),
}

#[derive(Debug, Clone)]
pub struct Listener {
    pub arn: String,
    pub port: i32,
    pub https: bool,
    pub certificate: Option<String>,
    /// The TLS policy of an HTTPS listener.
    pub ssl_policy: Option<String>,
    pub default_action: Action,
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub arn: String,
    pub priority: Option<i32>,
    pub hosts: Vec<String>,
    pub paths: Vec<String>,
    /// An `http-header` condition (the test route of a staged release).
    pub header: Option<Header>,
    pub action: Action,
}

/// An `http-header` condition with one exact value. Its value is a secret (the
/// test-route secret): it is never shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub name: String,
    pub value: String,
}

impl Action {
    /// The target groups it forwards to (with any weight).
    pub fn target_groups(&self) -> Vec<&str> {
        match self {
            Action::Forward(tg) => vec![tg.as_str()],
            Action::Weighted(tgs) => tgs.iter().map(|(tg, _)| tg.as_str()).collect(),
            _ => Vec::new(),
        }
    }

    /// The target group that gets all of its traffic, if one does.
    pub fn whole(&self) -> Option<&str> {
        match self {
            Action::Forward(tg) => Some(tg),
            Action::Weighted(tgs) => {
                let live: Vec<&(String, i32)> = tgs.iter().filter(|(_, w)| *w > 0).collect();
                (live.len() == 1).then(|| live[0].0.as_str())
            }
            _ => None,
        }
    }
}

/// What a rule matches: any of the hosts (when there are any) and any of the paths
/// (when there are any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conditions {
    pub hosts: Vec<String>,
    pub paths: Vec<String>,
    /// And this header with this value (the test route); None: any headers.
    pub header: Option<Header>,
}

impl Conditions {
    /// Same hosts (in any case) and same paths, in any order.
    pub fn matches(&self, rule: &Rule) -> bool {
        let norm = |v: &[String], lower: bool| {
            let mut v: Vec<String> = v.iter().map(|h| if lower { h.to_ascii_lowercase() } else { h.clone() }).collect();
            v.sort();
            v
        };
        norm(&self.hosts, true) == norm(&rule.hosts, true)
            && norm(&self.paths, false) == norm(&rule.paths, false)
            && self.header.as_ref().map(|h| (h.name.to_ascii_lowercase(), &h.value))
                == rule.header.as_ref().map(|h| (h.name.to_ascii_lowercase(), &h.value))
    }
}

impl Rule {
    /// What the rule matches.
    pub fn conditions(&self) -> Conditions {
        Conditions { hosts: self.hosts.clone(), paths: self.paths.clone(), header: self.header.clone() }
    }
}

impl std::fmt::Display for Conditions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if !self.hosts.is_empty() {
            parts.push(format!("host {}", self.hosts.join(",")));
        }
        if !self.paths.is_empty() {
            parts.push(format!("path {}", self.paths.join(",")));
        }
        // The name only: the value is the test-route secret.
        if let Some(h) = &self.header {
            parts.push(format!("header {} (the test-route secret)", h.name));
        }
        write!(f, "{}", parts.join(" "))
    }
}
