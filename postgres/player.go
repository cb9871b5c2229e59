package postgres

import (
	"context"
	"errors"
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
	{"roleAssignments", `(SELECT coalesce(json_agg(json_build_object('id', rop.id, 'createdAt', rop.created_at,
		'updatedAt', rop.updated_at, 'playerId', rop.player_id, 'roleId', rop.role_id, 'gameServerId', rop.gameserver_id,
		'expiresAt', rop.expires_at, 'role', ` + roleObject.build("r") + `) ORDER BY r.name, rop.id), '[]'::json)
		FROM role_on_player rop JOIN roles r ON r.domain = rop.domain AND r.id = rop.role_id
		WHERE rop.domain = $1 AND rop.player_id = {t}.id AND (rop.expires_at IS NULL OR rop.expires_at > now()))`},
}

// playerRelation embeds the player a row of alias t refers to
// (t.player_id), for extend.
var playerRelation = `(SELECT ` + playerObject.build("p") + ` FROM players p WHERE p.domain = $1 AND p.id = t.player_id)`

var playerOnGameServerObject = jsonFields{
	{"id", "id"}, {"createdAt", "created_at"}, {"updatedAt", "updated_at"}, {"playerId", "player_id"},
	{"gameServerId", "gameserver_id"}, {"gameId", "game_id"}, {"online", "online"}, {"currency", "currency"},
	{"ping", "ping"}, {"ip", "ip"}, {"lastSeen", "last_seen"}, {"playtimeSeconds", "playtime_seconds"},
}

var playerSearch = &searchSpec{
	table:  "players",
	object: playerObject,
	fields: withCommonFields(map[string]field{
		"name":                 {column: "t.name", kind: kindText, ops: opFilter | opSearch | opSort},
		"steamId":              {column: "t.steam_id", kind: kindText, ops: opFilter | opSearch},
		"xboxLiveId":           {column: "t.xbox_live_id", kind: kindText, ops: opFilter},
		"epicOnlineServicesId": {column: "t.epic_online_services_id", kind: kindText, ops: opFilter},
		"platformId":           {column: "t.platform_id", kind: kindText, ops: opFilter | opSearch},
		"playtimeSeconds":      {column: "t.playtime_seconds", kind: kindInt, ops: opRange | opSort},
		"roleId": {kind: kindUUID, ops: opFilter, filterSQL: `EXISTS (SELECT 1 FROM role_on_player x
			WHERE x.domain = $1 AND x.player_id = t.id AND x.role_id = ANY(%s)
			AND (x.expires_at IS NULL OR x.expires_at > now()))`},
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
		"gameId":          {column: "t.game_id", kind: kindText, ops: opFilter | opSearch},
		"gameServerId":    {column: "t.gameserver_id", kind: kindUUID, ops: opFilter},
		"playerId":        {column: "t.player_id", kind: kindUUID, ops: opFilter},
		"online":          {column: "t.online", kind: kindBool, ops: opFilter},
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
				return recordEvent(ctx, tx, takaro.EventCreate{EventName: takaro.EventPlayerCreated, PlayerID: &player.ID})
			case 1:
				err = tx.QueryRow(ctx, playerObject.returning(`UPDATE players AS t SET name = coalesce($3, t.name), steam_id = coalesce($4, t.steam_id),
						xbox_live_id = coalesce($5, t.xbox_live_id), epic_online_services_id = coalesce($6, t.epic_online_services_id),
						platform_id = coalesce($7, t.platform_id)
					WHERE t.domain = $1 AND t.id = $2`),
					tx.Domain, ids[0], in.Name, in.SteamID, in.XboxLiveID, in.EpicOnlineServicesID, in.PlatformID).Scan(&player)
				return translateError(err, "player")
			}
			return takaro.Errorf(takaro.CodeConflict, "The given platform ids belong to different players")
		}
	})
	if err != nil {
		return nil, err
	}
	return &player, nil
}

// FindPlayerByID returns a player with their current role assignments.
func (db *DB) FindPlayerByID(ctx context.Context, id uuid.UUID) (*takaro.Player, error) {
	return findByID[takaro.Player](ctx, db, "players", playerObject, id, "Player", "")
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
		// excluded.last_seen is the column's default, now(): Citus refuses
		// now() itself in ON CONFLICT DO UPDATE.
		err := tx.QueryRow(ctx, playerOnGameServerObject.returning(`INSERT INTO player_on_gameserver AS t (domain, player_id, gameserver_id, game_id, online, ping, ip)
			VALUES ($1, $2, $3, $4, coalesce($5, false), $6, $7)
			ON CONFLICT (domain, gameserver_id, game_id) DO UPDATE SET
				online = coalesce($5, t.online), ping = coalesce($6, t.ping), ip = coalesce($7, t.ip), last_seen = excluded.last_seen
			WHERE t.player_id = excluded.player_id`),
			tx.Domain, in.PlayerID, in.GameServerID, in.GameID, in.Online, in.Ping, in.IP).Scan(&pog)
		if errors.Is(err, pgx.ErrNoRows) {
			// The game id is taken by another player on this server.
			return takaro.Errorf(takaro.CodeConflict, "Game id %s belongs to another player on this game server", in.GameID)
		}
		return translateError(err, "player on game server")
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
