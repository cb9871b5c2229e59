-- Indexes that serve every sort of every search (postgres/search.go) on a
-- tenant of any size: each is (domain, sort column, id), the order of a
-- search sorted by that field with the id breaking ties, so that the first
-- page, a page after a cursor (a row comparison on the same columns) and
-- the bounded count all read a few index entries, in either direction.
-- Text is sorted in the ICU collation of every search ("und-x-icu"), so
-- those indexes are on the column in that collation. Sorting by id uses
-- the primary key. TestSearchPlans checks every sortable field of every
-- search against the planner.

-- +goose Up
CREATE INDEX bans_created_at_order_idx ON bans (domain, created_at, id);
CREATE INDEX bans_updated_at_order_idx ON bans (domain, updated_at, id);
CREATE INDEX bans_until_order_idx ON bans (domain, until, id);
CREATE INDEX commands_created_at_order_idx ON commands (domain, created_at, id);
CREATE INDEX commands_updated_at_order_idx ON commands (domain, updated_at, id);
CREATE INDEX commands_name_order_idx ON commands (domain, (name COLLATE "und-x-icu"), id);
CREATE INDEX commands_trigger_order_idx ON commands (domain, (trigger COLLATE "und-x-icu"), id);
CREATE INDEX cron_jobs_created_at_order_idx ON cron_jobs (domain, created_at, id);
CREATE INDEX cron_jobs_updated_at_order_idx ON cron_jobs (domain, updated_at, id);
CREATE INDEX cron_jobs_name_order_idx ON cron_jobs (domain, (name COLLATE "und-x-icu"), id);
CREATE INDEX entities_created_at_order_idx ON entities (domain, created_at, id);
CREATE INDEX entities_updated_at_order_idx ON entities (domain, updated_at, id);
CREATE INDEX entities_name_order_idx ON entities (domain, (name COLLATE "und-x-icu"), id);
CREATE INDEX entities_code_order_idx ON entities (domain, (code COLLATE "und-x-icu"), id);
CREATE INDEX entities_type_order_idx ON entities (domain, type, id);
CREATE INDEX entities_code_length_order_idx ON entities (domain, (length(code)), id);
CREATE INDEX events_created_at_order_idx ON events (domain, created_at, id);
CREATE INDEX events_event_name_order_idx ON events (domain, event_name, id);
CREATE INDEX functions_created_at_order_idx ON functions (domain, created_at, id);
CREATE INDEX functions_updated_at_order_idx ON functions (domain, updated_at, id);
CREATE INDEX functions_name_order_idx ON functions (domain, (name COLLATE "und-x-icu"), id);
CREATE INDEX gameservers_created_at_order_idx ON gameservers (domain, created_at, id);
CREATE INDEX gameservers_updated_at_order_idx ON gameservers (domain, updated_at, id);
CREATE INDEX gameservers_name_order_idx ON gameservers (domain, (name COLLATE "und-x-icu"), id);
CREATE INDEX gameservers_type_order_idx ON gameservers (domain, type, id);
CREATE INDEX hooks_created_at_order_idx ON hooks (domain, created_at, id);
CREATE INDEX hooks_updated_at_order_idx ON hooks (domain, updated_at, id);
CREATE INDEX hooks_name_order_idx ON hooks (domain, (name COLLATE "und-x-icu"), id);
CREATE INDEX hooks_event_type_order_idx ON hooks (domain, event_type, id);
CREATE INDEX items_created_at_order_idx ON items (domain, created_at, id);
CREATE INDEX items_updated_at_order_idx ON items (domain, updated_at, id);
CREATE INDEX items_name_order_idx ON items (domain, (name COLLATE "und-x-icu"), id);
CREATE INDEX items_code_order_idx ON items (domain, (code COLLATE "und-x-icu"), id);
CREATE INDEX items_code_length_order_idx ON items (domain, (length(code)), id);
CREATE INDEX modules_created_at_order_idx ON modules (domain, created_at, id);
CREATE INDEX modules_updated_at_order_idx ON modules (domain, updated_at, id);
CREATE INDEX modules_name_order_idx ON modules (domain, (name COLLATE "und-x-icu"), id);
CREATE INDEX modules_author_order_idx ON modules (domain, (author COLLATE "und-x-icu"), id);
CREATE INDEX module_versions_created_at_order_idx ON module_versions (domain, created_at, id);
CREATE INDEX module_versions_updated_at_order_idx ON module_versions (domain, updated_at, id);
CREATE INDEX module_versions_tag_order_idx ON module_versions (domain, (tag COLLATE "und-x-icu"), id);
CREATE INDEX module_installations_created_at_order_idx ON module_installations (domain, created_at, id);
CREATE INDEX module_installations_updated_at_order_idx ON module_installations (domain, updated_at, id);
CREATE INDEX players_created_at_order_idx ON players (domain, created_at, id);
CREATE INDEX players_updated_at_order_idx ON players (domain, updated_at, id);
CREATE INDEX players_name_order_idx ON players (domain, (name COLLATE "und-x-icu"), id);
CREATE INDEX players_playtime_seconds_order_idx ON players (domain, playtime_seconds, id);
CREATE INDEX player_on_gameserver_created_at_order_idx ON player_on_gameserver (domain, created_at, id);
CREATE INDEX player_on_gameserver_updated_at_order_idx ON player_on_gameserver (domain, updated_at, id);
CREATE INDEX player_on_gameserver_game_id_order_idx ON player_on_gameserver (domain, (game_id COLLATE "und-x-icu"), id);
CREATE INDEX player_on_gameserver_online_order_idx ON player_on_gameserver (domain, online, id);
CREATE INDEX player_on_gameserver_ping_order_idx ON player_on_gameserver (domain, ping, id);
CREATE INDEX player_on_gameserver_currency_order_idx ON player_on_gameserver (domain, currency, id);
CREATE INDEX player_on_gameserver_last_seen_order_idx ON player_on_gameserver (domain, last_seen, id);
CREATE INDEX player_on_gameserver_playtime_seconds_order_idx ON player_on_gameserver (domain, playtime_seconds, id);
CREATE INDEX roles_created_at_order_idx ON roles (domain, created_at, id);
CREATE INDEX roles_updated_at_order_idx ON roles (domain, updated_at, id);
CREATE INDEX roles_name_order_idx ON roles (domain, (name COLLATE "und-x-icu"), id);
CREATE INDEX shop_categories_created_at_order_idx ON shop_categories (domain, created_at, id);
CREATE INDEX shop_categories_updated_at_order_idx ON shop_categories (domain, updated_at, id);
CREATE INDEX shop_categories_name_order_idx ON shop_categories (domain, (name COLLATE "und-x-icu"), id);
CREATE INDEX shop_listings_created_at_order_idx ON shop_listings (domain, created_at, id);
CREATE INDEX shop_listings_updated_at_order_idx ON shop_listings (domain, updated_at, id);
CREATE INDEX shop_listings_name_order_idx ON shop_listings (domain, (name COLLATE "und-x-icu"), id);
CREATE INDEX shop_listings_price_order_idx ON shop_listings (domain, price, id);
CREATE INDEX shop_orders_created_at_order_idx ON shop_orders (domain, created_at, id);
CREATE INDEX shop_orders_updated_at_order_idx ON shop_orders (domain, updated_at, id);
CREATE INDEX shop_orders_amount_order_idx ON shop_orders (domain, amount, id);
CREATE INDEX users_created_at_order_idx ON users (domain, created_at, id);
CREATE INDEX users_updated_at_order_idx ON users (domain, updated_at, id);
CREATE INDEX users_name_order_idx ON users (domain, (name COLLATE "und-x-icu"), id);
CREATE INDEX users_email_order_idx ON users (domain, (email COLLATE "und-x-icu"), id);
CREATE INDEX users_last_seen_order_idx ON users (domain, last_seen, id);
CREATE INDEX variables_created_at_order_idx ON variables (domain, created_at, id);
CREATE INDEX variables_updated_at_order_idx ON variables (domain, updated_at, id);
CREATE INDEX variables_key_order_idx ON variables (domain, (key COLLATE "und-x-icu"), id);
CREATE INDEX variables_expires_at_order_idx ON variables (domain, expires_at, id);
CREATE INDEX domains_name_order_idx ON domains ((name COLLATE "und-x-icu"), id);
CREATE INDEX domains_state_order_idx ON domains (state, id);
CREATE INDEX domains_created_at_order_idx ON domains (created_at, id);
CREATE INDEX domains_updated_at_order_idx ON domains (updated_at, id);

