-- Modules: versioned bundles of commands, hooks, cron jobs and functions,
-- with their own permissions, installed per game server with a
-- configuration. Every table is created without inline references, made a
-- tenant table, and only then given its foreign keys (all with the domain
-- first), so that it can be distributed by domain before the keys exist.

-- +goose Up
CREATE TABLE modules (
    domain          text        NOT NULL,
    id              uuid        NOT NULL DEFAULT gen_random_uuid(),
    name            text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 255),
    -- NULL for a community's own modules; the builtin module's name for
    -- the ones the platform ships.
    builtin         text        CHECK (char_length(builtin) BETWEEN 1 AND 255),
    author          text        NOT NULL DEFAULT 'Unknown' CHECK (char_length(author) <= 255),
    supported_games text[]      NOT NULL DEFAULT '{all}',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (domain, id),
    UNIQUE (domain, name),
    UNIQUE (domain, builtin)
);

-- Exactly one version of a module is tagged latest: the working copy.
-- Every other tag is a semantic version and never changes.
CREATE TABLE module_versions (
    domain                text        NOT NULL,
    id                    uuid        NOT NULL DEFAULT gen_random_uuid(),
    module_id             uuid        NOT NULL,
    tag                   text        NOT NULL CHECK (char_length(tag) BETWEEN 1 AND 100),
    description           text        NOT NULL DEFAULT 'No description' CHECK (char_length(description) <= 500000),
    config_schema         text        NOT NULL,
    ui_schema             text        NOT NULL DEFAULT '{}',
    default_system_config jsonb       CHECK (jsonb_typeof(default_system_config) = 'object'),
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (domain, id),
    UNIQUE (domain, module_id, tag),
    -- Lets an installation's key name the version and its module together.
    UNIQUE (domain, id, module_id)
);

-- Code. version_id is set for a version's shared functions (the ones the
-- API lists as the version's functions); owner_version_id for the code of
-- a command, hook or cron job, so the code goes with its version; both
-- NULL for a standalone function.
CREATE TABLE functions (
    domain           text        NOT NULL,
    id               uuid        NOT NULL DEFAULT gen_random_uuid(),
    version_id       uuid,
    owner_version_id uuid,
    name             text        CHECK (char_length(name) BETWEEN 1 AND 255),
    description      text        CHECK (char_length(description) <= 131072),
    code             text        NOT NULL CHECK (char_length(code) <= 1000000),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (domain, id),
    UNIQUE (domain, version_id, name),
    CONSTRAINT functions_one_owner CHECK (num_nonnulls(version_id, owner_version_id) <= 1)
);
CREATE INDEX functions_owner_version_idx ON functions (domain, owner_version_id);

CREATE TABLE commands (
    domain               text        NOT NULL,
    id                   uuid        NOT NULL DEFAULT gen_random_uuid(),
    version_id           uuid        NOT NULL,
    function_id          uuid        NOT NULL,
    name                 text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 150),
    trigger              text        NOT NULL CHECK (char_length(trigger) BETWEEN 1 AND 255),
    help_text            text        NOT NULL DEFAULT 'No help text available' CHECK (char_length(help_text) <= 10000),
    description          text        CHECK (char_length(description) <= 131072),
    required_permissions text[]      NOT NULL DEFAULT '{}',
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (domain, id),
    UNIQUE (domain, version_id, name),
    UNIQUE (domain, function_id)
);
CREATE INDEX commands_trigger_idx ON commands (domain, lower(trigger));

CREATE TABLE command_arguments (
    domain        text        NOT NULL,
    id            uuid        NOT NULL DEFAULT gen_random_uuid(),
    command_id    uuid        NOT NULL,
    name          text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 150),
    type          text        NOT NULL CHECK (type IN ('string', 'number', 'boolean', 'player')),
    help_text     text        NOT NULL DEFAULT 'No help text available' CHECK (char_length(help_text) <= 10000),
    default_value text        CHECK (char_length(default_value) <= 10000),
    position      smallint    NOT NULL CHECK (position >= 0),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (domain, id),
    UNIQUE (domain, command_id, name),
    UNIQUE (domain, command_id, position)
);

CREATE TABLE hooks (
    domain      text        NOT NULL,
    id          uuid        NOT NULL DEFAULT gen_random_uuid(),
    version_id  uuid        NOT NULL,
    function_id uuid        NOT NULL,
    name        text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 50),
    event_type  text        NOT NULL CHECK (char_length(event_type) BETWEEN 1 AND 100),
    regex       text        CHECK (char_length(regex) <= 10000),
    description text        CHECK (char_length(description) <= 131072),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (domain, id),
    UNIQUE (domain, version_id, name),
    UNIQUE (domain, function_id)
);

