-- Credentials: API keys and login sessions. Only bcrypt hashes of their
-- secrets are stored; the secrets are shown once and then only compared.

-- +goose Up
CREATE TABLE api_keys (
    domain       text        NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
    id           uuid        NOT NULL DEFAULT gen_random_uuid(),
    user_id      uuid        NOT NULL,
    name         text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    secret_hash  text        NOT NULL CONSTRAINT api_keys_secret_hash_bcrypt CHECK (secret_hash ~ '^\$2[abxy]\$[0-9]{2}\$[./A-Za-z0-9]{53}$'),
    expires_at   timestamptz,
    revoked_at   timestamptz,
    last_used_at timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (domain, id),
    FOREIGN KEY (domain, user_id) REFERENCES users (domain, id) ON DELETE CASCADE
);
CREATE INDEX api_keys_user_idx ON api_keys (domain, user_id);

CREATE TABLE api_key_permissions (
    domain        text NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
    api_key_id    uuid NOT NULL,
    permission_id uuid NOT NULL REFERENCES permissions (id) ON DELETE CASCADE,
    PRIMARY KEY (domain, api_key_id, permission_id),
    FOREIGN KEY (domain, api_key_id) REFERENCES api_keys (domain, id) ON DELETE CASCADE
);
CREATE INDEX api_key_permissions_permission_idx ON api_key_permissions (permission_id);

CREATE TABLE sessions (
    domain       text        NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
    id           uuid        NOT NULL DEFAULT gen_random_uuid(),
    user_id      uuid        NOT NULL,
    secret_hash  text        NOT NULL CONSTRAINT sessions_secret_hash_bcrypt CHECK (secret_hash ~ '^\$2[abxy]\$[0-9]{2}\$[./A-Za-z0-9]{53}$'),
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz,
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    -- The domains in which the e-mail address and password were accepted
    -- at login, including this one: what GET /me lists. Only ids that the
    -- credentials themselves proved are stored, so nothing about other
    -- tenants is revealed.
    login_domains text[]     NOT NULL CHECK (domain = ANY (login_domains)),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (domain, id),
    FOREIGN KEY (domain, user_id) REFERENCES users (domain, id) ON DELETE CASCADE
);
CREATE INDEX sessions_user_idx ON sessions (domain, user_id);

CREATE TRIGGER api_keys_updated_at BEFORE UPDATE ON api_keys FOR EACH ROW EXECUTE FUNCTION takaro_set_updated_at();
CREATE TRIGGER sessions_updated_at BEFORE UPDATE ON sessions FOR EACH ROW EXECUTE FUNCTION takaro_set_updated_at();

SELECT takaro_isolate_tenant_table('api_keys');
SELECT takaro_isolate_tenant_table('api_key_permissions');
SELECT takaro_isolate_tenant_table('sessions');

-- +goose Down
DROP TABLE sessions;
DROP TABLE api_key_permissions;
DROP TABLE api_keys;
