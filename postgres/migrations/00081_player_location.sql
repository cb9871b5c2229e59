-- Where players were on a game server, over time: the fastest-growing
-- table, partitioned by day so that retention can drop whole days.

-- +goose Up
-- The primary key leads with domain like every tenant key; created_at is
-- in it because a partitioned table's unique keys must hold the partition
-- key. pog_id is the player's presence on the server; player_id and
-- gameserver_id are copied from it so that the searches by player and by
-- server each read one index range.
CREATE TABLE player_location (
    domain        text          NOT NULL,
    id            uuid          NOT NULL DEFAULT gen_random_uuid(),
    pog_id        uuid          NOT NULL,
    player_id     uuid          NOT NULL,
    gameserver_id uuid          NOT NULL,
    x             numeric(10,3) NOT NULL,
    y             numeric(10,3) NOT NULL,
    z             numeric(10,3) NOT NULL,
    dimension     text          CHECK (char_length(dimension) BETWEEN 1 AND 255),
    created_at    timestamptz   NOT NULL DEFAULT now(),
    PRIMARY KEY (domain, created_at, id)
) PARTITION BY RANGE (created_at);
CREATE INDEX player_location_player_idx ON player_location (domain, player_id, created_at);
CREATE INDEX player_location_gameserver_idx ON player_location (domain, gameserver_id, created_at);

SELECT takaro_isolate_tenant_table('player_location');

ALTER TABLE player_location ADD FOREIGN KEY (domain) REFERENCES domains (id) ON DELETE CASCADE;
ALTER TABLE player_location ADD FOREIGN KEY (domain, pog_id) REFERENCES player_on_gameserver (domain, id) ON DELETE CASCADE;
ALTER TABLE player_location ADD FOREIGN KEY (domain, gameserver_id) REFERENCES gameservers (domain, id) ON DELETE CASCADE;

-- takaro_ensure_day_partitions gives parent, a table partitioned by range
-- of created_at, one partition per UTC day for the days days from
-- first_day on, each named <parent>_YYYYMMDD and isolated like every tenant
-- table (a partition read directly is subject to its own policies, not to
-- its parent's). Existing partitions are left alone; the transaction lock
-- lets several instances call it at once. It returns how many it created.
-- +goose StatementBegin
CREATE FUNCTION takaro_ensure_day_partitions(parent regclass, first_day date, days integer) RETURNS integer
    LANGUAGE plpgsql AS $$
DECLARE
    day  date;
    name text;
    made integer := 0;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('takaro partitions'), parent::oid::integer);
    FOR i IN 0 .. days - 1 LOOP
        day := first_day + i;
        name := format('%s_%s', parent::text, to_char(day, 'YYYYMMDD'));
        IF to_regclass(name) IS NULL THEN
            EXECUTE format('CREATE TABLE %I PARTITION OF %s FOR VALUES FROM (%L) TO (%L)', name, parent,
                day::timestamp AT TIME ZONE 'UTC', (day + 1)::timestamp AT TIME ZONE 'UTC');
            PERFORM takaro_isolate_tenant_table(name::regclass);
            made := made + 1;
        END IF;
    END LOOP;
    RETURN made;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION takaro_ensure_day_partitions(regclass, date, integer);
DROP TABLE player_location;
