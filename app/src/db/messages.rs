//! Direct messages: groups of two users and their messages.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

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

fn message(r: &AnyRow) -> Message {
    Message { uuid: r.get(0), display_name: r.get(1), handle: r.get(2), message: r.get(3), created_at: r.get(4) }
}

impl Db {
    /// The user's groups, with the other member and the last message, newest first.
    pub async fn message_groups(&self, user_uuid: &str) -> DbResult<Vec<MessageGroup>> {
        let rows = sqlx::query(
            "SELECT g.uuid, o.display_name, o.handle, \
               (SELECT m.message FROM messages m WHERE m.message_group_uuid = g.uuid ORDER BY m.created_at DESC LIMIT 1), \
               COALESCE((SELECT MAX(m.created_at) FROM messages m WHERE m.message_group_uuid = g.uuid), g.created_at) AS last_at \
             FROM message_groups g \
             JOIN message_group_members me ON me.message_group_uuid = g.uuid AND me.user_uuid = $1 \
             JOIN message_group_members om ON om.message_group_uuid = g.uuid AND om.user_uuid <> $1 \
             JOIN users o ON o.uuid = om.user_uuid \
             ORDER BY last_at DESC",
        )
        .bind(user_uuid)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| MessageGroup {
                uuid: r.get(0),
                display_name: r.get(1),
                handle: r.get(2),
                message: r.get(3),
                created_at: r.get(4),
            })
            .collect())
    }

    pub async fn group_exists(&self, group_uuid: &str) -> DbResult<bool> {
        let row = sqlx::query("SELECT uuid FROM message_groups WHERE uuid = $1")
            .bind(group_uuid)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    pub async fn is_member(&self, group_uuid: &str, user_uuid: &str) -> DbResult<bool> {
        let row =
            sqlx::query("SELECT user_uuid FROM message_group_members WHERE message_group_uuid = $1 AND user_uuid = $2")
                .bind(group_uuid)
                .bind(user_uuid)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.is_some())
    }

    /// Messages of a group, oldest first.
    pub async fn messages(&self, group_uuid: &str) -> DbResult<Vec<Message>> {
        let rows = sqlx::query(
            "SELECT m.uuid, u.display_name, u.handle, m.message, m.created_at FROM messages m \
             JOIN users u ON u.uuid = m.user_uuid WHERE m.message_group_uuid = $1 ORDER BY m.created_at ASC",
        )
        .bind(group_uuid)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(message).collect())
    }

    /// The existing two-person group of these users, or a new one.
    pub async fn group_between(&self, a: &str, b: &str) -> DbResult<String> {
        let existing = sqlx::query(
            "SELECT x.message_group_uuid FROM message_group_members x \
             JOIN message_group_members y ON y.message_group_uuid = x.message_group_uuid \
             WHERE x.user_uuid = $1 AND y.user_uuid = $2 LIMIT 1",
        )
        .bind(a)
        .bind(b)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(row) = existing {
            return Ok(row.get(0));
        }
        let uuid = uuid::Uuid::new_v4().to_string();
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO message_groups (uuid, created_at) VALUES ($1, $2)")
            .bind(&uuid)
            .bind(now())
            .execute(&mut *tx)
            .await?;
        for member in [a, b] {
            sqlx::query("INSERT INTO message_group_members (message_group_uuid, user_uuid) VALUES ($1, $2)")
                .bind(&uuid)
                .bind(member)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(uuid)
    }

    pub async fn create_message(&self, group_uuid: &str, user_uuid: &str, text: &str) -> DbResult<Message> {
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
    }
}
