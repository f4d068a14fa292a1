//! Lists in pages: at most `limit` rows, and a cursor to the rest. The cursor is
//! the last row's `created_at` and `uuid` (`<created_at>_<uuid>`), so a page
//! continues exactly after it (keyset paging: no OFFSET, no row seen twice).

/// The response header that carries the cursor to the next page, when there is one.
pub const NEXT_CURSOR: &str = "x-next-cursor";

/// The largest `limit` a caller may ask for.
pub const MAX_LIMIT: i64 = 100;

#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    pub created_at: String,
    pub uuid: String,
}

impl Cursor {
    /// None for anything that is not a cursor this API gave out.
    pub fn parse(text: &str) -> Option<Cursor> {
        let (created_at, uuid) = text.split_once('_')?;
        let stamp = chrono::NaiveDateTime::parse_from_str(created_at, "%Y-%m-%dT%H:%M:%S%.6fZ").ok()?;
        if super::timestamp(stamp.and_utc()) != created_at {
            return None;
        }
        uuid::Uuid::parse_str(uuid).ok().filter(|u| u.hyphenated().to_string() == uuid)?;
        Some(Cursor { created_at: created_at.into(), uuid: uuid.into() })
    }

    pub fn text(&self) -> String {
        format!("{}_{}", self.created_at, self.uuid)
    }
}

/// One page of a list, and the cursor to the next one.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Cursor>,
}

impl<T> Page<T> {
    /// From `limit + 1` fetched rows: the extra row only says there is more.
    pub fn of(mut rows: Vec<T>, limit: i64, key: impl Fn(&T) -> Cursor) -> Page<T> {
        let more = rows.len() as i64 > limit;
        rows.truncate(limit.max(0) as usize);
        let next = if more { rows.last().map(key) } else { None };
        Page { items: rows, next }
    }
}

/// The keyset condition after (`>`) or before (`<`) the cursor, on columns
/// `{alias}.created_at` and `{alias}.uuid`, with the cursor bound at `$n`, `$n+1`.
pub fn after_sql(alias: &str, op: &str, n: usize) -> String {
    format!("({alias}.created_at {op} ${n} OR ({alias}.created_at = ${n} AND {alias}.uuid {op} ${}))", n + 1)
}

#[cfg(test)]
mod tests {
    use super::Cursor;

    #[test]
    fn cursors_round_trip_and_nothing_else_parses() {
        let c = Cursor {
            created_at: "2026-12-05T20:01:02.123456Z".into(),
            uuid: "0b7e2b3c-5d7b-4f0e-9a39-6c1d2f0e8a11".into(),
        };
        assert_eq!(Cursor::parse(&c.text()), Some(c));
        for bad in [
            "",
            "x",
            "2026-12-05T20:01:02.123456Z",
            "2026-12-05T20:01:02Z_0b7e2b3c-5d7b-4f0e-9a39-6c1d2f0e8a11",
            "2026-12-05T20:01:02.123456Z_not-a-uuid",
            "2026-12-05T20:01:02.123456Z_0B7E2B3C-5D7B-4F0E-9A39-6C1D2F0E8A11",
            "2026-13-05T20:01:02.123456Z_0b7e2b3c-5d7b-4f0e-9a39-6c1d2f0e8a11",
        ] {
            assert_eq!(Cursor::parse(bad), None, "{bad}");
        }
    }
}
