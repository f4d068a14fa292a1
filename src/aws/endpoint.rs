//! An endpoint URL (the --endpoint-url flag, AWS_ENDPOINT_URL or
//! AWS_ENDPOINT_URL_<SERVICE>, or the profile's `endpoint_url`) that would carry
//! signed calls, decrypted SecureStrings and exec tokens in clear: `http://` is
//! accepted only for a loopback host (a local emulator). Checked before any call.

use aws_runtime::env_config::file::EnvConfigFiles;
use aws_types::os_shim_internal::{Env, Fs};

use crate::error::{Error, Result};
use crate::loopback;

/// Refuses a plain-HTTP endpoint URL whose host is not loopback. `profile` is the
/// profile in use (the explicit one, else `default`).
pub async fn check(flag: Option<&str>, profile: Option<&str>) -> Result<()> {
    if let Some(url) = flag {
        check_one("--endpoint-url", url)?;
    }
    let ignored = std::env::var("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS").is_ok_and(|v| v.eq_ignore_ascii_case("true"));
    if ignored {
        return Ok(());
    }
    let mut vars: Vec<(String, String)> =
        std::env::vars().filter(|(k, _)| k == "AWS_ENDPOINT_URL" || k.starts_with("AWS_ENDPOINT_URL_")).collect();
    vars.sort();
    for (key, url) in &vars {
        check_one(key, url)?;
    }
    let name = profile.unwrap_or("default");
    // An unreadable file is reported by the profile checks themselves.
    let Ok(set) = aws_config::profile::load(&Fs::real(), &Env::real(), &EnvConfigFiles::default(), None).await else {
        return Ok(());
    };
    if let Some(url) = set.get_profile(name).and_then(|p| p.get("endpoint_url")) {
        check_one(&format!("endpoint_url of profile `{name}`"), url)?;
    }
    Ok(())
}

fn check_one(source: &str, url: &str) -> Result<()> {
    let url = url.trim();
    let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
    if scheme.as_deref() != Some("http") {
        return Ok(());
    }
    let authority = loopback::authority_of(url);
    if loopback::is_loopback(authority) {
        return Ok(());
    }
    Err(Error::usage(
        format!("{source} is http://{authority}: plain HTTP to a host that is not this machine would carry AWS calls in clear"),
        "use https://, or http:// only to a loopback address (127.0.0.1, [::1], localhost) for a local emulator",
    ))
}

#[cfg(test)]
mod tests {
    use super::check_one;

    #[test]
    fn http_only_to_loopback() {
        for ok in [
            "http://127.0.0.1:4566",
            "http://localhost:5000/",
            "http://[::1]:4566",
            "https://example.com",
            "HTTPS://example.com",
        ] {
            assert!(check_one("x", ok).is_ok(), "{ok}");
        }
        for bad in
            ["http://example.com", "HTTP://10.0.0.1:4566", "http://127.evil.example", "http://127.0.0.1@evil.example"]
        {
            assert!(check_one("x", bad).is_err(), "{bad}");
        }
    }
}
