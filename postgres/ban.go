package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
	"github.com/jackc/pgx/v5"
)

var _ takaro.BanService = (*DB)(nil)

var banObject = jsonFields{
	{"id", "id"}, {"createdAt", "created_at"}, {"updatedAt", "updated_at"}, {"gameServerId", "gameserver_id"},
	{"playerId", "player_id"}, {"takaroManaged", "takaro_managed"}, {"isGlobal", "is_global"},
	{"until", "until"}, {"reason", "reason"},
}

var banSearch = &searchSpec{
	table:  "bans",
	object: banObject,
	fields: withCommonFields(map[string]field{
		"gameServerId":  {column: "t.gameserver_id", kind: kindUUID, ops: opFilter},
		"playerId":      {column: "t.player_id", kind: kindUUID, ops: opFilter},
		"takaroManaged": {column: "t.takaro_managed", kind: kindBool, ops: opFilter},
		"isGlobal":      {column: "t.is_global", kind: kindBool, ops: opFilter},
		"until":         {column: "t.until", kind: kindTime, ops: opRange | opSort},
	}),
	extend: map[string]string{
		"gameServer": gameServerRelation,
		"player":     playerRelation,
	},
}

// banError names the rule a ban write broke.
func banError(err error) error {
	if pgErr := asPgError(err); pgErr != nil {
		switch pgErr.ConstraintName {
		case "bans_global_gameserver_check":
			return &takaro.Error{Code: takaro.CodeBadRequest, Message: takaro.MsgBanScope, Err: err}
		case "bans_player_gameserver_key":
			return &takaro.Error{Code: takaro.CodeConflict, Message: "The player is already banned there", Err: err}
		}
	}
	return translateError(err, "ban")
}

// CreateBan bans a player and records player-banned.
func (db *DB) CreateBan(ctx context.Context, in takaro.BanCreate) (*takaro.Ban, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	reason := in.Reason
	if reason == nil {
		reason = new("No reason provided")
	}
	var ban takaro.Ban
	err := db.inDomain(ctx, func(tx *Tx) error {
		if err := checkReferences(ctx, tx, reference{"playerId", &in.PlayerID, refPlayer},
			reference{"gameServerId", in.GameServerID, refGameServer}); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `WITH u AS (
				INSERT INTO bans (domain, player_id, gameserver_id, is_global, takaro_managed, until, reason)
				VALUES ($1, $2, $3, $4, true, $5, $6) RETURNING *)
			SELECT `+banObject.build("u")+` FROM u`,
			tx.Domain, in.PlayerID, in.GameServerID, in.GameServerID == nil, in.Until, reason).Scan(&ban)
		if err != nil {
			return banError(err)
		}
		return recordEvent(ctx, tx, takaro.EventCreate{EventName: takaro.EventPlayerBanned, PlayerID: &ban.PlayerID,
			GameserverID: ban.GameServerID, Meta: eventMeta("reason", ban.Reason, "until", ban.Until,
				"isGlobal", ban.IsGlobal, "takaroManaged", ban.TakaroManaged)})
	})
	if err != nil {
		return nil, err
	}
	return &ban, nil
}

// FindBanByID returns a ban.
func (db *DB) FindBanByID(ctx context.Context, id uuid.UUID) (*takaro.Ban, error) {
	return findByID[takaro.Ban](ctx, db, "bans", banObject, id, "Ban", "")
}

// FindBans searches bans.
func (db *DB) FindBans(ctx context.Context, q takaro.Query) (*takaro.Page[takaro.Ban], error) {
	return search[takaro.Ban](ctx, db, banSearch, q)
}

