-- Indexes for the maintenance pass (postgres/maintain.go), and autovacuum
-- settings for the table that retention empties in bulk.

-- +goose Up
-- Each rule of the maintenance pass picks a batch of one domain's expired
-- rows by these indexes. Partial: only rows that can expire are indexed.
CREATE INDEX variables_expires_idx ON variables (domain, expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX role_on_user_expires_idx ON role_on_user (domain, expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX role_on_player_expires_idx ON role_on_player (domain, expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX sessions_expires_idx ON sessions (domain, expires_at);
CREATE INDEX sessions_revoked_idx ON sessions (domain, revoked_at) WHERE revoked_at IS NOT NULL;
CREATE INDEX api_keys_expires_idx ON api_keys (domain, expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX api_keys_revoked_idx ON api_keys (domain, revoked_at) WHERE revoked_at IS NOT NULL;
CREATE INDEX gameservers_deleted_idx ON gameservers (domain, deleted_at) WHERE deleted_at IS NOT NULL;

-- events grows by inserts and shrinks by retention's batched deletes. The
-- default thresholds (vacuum after 20 % of the table is dead, analyze
-- after 10 % changed) let a table of millions of rows carry hundreds of
-- thousands of dead tuples and stale statistics for hours; at 2 % and 1 %
-- vacuum keeps pace with each day's retention and the freed space is
-- reused by the next day's events, so the table stops growing. The insert
-- threshold keeps the visibility map current for index-only scans.
ALTER TABLE events SET (
    autovacuum_vacuum_scale_factor = 0.02,
    autovacuum_analyze_scale_factor = 0.01,
    autovacuum_vacuum_insert_scale_factor = 0.05
);

-- +goose Down
ALTER TABLE events RESET (autovacuum_vacuum_scale_factor, autovacuum_analyze_scale_factor, autovacuum_vacuum_insert_scale_factor);
DROP INDEX gameservers_deleted_idx;
DROP INDEX api_keys_revoked_idx;
DROP INDEX api_keys_expires_idx;
DROP INDEX sessions_revoked_idx;
DROP INDEX sessions_expires_idx;
DROP INDEX role_on_player_expires_idx;
DROP INDEX role_on_user_expires_idx;
DROP INDEX variables_expires_idx;
