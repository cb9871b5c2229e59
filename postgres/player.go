package postgres

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

var _ takaro.PlayerService = (*DB)(nil)

// playerObject embeds the player's current role assignments.
var playerObject = jsonFields{
	{"id", "id"}, {"createdAt", "created_at"}, {"updatedAt", "updated_at"}, {"name", "name"},
	{"steamId", "steam_id"}, {"xboxLiveId", "xbox_live_id"}, {"epicOnlineServicesId", "epic_online_services_id"},
	{"platformId", "platform_id"}, {"playtimeSeconds", "playtime_seconds"},
	{"steamAvatar", "steam_avatar"}, {"steamLastFetch", "steam_last_fetch"}, {"steamAccountCreated", "steam_account_created"},
	{"steamCommunityBanned", "steam_community_banned"}, {"steamEconomyBan", "steam_economy_ban"},
	{"steamVacBanned", "steam_vac_banned"}, {"steamsDaysSinceLastBan", "steam_days_since_last_ban"},
	{"steamNumberOfVACBans", "steam_number_of_vac_bans"}, {"steamLevel", "steam_level"},
	{"roleAssignments", `(SELECT coalesce(json_agg(a.o ORDER BY a.implicit, a.name` + textOrder + `, a.id), '[]'::json) FROM (
		SELECT json_build_object('id', rop.id, 'createdAt', rop.created_at, 'updatedAt', rop.updated_at,
			'playerId', rop.player_id, 'roleId', rop.role_id, 'gameServerId', rop.gameserver_id,
			'expiresAt', rop.expires_at, 'role', ` + roleObject.build("r") + `) AS o, false AS implicit, r.name, rop.id
		FROM role_on_player rop JOIN roles r ON r.domain = rop.domain AND r.id = rop.role_id
		WHERE rop.domain = $1 AND rop.player_id = {t}.id AND (rop.expires_at IS NULL OR rop.expires_at > now())
		UNION ALL
		SELECT json_build_object('playerId', {t}.id, 'roleId', r.id, 'role', ` + roleObject.build("r") + `), true, r.name, r.id
		FROM roles r WHERE ` + implicitRole("r", takaro.RolePlayer) + `) a)`},
}

// playerHistory adds, to a single player's read, the latest addresses and
// names seen for the player, newest first.
var playerHistory = []jsonField{
	{"ipHistory", `(SELECT coalesce(json_agg(json_build_object('createdAt', h.created_at, 'ip', h.ip, 'country', h.country,
		'city', h.city, 'latitude', h.latitude, 'longitude', h.longitude) ORDER BY h.created_at DESC, h.id), '[]'::json)
		FROM (SELECT * FROM player_ip_history x WHERE x.domain = $1 AND x.player_id = {t}.id
			ORDER BY x.created_at DESC, x.id LIMIT ` + strconv.Itoa(takaro.PlayerHistoryLength) + `) h)`},
	{"nameHistory", `(SELECT coalesce(json_agg(json_build_object('id', h.id, 'createdAt', h.created_at,
		'updatedAt', h.updated_at, 'name', h.name) ORDER BY h.created_at DESC, h.id), '[]'::json)
		FROM (SELECT * FROM player_name_history x WHERE x.domain = $1 AND x.player_id = {t}.id
			ORDER BY x.created_at DESC, x.id LIMIT ` + strconv.Itoa(takaro.PlayerHistoryLength) + `) h)`},
}

// playerRelation embeds the player a row of alias t refers to
// (t.player_id), for extend.
var playerRelation = `(SELECT ` + playerObject.build("p") + ` FROM players p WHERE p.domain = $1 AND p.id = t.player_id)`

