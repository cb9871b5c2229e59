-- Variables (scoped key/value pairs) and the append-only audit log.

-- +goose Up
CREATE TABLE variables (
    domain        text        NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
    id            uuid        NOT NULL DEFAULT gen_random_uuid(),
    key           text        NOT NULL CHECK (char_length(key) BETWEEN 1 AND 255),
    value         text        NOT NULL CHECK (char_length(value) <= 131072),
    gameserver_id uuid,
    player_id     uuid,
    module_id     uuid,
    expires_at    timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (domain, id),
    -- One value per key and scope; an unset scope id counts as a value.
    CONSTRAINT variables_scope_key UNIQUE NULLS NOT DISTINCT (domain, key, gameserver_id, player_id, module_id),
    FOREIGN KEY (domain, gameserver_id) REFERENCES gameservers (domain, id) ON DELETE CASCADE,
    FOREIGN KEY (domain, player_id) REFERENCES players (domain, id) ON DELETE CASCADE
);
CREATE INDEX variables_gameserver_idx ON variables (domain, gameserver_id);
CREATE INDEX variables_player_idx ON variables (domain, player_id);

-- The ids an event mentions are deliberately not foreign keys: the audit
-- log outlives the rows it describes.
CREATE TABLE events (
    domain           text        NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
    id               uuid        NOT NULL DEFAULT gen_random_uuid(),
    event_name       text        NOT NULL CONSTRAINT events_event_name_known CHECK (event_name IN (
        'role-assigned', 'role-removed', 'role-created', 'role-updated', 'role-deleted',
        'command-executed', 'command-execution-denied', 'hook-executed', 'cronjob-executed',
        'currency-added', 'currency-deducted', 'currency-reset-all', 'settings-set',
        'player-new-ip-detected', 'player-new-name-detected', 'server-status-changed',
        'module-created', 'module-updated', 'module-deleted', 'module-installed', 'module-uninstalled',
        'player-created', 'shop-listing-created', 'shop-listing-updated', 'shop-listing-deleted',
        'shop-order-created', 'shop-order-status-changed', 'shop-order-delivery-failed',
        'player-linked', 'gameserver-created', 'gameserver-updated', 'gameserver-deleted',
        'player-banned', 'player-unbanned', 'player-deleted',
        'player-connected', 'player-disconnected', 'chat-message', 'player-death', 'entity-killed',
        'variable-created', 'variable-updated', 'variable-deleted',
        'user-created', 'user-updated', 'user-deleted', 'api-key-created', 'api-key-revoked')),
    player_id        uuid,
    gameserver_id    uuid,
    module_id        uuid,
    user_id          uuid,
    acting_user_id   uuid,
    acting_module_id uuid,
    meta             jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(meta) = 'object'),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (domain, id)
);
CREATE INDEX events_created_idx ON events (domain, created_at);
CREATE INDEX events_name_idx ON events (domain, event_name, created_at);

-- takaro_events_append_only keeps the audit log append-only: rows can be
-- added, and removed by retention or with their domain, never changed.
-- +goose StatementBegin
CREATE FUNCTION takaro_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only' USING ERRCODE = 'check_violation';
END
$$;
-- +goose StatementEnd
CREATE TRIGGER events_append_only BEFORE UPDATE ON events FOR EACH ROW EXECUTE FUNCTION takaro_events_append_only();

CREATE TRIGGER variables_updated_at BEFORE UPDATE ON variables FOR EACH ROW EXECUTE FUNCTION takaro_set_updated_at();

SELECT takaro_isolate_tenant_table('variables');
SELECT takaro_isolate_tenant_table('events');

-- +goose Down
DROP TABLE events;
DROP FUNCTION takaro_events_append_only();
DROP TABLE variables;
