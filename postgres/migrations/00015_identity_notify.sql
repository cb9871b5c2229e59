-- Changes to what makes up an identity (a credential, its user, the user's
-- roles and their permissions, the domain's state) are announced, so that
-- every instance can drop the identities it keeps in memory
-- (postgres/identitycache.go).

-- +goose Up
-- takaro_identity_changed announces one changed row: NOTIFY on the channel
-- takaro_identity, for every instance's listening connection, and a NOTICE
-- with the same text, for the session that made the change, so that its
-- own instance drops the identity before the statement returns. The text
-- is "<scope> <domain>" or "<scope> <domain> <id>": scope domain (every
-- identity of the domain), user or credential. The trigger's arguments
-- are the scope and the names of the domain and id columns.
-- +goose StatementBegin
CREATE FUNCTION takaro_identity_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed jsonb;
    message text;
BEGIN
    FOREACH changed IN ARRAY CASE TG_OP
        WHEN 'INSERT' THEN ARRAY[to_jsonb(NEW)]
        WHEN 'DELETE' THEN ARRAY[to_jsonb(OLD)]
        ELSE ARRAY[to_jsonb(OLD), to_jsonb(NEW)] END
    LOOP
        message := TG_ARGV[0] || ' ' || (changed ->> TG_ARGV[1]);
        IF TG_NARGS > 2 THEN
            message := message || ' ' || (changed ->> TG_ARGV[2]);
        END IF;
        PERFORM pg_notify('takaro_identity', message);
        RAISE NOTICE USING MESSAGE = 'takaro_identity ' || message;
    END LOOP;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- takaro_watch_identity makes changes to a table's rows announce the scope
-- they affect. With watched NULL, every insert, update and delete does;
-- otherwise deletes, and updates that change one of the watched columns
-- (so that "last seen" writes announce nothing). This is the one place to
-- add a table that an identity comes to depend on.
-- +goose StatementBegin
CREATE FUNCTION takaro_watch_identity(tbl regclass, scope text, domain_column text, id_column text, watched text[])
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    args text := format('%L, %L', scope, domain_column)
        || CASE WHEN id_column IS NULL THEN '' ELSE format(', %L', id_column) END;
BEGIN
    IF watched IS NULL THEN
        EXECUTE format('CREATE TRIGGER takaro_identity AFTER INSERT OR UPDATE OR DELETE ON %s
            FOR EACH ROW EXECUTE FUNCTION takaro_identity_changed(%s)', tbl, args);
        RETURN;
    END IF;
    EXECUTE format('CREATE TRIGGER takaro_identity_update AFTER UPDATE ON %s FOR EACH ROW WHEN (%s)
        EXECUTE FUNCTION takaro_identity_changed(%s)', tbl,
        (SELECT string_agg(format('OLD.%1$I IS DISTINCT FROM NEW.%1$I', c), ' OR ') FROM unnest(watched) c), args);
    EXECUTE format('CREATE TRIGGER takaro_identity_delete AFTER DELETE ON %s
        FOR EACH ROW EXECUTE FUNCTION takaro_identity_changed(%s)', tbl, args);
END
$$;
-- +goose StatementEnd

SELECT takaro_watch_identity('domains', 'domain', 'id', NULL, ARRAY['state']);
SELECT takaro_watch_identity('users', 'user', 'domain', 'id', ARRAY['is_dashboard_user', 'player_id']);
SELECT takaro_watch_identity('sessions', 'credential', 'domain', 'id',
    ARRAY['user_id', 'secret_hash', 'expires_at', 'revoked_at', 'login_domains']);
SELECT takaro_watch_identity('api_keys', 'credential', 'domain', 'id',
    ARRAY['user_id', 'secret_hash', 'expires_at', 'revoked_at']);
SELECT takaro_watch_identity('api_key_permissions', 'credential', 'domain', 'api_key_id', NULL);
SELECT takaro_watch_identity('role_on_user', 'user', 'domain', 'user_id', NULL);
-- A player's roles reach the user linked to it; roles and their
-- permissions reach every holder: these drop the whole domain's identities.
SELECT takaro_watch_identity('role_on_player', 'domain', 'domain', NULL, NULL);
SELECT takaro_watch_identity('roles', 'domain', 'domain', NULL, NULL);
SELECT takaro_watch_identity('permission_on_role', 'domain', 'domain', NULL, NULL);

-- +goose Down
DROP FUNCTION takaro_identity_changed() CASCADE;
DROP FUNCTION takaro_watch_identity(regclass, text, text, text, text[]);