var playerOnGameServerObject = jsonFields{
	{"id", "id"}, {"createdAt", "created_at"}, {"updatedAt", "updated_at"}, {"playerId", "player_id"},
	{"gameServerId", "gameserver_id"}, {"gameId", "game_id"}, {"online", "online"}, {"currency", "currency"},
	{"ping", "ping"}, {"ip", "ip"}, {"positionX", "position_x"}, {"positionY", "position_y"}, {"positionZ", "position_z"},
	{"dimension", "dimension"}, {"lastSeen", "last_seen"}, {"playtimeSeconds", "playtime_seconds"},
}

var playerSearch = &searchSpec{
	table:  "players",
	object: playerObject,
	fields: withCommonFields(map[string]field{
		"name":                 {column: "t.name", kind: kindText, ops: opFilter | opSearch | opSort, nullable: true},
		"steamId":              {column: "t.steam_id", kind: kindText, ops: opFilter | opSearch},
		"xboxLiveId":           {column: "t.xbox_live_id", kind: kindText, ops: opFilter},
		"epicOnlineServicesId": {column: "t.epic_online_services_id", kind: kindText, ops: opFilter},
		"platformId":           {column: "t.platform_id", kind: kindText, ops: opFilter | opSearch},
		"playtimeSeconds":      {column: "t.playtime_seconds", kind: kindInt, ops: opRange | opSort},
		"roleId": {kind: kindUUID, ops: opFilter, filterSQL: `(EXISTS (SELECT 1 FROM role_on_player x
			WHERE x.domain = $1 AND x.player_id = t.id AND x.role_id = ANY(%[1]s)
			AND (x.expires_at IS NULL OR x.expires_at > now())) OR ` + holdsImplicitRole + `)`},
	}),
	extend: map[string]string{
		"roleAssignments": "",
		"playerOnGameServers": `(SELECT coalesce(json_agg(` + playerOnGameServerObject.build("pog") + ` ORDER BY pog.id), '[]'::json)
			FROM player_on_gameserver pog WHERE pog.domain = $1 AND pog.player_id = t.id)`,
	},
}

var playerOnGameServerSearch = &searchSpec{
	table:  "player_on_gameserver",
	object: playerOnGameServerObject,
	fields: withCommonFields(map[string]field{
		"gameId":          {column: "t.game_id", kind: kindText, ops: opFilter | opSearch | opSort},
		"gameServerId":    {column: "t.gameserver_id", kind: kindUUID, ops: opFilter},
		"playerId":        {column: "t.player_id", kind: kindUUID, ops: opFilter},
		"online":          {column: "t.online", kind: kindBool, ops: opFilter | opSort},
		"ip":              {column: "t.ip", kind: kindText, ops: opFilter | opSearch},
		"dimension":       {column: "t.dimension", kind: kindText, ops: opFilter},
		"ping":            {column: "t.ping", kind: kindInt, ops: opRange | opSort, nullable: true},
		"currency":        {column: "t.currency", kind: kindInt, ops: opRange | opSort},
		"lastSeen":        {column: "t.last_seen", kind: kindTime, ops: opRange | opSort},
		"playtimeSeconds": {column: "t.playtime_seconds", kind: kindInt, ops: opRange | opSort},
	}),
	extend: map[string]string{
		"gameServer": gameServerRelation,
		"player":     playerRelation,
	},
}

