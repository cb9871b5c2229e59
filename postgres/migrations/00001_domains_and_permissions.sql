-- The global tables: the tenants themselves and the permission catalogue,
-- plus the helpers later migrations use to make every tenant table alike.

-- +goose Up
CREATE TABLE domains (
    id                      text        PRIMARY KEY CONSTRAINT domains_id_format CHECK (id ~ '^[a-z0-9][a-z0-9-]{2,62}$'),
    name                    text        NOT NULL CHECK (char_length(name) BETWEEN 3 AND 200),
    external_reference      text        UNIQUE CHECK (char_length(external_reference) BETWEEN 3 AND 200),
    state                   text        NOT NULL DEFAULT 'ACTIVE' CHECK (state IN ('ACTIVE', 'DISABLED', 'MAINTENANCE')),
    rate_limit_points       integer     NOT NULL DEFAULT 2500 CHECK (rate_limit_points >= 0),
    rate_limit_duration     integer     NOT NULL DEFAULT 900000 CHECK (rate_limit_duration >= 0),
    max_gameservers         integer     NOT NULL DEFAULT 1 CHECK (max_gameservers >= 0),
    max_users               integer     NOT NULL DEFAULT 1 CHECK (max_users >= 0),
    event_retention_days    integer     NOT NULL DEFAULT 7 CHECK (event_retention_days >= 0),
    max_variables           integer     NOT NULL DEFAULT 10000 CHECK (max_variables >= 0),
    max_modules             integer     NOT NULL DEFAULT 1000 CHECK (max_modules >= 0),
    max_functions_in_module integer     NOT NULL DEFAULT 50 CHECK (max_functions_in_module >= 0),
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE permissions (
    id             uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    code           text        NOT NULL UNIQUE CHECK (code ~ '^[A-Z][A-Z_]*$'),
    friendly_name  text        NOT NULL,
    description    text        NOT NULL,
    can_have_count boolean     NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

INSERT INTO permissions (code, friendly_name, description) VALUES
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
    ('SEND_DISCORD_MESSAGE', 'Send Discord Message', 'Send messages to Discord');

-- takaro_set_updated_at keeps updated_at true without relying on every
-- UPDATE statement to remember it. Recording when a row was last seen or
-- used is bookkeeping, not a change of the row, and leaves it alone; so
-- does re-encrypting a value under a new key (a transaction that sets
-- takaro.reencrypting), which changes no value a client can see.
-- +goose StatementBegin
CREATE FUNCTION takaro_set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bookkeeping CONSTANT text[] := '{updated_at,last_seen,last_seen_at,last_used_at}';
BEGIN
    IF current_setting('takaro.reencrypting', true) = 'on' THEN
        RETURN NEW;
    END IF;
    IF to_jsonb(NEW) - bookkeeping IS DISTINCT FROM to_jsonb(OLD) - bookkeeping THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER domains_updated_at BEFORE UPDATE ON domains FOR EACH ROW EXECUTE FUNCTION takaro_set_updated_at();
CREATE TRIGGER permissions_updated_at BEFORE UPDATE ON permissions FOR EACH ROW EXECUTE FUNCTION takaro_set_updated_at();

-- takaro_isolate_tenant_table gives a tenant table its row-level security:
-- enabled and forced (so the owning role is subject to it too), with one
-- policy for every command that compares the row's domain with the
-- transaction-local setting takaro.domain. An unset setting is NULL and an
-- emptied one is '' (which NULLIF turns into NULL), and NULL matches no row:
-- without a domain nothing is visible and nothing can be written.
-- +goose StatementBegin
CREATE FUNCTION takaro_isolate_tenant_table(tbl regclass) RETURNS void LANGUAGE plpgsql AS $$
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

-- +goose Down
DROP FUNCTION takaro_isolate_tenant_table(regclass);
DROP TABLE permissions;
DROP TABLE domains;
DROP FUNCTION takaro_set_updated_at();
