-- Ready for Citus (tables distributed by domain): a binding of the
-- transaction's settings that reaches the shards, tenant tables that
-- distribute themselves once the database is distributed, and no foreign
-- key action that Citus refuses. On plain PostgreSQL nothing behaves
-- differently.

-- +goose Up
-- takaro_set_local sets one of takaro's transaction-local settings with
-- SET LOCAL. Citus forwards a SET LOCAL made inside an explicit transaction
-- block to the shards' connections when citus.propagate_set_commands is
-- 'local' (set_config() and plain SET never reach them, and row-level
-- security on the shards would then fail closed); this function turns that
-- setting on for the transaction first. Unlike SET, a function takes its
-- value as a bind parameter, so the statement text is the same for every
-- domain (one prepared statement) and no value is ever spliced into SQL:
-- format's %L quotes it.
-- +goose StatementBegin
CREATE FUNCTION takaro_set_local(setting text, value text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF setting NOT IN ('takaro.domain', 'takaro.login_email', 'takaro.reencrypting') THEN
        RAISE EXCEPTION 'takaro_set_local: unknown setting %', setting USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF current_setting('citus.propagate_set_commands', true) IS NOT NULL THEN
        SET LOCAL citus.propagate_set_commands = 'local';
    END IF;
    EXECUTE format('SET LOCAL %s = %L', setting, value);
END
$$;
-- +goose StatementEnd

-- takaro_distributed tells whether the database has been distributed with
-- `takaro db distribute`: Citus is installed and domains is one of its
-- reference tables.
-- +goose StatementBegin
CREATE FUNCTION takaro_distributed() RETURNS boolean LANGUAGE plpgsql STABLE AS $$
DECLARE
    found boolean;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
        RETURN false;
    END IF;
    -- Dynamic: pg_dist_partition exists only where Citus is installed.
    EXECUTE 'SELECT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = ''domains''::regclass)' INTO found;
    RETURN found;
END
$$;
-- +goose StatementEnd

-- takaro_isolate_tenant_table gives a tenant table its row-level security
-- (as before: enabled, forced, one policy on takaro.domain) and, in a
-- distributed database, distributes it by domain, colocated with the other
-- tenant tables, so that one domain's rows of every table live on the same
-- node. Citus distributes a table only before foreign keys to other tenant
-- tables exist: a migration creates the table without REFERENCES, calls
-- this function, and then adds its keys with ALTER TABLE … ADD FOREIGN KEY.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION takaro_isolate_tenant_table(tbl regclass) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    colocate regclass;
BEGIN
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
    EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tbl);
    EXECUTE format(
        'CREATE POLICY tenant_isolation ON %s '
        'USING (domain = NULLIF(current_setting(''takaro.domain'', true), '''')) '
        'WITH CHECK (domain = NULLIF(current_setting(''takaro.domain'', true), ''''))', tbl);
    -- A partition is distributed with its parent.
    IF takaro_distributed() AND NOT (SELECT relispartition FROM pg_class WHERE oid = tbl) THEN
        -- The foreign keys that follow, to reference tables, can be added
        -- in this transaction only over one connection per node.
        SET LOCAL citus.multi_shard_modify_mode = 'sequential';
        EXECUTE 'SELECT logicalrelid FROM pg_dist_partition WHERE partmethod = ''h'' ORDER BY colocationid, logicalrelid::oid LIMIT 1' INTO colocate;
        EXECUTE 'SELECT create_distributed_table($1, ''domain'', colocate_with => $2)' USING tbl, coalesce(colocate::text, 'default');
    END IF;
END
$$;
-- +goose StatementEnd

-- Citus refuses ON DELETE SET NULL (player_id) on a key that includes the
-- distribution column; deleting a player now unlinks its users in the same
-- transaction (postgres/player.go) before the row goes. The new key is
-- checked against the rows, which forced row-level security would hide.
ALTER TABLE users NO FORCE ROW LEVEL SECURITY;
ALTER TABLE players NO FORCE ROW LEVEL SECURITY;
ALTER TABLE users DROP CONSTRAINT users_domain_player_id_fkey;
ALTER TABLE users ADD CONSTRAINT users_domain_player_id_fkey FOREIGN KEY (domain, player_id) REFERENCES players (domain, id);
ALTER TABLE users FORCE ROW LEVEL SECURITY;
ALTER TABLE players FORCE ROW LEVEL SECURITY;

-- +goose Down
ALTER TABLE users NO FORCE ROW LEVEL SECURITY;
ALTER TABLE players NO FORCE ROW LEVEL SECURITY;
ALTER TABLE users DROP CONSTRAINT users_domain_player_id_fkey;
ALTER TABLE users ADD CONSTRAINT users_domain_player_id_fkey FOREIGN KEY (domain, player_id) REFERENCES players (domain, id) ON DELETE SET NULL (player_id);
ALTER TABLE users FORCE ROW LEVEL SECURITY;
ALTER TABLE players FORCE ROW LEVEL SECURITY;
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION takaro_isolate_tenant_table(tbl regclass) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
    EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tbl);
    EXECUTE format(
        'CREATE POLICY tenant_isolation ON %s '
        'USING (domain = NULLIF(current_setting(''takaro.domain'', true), '''')) '
        'WITH CHECK (domain = NULLIF(current_setting(''takaro.domain'', true), ''''))', tbl);
END
$$;
-- +goose StatementEnd
DROP FUNCTION takaro_distributed();
DROP FUNCTION takaro_set_local(text, text);