// UpsertPlayer creates a player or updates the one with the same platform
// identity.
func (db *DB) UpsertPlayer(ctx context.Context, in takaro.PlayerUpsert) (*takaro.Player, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var player takaro.Player
	err := db.inDomain(ctx, func(tx *Tx) error {
		// Two upserts of a player nobody has seen yet both find no row. The
		// insert of the second waits for the first and then inserts
		// nothing; looking again finds the first one's player.
		for attempt := 0; ; attempt++ {
			rows, err := tx.Query(ctx, `SELECT id FROM players WHERE domain = $1
				AND (steam_id = $2 OR xbox_live_id = $3 OR epic_online_services_id = $4 OR platform_id = $5) FOR UPDATE`,
				tx.Domain, in.SteamID, in.XboxLiveID, in.EpicOnlineServicesID, in.PlatformID)
			if err != nil {
				return err
			}
			ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
			if err != nil {
				return err
			}
			switch len(ids) {
			case 0:
				err = tx.QueryRow(ctx, playerObject.returning(`INSERT INTO players AS t (domain, name, steam_id, xbox_live_id, epic_online_services_id, platform_id)
					VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`),
					tx.Domain, in.Name, in.SteamID, in.XboxLiveID, in.EpicOnlineServicesID, in.PlatformID).Scan(&player)
				if errors.Is(err, pgx.ErrNoRows) {
					if attempt < 3 {
						continue
					}
					return takaro.Errorf(takaro.CodeConflict, "The player was changed concurrently; try again")
				}
				if err != nil {
					return translateError(err, "player")
				}
				if err := recordEvent(ctx, tx, takaro.EventCreate{EventName: takaro.EventPlayerCreated, PlayerID: &player.ID}); err != nil {
					return err
				}
				return observeName(ctx, tx, player.ID, nil, in.Name)
			case 1:
				err = tx.QueryRow(ctx, playerObject.returning(`UPDATE players AS t SET name = coalesce($3, t.name), steam_id = coalesce($4, t.steam_id),
						xbox_live_id = coalesce($5, t.xbox_live_id), epic_online_services_id = coalesce($6, t.epic_online_services_id),
						platform_id = coalesce($7, t.platform_id)
					WHERE t.domain = $1 AND t.id = $2`),
					tx.Domain, ids[0], in.Name, in.SteamID, in.XboxLiveID, in.EpicOnlineServicesID, in.PlatformID).Scan(&player)
				if err != nil {
					return translateError(err, "player")
				}
				return observeName(ctx, tx, player.ID, nil, in.Name)
			}
			return takaro.Errorf(takaro.CodeConflict, "The given platform ids belong to different players")
		}
	})
	if err != nil {
		return nil, err
	}
	return &player, nil
}

// observeName records name in the player's name history, with a
// player-new-name-detected event, unless it is the name last recorded.
// A nil name observes nothing.
func observeName(ctx context.Context, tx *Tx, playerID uuid.UUID, gameServerID *uuid.UUID, name *string) error {
	if name == nil {
		return nil
	}
	var last *string
	err := tx.QueryRow(ctx, `SELECT name FROM player_name_history WHERE domain = $1 AND player_id = $2
		ORDER BY created_at DESC, id DESC LIMIT 1`, tx.Domain, playerID).Scan(&last)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	if last != nil && *last == *name {
		return nil
	}
	if _, err := tx.Exec(ctx, `INSERT INTO player_name_history (domain, player_id, gameserver_id, name) VALUES ($1, $2, $3, $4)`,
		tx.Domain, playerID, gameServerID, *name); err != nil {
		return translateError(err, "name history")
	}
	return recordEvent(ctx, tx, takaro.EventCreate{EventName: takaro.EventPlayerNewName, PlayerID: &playerID,
		GameserverID: gameServerID, Meta: eventMeta("oldName", last, "newName", *name)})
}

// observeIP records ip in the player's IP history, with a
// player-new-ip-detected event, unless it is the address last recorded.
// A nil address observes nothing.
func observeIP(ctx context.Context, tx *Tx, playerID, gameServerID uuid.UUID, ip *string) error {
	if ip == nil {
		return nil
	}
	var last string
	err := tx.QueryRow(ctx, `SELECT ip FROM player_ip_history WHERE domain = $1 AND player_id = $2
		ORDER BY created_at DESC, id DESC LIMIT 1`, tx.Domain, playerID).Scan(&last)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	if err == nil && last == *ip {
		return nil
	}
	if _, err := tx.Exec(ctx, `INSERT INTO player_ip_history (domain, player_id, gameserver_id, ip) VALUES ($1, $2, $3, $4)`,
		tx.Domain, playerID, gameServerID, *ip); err != nil {
		return translateError(err, "IP history")
	}
	return recordEvent(ctx, tx, takaro.EventCreate{EventName: takaro.EventPlayerNewIP, PlayerID: &playerID,
		GameserverID: &gameServerID, Meta: eventMeta("ip", *ip, "country", nil, "city", nil, "latitude", nil, "longitude", nil)})
}

