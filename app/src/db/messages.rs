//! Direct messages: groups of two users and their messages.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::pages::{after_sql, Cursor, Page};
use super::{now, Db, DbResult};

#[derive(Debug, Clone, Serialize)]
pub struct MessageGroup {
    pub uuid: String,
    pub display_name: String,
    pub handle: String,
    pub message: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Message {
    pub uuid: String,
    pub display_name: String,
    pub handle: String,
    pub message: String,
    pub created_at: String,
}

/// The two users' uuids in order, joined: the same whoever writes first.
fn pair_key(a: &str, b: &str) -> String {
    if a <= b {
        format!("{a}:{b}")
    } else {
        format!("{b}:{a}")
    }
}

fn message(r: &AnyRow) -> Message {
    Message { uuid: r.get(0), display_name: r.get(1), handle: r.get(2), message: r.get(3), created_at: r.get(4) }
}

impl Db {
    /// The user's groups, with the other member and the last message, latest
    /// activity (last message, else the group's creation) first; the cursor goes
    /// on to groups with older activity.
    pub async fn message_groups(
        &self,
        user_uuid: &str,
        limit: i64,
        after: Option<&Cursor>,
    ) -> DbResult<Page<MessageGroup>> {
        crate::traces::database("message_groups", self.kind, async {
            let keyset = after.map(|_| format!(" WHERE {}", after_sql("x", "<", 2))).unwrap_or_default();
            let sql = format!(
                "SELECT x.uuid, x.display_name, x.handle, x.message, x.created_at FROM ( \
                   SELECT g.uuid, o.display_name, o.handle, \
                     (SELECT m.message FROM messages m WHERE m.message_group_uuid = g.uuid \
                      ORDER BY m.created_at DESC, m.uuid DESC LIMIT 1) AS message, \
                     COALESCE((SELECT MAX(m.created_at) FROM messages m WHERE m.message_group_uuid = g.uuid), \
                      g.created_at) AS created_at \
                   FROM message_groups g \
                   JOIN message_group_members me ON me.message_group_uuid = g.uuid AND me.user_uuid = $1 \
                   JOIN message_group_members om ON om.message_group_uuid = g.uuid AND om.user_uuid <> $1 \
                   JOIN users o ON o.uuid = om.user_uuid \
                 ) x{keyset} ORDER BY x.created_at DESC, x.uuid DESC LIMIT {}",
                limit + 1
            );
            let mut query = sqlx::query(&sql).bind(user_uuid);
            if let Some(c) = after {
                query = query.bind(&c.created_at).bind(&c.uuid);
            }
            let rows = query.fetch_all(&self.pool).await?;
            let groups = rows
                .iter()
                .map(|r| MessageGroup {
                    uuid: r.get(0),
                    display_name: r.get(1),
                    handle: r.get(2),
                    message: r.get(3),
                    created_at: r.get(4),
                })
                .collect();
            Ok(Page::of(groups, limit, |g: &MessageGroup| Cursor {
                created_at: g.created_at.clone(),
                uuid: g.uuid.clone(),
            }))
        })
        .await
    }

    pub async fn group_exists(&self, group_uuid: &str) -> DbResult<bool> {
        crate::traces::database("group_exists", self.kind, async {
            let row = sqlx::query("SELECT uuid FROM message_groups WHERE uuid = $1")
                .bind(group_uuid)
                .fetch_optional(&self.pool)
                .await?;
            Ok(row.is_some())
        })
        .await
    }

    pub async fn is_member(&self, group_uuid: &str, user_uuid: &str) -> DbResult<bool> {
        crate::traces::database("is_member", self.kind, async {
            let row = sqlx::query(
                "SELECT user_uuid FROM message_group_members WHERE message_group_uuid = $1 AND user_uuid = $2",
            )
            .bind(group_uuid)
            .bind(user_uuid)
            .fetch_optional(&self.pool)
            .await?;
            Ok(row.is_some())
        })
        .await
    }

    /// The latest `limit` messages of a group before the cursor (all, without
    /// one), oldest first; the cursor goes back to earlier messages.
    pub async fn messages(&self, group_uuid: &str, limit: i64, before: Option<&Cursor>) -> DbResult<Page<Message>> {
        crate::traces::database("messages", self.kind, async {
            let keyset = before.map(|_| format!(" AND {}", after_sql("m", "<", 2))).unwrap_or_default();
            let sql = format!(
                "SELECT m.uuid, u.display_name, u.handle, m.message, m.created_at FROM messages m \
                 JOIN users u ON u.uuid = m.user_uuid WHERE m.message_group_uuid = $1{keyset} \
                 ORDER BY m.created_at DESC, m.uuid DESC LIMIT {}",
                limit + 1
            );
            let mut query = sqlx::query(&sql).bind(group_uuid);
            if let Some(c) = before {
                query = query.bind(&c.created_at).bind(&c.uuid);
            }
            let rows = query.fetch_all(&self.pool).await?;
            let mut page = Page::of(rows.iter().map(message).collect(), limit, |m: &Message| Cursor {
                created_at: m.created_at.clone(),
                uuid: m.uuid.clone(),
            });
            page.items.reverse();
            Ok(page)
        })
        .await
    }

    /// The two-person group of these users, made by the first caller. The database
    /// holds one group per pair (a unique `pair_key`): when two first messages race,
    /// the insert that loses does nothing and reads the winner's group.
    pub async fn group_between(&self, a: &str, b: &str) -> DbResult<String> {
        crate::traces::database("group_between", self.kind, async {
            let pair = pair_key(a, b);
            if let Some(uuid) = self.group_of_pair(&pair).await? {
                return Ok(uuid);
            }
            let uuid = uuid::Uuid::new_v4().to_string();
            let mut tx = self.pool.begin().await?;
            let inserted = sqlx::query(
                "INSERT INTO message_groups (uuid, created_at, pair_key) VALUES ($1, $2, $3) ON CONFLICT (pair_key) DO NOTHING",
            )
            .bind(&uuid)
            .bind(now())
            .bind(&pair)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted == 0 {
                tx.rollback().await?;
                return self.group_of_pair(&pair).await?.ok_or(sqlx::Error::RowNotFound);
            }
            for member in [a, b] {
                sqlx::query("INSERT INTO message_group_members (message_group_uuid, user_uuid) VALUES ($1, $2)")
                    .bind(&uuid)
                    .bind(member)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(uuid)
        })
        .await
    }

    async fn group_of_pair(&self, pair: &str) -> DbResult<Option<String>> {
        let row = sqlx::query("SELECT uuid FROM message_groups WHERE pair_key = $1")
            .bind(pair)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.get(0)))
    }

    pub async fn create_message(&self, group_uuid: &str, user_uuid: &str, text: &str) -> DbResult<Message> {
        crate::traces::database("create_message", self.kind, async {
            let uuid = uuid::Uuid::new_v4().to_string();
            sqlx::query("INSERT INTO messages (uuid, message_group_uuid, user_uuid, message, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(&uuid)
                .bind(group_uuid)
                .bind(user_uuid)
                .bind(text)
                .bind(now())
                .execute(&self.pool)
                .await?;
            let row = sqlx::query(
                "SELECT m.uuid, u.display_name, u.handle, m.message, m.created_at FROM messages m \
                 JOIN users u ON u.uuid = m.user_uuid WHERE m.uuid = $1",
            )
            .bind(&uuid)
            .fetch_one(&self.pool)
            .await?;
            Ok(message(&row))
        })
        .await
    }
}
