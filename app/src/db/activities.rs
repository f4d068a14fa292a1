//! Activities ("cruds"): the home feed, a user's feed, replies, search.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::pages::{after_sql, Cursor, Page};
use super::{now, Db, DbResult};

#[derive(Debug, Clone, Serialize)]
pub struct Activity {
    pub uuid: String,
    pub display_name: String,
    pub handle: String,
    pub message: String,
    pub replies_count: i64,
    pub reposts_count: i64,
    pub likes_count: i64,
    pub reply_to_activity_uuid: Option<String>,
    pub expires_at: Option<String>,
    pub created_at: String,
}

const SELECT: &str = "SELECT a.uuid, u.display_name, u.handle, a.message, a.replies_count, a.reposts_count, \
     a.likes_count, a.reply_to_activity_uuid, a.expires_at, a.created_at \
     FROM activities a JOIN users u ON u.uuid = a.user_uuid";

/// Not expired: no expiry, or one still ahead.
const LIVE: &str = "(a.expires_at IS NULL OR a.expires_at > $1)";

pub const PAGE: i64 = 40;

fn activity(r: &AnyRow) -> Activity {
    Activity {
        uuid: r.get(0),
        display_name: r.get(1),
        handle: r.get(2),
        message: r.get(3),
        replies_count: r.get(4),
        reposts_count: r.get(5),
        likes_count: r.get(6),
        reply_to_activity_uuid: r.get(7),
        expires_at: r.get(8),
        created_at: r.get(9),
    }
}

fn cursor(a: &Activity) -> Cursor {
    Cursor { created_at: a.created_at.clone(), uuid: a.uuid.clone() }
}

/// `%`, `_` and `\` in a search term match themselves.
fn like_pattern(term: &str) -> String {
    let escaped = term.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

/// Search's statement: `$1` now, `$2` the LIKE pattern, `$3`/`$4` the cursor when
/// `keyset`, `limit + 1` rows. On PostgreSQL the trigram index on LOWER(message)
/// (migration 0003) serves the LIKE; on SQLite it scans the live activities.
pub fn search_sql(keyset: bool, limit: i64) -> String {
    let keyset = if keyset { format!(" AND {}", after_sql("a", "<", 3)) } else { String::new() };
    format!(
        "{SELECT} WHERE {LIVE} AND LOWER(a.message) LIKE $2 ESCAPE '\\'{keyset} \
         ORDER BY a.created_at DESC, a.uuid DESC LIMIT {}",
        limit + 1
    )
}

impl Db {
    pub async fn home(&self) -> DbResult<Vec<Activity>> {
        crate::traces::database("home", self.kind, async {
            let sql = format!("{SELECT} WHERE {LIVE} ORDER BY a.created_at DESC LIMIT {PAGE}");
            let rows = sqlx::query(&sql).bind(now()).fetch_all(&self.pool).await?;
            Ok(rows.iter().map(activity).collect())
        })
        .await
    }

    pub async fn user_activities(&self, user_uuid: &str) -> DbResult<Vec<Activity>> {
        crate::traces::database("user_activities", self.kind, async {
            let sql = format!("{SELECT} WHERE {LIVE} AND a.user_uuid = $2 ORDER BY a.created_at DESC LIMIT {PAGE}");
            let rows = sqlx::query(&sql).bind(now()).bind(user_uuid).fetch_all(&self.pool).await?;
            Ok(rows.iter().map(activity).collect())
        })
        .await
    }

    /// Live activities whose text holds `term`, newest first; the cursor goes on
    /// to older ones.
    pub async fn search(&self, term: &str, limit: i64, after: Option<&Cursor>) -> DbResult<Page<Activity>> {
        crate::traces::database("search", self.kind, async {
            let sql = search_sql(after.is_some(), limit);
            let mut query = sqlx::query(&sql).bind(now()).bind(like_pattern(term));
            if let Some(c) = after {
                query = query.bind(&c.created_at).bind(&c.uuid);
            }
            let rows = query.fetch_all(&self.pool).await?;
            Ok(Page::of(rows.iter().map(activity).collect(), limit, cursor))
        })
        .await
    }

    /// A live activity (an expired one is as good as gone).
    pub async fn activity(&self, uuid: &str) -> DbResult<Option<Activity>> {
        crate::traces::database("activity", self.kind, async {
            let sql = format!("{SELECT} WHERE {LIVE} AND a.uuid = $2");
            Ok(sqlx::query(&sql).bind(now()).bind(uuid).fetch_optional(&self.pool).await?.as_ref().map(activity))
        })
        .await
    }

    /// Live replies to an activity, oldest first; the cursor goes on to newer ones.
    pub async fn replies(&self, uuid: &str, limit: i64, after: Option<&Cursor>) -> DbResult<Page<Activity>> {
        crate::traces::database("replies", self.kind, async {
            let keyset = after.map(|_| format!(" AND {}", after_sql("a", ">", 3))).unwrap_or_default();
            let sql = format!(
                "{SELECT} WHERE {LIVE} AND a.reply_to_activity_uuid = $2{keyset} \
                 ORDER BY a.created_at ASC, a.uuid ASC LIMIT {}",
                limit + 1
            );
            let mut query = sqlx::query(&sql).bind(now()).bind(uuid);
            if let Some(c) = after {
                query = query.bind(&c.created_at).bind(&c.uuid);
            }
            let rows = query.fetch_all(&self.pool).await?;
            Ok(Page::of(rows.iter().map(activity).collect(), limit, cursor))
        })
        .await
    }

    /// Replies by others to the user's activities, newest first.
    pub async fn notifications(&self, user_uuid: &str) -> DbResult<Vec<Activity>> {
        crate::traces::database("notifications", self.kind, async {
            let sql = format!(
                "{SELECT} JOIN activities p ON p.uuid = a.reply_to_activity_uuid \
                 WHERE {LIVE} AND p.user_uuid = $2 AND a.user_uuid <> $2 ORDER BY a.created_at DESC LIMIT {PAGE}"
            );
            let rows = sqlx::query(&sql).bind(now()).bind(user_uuid).fetch_all(&self.pool).await?;
            Ok(rows.iter().map(activity).collect())
        })
        .await
    }

    pub async fn create_activity(
        &self,
        user_uuid: &str,
        message: &str,
        expires_at: Option<String>,
        reply_to: Option<&str>,
    ) -> DbResult<Activity> {
        crate::traces::database("create_activity", self.kind, async {
            let uuid = uuid::Uuid::new_v4().to_string();
            let mut tx = self.pool.begin().await?;
            sqlx::query(
                "INSERT INTO activities (uuid, user_uuid, message, reply_to_activity_uuid, expires_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&uuid)
            .bind(user_uuid)
            .bind(message)
            .bind(reply_to)
            .bind(expires_at)
            .bind(now())
            .execute(&mut *tx)
            .await?;
            if let Some(parent) = reply_to {
                sqlx::query("UPDATE activities SET replies_count = replies_count + 1 WHERE uuid = $1")
                    .bind(parent)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            self.activity(&uuid).await?.ok_or(sqlx::Error::RowNotFound)
        })
        .await
    }
}
