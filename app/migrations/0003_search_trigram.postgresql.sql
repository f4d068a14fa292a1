-- PostgreSQL only (SQLite has no pg_trgm, and records this version without running
-- it): a trigram GIN index on LOWER(message) makes search's
-- LOWER(message) LIKE '%term%' index-backed for terms of three characters or more.
-- pg_trgm ships with PostgreSQL (contrib) and is a trusted extension since
-- PostgreSQL 13, so the database's owner may create it (RDS allows it too). No
-- semicolons in comments: the migration runner splits statements on them.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX activities_message_trgm ON activities USING gin (LOWER(message) gin_trgm_ops)
