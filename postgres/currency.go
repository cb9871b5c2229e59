package postgres

import (
	"context"
	"errors"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
	"github.com/jackc/pgx/v5"
)

var _ takaro.CurrencyService = (*DB)(nil)

// Balances change only inside one transaction per operation, and every
// statement that changes more than one balance first locks the rows in
// the order of their ids (SELECT … ORDER BY id FOR UPDATE): two transfers
// in opposite directions, or a transfer and a reset, then wait for each
// other instead of deadlocking. The currency_positive CHECK is the last
// word on "never negative"; the transfer also checks the balance it has
// locked so it can say why it refuses.

// sqlstateNumericOutOfRange is raised when a balance would leave integer.
const sqlstateNumericOutOfRange = "22003"

// currencyError turns a refused balance change into the client's 400.
func currencyError(err error) error {
	if pgErr := asPgError(err); pgErr != nil {
		switch {
		case pgErr.Code == sqlstateCheckViolation && pgErr.ConstraintName == "currency_positive":
			return &takaro.Error{Code: takaro.CodeBadRequest, Message: takaro.MsgNotEnoughCurrency, Err: err}
		case pgErr.Code == sqlstateNumericOutOfRange:
			return &takaro.Error{Code: takaro.CodeBadRequest, Message: "The balance would exceed the largest amount", Err: err}
		}
	}
	return translateError(err, "player on game server")
}

// checkEconomy refuses a currency operation on a game server whose economy
// is off (the economyEnabled setting, global with per-game-server
// overrides, read inside the operation's own transaction), with the
// reference's 400. As in the reference, an unknown player is a 404 first:
// missing, run only when the economy is off, returns that error or nil.
func checkEconomy(ctx context.Context, tx *Tx, gameServerID uuid.UUID, missing func() error) error {
	on, err := tx.SettingEnabled(ctx, takaro.SettingEconomyEnabled, &gameServerID)
	if err != nil || on {
		return err
	}
	if err := missing(); err != nil {
		return err
	}
	return takaro.Errorf(takaro.CodeBadRequest, takaro.MsgEconomyNotEnabled)
}

// presencesMissing returns, for checkEconomy, a check that the presences
// ids exist in the transaction's domain.
func presencesMissing(ctx context.Context, tx *Tx, ids ...uuid.UUID) func() error {
	return func() error {
		var missing []uuid.UUID
		err := tx.QueryRow(ctx, `SELECT coalesce(array_agg(i.id), '{}') FROM unnest($2::uuid[]) i (id)
			WHERE NOT EXISTS (SELECT 1 FROM player_on_gameserver p WHERE p.domain = $1 AND p.id = i.id)`, tx.Domain, ids).Scan(&missing)
		if err == nil && len(missing) > 0 {
			err = takaro.Errorf(takaro.CodeNotFound, "Player on game server %s not found", missing[0])
		}
		return err
	}
}

// currencyEvent describes a change of a player's balance for the audit
// log: the acting user is both userId (as in the reference) and
// actingUserId.
func currencyEvent(ctx context.Context, name takaro.EventName, pog *takaro.PlayerOnGameServer, amount int) takaro.EventCreate {
	return takaro.EventCreate{EventName: name, PlayerID: &pog.PlayerID, GameserverID: &pog.GameServerID,
		UserID: actingUser(ctx), Meta: eventMeta("amount", amount)}
}

