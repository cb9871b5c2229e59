-- Game servers (with their encrypted connection info), players, where each
-- player was seen, and players' roles.

-- +goose Up
-- connection_info is pgcrypto OpenPGP ciphertext (pgp_sym_encrypt), never
-- plaintext: such a message starts with a symmetric-key session key packet,
-- tag byte 0xC3, which no JSON text does. connection_info_key_id names the
-- key that encrypted it (see postgres/crypto.go).
CREATE TABLE gameservers (
    domain                 text        NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
    id                     uuid        NOT NULL DEFAULT gen_random_uuid(),
    name                   text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 255),
    type                   text        NOT NULL CHECK (type IN ('MOCK', 'RUST', 'SEVENDAYSTODIE', 'GENERIC')),
    connection_info        bytea       NOT NULL CONSTRAINT gameservers_connection_info_encrypted CHECK (get_byte(connection_info, 0) = 195),
    connection_info_key_id text        NOT NULL CHECK (connection_info_key_id ~ '^[0-9a-f]{16}$'),
    reachable              boolean     NOT NULL DEFAULT true,
    enabled                boolean     NOT NULL DEFAULT true,
    identity_token         text        CHECK (char_length(identity_token) BETWEEN 1 AND 255),
    deleted_at             timestamptz,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (domain, id)
);
-- A soft-deleted server gives up its name and identity token at once.
CREATE UNIQUE INDEX gameservers_domain_name_key ON gameservers (domain, name) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX gameservers_domain_identity_token_key ON gameservers (domain, identity_token) WHERE deleted_at IS NULL;
CREATE INDEX gameservers_key_id_idx ON gameservers (domain, connection_info_key_id);

CREATE TABLE players (
    domain                  text        NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
    id                      uuid        NOT NULL DEFAULT gen_random_uuid(),
    name                    text        CHECK (char_length(name) BETWEEN 1 AND 255),
    steam_id                text        CHECK (char_length(steam_id) BETWEEN 1 AND 255),
    xbox_live_id            text        CHECK (char_length(xbox_live_id) BETWEEN 1 AND 255),
    epic_online_services_id text        CHECK (char_length(epic_online_services_id) BETWEEN 1 AND 32),
    platform_id             text        CHECK (char_length(platform_id) BETWEEN 1 AND 255),
    playtime_seconds        integer     NOT NULL DEFAULT 0 CHECK (playtime_seconds >= 0),
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (domain, id),
    UNIQUE (domain, steam_id),
    UNIQUE (domain, xbox_live_id),
    UNIQUE (domain, epic_online_services_id),
    UNIQUE (domain, platform_id),
    CONSTRAINT players_identified CHECK (num_nonnulls(steam_id, xbox_live_id, epic_online_services_id, platform_id) > 0)
);

-- A user's linked player; deleting the player unlinks it (PostgreSQL 15
-- lets SET NULL clear player_id alone and keep the domain). The column
-- comes and goes with the players table: a migration cannot clear it on
-- the way down, because forced row-level security hides every tenant row
-- from the migrating role.
ALTER TABLE users ADD COLUMN player_id uuid;
ALTER TABLE users ADD FOREIGN KEY (domain, player_id) REFERENCES players (domain, id) ON DELETE SET NULL (player_id);
CREATE INDEX users_player_idx ON users (domain, player_id);

CREATE TABLE player_on_gameserver (
    domain           text        NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
    id               uuid        NOT NULL DEFAULT gen_random_uuid(),
    player_id        uuid        NOT NULL,
    gameserver_id    uuid        NOT NULL,
    game_id          text        NOT NULL CHECK (char_length(game_id) BETWEEN 1 AND 255),
    online           boolean     NOT NULL DEFAULT false,
    currency         integer     NOT NULL DEFAULT 0 CONSTRAINT currency_positive CHECK (currency >= 0),
    ping             integer     CHECK (ping >= 0),
    ip               text        CHECK (char_length(ip) BETWEEN 1 AND 64),
    last_seen        timestamptz NOT NULL DEFAULT now(),
    playtime_seconds integer     NOT NULL DEFAULT 0 CHECK (playtime_seconds >= 0),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (domain, id),
    UNIQUE (domain, gameserver_id, game_id),
    UNIQUE (domain, gameserver_id, player_id),
    FOREIGN KEY (domain, player_id) REFERENCES players (domain, id) ON DELETE CASCADE,
    FOREIGN KEY (domain, gameserver_id) REFERENCES gameservers (domain, id) ON DELETE CASCADE
);
CREATE INDEX player_on_gameserver_player_idx ON player_on_gameserver (domain, player_id);

-- gameserver_id NULL means the role holds on every game server.
CREATE TABLE role_on_player (
    domain        text        NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
    id            uuid        NOT NULL DEFAULT gen_random_uuid(),
    player_id     uuid        NOT NULL,
    role_id       uuid        NOT NULL,
    gameserver_id uuid,
    expires_at    timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (domain, id),
    CONSTRAINT role_on_player_assignment_key UNIQUE NULLS NOT DISTINCT (domain, player_id, role_id, gameserver_id),
    FOREIGN KEY (domain, player_id) REFERENCES players (domain, id) ON DELETE CASCADE,
    FOREIGN KEY (domain, role_id) REFERENCES roles (domain, id) ON DELETE CASCADE,
    FOREIGN KEY (domain, gameserver_id) REFERENCES gameservers (domain, id) ON DELETE CASCADE
);
CREATE INDEX role_on_player_role_idx ON role_on_player (domain, role_id);
CREATE INDEX role_on_player_gameserver_idx ON role_on_player (domain, gameserver_id);

CREATE TRIGGER gameservers_updated_at BEFORE UPDATE ON gameservers FOR EACH ROW EXECUTE FUNCTION takaro_set_updated_at();
CREATE TRIGGER players_updated_at BEFORE UPDATE ON players FOR EACH ROW EXECUTE FUNCTION takaro_set_updated_at();
CREATE TRIGGER player_on_gameserver_updated_at BEFORE UPDATE ON player_on_gameserver FOR EACH ROW EXECUTE FUNCTION takaro_set_updated_at();
CREATE TRIGGER role_on_player_updated_at BEFORE UPDATE ON role_on_player FOR EACH ROW EXECUTE FUNCTION takaro_set_updated_at();

SELECT takaro_isolate_tenant_table('gameservers');
SELECT takaro_isolate_tenant_table('players');
SELECT takaro_isolate_tenant_table('player_on_gameserver');
SELECT takaro_isolate_tenant_table('role_on_player');

-- +goose Down
DROP TABLE role_on_player;
DROP TABLE player_on_gameserver;
ALTER TABLE users DROP COLUMN player_id;
DROP TABLE players;
DROP TABLE gameservers;
