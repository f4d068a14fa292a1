//! Users and profiles.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{now, Db, DbResult};

#[derive(Debug, Clone, Serialize)]
pub struct ShortUser {
    pub uuid: String,
    pub handle: String,
    pub display_name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Profile {
    pub uuid: String,
    pub handle: String,
    pub display_name: String,
    pub bio: Option<String>,
    pub cruds_count: i64,
}

pub struct NewUser<'a> {
    pub display_name: &'a str,
    pub handle: &'a str,
    pub email: &'a str,
    pub cognito_user_id: Option<&'a str>,
    pub bio: Option<&'a str>,
}

fn short(row: &AnyRow) -> ShortUser {
    ShortUser { uuid: row.get(0), handle: row.get(1), display_name: row.get(2) }
}

impl Db {
    pub async fn user_by_handle(&self, handle: &str) -> DbResult<Option<ShortUser>> {
        crate::traces::database("user_by_handle", self.kind, async {
            let row = sqlx::query("SELECT uuid, handle, display_name FROM users WHERE handle = $1")
                .bind(handle)
                .fetch_optional(&self.pool)
                .await?;
            Ok(row.as_ref().map(short))
        })
        .await
    }

    /// The user a Cognito token's `sub` belongs to.
    pub async fn user_by_cognito_id(&self, sub: &str) -> DbResult<Option<ShortUser>> {
        crate::traces::database("user_by_cognito_id", self.kind, async {
            let row = sqlx::query("SELECT uuid, handle, display_name FROM users WHERE cognito_user_id = $1")
                .bind(sub)
                .fetch_optional(&self.pool)
                .await?;
            Ok(row.as_ref().map(short))
        })
        .await
    }

    pub async fn profile(&self, handle: &str) -> DbResult<Option<Profile>> {
        crate::traces::database("profile", self.kind, async {
            let row = sqlx::query(
                "SELECT u.uuid, u.handle, u.display_name, u.bio, \
                 (SELECT COUNT(*) FROM activities a WHERE a.user_uuid = u.uuid) \
                 FROM users u WHERE u.handle = $1",
            )
            .bind(handle)
            .fetch_optional(&self.pool)
            .await?;
            Ok(row.map(|r| Profile {
                uuid: r.get(0),
                handle: r.get(1),
                display_name: r.get(2),
                bio: r.get(3),
                cruds_count: r.get(4),
            }))
        })
        .await
    }

    pub async fn update_profile(&self, user_uuid: &str, display_name: &str, bio: Option<&str>) -> DbResult<()> {
        crate::traces::database("update_profile", self.kind, async {
            sqlx::query("UPDATE users SET display_name = $1, bio = $2 WHERE uuid = $3")
                .bind(display_name)
                .bind(bio)
                .bind(user_uuid)
                .execute(&self.pool)
                .await
                .map(|_| ())
        })
        .await
    }

    /// Creates a user, or returns the existing one with the same handle.
    pub async fn ensure_user(&self, u: NewUser<'_>) -> DbResult<ShortUser> {
        crate::traces::database("ensure_user", self.kind, async {
            if let Some(existing) = self.user_by_handle(u.handle).await? {
                return Ok(existing);
            }
            let uuid = uuid::Uuid::new_v4().to_string();
            sqlx::query(
                "INSERT INTO users (uuid, display_name, handle, email, bio, cognito_user_id, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&uuid)
            .bind(u.display_name)
            .bind(u.handle)
            .bind(u.email)
            .bind(u.bio)
            .bind(u.cognito_user_id)
            .bind(now())
            .execute(&self.pool)
            .await?;
            Ok(ShortUser { uuid, handle: u.handle.into(), display_name: u.display_name.into() })
        })
        .await
    }
}
