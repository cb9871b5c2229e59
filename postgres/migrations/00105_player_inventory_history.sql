-- What players carried on a game server, over time: snapshots of their
-- inventories, partitioned by day like player_location (00081) and for
-- the same reasons.

-- +goose Up
-- One row per item of a snapshot; the rows of one snapshot share their
-- created_at. pog_id is the player's presence on the server; player_id and
-- gameserver_id are copied from it so that the search by player reads one
-- index range. quantity is the sum of the player's stacks of the item.
CREATE TABLE player_inventory_history (
    domain        text        NOT NULL,
    id            uuid        NOT NULL DEFAULT gen_random_uuid(),
    pog_id        uuid        NOT NULL,
    player_id     uuid        NOT NULL,
    gameserver_id uuid        NOT NULL,
    item_id       uuid        NOT NULL,
    quantity      bigint      NOT NULL CHECK (quantity >= 0),
    quality       text        CHECK (char_length(quality) BETWEEN 1 AND 255),
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (domain, created_at, id)
) PARTITION BY RANGE (created_at);
CREATE INDEX player_inventory_history_player_idx ON player_inventory_history (domain, player_id, created_at);
CREATE INDEX player_inventory_history_item_idx ON player_inventory_history (domain, item_id, created_at);
CREATE INDEX player_inventory_history_gameserver_idx ON player_inventory_history (domain, gameserver_id, created_at);

SELECT takaro_isolate_tenant_table('player_inventory_history');

ALTER TABLE player_inventory_history ADD FOREIGN KEY (domain) REFERENCES domains (id) ON DELETE CASCADE;
ALTER TABLE player_inventory_history ADD FOREIGN KEY (domain, pog_id) REFERENCES player_on_gameserver (domain, id) ON DELETE CASCADE;
ALTER TABLE player_inventory_history ADD FOREIGN KEY (domain, gameserver_id) REFERENCES gameservers (domain, id) ON DELETE CASCADE;
ALTER TABLE player_inventory_history ADD FOREIGN KEY (domain, item_id) REFERENCES items (domain, id) ON DELETE CASCADE;

-- Partitions are made by the data core (postgres/tracking.go), as for
-- player_location.

-- +goose Down
DROP TABLE player_inventory_history;
