-- Players' Steam profile fields (filled by a Steam sync; empty until then)
-- and the history of the names and IP addresses seen for each player.

-- +goose Up
ALTER TABLE players
    ADD COLUMN steam_avatar               text,
    ADD COLUMN steam_last_fetch           timestamptz,
    ADD COLUMN steam_account_created      timestamptz,
    ADD COLUMN steam_community_banned     boolean,
    ADD COLUMN steam_economy_ban          text,
    ADD COLUMN steam_vac_banned           boolean,
    ADD COLUMN steam_days_since_last_ban  integer,
    ADD COLUMN steam_number_of_vac_bans   integer,
    ADD COLUMN steam_level                integer;

-- gameserver_id is where the name or address was seen (NULL: reported
-- through the player API without a game server). Rows are only ever
-- inserted; the latest row per player is the one a new sighting is
-- compared with.
CREATE TABLE player_name_history (
    domain        text        NOT NULL,
    id            uuid        NOT NULL DEFAULT gen_random_uuid(),
    player_id     uuid        NOT NULL,
    gameserver_id uuid,
    name          text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 255),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (domain, id)
);
CREATE INDEX player_name_history_player_idx ON player_name_history (domain, player_id, created_at DESC);

CREATE TABLE player_ip_history (
    domain        text        NOT NULL,
    id            uuid        NOT NULL DEFAULT gen_random_uuid(),
    player_id     uuid        NOT NULL,
    gameserver_id uuid,
    ip            text        NOT NULL CHECK (char_length(ip) BETWEEN 1 AND 64),
    country       text,
    city          text,
    latitude      text,
    longitude     text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (domain, id)
);
CREATE INDEX player_ip_history_player_idx ON player_ip_history (domain, player_id, created_at DESC);

SELECT takaro_isolate_tenant_table('player_name_history');
SELECT takaro_isolate_tenant_table('player_ip_history');

-- The history goes with its player and its domain. A game server is only
-- soft-deleted, so the rows keep naming it; no key is needed for that.
ALTER TABLE player_name_history ADD FOREIGN KEY (domain) REFERENCES domains (id) ON DELETE CASCADE;
ALTER TABLE player_name_history ADD FOREIGN KEY (domain, player_id) REFERENCES players (domain, id) ON DELETE CASCADE;
ALTER TABLE player_ip_history ADD FOREIGN KEY (domain) REFERENCES domains (id) ON DELETE CASCADE;
ALTER TABLE player_ip_history ADD FOREIGN KEY (domain, player_id) REFERENCES players (domain, id) ON DELETE CASCADE;

-- +goose Down
DROP TABLE player_ip_history;
DROP TABLE player_name_history;
ALTER TABLE players
    DROP COLUMN steam_avatar,
    DROP COLUMN steam_last_fetch,
    DROP COLUMN steam_account_created,
    DROP COLUMN steam_community_banned,
    DROP COLUMN steam_economy_ban,
    DROP COLUMN steam_vac_banned,
    DROP COLUMN steam_days_since_last_ban,
    DROP COLUMN steam_number_of_vac_bans,
    DROP COLUMN steam_level;