// changeBalance runs one single-row balance statement over the presence
// of (gameServerID, playerID): set is the new balance as SQL over the
// row's alias t and $4. invalid, the input's validation error if any, is
// returned after the economy check, which the reference makes first. It returns the presence as it was before and
// after, read and written under the row's lock.
func (db *DB) changeBalance(ctx context.Context, gameServerID, playerID uuid.UUID, set string, amount int, invalid error,
	after func(tx *Tx, old int, pog *takaro.PlayerOnGameServer) error) (*takaro.PlayerOnGameServer, error) {
	var pog takaro.PlayerOnGameServer
	notFound := takaro.Errorf(takaro.CodeNotFound, "Player %s not found on game server %s", playerID, gameServerID)
	err := db.inDomain(ctx, func(tx *Tx) error {
		if err := checkEconomy(ctx, tx, gameServerID, func() error {
			var found bool
			err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM player_on_gameserver
				WHERE domain = $1 AND gameserver_id = $2 AND player_id = $3)`, tx.Domain, gameServerID, playerID).Scan(&found)
			if err == nil && !found {
				err = notFound
			}
			return err
		}); err != nil {
			return err
		}
		if invalid != nil {
			return invalid
		}
		var old int
		err := tx.QueryRow(ctx, `WITH old AS (
				SELECT id, currency FROM player_on_gameserver
				WHERE domain = $1 AND gameserver_id = $2 AND player_id = $3 FOR UPDATE),
			u AS (
				UPDATE player_on_gameserver t SET currency = `+set+` FROM old
				WHERE t.domain = $1 AND t.id = old.id RETURNING t.*)
			SELECT old.currency, `+playerOnGameServerObject.build("u")+` FROM u JOIN old ON old.id = u.id`,
			tx.Domain, gameServerID, playerID, amount).Scan(&old, &pog)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound
		}
		if err != nil {
			return currencyError(err)
		}
		return after(tx, old, &pog)
	})
	if err != nil {
		return nil, err
	}
	return &pog, nil
}

// SetCurrency sets a balance. Unlike the reference, the change is logged:
// as currency-added or currency-deducted by the difference.
func (db *DB) SetCurrency(ctx context.Context, gameServerID, playerID uuid.UUID, in takaro.CurrencyAmount) (*takaro.PlayerOnGameServer, error) {
	return db.changeBalance(ctx, gameServerID, playerID, "$4", in.Currency, in.Validate(), func(tx *Tx, old int, pog *takaro.PlayerOnGameServer) error {
		switch diff := pog.Currency - old; {
		case diff > 0:
			return recordEvent(ctx, tx, currencyEvent(ctx, takaro.EventCurrencyAdded, pog, diff))
		case diff < 0:
			return recordEvent(ctx, tx, currencyEvent(ctx, takaro.EventCurrencyDeducted, pog, -diff))
		}
		return nil
	})
}

// AddCurrency adds to a balance.
func (db *DB) AddCurrency(ctx context.Context, gameServerID, playerID uuid.UUID, in takaro.CurrencyAmount) (*takaro.PlayerOnGameServer, error) {
	return db.changeBalance(ctx, gameServerID, playerID, "t.currency + $4", in.Currency, in.ValidateMove(), func(tx *Tx, _ int, pog *takaro.PlayerOnGameServer) error {
		return recordEvent(ctx, tx, currencyEvent(ctx, takaro.EventCurrencyAdded, pog, in.Currency))
	})
}

// DeductCurrency takes from a balance; the CHECK refuses to go below zero.
func (db *DB) DeductCurrency(ctx context.Context, gameServerID, playerID uuid.UUID, in takaro.CurrencyAmount) (*takaro.PlayerOnGameServer, error) {
	return db.changeBalance(ctx, gameServerID, playerID, "t.currency - $4", in.Currency, in.ValidateMove(), func(tx *Tx, _ int, pog *takaro.PlayerOnGameServer) error {
		return recordEvent(ctx, tx, currencyEvent(ctx, takaro.EventCurrencyDeducted, pog, in.Currency))
	})
}

// TransferCurrency moves an amount between two presences on the same game
// server. Both rows are locked in id order by one statement, checked, and
// changed by a second; the two events are written in the same
// transaction.
func (db *DB) TransferCurrency(ctx context.Context, gameServerID, sender, receiver uuid.UUID, in takaro.CurrencyAmount) error {
	return db.inDomain(ctx, func(tx *Tx) error {
		if err := checkEconomy(ctx, tx, gameServerID, presencesMissing(ctx, tx, sender, receiver)); err != nil {
			return err
		}
		if err := in.ValidateMove(); err != nil {
			return err
		}
		if sender == receiver {
			return takaro.Errorf(takaro.CodeBadRequest, "Sender and receiver must be different players")
		}
		rows, err := tx.Query(ctx, `SELECT `+playerOnGameServerObject.build("t")+` FROM player_on_gameserver t
			WHERE t.domain = $1 AND t.id = ANY($2) ORDER BY t.id FOR UPDATE`, tx.Domain, []uuid.UUID{sender, receiver})
		if err != nil {
			return err
		}
		locked, err := pgx.CollectRows(rows, pgx.RowTo[takaro.PlayerOnGameServer])
		if err != nil {
			return err
		}
		var from, to *takaro.PlayerOnGameServer
		for i := range locked {
			if locked[i].ID == sender {
				from = &locked[i]
			} else {
				to = &locked[i]
			}
		}
		switch {
		case from == nil:
			return takaro.Errorf(takaro.CodeNotFound, "Player on game server %s not found", sender)
		case to == nil:
			return takaro.Errorf(takaro.CodeNotFound, "Player on game server %s not found", receiver)
		case from.GameServerID != to.GameServerID:
			return takaro.Errorf(takaro.CodeBadRequest, takaro.MsgNotOnSameGameServer)
		case from.GameServerID != gameServerID:
			return takaro.Errorf(takaro.CodeBadRequest, "The players are not on game server %s", gameServerID)
		case from.Currency < in.Currency:
			return takaro.Errorf(takaro.CodeBadRequest, takaro.MsgInsufficientFunds)
		}
		// The change and both events travel in one round trip.
		b := &pgx.Batch{}
		b.Queue(`UPDATE player_on_gameserver SET currency = currency + CASE WHEN id = $3 THEN -$4::integer ELSE $4::integer END
			WHERE domain = $1 AND id = ANY($2)`, tx.Domain, []uuid.UUID{sender, receiver}, sender, in.Currency)
		queueEvent(ctx, b, tx.Domain, currencyEvent(ctx, takaro.EventCurrencyDeducted, from, in.Currency))
		queueEvent(ctx, b, tx.Domain, currencyEvent(ctx, takaro.EventCurrencyAdded, to, in.Currency))
		return currencyError(tx.SendBatch(ctx, b).Close())
	})
}

// ResetCurrency sets every balance on a game server to zero, locking the
// rows in id order first, as a transfer does.
func (db *DB) ResetCurrency(ctx context.Context, gameServerID uuid.UUID) (*takaro.CurrencyReset, error) {
	res := &takaro.CurrencyReset{}
	err := db.inDomain(ctx, func(tx *Tx) error {
		if err := checkGameServer(ctx, tx, gameServerID); err != nil {
			return err
		}
		if err := checkEconomy(ctx, tx, gameServerID, func() error { return nil }); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `WITH locked AS (
				SELECT id FROM player_on_gameserver WHERE domain = $1 AND gameserver_id = $2 AND currency <> 0
				ORDER BY id FOR UPDATE),
			u AS (
				UPDATE player_on_gameserver t SET currency = 0 FROM locked WHERE t.domain = $1 AND t.id = locked.id RETURNING t.id)
			SELECT count(*) FROM u`, tx.Domain, gameServerID).Scan(&res.AffectedPlayerCount)
		if err != nil || res.AffectedPlayerCount == 0 {
			return err
		}
		return recordEvent(ctx, tx, takaro.EventCreate{EventName: takaro.EventCurrencyResetAll, GameserverID: &gameServerID,
			UserID: actingUser(ctx), Meta: eventMeta("affectedPlayerCount", res.AffectedPlayerCount)})
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}
