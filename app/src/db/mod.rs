//! One SQL store for users, activities and messages: SQLite or PostgreSQL, picked
//! by CONNECTION_URL. Versioned migrations run at start and on `app migrate`.

pub mod activities;
pub mod messages;
pub mod pages;
pub mod users;

use std::time::Duration;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor, Row};

pub type DbResult<T> = Result<T, sqlx::Error>;

#[derive(Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub kind: &'static str,
}

/// A versioned migration: its SQL for SQLite and for PostgreSQL (the same file when
/// it is portable). None: nothing to run on that kind of database, and the version
/// is recorded as applied all the same, so both kinds count the same versions.
struct Migration {
    version: i64,
    name: &'static str,
    sqlite: Option<&'static str>,
    postgresql: Option<&'static str>,
}

const MIGRATIONS: &[Migration] = &[
    Migration { version: 1, name: "init", sqlite: Some(INIT), postgresql: Some(INIT) },
    Migration { version: 2, name: "one_group_per_pair", sqlite: Some(ONE_GROUP), postgresql: Some(ONE_GROUP) },
    Migration {
        version: 3,
        name: "search_trigram_index",
        sqlite: None,
        postgresql: Some(include_str!("../../migrations/0003_search_trigram.postgresql.sql")),
    },
];
const INIT: &str = include_str!("../../migrations/0001_init.sql");
const ONE_GROUP: &str = include_str!("../../migrations/0002_one_group_per_pair.sql");

/// Timestamps are stored as fixed-width RFC 3339 UTC text.
pub fn timestamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

pub fn now() -> String {
    timestamp(chrono::Utc::now())
}

impl Db {
    pub async fn connect(url: &str) -> DbResult<Db> {
        sqlx::any::install_default_drivers();
        let sqlite = url.starts_with("sqlite:");
        if let Some(dir) = sqlite_dir(url) {
            std::fs::create_dir_all(dir).map_err(sqlx::Error::Io)?;
        }
        let pool = AnyPoolOptions::new()
            .max_connections(if sqlite { 4 } else { 10 })
            .acquire_timeout(Duration::from_secs(5))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if sqlite {
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await?;
        Ok(Db { pool, kind: if sqlite { "sqlite" } else { "postgresql" } })
    }

    /// Applies the migrations not applied yet; returns how many ran.
    pub async fn migrate(&self) -> DbResult<usize> {
        self.pool
            .execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
            )
            .await?;
        let applied: Vec<i64> = sqlx::query("SELECT version FROM schema_migrations")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r: &AnyRow| r.get::<i64, _>(0))
            .collect();
        let mut ran = 0;
        for m in MIGRATIONS {
            if applied.contains(&m.version) {
                continue;
            }
            let sql = if self.kind == "sqlite" { m.sqlite } else { m.postgresql };
            let mut tx = self.pool.begin().await?;
            for statement in
                sql.unwrap_or_default().split(';').map(str::trim).filter(|s| !s.is_empty() && !is_comment(s))
            {
                tx.execute(statement).await?;
            }
            sqlx::query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
                .bind(m.version)
                .bind(m.name)
                .bind(now())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            ran += 1;
        }
        Ok(ran)
    }

    pub async fn ping(&self) -> DbResult<()> {
        crate::traces::database("ping", self.kind, async {
            sqlx::query("SELECT 1").execute(&self.pool).await.map(|_| ())
        })
        .await
    }
}

/// The folder of a SQLite file URL (`sqlite://./data/cruddur.db?mode=rwc` -> `./data`).
fn sqlite_dir(url: &str) -> Option<&std::path::Path> {
    let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = path.split('?').next()?;
    if path.is_empty() || path == ":memory:" {
        return None;
    }
    std::path::Path::new(path).parent().filter(|p| !p.as_os_str().is_empty())
}

fn is_comment(statement: &str) -> bool {
    statement.lines().all(|l| l.trim().is_empty() || l.trim_start().starts_with("--"))
}
