-- Users, roles and who holds which permission. Every key starts with the
-- domain and every reference between tenant tables includes it, so a row
-- can never point at another domain's row.

-- +goose Up
CREATE TABLE roles (
    domain                 text        NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
    id                     uuid        NOT NULL DEFAULT gen_random_uuid(),
    name                   text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 255),
    system                 boolean     NOT NULL DEFAULT false,
    linked_discord_role_id text        CHECK (char_length(linked_discord_role_id) BETWEEN 1 AND 255),
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (domain, id),
    UNIQUE (domain, name)
);

CREATE TABLE permission_on_role (
    domain        text        NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
    id            uuid        NOT NULL DEFAULT gen_random_uuid(),
    role_id       uuid        NOT NULL,
    permission_id uuid        NOT NULL REFERENCES permissions (id) ON DELETE CASCADE,
    count         integer     NOT NULL DEFAULT 0 CHECK (count >= 0),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (domain, id),
    UNIQUE (domain, role_id, permission_id),
    FOREIGN KEY (domain, role_id) REFERENCES roles (domain, id) ON DELETE CASCADE
);
CREATE INDEX permission_on_role_permission_id_idx ON permission_on_role (permission_id);

-- Users are per domain: the same e-mail address may have an unrelated user,
-- with its own password, in another domain. Only a bcrypt hash of the
-- password is ever stored (NULL: the user cannot log in with a password).
CREATE TABLE users (
    domain            text        NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
    id                uuid        NOT NULL DEFAULT gen_random_uuid(),
    name              text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 255),
    email             text        NOT NULL CHECK (email = lower(email) AND email LIKE '_%@_%' AND char_length(email) <= 254),
    password_hash     text        CONSTRAINT users_password_hash_bcrypt CHECK (password_hash ~ '^\$2[abxy]\$[0-9]{2}\$[./A-Za-z0-9]{53}$'),
    is_dashboard_user boolean     NOT NULL DEFAULT false,
    discord_id        text        CHECK (char_length(discord_id) BETWEEN 1 AND 255),
    last_seen         timestamptz NOT NULL DEFAULT now(),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (domain, id),
    UNIQUE (domain, email),
    UNIQUE (domain, discord_id)
);

CREATE TABLE role_on_user (
    domain     text        NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
    id         uuid        NOT NULL DEFAULT gen_random_uuid(),
    user_id    uuid        NOT NULL,
    role_id    uuid        NOT NULL,
    expires_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (domain, id),
    UNIQUE (domain, user_id, role_id),
    FOREIGN KEY (domain, user_id) REFERENCES users (domain, id) ON DELETE CASCADE,
    FOREIGN KEY (domain, role_id) REFERENCES roles (domain, id) ON DELETE CASCADE
);
CREATE INDEX role_on_user_role_idx ON role_on_user (domain, role_id);

CREATE TRIGGER roles_updated_at BEFORE UPDATE ON roles FOR EACH ROW EXECUTE FUNCTION takaro_set_updated_at();
CREATE TRIGGER permission_on_role_updated_at BEFORE UPDATE ON permission_on_role FOR EACH ROW EXECUTE FUNCTION takaro_set_updated_at();
CREATE TRIGGER users_updated_at BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION takaro_set_updated_at();
CREATE TRIGGER role_on_user_updated_at BEFORE UPDATE ON role_on_user FOR EACH ROW EXECUTE FUNCTION takaro_set_updated_at();

SELECT takaro_isolate_tenant_table('roles');
SELECT takaro_isolate_tenant_table('permission_on_role');
SELECT takaro_isolate_tenant_table('users');
SELECT takaro_isolate_tenant_table('role_on_user');

-- Logging in happens before any domain is known: a user names only an
-- e-mail address, which may have a user in several domains. This policy
-- lets a login transaction, which sets takaro.login_email and nothing
-- else, read the users with that address in every domain, so it can check
-- the password against each. It grants reads only, and it fails closed
-- like the tenant policy.
CREATE POLICY login_lookup ON users FOR SELECT
    USING (email = NULLIF(current_setting('takaro.login_email', true), ''));

-- +goose Down
DROP TABLE role_on_user;
DROP TABLE users;
DROP TABLE permission_on_role;
DROP TABLE roles;
