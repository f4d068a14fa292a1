//! Image references, as the distribution reference grammar defines them (what
//! Docker, ECR and the ECS agent parse; github.com/distribution/reference,
//! `reference.go`):
//!
//! ```text
//! reference      := name [ ":" tag ] [ "@" digest ]
//! name           := [domain '/'] path-component ['/' path-component]*
//! domain         := host [':' port-number]
//! host           := domain-name | IPv4address | '[' IPv6address ']'
//! domain-name    := domain-component ['.' domain-component]*
//! domain-component := /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/
//! path-component := alpha-numeric [separator alpha-numeric]*
//! alpha-numeric  := /[a-z0-9]+/
//! separator      := /[_.]|__|[-]*/
//! tag            := /[\w][\w.-]{0,127}/
//! digest         := algorithm ":" hex   (algorithm: [A-Za-z][A-Za-z0-9]*([+._-][A-Za-z][A-Za-z0-9]*)*, hex: [0-9a-fA-F]{32,})
//! ```
//!
//! The first component is the registry when it holds a `.` or a `:`, is
//! `localhost`, or has upper-case letters (`splitDockerDomain` in `normalize.go`).
//! A name is at most 255 characters; ECS's `image` is at most 255 too
//! (ContainerDefinition, `image`).
//! https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html

use crate::validate::{broken, quoted, Check};

const HINT: &str = "an image is [registry[:port]/]repository[:tag][@sha256:digest], the repository in lower case (e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/backend-flask:latest)";

pub fn check(reference: &str) -> Check {
    parse(reference).map_err(|why| broken(format!("{} is not a valid image reference: {why}", quoted(reference)), HINT))
}

fn parse(reference: &str) -> Result<(), String> {
    if reference.is_empty() {
        return Err("it is empty".into());
    }
    if reference.len() > 255 {
        return Err(format!("it is {} characters; at most 255", reference.len()));
    }
    let (rest, digest) = match reference.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (reference, None),
    };
    if let Some(d) = digest {
        digest_ok(d)?;
    }
    // A tag is after the last ':' that follows the last '/' (a port comes before a '/').
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
        None => (rest, None),
    };
    if let Some(t) = tag {
        tag_ok(t)?;
    }
    let mut components: Vec<&str> = name.split('/').collect();
    if components.len() > 1 && is_domain(components[0]) {
        domain_ok(components.remove(0))?;
    }
    for c in components {
        path_component_ok(c)?;
    }
    Ok(())
}

fn is_domain(first: &str) -> bool {
    first.contains(['.', ':']) || first == "localhost" || first.chars().any(|c| c.is_ascii_uppercase())
}

fn domain_ok(domain: &str) -> Result<(), String> {
    let (host, port) = if let Some(v6) = domain.strip_prefix('[') {
        let (addr, after) = v6.split_once(']').ok_or("an IPv6 registry host lacks its `]`")?;
        if addr.is_empty() || !addr.chars().all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.') {
            return Err(format!("`[{addr}]` is not an IPv6 address"));
        }
        (None, after.strip_prefix(':').map(Some).unwrap_or(if after.is_empty() { None } else { Some("") }))
    } else {
        match domain.split_once(':') {
            Some((h, p)) => (Some(h), Some(p)),
            None => (Some(domain), None),
        }
    };
    if let Some(host) = host {
        for part in host.split('.') {
            let alnum = |c: char| c.is_ascii_alphanumeric();
            let ok = !part.is_empty()
                && part.starts_with(alnum)
                && part.ends_with(alnum)
                && part.chars().all(|c| alnum(c) || c == '-');
            if !ok {
                return Err(format!("the registry host `{host}` is not a host name"));
            }
        }
    }
    if let Some(port) = port {
        if port.is_empty() || !port.chars().all(|c| c.is_ascii_digit()) {
            return Err(format!("the registry port `{port}` is not a number"));
        }
    }
    Ok(())
}

/// alpha-numeric [separator alpha-numeric]*, separator one of `.`, `_`, `__`, `-`+.
fn path_component_ok(c: &str) -> Result<(), String> {
    let bad = || {
        if c.chars().any(|ch| ch.is_ascii_uppercase()) {
            format!("the repository part `{c}` has upper-case letters")
        } else if c.is_empty() {
            "it has an empty repository part".to_string()
        } else {
            format!("the repository part `{c}` may hold only a-z, 0-9 and single `.`, `_`, `__` or `-` between them")
        }
    };
    let bytes = c.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return Err(bad());
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        if !(sep == "." || sep == "_" || sep == "__" || sep.chars().all(|ch| ch == '-')) {
            return Err(bad());
        }
    }
    Ok(())
}

fn tag_ok(tag: &str) -> Result<(), String> {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let ok = tag.len() <= 128 && tag.starts_with(word) && tag.chars().all(|c| word(c) || c == '.' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!("the tag `{tag}` must be 1-128 of A-Z, a-z, 0-9, _, . and -, not starting with . or -"))
    }
}

fn digest_ok(digest: &str) -> Result<(), String> {
    let bad = || format!("the digest `{digest}` is not algorithm:hex (e.g. sha256: and 64 hex digits)");
    let (algorithm, hex) = digest.split_once(':').ok_or_else(bad)?;
    let component_ok =
        |c: &str| c.starts_with(|ch: char| ch.is_ascii_alphabetic()) && c.chars().all(|ch| ch.is_ascii_alphanumeric());
    if algorithm.is_empty() || !algorithm.split(['+', '.', '_', '-']).all(component_ok) {
        return Err(bad());
    }
    if hex.len() < 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(bad());
    }
    if algorithm == "sha256" && hex.len() != 64 {
        return Err(bad());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn valid_references() {
        for ok in [
            "nginx",
            "public.ecr.aws/xray/aws-xray-daemon",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/backend-flask:latest",
            "127.0.0.1:5000/backend-flask:0123456789ab-dirty",
            "localhost/app",
            "[::1]:5000/app:v1",
            "a__b/c.d/e---f:Tag_1.0",
            "repo@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "registry.example.com:443/team/app:1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ] {
            assert!(check(ok).is_ok(), "{ok}: {:?}", check(ok));
        }
    }

    #[test]
    fn invalid_references() {
        for (bad, why) in [
            ("", "empty"),
            ("backend flask", "may hold only"),
            ("Backend-Flask", "upper-case"),
            ("example.com/Backend", "upper-case"),
            ("repo:", "the tag ``"),
            ("repo:-x", "the tag"),
            ("repo:has/slash", "port"),
            ("repo@sha256:abc", "digest"),
            ("repo@md5", "digest"),
            ("a..b", "may hold only"),
            ("-a", "may hold only"),
            ("host_name.com/app", "registry host"),
            ("example.com:port/app", "port"),
        ] {
            let err = check(bad).expect_err(bad);
            assert!(err.message.contains(why), "{bad}: {}", err.message);
        }
        assert!(check(&format!("a{}", "b".repeat(255))).is_err());
        assert!(check(&format!("a:{}", "t".repeat(129))).is_err());
    }
}
