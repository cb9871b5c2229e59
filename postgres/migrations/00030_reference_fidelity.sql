-- What the reference platform's clients see and compare: names sorted with
-- an ICU collation (checked for here), the permission catalogue's friendly
-- names and descriptions in the reference's words, and players' Steam
-- profile fields (filled by a Steam sync; empty until then) with the history
-- of the names and IP addresses seen for each player.

-- +goose Up
-- Names sort with the ICU collation "und-x-icu" (textOrder in
-- postgres/search.go), identically on every cluster. A server built without
-- ICU support lacks it: stop here with a clear message instead of failing
-- every sorted search later.
-- +goose StatementBegin
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_collation WHERE collname = 'und-x-icu') THEN
        RAISE EXCEPTION 'this PostgreSQL server has no ICU collation "und-x-icu"; takaro needs a server built with ICU support (the packages of Debian, Ubuntu, the PostgreSQL project and the official container images are)';
    END IF;
END
$$;
-- +goose StatementEnd

UPDATE permissions AS p SET friendly_name = v.friendly_name, description = v.description, updated_at = now()
FROM (VALUES
    ('ROOT', 'Root Access', 'Full access to all systems and resources'),
    ('MANAGE_USERS', 'Manage Users', 'Can create, update, and delete users'),
    ('READ_USERS', 'Read Users', 'Can view user details'),
    ('MANAGE_ROLES', 'Manage Roles', 'Can create, update, and delete roles'),
    ('READ_ROLES', 'Read Roles', 'Can view role details'),
    ('MANAGE_GAMESERVERS', 'Manage Game Servers', 'Can create, update, and delete game servers'),
    ('READ_MODULES', 'Read Modules', 'Can view module details'),
    ('MANAGE_MODULES', 'Manage Modules', 'Can create, update, and delete modules'),
    ('READ_PLAYERS', 'Read Players', 'Can view player details'),
    ('MANAGE_PLAYERS', 'Manage Players', 'Can create, update, and delete players'),
    ('MANAGE_SETTINGS', 'Manage Settings', 'Can modify settings'),
    ('READ_SETTINGS', 'Read Settings', 'Can view settings'),
    ('READ_VARIABLES', 'Read Variables', 'Can view variables'),
    ('MANAGE_VARIABLES', 'Manage Variables', 'Can create, update, and delete variables'),
    ('READ_EVENTS', 'Read Events', 'Can view event details'),
    ('MANAGE_EVENTS', 'Manage Events', 'Can create, update, and delete events'),
    ('READ_ITEMS', 'Read Items', 'Can view item details'),
    ('MANAGE_ITEMS', 'Manage Items', 'Can create, update, and delete items'),
    ('READ_ENTITIES', 'Read Entities', 'Can view entity details'),
    ('MANAGE_ENTITIES', 'Manage Entities', 'Can create, update, and delete entities'),
    ('MANAGE_SHOP_LISTINGS', 'Manage Shop Listings', 'Can create, update, and delete shop listings'),
    ('MANAGE_SHOP_ORDERS', 'Manage Shop Orders', 'Can view orders not belonging to the themself and perform administrative actions on them'),
    ('VIEW_DISCORD_INFO', 'View Discord Info', 'Can view Discord guild information including channels and roles'),
    ('SEND_DISCORD_MESSAGE', 'Send Discord Messages', 'Can send messages to Discord channels')
) AS v (code, friendly_name, description)
WHERE p.code = v.code;

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

UPDATE permissions AS p SET friendly_name = v.friendly_name, description = v.description, updated_at = now()
FROM (VALUES
    ('ROOT', 'Root Access', 'Everything, including what no other permission grants'),
    ('MANAGE_USERS', 'Manage Users', 'Create, change and delete users'),
    ('READ_USERS', 'Read Users', 'See users'),
    ('MANAGE_ROLES', 'Manage Roles', 'Create, change, delete and assign roles'),
    ('READ_ROLES', 'Read Roles', 'See roles and their permissions'),
    ('MANAGE_GAMESERVERS', 'Manage Gameservers', 'Create, change and delete game servers and see their connection info'),
    ('READ_MODULES', 'Read Modules', 'See modules'),
    ('MANAGE_MODULES', 'Manage Modules', 'Create, change, delete and install modules'),
    ('READ_PLAYERS', 'Read Players', 'See players'),
    ('MANAGE_PLAYERS', 'Manage Players', 'Change and delete players'),
    ('MANAGE_SETTINGS', 'Manage Settings', 'Change settings'),
    ('READ_SETTINGS', 'Read Settings', 'See settings'),
    ('READ_VARIABLES', 'Read Variables', 'See variables'),
    ('MANAGE_VARIABLES', 'Manage Variables', 'Create, change and delete variables'),
    ('READ_EVENTS', 'Read Events', 'See the audit log'),
    ('MANAGE_EVENTS', 'Manage Events', 'Write to the audit log'),
    ('READ_ITEMS', 'Read Items', 'See game items'),
    ('MANAGE_ITEMS', 'Manage Items', 'Change game items'),
    ('READ_ENTITIES', 'Read Entities', 'See game entities'),
    ('MANAGE_ENTITIES', 'Manage Entities', 'Change game entities'),
    ('MANAGE_SHOP_LISTINGS', 'Manage Shop Listings', 'Create, change and delete shop listings'),
    ('MANAGE_SHOP_ORDERS', 'Manage Shop Orders', 'Handle shop orders'),
    ('VIEW_DISCORD_INFO', 'View Discord Info', 'See linked Discord information'),
    ('SEND_DISCORD_MESSAGE', 'Send Discord Message', 'Send messages to Discord')
) AS v (code, friendly_name, description)
WHERE p.code = v.code;