-- events, the largest table by far: its updatedAt sorts and ranges read
-- created_at (an event is never updated, and both are set by the same
-- insert), so it needs no index of its own. These replace the indexes of
-- 00004 with the id appended, and serve each documented filter (with the
-- newest events first, the order a log is read in).
DROP INDEX events_created_idx;
DROP INDEX events_name_idx;
CREATE INDEX events_event_name_created_idx ON events (domain, event_name, created_at, id);
CREATE INDEX events_player_id_idx ON events (domain, player_id, created_at, id);
CREATE INDEX events_gameserver_id_idx ON events (domain, gameserver_id, created_at, id);
CREATE INDEX events_module_id_idx ON events (domain, module_id, created_at, id);
CREATE INDEX events_user_id_idx ON events (domain, user_id, created_at, id);
CREATE INDEX events_acting_user_id_idx ON events (domain, acting_user_id, created_at, id);
CREATE INDEX events_acting_module_id_idx ON events (domain, acting_module_id, created_at, id);

-- +goose Down
DROP INDEX events_player_id_idx;
DROP INDEX events_gameserver_id_idx;
DROP INDEX events_module_id_idx;
DROP INDEX events_user_id_idx;
DROP INDEX events_acting_user_id_idx;
DROP INDEX events_acting_module_id_idx;
DROP INDEX events_event_name_created_idx;
CREATE INDEX events_name_idx ON events (domain, event_name, created_at);
CREATE INDEX events_created_idx ON events (domain, created_at);
DROP INDEX domains_updated_at_order_idx;
DROP INDEX domains_created_at_order_idx;
DROP INDEX domains_state_order_idx;
DROP INDEX domains_name_order_idx;
DROP INDEX variables_expires_at_order_idx;
DROP INDEX variables_key_order_idx;
DROP INDEX variables_updated_at_order_idx;
DROP INDEX variables_created_at_order_idx;
DROP INDEX users_last_seen_order_idx;
DROP INDEX users_email_order_idx;
DROP INDEX users_name_order_idx;
DROP INDEX users_updated_at_order_idx;
DROP INDEX users_created_at_order_idx;
DROP INDEX shop_orders_amount_order_idx;
DROP INDEX shop_orders_updated_at_order_idx;
DROP INDEX shop_orders_created_at_order_idx;
DROP INDEX shop_listings_price_order_idx;
DROP INDEX shop_listings_name_order_idx;
DROP INDEX shop_listings_updated_at_order_idx;
DROP INDEX shop_listings_created_at_order_idx;
DROP INDEX shop_categories_name_order_idx;
DROP INDEX shop_categories_updated_at_order_idx;
DROP INDEX shop_categories_created_at_order_idx;
DROP INDEX roles_name_order_idx;
DROP INDEX roles_updated_at_order_idx;
DROP INDEX roles_created_at_order_idx;
DROP INDEX player_on_gameserver_playtime_seconds_order_idx;
DROP INDEX player_on_gameserver_last_seen_order_idx;
DROP INDEX player_on_gameserver_currency_order_idx;
DROP INDEX player_on_gameserver_ping_order_idx;
DROP INDEX player_on_gameserver_online_order_idx;
DROP INDEX player_on_gameserver_game_id_order_idx;
DROP INDEX player_on_gameserver_updated_at_order_idx;
DROP INDEX player_on_gameserver_created_at_order_idx;
DROP INDEX players_playtime_seconds_order_idx;
DROP INDEX players_name_order_idx;
DROP INDEX players_updated_at_order_idx;
DROP INDEX players_created_at_order_idx;
DROP INDEX module_installations_updated_at_order_idx;
DROP INDEX module_installations_created_at_order_idx;
DROP INDEX module_versions_tag_order_idx;
DROP INDEX module_versions_updated_at_order_idx;
DROP INDEX module_versions_created_at_order_idx;
DROP INDEX modules_author_order_idx;
DROP INDEX modules_name_order_idx;
DROP INDEX modules_updated_at_order_idx;
DROP INDEX modules_created_at_order_idx;
DROP INDEX items_code_length_order_idx;
DROP INDEX items_code_order_idx;
DROP INDEX items_name_order_idx;
DROP INDEX items_updated_at_order_idx;
DROP INDEX items_created_at_order_idx;
DROP INDEX hooks_event_type_order_idx;
DROP INDEX hooks_name_order_idx;
DROP INDEX hooks_updated_at_order_idx;
DROP INDEX hooks_created_at_order_idx;
DROP INDEX gameservers_type_order_idx;
DROP INDEX gameservers_name_order_idx;
DROP INDEX gameservers_updated_at_order_idx;
DROP INDEX gameservers_created_at_order_idx;
DROP INDEX functions_name_order_idx;
DROP INDEX functions_updated_at_order_idx;
DROP INDEX functions_created_at_order_idx;
DROP INDEX events_event_name_order_idx;
DROP INDEX events_created_at_order_idx;
DROP INDEX entities_code_length_order_idx;
DROP INDEX entities_type_order_idx;
DROP INDEX entities_code_order_idx;
DROP INDEX entities_name_order_idx;
DROP INDEX entities_updated_at_order_idx;
DROP INDEX entities_created_at_order_idx;
DROP INDEX cron_jobs_name_order_idx;
DROP INDEX cron_jobs_updated_at_order_idx;
DROP INDEX cron_jobs_created_at_order_idx;
DROP INDEX commands_trigger_order_idx;
DROP INDEX commands_name_order_idx;
DROP INDEX commands_updated_at_order_idx;
DROP INDEX commands_created_at_order_idx;
DROP INDEX bans_until_order_idx;
DROP INDEX bans_updated_at_order_idx;
DROP INDEX bans_created_at_order_idx;
