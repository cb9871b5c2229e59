-- A player's state on a game server (position and dimension next to the
-- online flag, ping, IP, playtime and currency it already had), bans, and
-- the per-game-server catalogue of items and entities. The permission
-- catalogue already holds every code these use (READ_PLAYERS,
-- MANAGE_PLAYERS, READ_ITEMS, MANAGE_ITEMS, READ_ENTITIES, MANAGE_ENTITIES).

-- +goose Up
-- The new columns are NULL in every existing row, so nothing is read or
-- rewritten and forced row-level security does not get in the way.
ALTER TABLE player_on_gameserver
    ADD COLUMN position_x integer,
    ADD COLUMN position_y integer,
    ADD COLUMN position_z integer,
    ADD COLUMN dimension  text CHECK (char_length(dimension) BETWEEN 1 AND 255);
CREATE INDEX player_on_gameserver_last_seen_idx ON player_on_gameserver (domain, last_seen DESC);

-- A ban holds on one game server or (is_global, no game server) on every
-- game server of the domain. until NULL is permanent. takaro_managed is
-- false for bans mirrored from a game's own list. Unlike the reference, a
-- player has at most one global ban (NULLS NOT DISTINCT).
CREATE TABLE bans (
    domain         text        NOT NULL,
    id             uuid        NOT NULL DEFAULT gen_random_uuid(),
    player_id      uuid        NOT NULL,
    gameserver_id  uuid,
    is_global      boolean     NOT NULL DEFAULT false,
    takaro_managed boolean     NOT NULL DEFAULT true,
    until          timestamptz,
    reason         text        CHECK (char_length(reason) <= 10000),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (domain, id),
    CONSTRAINT bans_player_gameserver_key UNIQUE NULLS NOT DISTINCT (domain, player_id, gameserver_id),
    CONSTRAINT bans_global_gameserver_check CHECK ((is_global AND gameserver_id IS NULL) OR (NOT is_global AND gameserver_id IS NOT NULL))
);
CREATE INDEX bans_gameserver_idx ON bans (domain, gameserver_id);

-- The catalogue a game server's connector syncs: one row per item code
-- (entity code) and game server.
CREATE TABLE items (
    domain        text        NOT NULL,
    id            uuid        NOT NULL DEFAULT gen_random_uuid(),
    gameserver_id uuid        NOT NULL,
    code          text        NOT NULL CHECK (char_length(code) BETWEEN 1 AND 255),
    name          text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 255),
    description   text        CHECK (char_length(description) <= 10000),
    icon          text        CHECK (char_length(icon) <= 10000),
    quality       text        CHECK (char_length(quality) BETWEEN 1 AND 255),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (domain, id),
    CONSTRAINT items_gameserver_code_key UNIQUE (domain, gameserver_id, code)
);

CREATE TABLE entities (
    domain        text        NOT NULL,
    id            uuid        NOT NULL DEFAULT gen_random_uuid(),
    gameserver_id uuid        NOT NULL,
    code          text        NOT NULL CHECK (char_length(code) BETWEEN 1 AND 255),
    name          text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 255),
    description   text        CHECK (char_length(description) <= 10000),
    type          text        CHECK (type IN ('hostile', 'friendly', 'neutral')),
    metadata      jsonb       CHECK (jsonb_typeof(metadata) = 'object'),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (domain, id),
    CONSTRAINT entities_gameserver_code_key UNIQUE (domain, gameserver_id, code)
);

CREATE TRIGGER bans_updated_at BEFORE UPDATE ON bans FOR EACH ROW EXECUTE FUNCTION takaro_set_updated_at();
CREATE TRIGGER items_updated_at BEFORE UPDATE ON items FOR EACH ROW EXECUTE FUNCTION takaro_set_updated_at();
CREATE TRIGGER entities_updated_at BEFORE UPDATE ON entities FOR EACH ROW EXECUTE FUNCTION takaro_set_updated_at();

SELECT takaro_isolate_tenant_table('bans');
SELECT takaro_isolate_tenant_table('items');
SELECT takaro_isolate_tenant_table('entities');

ALTER TABLE bans ADD FOREIGN KEY (domain) REFERENCES domains (id) ON DELETE CASCADE;
ALTER TABLE bans ADD FOREIGN KEY (domain, player_id) REFERENCES players (domain, id) ON DELETE CASCADE;
ALTER TABLE bans ADD FOREIGN KEY (domain, gameserver_id) REFERENCES gameservers (domain, id) ON DELETE CASCADE;
ALTER TABLE items ADD FOREIGN KEY (domain) REFERENCES domains (id) ON DELETE CASCADE;
ALTER TABLE items ADD FOREIGN KEY (domain, gameserver_id) REFERENCES gameservers (domain, id) ON DELETE CASCADE;
ALTER TABLE entities ADD FOREIGN KEY (domain) REFERENCES domains (id) ON DELETE CASCADE;
ALTER TABLE entities ADD FOREIGN KEY (domain, gameserver_id) REFERENCES gameservers (domain, id) ON DELETE CASCADE;

-- +goose Down
DROP TABLE entities;
DROP TABLE items;
DROP TABLE bans;
DROP INDEX player_on_gameserver_last_seen_idx;
ALTER TABLE player_on_gameserver
    DROP COLUMN dimension,
    DROP COLUMN position_z,
    DROP COLUMN position_y,
    DROP COLUMN position_x;