// FindPlayerByID returns a player with their current role assignments.
func (db *DB) FindPlayerByID(ctx context.Context, id uuid.UUID) (*takaro.Player, error) {
	return findByID[takaro.Player](ctx, db, "players", slices.Concat(playerObject, playerHistory), id, "Player", "")
}

// FindPlayers searches players.
func (db *DB) FindPlayers(ctx context.Context, q takaro.Query) (*takaro.Page[takaro.Player], error) {
	return search[takaro.Player](ctx, db, playerSearch, q)
}

// DeletePlayer deletes a player with their presences, roles and variables,
// and unlinks the users linked to them. The unlinking is a statement of
// its own, sent with the delete, rather than a key's ON DELETE SET NULL
// (player_id), which Citus does not support.
func (db *DB) DeletePlayer(ctx context.Context, id uuid.UUID) error {
	return db.inDomain(ctx, func(tx *Tx) error {
		b := &pgx.Batch{}
		b.Queue("UPDATE users SET player_id = NULL WHERE domain = $1 AND player_id = $2", tx.Domain, id)
		var tag pgconn.CommandTag
		b.Queue("DELETE FROM players WHERE domain = $1 AND id = $2", tx.Domain, id).Exec(func(ct pgconn.CommandTag) error {
			tag = ct
			return nil
		})
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return takaro.NotFound("Player", id)
		}
		return recordEvent(ctx, tx, takaro.EventCreate{EventName: takaro.EventPlayerDeleted, PlayerID: &id})
	})
}