CREATE TABLE cron_jobs (
    domain         text        NOT NULL,
    id             uuid        NOT NULL DEFAULT gen_random_uuid(),
    version_id     uuid        NOT NULL,
    function_id    uuid        NOT NULL,
    name           text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 50),
    temporal_value text        NOT NULL CHECK (char_length(temporal_value) BETWEEN 1 AND 255),
    description    text        CHECK (char_length(description) <= 131072),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (domain, id),
    UNIQUE (domain, version_id, name),
    UNIQUE (domain, function_id)
);

-- A version's own permission codes. Roles hold them like the catalogue's
-- permissions, through permission_on_role.module_permission_id.
CREATE TABLE module_permissions (
    domain         text        NOT NULL,
    id             uuid        NOT NULL DEFAULT gen_random_uuid(),
    version_id     uuid        NOT NULL,
    code           text        NOT NULL CHECK (code ~ '^[A-Za-z][A-Za-z0-9_]{0,99}$'),
    friendly_name  text        NOT NULL CHECK (char_length(friendly_name) BETWEEN 1 AND 255),
    description    text        NOT NULL CHECK (char_length(description) BETWEEN 1 AND 10000),
    can_have_count boolean     NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (domain, id),
    UNIQUE (domain, version_id, code)
);

-- One installed version per module and game server.
CREATE TABLE module_installations (
    domain        text        NOT NULL,
    id            uuid        NOT NULL DEFAULT gen_random_uuid(),
    gameserver_id uuid        NOT NULL,
    module_id     uuid        NOT NULL,
    version_id    uuid        NOT NULL,
    user_config   jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(user_config) = 'object'),
    system_config jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(system_config) = 'object'),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (domain, id),
    UNIQUE (domain, module_id, gameserver_id)
);
CREATE INDEX module_installations_gameserver_idx ON module_installations (domain, gameserver_id);
CREATE INDEX module_installations_version_idx ON module_installations (domain, version_id, module_id);

SELECT takaro_isolate_tenant_table('modules');
SELECT takaro_isolate_tenant_table('module_versions');
SELECT takaro_isolate_tenant_table('functions');
SELECT takaro_isolate_tenant_table('commands');
SELECT takaro_isolate_tenant_table('command_arguments');
SELECT takaro_isolate_tenant_table('hooks');
SELECT takaro_isolate_tenant_table('cron_jobs');
SELECT takaro_isolate_tenant_table('module_permissions');
SELECT takaro_isolate_tenant_table('module_installations');

ALTER TABLE modules ADD FOREIGN KEY (domain) REFERENCES domains (id) ON DELETE CASCADE;
ALTER TABLE module_versions ADD FOREIGN KEY (domain) REFERENCES domains (id) ON DELETE CASCADE;
ALTER TABLE module_versions ADD FOREIGN KEY (domain, module_id) REFERENCES modules (domain, id) ON DELETE CASCADE;
ALTER TABLE functions ADD FOREIGN KEY (domain) REFERENCES domains (id) ON DELETE CASCADE;
ALTER TABLE functions ADD FOREIGN KEY (domain, version_id) REFERENCES module_versions (domain, id) ON DELETE CASCADE;
ALTER TABLE functions ADD FOREIGN KEY (domain, owner_version_id) REFERENCES module_versions (domain, id) ON DELETE CASCADE;
ALTER TABLE commands ADD FOREIGN KEY (domain) REFERENCES domains (id) ON DELETE CASCADE;
ALTER TABLE commands ADD FOREIGN KEY (domain, version_id) REFERENCES module_versions (domain, id) ON DELETE CASCADE;
ALTER TABLE commands ADD FOREIGN KEY (domain, function_id) REFERENCES functions (domain, id) ON DELETE CASCADE;
ALTER TABLE command_arguments ADD FOREIGN KEY (domain) REFERENCES domains (id) ON DELETE CASCADE;
ALTER TABLE command_arguments ADD FOREIGN KEY (domain, command_id) REFERENCES commands (domain, id) ON DELETE CASCADE;
ALTER TABLE hooks ADD FOREIGN KEY (domain) REFERENCES domains (id) ON DELETE CASCADE;
ALTER TABLE hooks ADD FOREIGN KEY (domain, version_id) REFERENCES module_versions (domain, id) ON DELETE CASCADE;
ALTER TABLE hooks ADD FOREIGN KEY (domain, function_id) REFERENCES functions (domain, id) ON DELETE CASCADE;
ALTER TABLE cron_jobs ADD FOREIGN KEY (domain) REFERENCES domains (id) ON DELETE CASCADE;
ALTER TABLE cron_jobs ADD FOREIGN KEY (domain, version_id) REFERENCES module_versions (domain, id) ON DELETE CASCADE;
ALTER TABLE cron_jobs ADD FOREIGN KEY (domain, function_id) REFERENCES functions (domain, id) ON DELETE CASCADE;
ALTER TABLE module_permissions ADD FOREIGN KEY (domain) REFERENCES domains (id) ON DELETE CASCADE;
ALTER TABLE module_permissions ADD FOREIGN KEY (domain, version_id) REFERENCES module_versions (domain, id) ON DELETE CASCADE;
ALTER TABLE module_installations ADD FOREIGN KEY (domain) REFERENCES domains (id) ON DELETE CASCADE;
ALTER TABLE module_installations ADD FOREIGN KEY (domain, gameserver_id) REFERENCES gameservers (domain, id) ON DELETE CASCADE;
ALTER TABLE module_installations ADD FOREIGN KEY (domain, module_id) REFERENCES modules (domain, id) ON DELETE CASCADE;
ALTER TABLE module_installations ADD FOREIGN KEY (domain, version_id, module_id) REFERENCES module_versions (domain, id, module_id) ON DELETE CASCADE;

