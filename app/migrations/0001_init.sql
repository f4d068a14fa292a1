-- Portable between SQLite and PostgreSQL: TEXT ids and RFC 3339 UTC timestamps
-- (fixed width, so they sort and compare as text), BIGINT counters.
CREATE TABLE users (
  uuid TEXT PRIMARY KEY,
  display_name TEXT NOT NULL,
  handle TEXT NOT NULL UNIQUE,
  email TEXT NOT NULL,
  bio TEXT,
  cognito_user_id TEXT UNIQUE,
  created_at TEXT NOT NULL
);
CREATE TABLE activities (
  uuid TEXT PRIMARY KEY,
  user_uuid TEXT NOT NULL REFERENCES users(uuid),
  message TEXT NOT NULL,
  replies_count BIGINT NOT NULL DEFAULT 0,
  reposts_count BIGINT NOT NULL DEFAULT 0,
  likes_count BIGINT NOT NULL DEFAULT 0,
  reply_to_activity_uuid TEXT REFERENCES activities(uuid),
  expires_at TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX activities_created_at ON activities (created_at);
CREATE INDEX activities_user ON activities (user_uuid, created_at);
CREATE INDEX activities_reply_to ON activities (reply_to_activity_uuid);
CREATE TABLE message_groups (
  uuid TEXT PRIMARY KEY,
  created_at TEXT NOT NULL
);
CREATE TABLE message_group_members (
  message_group_uuid TEXT NOT NULL REFERENCES message_groups(uuid),
  user_uuid TEXT NOT NULL REFERENCES users(uuid),
  PRIMARY KEY (message_group_uuid, user_uuid)
);
CREATE INDEX message_group_members_user ON message_group_members (user_uuid);
CREATE TABLE messages (
  uuid TEXT PRIMARY KEY,
  message_group_uuid TEXT NOT NULL REFERENCES message_groups(uuid),
  user_uuid TEXT NOT NULL REFERENCES users(uuid),
  message TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX messages_group ON messages (message_group_uuid, created_at);
