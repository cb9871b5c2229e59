-- The shop: categories, listings of a game server's items, and orders
-- paid from a player's balance on that server.

-- +goose Up
CREATE TABLE shop_categories (
    domain     text        NOT NULL,
    id         uuid        NOT NULL DEFAULT gen_random_uuid(),
    name       text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 50),
    emoji      text        NOT NULL CHECK (char_length(emoji) BETWEEN 1 AND 10),
    parent_id  uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (domain, id),
    CHECK (parent_id <> id)
);
-- Names are unique in a domain whatever their case, as in the reference.
CREATE UNIQUE INDEX shop_categories_name_key ON shop_categories (domain, lower(name));
CREATE INDEX shop_categories_parent_idx ON shop_categories (domain, parent_id);

CREATE TABLE shop_listings (
    domain        text        NOT NULL,
    id            uuid        NOT NULL DEFAULT gen_random_uuid(),
    gameserver_id uuid        NOT NULL,
    name          text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 255),
    price         integer     NOT NULL CHECK (price > 0),
    draft         boolean     NOT NULL DEFAULT false,
    deleted_at    timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (domain, id)
);
CREATE INDEX shop_listings_gameserver_idx ON shop_listings (domain, gameserver_id) WHERE deleted_at IS NULL;

CREATE TABLE shop_listing_items (
    domain     text    NOT NULL,
    id         uuid    NOT NULL DEFAULT gen_random_uuid(),
    listing_id uuid    NOT NULL,
    item_id    uuid    NOT NULL,
    amount     integer NOT NULL DEFAULT 1 CHECK (amount > 0),
    quality    text    CHECK (char_length(quality) BETWEEN 1 AND 255),
    position   integer NOT NULL,
    PRIMARY KEY (domain, id)
);
CREATE INDEX shop_listing_items_listing_idx ON shop_listing_items (domain, listing_id, position);
CREATE INDEX shop_listing_items_item_idx ON shop_listing_items (domain, item_id);

CREATE TABLE shop_listing_categories (
    domain      text NOT NULL,
    listing_id  uuid NOT NULL,
    category_id uuid NOT NULL,
    PRIMARY KEY (domain, listing_id, category_id)
);
CREATE INDEX shop_listing_categories_category_idx ON shop_listing_categories (domain, category_id);

-- total_price is what the player paid; a cancellation refunds exactly
-- that (the reference refunds the listing's price at the time).
CREATE TABLE shop_orders (
    domain        text        NOT NULL,
    id            uuid        NOT NULL DEFAULT gen_random_uuid(),
    listing_id    uuid        NOT NULL,
    player_id     uuid        NOT NULL,
    gameserver_id uuid        NOT NULL,
    amount        integer     NOT NULL CHECK (amount > 0),
    total_price   integer     NOT NULL CHECK (total_price > 0),
    status        text        NOT NULL DEFAULT 'PAID' CHECK (status IN ('PAID', 'COMPLETED', 'CANCELED')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (domain, id)
);
CREATE INDEX shop_orders_listing_idx ON shop_orders (domain, listing_id, status);
CREATE INDEX shop_orders_player_idx ON shop_orders (domain, player_id, created_at);

CREATE TRIGGER shop_categories_updated_at BEFORE UPDATE ON shop_categories FOR EACH ROW EXECUTE FUNCTION takaro_set_updated_at();
CREATE TRIGGER shop_listings_updated_at BEFORE UPDATE ON shop_listings FOR EACH ROW EXECUTE FUNCTION takaro_set_updated_at();
CREATE TRIGGER shop_orders_updated_at BEFORE UPDATE ON shop_orders FOR EACH ROW EXECUTE FUNCTION takaro_set_updated_at();

SELECT takaro_isolate_tenant_table('shop_categories');
SELECT takaro_isolate_tenant_table('shop_listings');
SELECT takaro_isolate_tenant_table('shop_listing_items');
SELECT takaro_isolate_tenant_table('shop_listing_categories');
SELECT takaro_isolate_tenant_table('shop_orders');

ALTER TABLE shop_categories ADD FOREIGN KEY (domain) REFERENCES domains (id) ON DELETE CASCADE;
-- Deleting a category moves its children to the root first (postgres/shop.go).
ALTER TABLE shop_categories ADD FOREIGN KEY (domain, parent_id) REFERENCES shop_categories (domain, id);
ALTER TABLE shop_listings ADD FOREIGN KEY (domain) REFERENCES domains (id) ON DELETE CASCADE;
ALTER TABLE shop_listings ADD FOREIGN KEY (domain, gameserver_id) REFERENCES gameservers (domain, id) ON DELETE CASCADE;
ALTER TABLE shop_listing_items ADD FOREIGN KEY (domain) REFERENCES domains (id) ON DELETE CASCADE;
ALTER TABLE shop_listing_items ADD FOREIGN KEY (domain, listing_id) REFERENCES shop_listings (domain, id) ON DELETE CASCADE;
ALTER TABLE shop_listing_items ADD FOREIGN KEY (domain, item_id) REFERENCES items (domain, id) ON DELETE CASCADE;
ALTER TABLE shop_listing_categories ADD FOREIGN KEY (domain) REFERENCES domains (id) ON DELETE CASCADE;
ALTER TABLE shop_listing_categories ADD FOREIGN KEY (domain, listing_id) REFERENCES shop_listings (domain, id) ON DELETE CASCADE;
ALTER TABLE shop_listing_categories ADD FOREIGN KEY (domain, category_id) REFERENCES shop_categories (domain, id) ON DELETE CASCADE;
ALTER TABLE shop_orders ADD FOREIGN KEY (domain) REFERENCES domains (id) ON DELETE CASCADE;
ALTER TABLE shop_orders ADD FOREIGN KEY (domain, listing_id) REFERENCES shop_listings (domain, id) ON DELETE CASCADE;
ALTER TABLE shop_orders ADD FOREIGN KEY (domain, player_id) REFERENCES players (domain, id) ON DELETE CASCADE;
ALTER TABLE shop_orders ADD FOREIGN KEY (domain, gameserver_id) REFERENCES gameservers (domain, id) ON DELETE CASCADE;

-- +goose Down
DROP TABLE shop_orders;
DROP TABLE shop_listing_categories;
DROP TABLE shop_listing_items;
DROP TABLE shop_listings;
DROP TABLE shop_categories;