CREATE TRIGGER modules_updated_at BEFORE UPDATE ON modules FOR EACH ROW EXECUTE FUNCTION takaro_set_updated_at();
CREATE TRIGGER module_versions_updated_at BEFORE UPDATE ON module_versions FOR EACH ROW EXECUTE FUNCTION takaro_set_updated_at();
CREATE TRIGGER functions_updated_at BEFORE UPDATE ON functions FOR EACH ROW EXECUTE FUNCTION takaro_set_updated_at();
CREATE TRIGGER commands_updated_at BEFORE UPDATE ON commands FOR EACH ROW EXECUTE FUNCTION takaro_set_updated_at();
CREATE TRIGGER command_arguments_updated_at BEFORE UPDATE ON command_arguments FOR EACH ROW EXECUTE FUNCTION takaro_set_updated_at();
CREATE TRIGGER hooks_updated_at BEFORE UPDATE ON hooks FOR EACH ROW EXECUTE FUNCTION takaro_set_updated_at();
CREATE TRIGGER cron_jobs_updated_at BEFORE UPDATE ON cron_jobs FOR EACH ROW EXECUTE FUNCTION takaro_set_updated_at();
CREATE TRIGGER module_permissions_updated_at BEFORE UPDATE ON module_permissions FOR EACH ROW EXECUTE FUNCTION takaro_set_updated_at();
CREATE TRIGGER module_installations_updated_at BEFORE UPDATE ON module_installations FOR EACH ROW EXECUTE FUNCTION takaro_set_updated_at();

-- A role holds either a permission of the global catalogue or one of a
-- module version's permissions. Adding the check and the key validates
-- the existing rows, which forced row-level security would hide from the
-- migrating role.
ALTER TABLE permission_on_role NO FORCE ROW LEVEL SECURITY;
ALTER TABLE permission_on_role ALTER COLUMN permission_id DROP NOT NULL;
ALTER TABLE permission_on_role ADD COLUMN module_permission_id uuid;
ALTER TABLE permission_on_role ADD CONSTRAINT permission_on_role_one_permission CHECK (num_nonnulls(permission_id, module_permission_id) = 1);
ALTER TABLE permission_on_role ADD CONSTRAINT permission_on_role_module_permission_key UNIQUE (domain, role_id, module_permission_id);
ALTER TABLE permission_on_role ADD FOREIGN KEY (domain, module_permission_id) REFERENCES module_permissions (domain, id) ON DELETE CASCADE;
ALTER TABLE permission_on_role FORCE ROW LEVEL SECURITY;

-- Module-scoped variables go with their module. Before this migration no
-- module existed, so a variable that names one is scoped to nothing any
-- client can reach; those are removed, as the key would have removed them
-- with their module.
ALTER TABLE variables NO FORCE ROW LEVEL SECURITY;
DELETE FROM variables WHERE module_id IS NOT NULL;
ALTER TABLE variables ADD FOREIGN KEY (domain, module_id) REFERENCES modules (domain, id) ON DELETE CASCADE;
ALTER TABLE variables FORCE ROW LEVEL SECURITY;
CREATE INDEX variables_module_idx ON variables (domain, module_id);

-- +goose Down
DROP INDEX variables_module_idx;
ALTER TABLE variables DROP CONSTRAINT variables_domain_module_id_fkey;
ALTER TABLE variables NO FORCE ROW LEVEL SECURITY;
DELETE FROM variables WHERE module_id IS NOT NULL;
ALTER TABLE variables FORCE ROW LEVEL SECURITY;
ALTER TABLE permission_on_role NO FORCE ROW LEVEL SECURITY;
DELETE FROM permission_on_role WHERE module_permission_id IS NOT NULL;
ALTER TABLE permission_on_role DROP COLUMN module_permission_id;
ALTER TABLE permission_on_role ALTER COLUMN permission_id SET NOT NULL;
ALTER TABLE permission_on_role FORCE ROW LEVEL SECURITY;
DROP TABLE module_installations;
DROP TABLE module_permissions;
DROP TABLE cron_jobs;
DROP TABLE hooks;
DROP TABLE command_arguments;
DROP TABLE commands;
DROP TABLE functions;
DROP TABLE module_versions;
DROP TABLE modules;
