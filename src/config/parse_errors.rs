//! The TOML parser's and serde's messages as one line in the user's words.

pub(super) fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// serde's words for what a key takes, in the user's words; the top-level tables
/// include `env`, which is read before serde sees the file.
pub(super) fn friendly(message: &str) -> String {
    let mut out = message.to_string();
    for (rust, words) in [
        ("expected u16", "expected a whole number from 0 to 65535"),
        ("expected u32", "expected a whole number from 0 to 4294967295"),
        ("expected i32", "expected a whole number"),
        ("expected i64", "expected a whole number"),
        ("expected u8", "expected a whole number from 0 to 255"),
    ] {
        out = out.replace(rust, words);
    }
    out.replace(
        "expected one of `project`, `network`, `services`, `database`",
        "expected one of `project`, `network`, `services`, `database`, `env`",
    )
}
