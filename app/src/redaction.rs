//! Passwords out of connection URLs and DSNs before they reach a log line or an
//! error message: `scheme://user:pass@host`, `?password=` / `&sslpassword=` in a
//! query, and libpq's `password=... host=...` keyword form.

/// The keys whose values are secrets, wherever they appear as `key=value`.
const SECRET_KEYS: &[&str] = &["password", "sslpassword", "pass", "pwd"];

const MASK: &str = "***";

/// `text` with every password in it replaced by `***`.
pub fn redact(text: &str) -> String {
    redact_keys(&redact_userinfo(text))
}

/// `scheme://user:secret@` becomes `scheme://user:***@`, for each URL in the text.
fn redact_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        // The authority ends at the path, the query, the fragment or whitespace; a
        // raw '@' or '/' in a password is common, so the userinfo ends at the last
        // '@' before whitespace or a query.
        let end = tail.find(|c: char| c.is_whitespace() || c == '?' || c == '#' || c == '"').unwrap_or(tail.len());
        let scope = &tail[..end];
        match scope.rfind('@') {
            Some(at) => {
                let userinfo = &scope[..at];
                match userinfo.find(':') {
                    Some(colon) => {
                        out.push_str(&userinfo[..colon + 1]);
                        out.push_str(MASK);
                    }
                    None => out.push_str(userinfo),
                }
                rest = &tail[at..];
            }
            None => rest = tail,
        }
    }
    out.push_str(rest);
    out
}

/// `password=secret` becomes `password=***` (any case), up to `&`, whitespace, `;`
/// or a quote; a quoted libpq value ('...') is masked whole.
fn redact_keys(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let hit = SECRET_KEYS.iter().find_map(|k| {
            let key_end = i + k.len();
            let starts_word =
                i == 0 || !lower.as_bytes()[i - 1].is_ascii_alphanumeric() && lower.as_bytes()[i - 1] != b'_';
            (starts_word && lower[i..].starts_with(k)).then_some(key_end)
        });
        let Some(key_end) = hit else {
            let c = text[i..].chars().next().unwrap_or_default();
            out.push(c);
            i += c.len_utf8().max(1);
            continue;
        };
        let after = text[key_end..].trim_start_matches(' ');
        let Some(value) = after.strip_prefix('=') else {
            out.push_str(&text[i..key_end]);
            i = key_end;
            continue;
        };
        let value = value.trim_start_matches(' ');
        let value_start = text.len() - value.len();
        let value_end = if let Some(quoted) = value.strip_prefix('\'') {
            value_start + 1 + quoted.find('\'').map_or(quoted.len(), |q| q + 1)
        } else {
            value_start + value.find(|c: char| c.is_whitespace() || "&;\"'".contains(c)).unwrap_or(value.len())
        };
        out.push_str(&text[i..value_start]);
        out.push_str(MASK);
        i = value_end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn every_form_of_a_password_is_masked() {
        let cases = [
            ("postgresql://cruddur:s3cret@db:5432/cruddur", "postgresql://cruddur:***@db:5432/cruddur"),
            ("postgres://:s3cret@db/cruddur", "postgres://:***@db/cruddur"),
            ("postgresql://u:p@ss/w@rd@db/x?sslmode=require", "postgresql://u:***@db/x?sslmode=require"),
            ("postgresql://db/cruddur?user=u&password=s3cret", "postgresql://db/cruddur?user=u&password=***"),
            ("postgresql://db/x?PASSWORD=s3cret&sslmode=require", "postgresql://db/x?PASSWORD=***&sslmode=require"),
            ("postgresql://u:a@db/x?sslpassword=k3y", "postgresql://u:***@db/x?sslpassword=***"),
            ("host=db user=u password=s3cret dbname=x", "host=db user=u password=*** dbname=x"),
            ("host=db password = 'two words' dbname=x", "host=db password = *** dbname=x"),
            ("cannot open (postgresql://u:s3cret@db/x): refused", "cannot open (postgresql://u:***@db/x): refused"),
            ("postgresql://u@db/x", "postgresql://u@db/x"),
            ("sqlite://./data/cruddur.db?mode=rwc", "sqlite://./data/cruddur.db?mode=rwc"),
            ("no_password=1 passwordless", "no_password=1 passwordless"),
        ];
        for (input, want) in cases {
            assert_eq!(redact(input), want, "{input}");
            assert!(!redact(input).contains("s3cret") && !redact(input).contains("k3y"));
        }
    }
}