// UpdateBan changes one ban (the reference changes every ban of the
// domain). Whatever the client says, a ban changed through the API is
// Takaro-managed.
func (db *DB) UpdateBan(ctx context.Context, id uuid.UUID, upd takaro.BanUpdate) (*takaro.Ban, error) {
	if err := upd.Validate(); err != nil {
		return nil, err
	}
	var ban takaro.Ban
	err := db.inDomain(ctx, func(tx *Tx) error {
		if err := checkReferences(ctx, tx, reference{"playerId", upd.PlayerID, refPlayer},
			reference{"gameServerId", upd.GameServerID, refGameServer}); err != nil {
			return err
		}
		// A game server given without isGlobal makes the ban a game
		// server's; isGlobal true drops the game server.
		err := tx.QueryRow(ctx, `WITH u AS (
				UPDATE bans t SET player_id = coalesce($3, t.player_id),
					is_global = coalesce($4, CASE WHEN $5::uuid IS NOT NULL THEN false ELSE t.is_global END),
					gameserver_id = CASE WHEN coalesce($4, $5::uuid IS NULL AND t.is_global) THEN NULL ELSE coalesce($5, t.gameserver_id) END,
					until = coalesce($6, t.until), reason = coalesce($7, t.reason), takaro_managed = true
				WHERE t.domain = $1 AND t.id = $2 RETURNING t.*)
			SELECT `+banObject.build("u")+` FROM u`,
			tx.Domain, id, upd.PlayerID, upd.IsGlobal, upd.GameServerID, upd.Until, upd.Reason).Scan(&ban)
		if errors.Is(err, pgx.ErrNoRows) {
			return takaro.NotFound("Ban", id)
		}
		return banError(err)
	})
	if err != nil {
		return nil, err
	}
	return &ban, nil
}

// DeleteBan lifts a ban, and with a Takaro-managed global ban the player's
// other Takaro-managed bans, writing player-unbanned for each, in one
// statement.
func (db *DB) DeleteBan(ctx context.Context, id uuid.UUID) error {
	return db.inDomain(ctx, func(tx *Tx) error {
		var n int
		err := tx.QueryRow(ctx, `WITH target AS (
				SELECT player_id, is_global AND takaro_managed AS lifts_all FROM bans WHERE domain = $1 AND id = $2 FOR UPDATE),
			d AS (
				DELETE FROM bans b USING target
				WHERE b.domain = $1 AND (b.id = $2 OR (target.lifts_all AND b.player_id = target.player_id AND b.takaro_managed))
				RETURNING b.player_id, b.gameserver_id, b.is_global, b.takaro_managed),
			e AS (
				INSERT INTO events (domain, event_name, player_id, gameserver_id, acting_user_id, meta)
				SELECT $1, $3, d.player_id, d.gameserver_id, $4,
					jsonb_build_object('isGlobal', d.is_global, 'takaroManaged', d.takaro_managed) FROM d)
			SELECT count(*) FROM d`, tx.Domain, id, takaro.EventPlayerUnbanned, actingUser(ctx)).Scan(&n)
		if err != nil {
			return err
		}
		if n == 0 {
			return takaro.NotFound("Ban", id)
		}
		return nil
	})
}

// GameServerBans lists the bans in force on a game server for the players
// it knows, as a game would report its ban list.
func (db *DB) GameServerBans(ctx context.Context, gameServerID uuid.UUID) ([]takaro.GameBan, error) {
	var bans []takaro.GameBan
	found := false
	err := db.readInDomain(ctx, func(b *pgx.Batch, domain string) {
		b.Queue("SELECT "+refGameServer, domain, gameServerID).QueryRow(func(row pgx.Row) error {
			return row.Scan(&found)
		})
		b.Queue(`SELECT json_build_object('player', json_build_object('gameId', pog.game_id, 'name', coalesce(p.name, pog.game_id),
				'steamId', p.steam_id, 'epicOnlineServicesId', p.epic_online_services_id, 'xboxLiveId', p.xbox_live_id,
				'platformId', p.platform_id, 'ip', pog.ip, 'ping', pog.ping),
				'reason', coalesce(t.reason, ''), 'expiresAt', t.until)
			FROM bans t
			JOIN player_on_gameserver pog ON pog.domain = t.domain AND pog.player_id = t.player_id AND pog.gameserver_id = $2
			JOIN players p ON p.domain = t.domain AND p.id = t.player_id
			WHERE t.domain = $1 AND (t.gameserver_id = $2 OR t.is_global) AND (t.until IS NULL OR t.until > $3)
			ORDER BY t.created_at, t.id`, domain, gameServerID, time.Now()).Query(func(rows pgx.Rows) error {
			var err error
			bans, err = pgx.CollectRows(rows, pgx.RowTo[takaro.GameBan])
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, takaro.NotFound("Gameserver", gameServerID)
	}
	if bans == nil {
		bans = []takaro.GameBan{}
	}
	return bans, nil
}
