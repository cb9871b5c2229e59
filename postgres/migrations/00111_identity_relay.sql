-- On Citus, takaro_identity_changed runs on the shards (the nodes that hold
-- the changed rows), where it cannot NOTIFY: a transaction that changed
-- more than one node is committed in two phases, and PostgreSQL refuses to
-- prepare one that sent a NOTIFY; and a notification sent on a worker
-- reaches the worker's listeners, not the coordinator's, where every
-- instance listens. So on a shard the function only raises its NOTICE,
-- prefixed takaro_identity_relay; Citus passes a worker's notices on to the
-- coordinator's session, whose instance drops the identity and sends the
-- NOTIFY from the coordinator before it commits (postgres/identitycache.go).
-- On plain PostgreSQL nothing changes.

-- +goose Up
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION takaro_identity_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed jsonb;
    message text;
    on_shard boolean := false;
BEGIN
    -- A table Citus distributes is, on the node running this, one of its
    -- shards when the relation is not itself in Citus's metadata.
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
        EXECUTE 'SELECT NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = $1)' INTO on_shard USING TG_RELID;
    END IF;
    FOREACH changed IN ARRAY CASE TG_OP
        WHEN 'INSERT' THEN ARRAY[to_jsonb(NEW)]
        WHEN 'DELETE' THEN ARRAY[to_jsonb(OLD)]
        ELSE ARRAY[to_jsonb(OLD), to_jsonb(NEW)] END
    LOOP
        message := TG_ARGV[0] || ' ' || (changed ->> TG_ARGV[1]);
        IF TG_NARGS > 2 THEN
            message := message || ' ' || (changed ->> TG_ARGV[2]);
        END IF;
        IF on_shard THEN
            RAISE NOTICE USING MESSAGE = 'takaro_identity_relay ' || message;
        ELSE
            PERFORM pg_notify('takaro_identity', message);
            RAISE NOTICE USING MESSAGE = 'takaro_identity ' || message;
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION takaro_identity_changed() RETURNS trigger LANGUAGE plpgsql AS $$
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