// DeletePlayers deletes the listed players that exist, in one statement
// that also records a player-deleted event for each.
func (db *DB) DeletePlayers(ctx context.Context, in takaro.PlayerBulkDelete) (*takaro.PlayerBulkDeleteResult, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	deleted := map[uuid.UUID]bool{}
	err := db.inDomain(ctx, func(tx *Tx) error {
		var actor *uuid.UUID
		if p, err := takaro.PrincipalFrom(ctx); err == nil && p.UserID != uuid.Nil {
			actor = &p.UserID
		}
		rows, err := tx.Query(ctx, `WITH gone AS (DELETE FROM players WHERE domain = $1 AND id = ANY($2) RETURNING id)
			INSERT INTO events (domain, event_name, player_id, acting_user_id, meta)
			SELECT $1, $3, gone.id, $4, '{}' FROM gone RETURNING player_id`,
			tx.Domain, in.PlayerIDs, takaro.EventPlayerDeleted, actor)
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		for _, id := range ids {
			deleted[id] = true
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	res := &takaro.PlayerBulkDeleteResult{Errors: []takaro.PlayerBulkDeleteError{}}
	seen := map[uuid.UUID]bool{}
	for _, id := range in.PlayerIDs {
		if seen[id] {
			continue
		}
		seen[id] = true
		if deleted[id] {
			res.Deleted++
			continue
		}
		res.Failed++
		res.Errors = append(res.Errors, takaro.PlayerBulkDeleteError{PlayerID: id, Reason: "Player not found"})
	}
	return res, nil
}

// AssignPlayerRole gives a player a role, globally or on one game server.
func (db *DB) AssignPlayerRole(ctx context.Context, playerID, roleID uuid.UUID, gameServerID *uuid.UUID, expiresAt *time.Time) error {
	return db.inDomain(ctx, func(tx *Tx) error {
		if err := checkAssignable(ctx, tx, "players", "Player", playerID, roleID); err != nil {
			return err
		}
		if err := checkReferences(ctx, tx, reference{"gameServerId", gameServerID, refGameServer}); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO role_on_player (domain, player_id, role_id, gameserver_id, expires_at)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT ON CONSTRAINT role_on_player_assignment_key DO UPDATE SET expires_at = excluded.expires_at`,
			tx.Domain, playerID, roleID, gameServerID, expiresAt)
		if err != nil {
			return translateError(err, "role assignment")
		}
		return recordEvent(ctx, tx, takaro.EventCreate{EventName: takaro.EventRoleAssigned, PlayerID: &playerID,
			GameserverID: gameServerID, Meta: eventMeta("roleId", roleID)})
	})
}

// RemovePlayerRole takes a role from a player.
func (db *DB) RemovePlayerRole(ctx context.Context, playerID, roleID uuid.UUID, gameServerID *uuid.UUID) error {
	return db.inDomain(ctx, func(tx *Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM role_on_player WHERE domain = $1 AND player_id = $2 AND role_id = $3
			AND gameserver_id IS NOT DISTINCT FROM $4`, tx.Domain, playerID, roleID, gameServerID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return takaro.Errorf(takaro.CodeNotFound, "Player %s does not have role %s", playerID, roleID)
		}
		return recordEvent(ctx, tx, takaro.EventCreate{EventName: takaro.EventRoleRemoved, PlayerID: &playerID,
			GameserverID: gameServerID, Meta: eventMeta("roleId", roleID)})
	})
}

// UpsertPlayerOnGameServer records a player's presence on a game server.
func (db *DB) UpsertPlayerOnGameServer(ctx context.Context, in takaro.PlayerOnGameServerUpsert) (*takaro.PlayerOnGameServer, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var pog takaro.PlayerOnGameServer
	err := db.inDomain(ctx, func(tx *Tx) error {
		if err := checkReferences(ctx, tx, reference{"gameServerId", &in.GameServerID, refGameServer},
			reference{"playerId", &in.PlayerID, refPlayer}); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `WITH u AS (
				INSERT INTO player_on_gameserver AS t (domain, player_id, gameserver_id, game_id, online, ping, ip,
					position_x, position_y, position_z, dimension, playtime_seconds)
				VALUES ($1, $2, $3, $4, coalesce($5, false), $6, $7, $8, $9, $10, $11, coalesce($12, 0))
				ON CONFLICT (domain, gameserver_id, game_id) DO UPDATE SET
					online = coalesce($5, t.online), ping = coalesce($6, t.ping), ip = coalesce($7, t.ip),
					position_x = coalesce($8, t.position_x), position_y = coalesce($9, t.position_y),
					position_z = coalesce($10, t.position_z), dimension = coalesce($11, t.dimension),
					playtime_seconds = coalesce($12, t.playtime_seconds),
					last_seen = $13
				WHERE t.player_id = excluded.player_id
				RETURNING t.*)
			SELECT `+playerOnGameServerObject.build("u")+` FROM u`,
			tx.Domain, in.PlayerID, in.GameServerID, in.GameID, in.Online, in.Ping, in.IP,
			in.PositionX, in.PositionY, in.PositionZ, in.Dimension, in.PlaytimeSeconds, time.Now()).Scan(&pog)
		if errors.Is(err, pgx.ErrNoRows) {
			// The game id is taken by another player on this server.
			return takaro.Errorf(takaro.CodeConflict, "Game id %s belongs to another player on this game server", in.GameID)
		}
		if err != nil {
			return translateError(err, "player on game server")
		}
		return observeIP(ctx, tx, in.PlayerID, in.GameServerID, in.IP)
	})
	if err != nil {
		return nil, err
	}
	return &pog, nil
}

// FindPlayerOnGameServer returns a player's presence on a game server.
func (db *DB) FindPlayerOnGameServer(ctx context.Context, gameServerID, playerID uuid.UUID) (*takaro.PlayerOnGameServer, error) {
	var pog *takaro.PlayerOnGameServer
	err := db.readInDomain(ctx, func(b *pgx.Batch, domain string) {
		b.Queue("SELECT "+playerOnGameServerObject.build("t")+
			" FROM player_on_gameserver t WHERE t.domain = $1 AND t.gameserver_id = $2 AND t.player_id = $3",
			domain, gameServerID, playerID).Query(func(rows pgx.Rows) error {
			var err error
			pog, err = collectOptional[takaro.PlayerOnGameServer](rows)
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	if pog == nil {
		return nil, takaro.Errorf(takaro.CodeNotFound, "Player %s not found on game server %s", playerID, gameServerID)
	}
	return pog, nil
}

// FindPlayerOnGameServers searches presences.
func (db *DB) FindPlayerOnGameServers(ctx context.Context, q takaro.Query) (*takaro.Page[takaro.PlayerOnGameServer], error) {
	return search[takaro.PlayerOnGameServer](ctx, db, playerOnGameServerSearch, q)
}

// notOnGameServer is the reference's reason for a player a bulk delete
// could not remove.
const notOnGameServer = "POG not found for player on this gameserver"

// DeletePlayerOnGameServer removes a player from a game server.
func (db *DB) DeletePlayerOnGameServer(ctx context.Context, gameServerID, playerID uuid.UUID) error {
	var deleted []uuid.UUID
	err := db.inDomain(ctx, func(tx *Tx) error {
		var err error
		deleted, err = deletePlayersOnGameServer(ctx, tx, gameServerID, []uuid.UUID{playerID})
		return err
	})
	if err != nil {
		return err
	}
	if len(deleted) == 0 {
		return takaro.Errorf(takaro.CodeNotFound, "Player %s not found on game server %s", playerID, gameServerID)
	}
	return nil
}

// DeletePlayersOnGameServer removes several players from a game server in
// one transaction.
func (db *DB) DeletePlayersOnGameServer(ctx context.Context, gameServerID uuid.UUID, in takaro.PlayerBulkDelete) (*takaro.BulkDeleteResult, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var deleted []uuid.UUID
	err := db.inDomain(ctx, func(tx *Tx) error {
		if err := checkGameServer(ctx, tx, gameServerID); err != nil {
			return err
		}
		var err error
		deleted, err = deletePlayersOnGameServer(ctx, tx, gameServerID, in.PlayerIDs)
		return err
	})
	if err != nil {
		return nil, err
	}
	res := &takaro.BulkDeleteResult{Deleted: len(deleted), Errors: []takaro.BulkDeleteError{}}
	seen := map[uuid.UUID]bool{}
	for _, id := range in.PlayerIDs {
		if !slices.Contains(deleted, id) && !seen[id] {
			res.Errors = append(res.Errors, takaro.BulkDeleteError{PlayerID: id, Reason: notOnGameServer})
		}
		seen[id] = true
	}
	res.Failed = len(res.Errors)
	return res, nil
}

// deletePlayersOnGameServer deletes the presences and writes a
// player-deleted event for each (meta: the player's name) in one
// statement, and returns the players it removed.
func deletePlayersOnGameServer(ctx context.Context, tx *Tx, gameServerID uuid.UUID, playerIDs []uuid.UUID) ([]uuid.UUID, error) {
	rows, err := tx.Query(ctx, `WITH d AS (
			DELETE FROM player_on_gameserver t WHERE t.domain = $1 AND t.gameserver_id = $2 AND t.player_id = ANY($3)
			RETURNING t.player_id),
		e AS (
			INSERT INTO events (domain, event_name, player_id, gameserver_id, acting_user_id, meta)
			SELECT $1, $4, d.player_id, $2, $5, jsonb_build_object('playerName', coalesce(p.name, 'Unknown'))
			FROM d JOIN players p ON p.domain = $1 AND p.id = d.player_id)
		SELECT player_id FROM d`,
		tx.Domain, gameServerID, playerIDs, takaro.EventPlayerDeleted, actingUser(ctx))
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
}
