-- One two-person message group per pair of users, enforced by the database:
-- pair_key is "<smaller uuid>:<larger uuid>". Groups made before this migration get
-- their key. Where a pair already had two groups, only the oldest one keeps it (the
-- others stay readable through their uuid). No semicolons in comments: the
-- migration runner splits statements on them.
ALTER TABLE message_groups ADD COLUMN pair_key TEXT;
UPDATE message_groups SET pair_key = (
  SELECT CASE WHEN COUNT(*) = 2 THEN MIN(m.user_uuid) || ':' || MAX(m.user_uuid) END
  FROM message_group_members m WHERE m.message_group_uuid = message_groups.uuid
);
UPDATE message_groups SET pair_key = NULL WHERE pair_key IS NOT NULL AND EXISTS (
  SELECT 1 FROM message_groups g WHERE g.pair_key = message_groups.pair_key
  AND (g.created_at < message_groups.created_at OR (g.created_at = message_groups.created_at AND g.uuid < message_groups.uuid))
);
CREATE UNIQUE INDEX message_groups_pair ON message_groups (pair_key);
-- Lists are paged by (created_at, uuid).
CREATE INDEX activities_reply_page ON activities (reply_to_activity_uuid, created_at, uuid);
CREATE INDEX messages_group_page ON messages (message_group_uuid, created_at, uuid)
