-- Settings: a domain's own values and its game servers' overrides. Only
-- values that were set are stored; every other key reads as its default,
-- which lives in the code with the list of keys (takaro.SettingDefinitions).

-- +goose Up
CREATE TABLE settings (
    domain        text        NOT NULL,
    id            uuid        NOT NULL DEFAULT gen_random_uuid(),
    -- NULL: the domain's own value; otherwise a game server's override.
    gameserver_id uuid,
    key           text        NOT NULL CHECK (key ~ '^[A-Za-z]{1,64}$'),
    value         text        NOT NULL CHECK (char_length(value) <= 255),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (domain, id),
    -- One domain value and one value per game server for each key.
    CONSTRAINT settings_scope_key UNIQUE NULLS NOT DISTINCT (domain, key, gameserver_id)
);
CREATE INDEX settings_gameserver_idx ON settings (domain, gameserver_id);
CREATE TRIGGER settings_updated_at BEFORE UPDATE ON settings FOR EACH ROW EXECUTE FUNCTION takaro_set_updated_at();

SELECT takaro_isolate_tenant_table('settings');

ALTER TABLE settings ADD FOREIGN KEY (domain) REFERENCES domains (id) ON DELETE CASCADE;
ALTER TABLE settings ADD FOREIGN KEY (domain, gameserver_id) REFERENCES gameservers (domain, id) ON DELETE CASCADE;

-- +goose Down
DROP TABLE settings;
