package takaro

import (
	"context"

	"github.com/google/uuid"
)

// CurrencyAmount is the body of every currency operation: the balance to
// set, or the amount to add, deduct or transfer.
type CurrencyAmount struct {
	Currency int `json:"currency"`
}

// Validate checks the input: a whole number that fits the balance column.
func (a CurrencyAmount) Validate() error {
	if a.Currency < 0 {
		return Invalid("currency", "must not be less than 0")
	}
	if a.Currency > MaxInt32 {
		return Invalid("currency", "must not be greater than %d", MaxInt32)
	}
	return nil
}

// ValidateMove checks an amount to add, deduct or transfer: zero moves
// nothing and is refused, as in the reference.
func (a CurrencyAmount) ValidateMove() error {
	if err := a.Validate(); err != nil {
		return err
	}
	if a.Currency == 0 {
		return Errorf(CodeBadRequest, "Amount must be greater than 0")
	}
	return nil
}

// CurrencyReset is the result of resetting a game server's currency.
type CurrencyReset struct {
	AffectedPlayerCount int `json:"affectedPlayerCount"`
}

// Currency error messages of the reference API.
const (
	MsgNotEnoughCurrency   = "Not enough currency"
	MsgEconomyNotEnabled   = "Economy is not enabled"
	MsgInsufficientFunds   = "Insufficient funds"
	MsgNotOnSameGameServer = "Players are not on the same game server"
)

// CurrencyService changes the balances of players on the game servers of
// the domain in the context's Principal. A balance is never negative, and
// no amount is lost or created under any concurrency: every operation is
// one transaction that locks the rows it changes. Each change records
// currency-added or currency-deducted (currency-reset-all for a reset)
// with the acting user. Every operation answers CodeBadRequest
// MsgEconomyNotEnabled when the game server's economy is off.
type CurrencyService interface {
	// SetCurrency sets a player's balance on a game server. Errors:
	// CodeValidation, CodeNotFound.
	SetCurrency(ctx context.Context, gameServerID, playerID uuid.UUID, in CurrencyAmount) (*PlayerOnGameServer, error)
	// AddCurrency adds to a player's balance. Errors: CodeValidation,
	// CodeBadRequest (zero, or a balance beyond MaxInt32), CodeNotFound.
	AddCurrency(ctx context.Context, gameServerID, playerID uuid.UUID, in CurrencyAmount) (*PlayerOnGameServer, error)
	// DeductCurrency takes from a player's balance. Errors: CodeValidation,
	// CodeBadRequest (zero, or MsgNotEnoughCurrency), CodeNotFound.
	DeductCurrency(ctx context.Context, gameServerID, playerID uuid.UUID, in CurrencyAmount) (*PlayerOnGameServer, error)
	// TransferCurrency moves an amount from one presence (sender, by its
	// id) to another on the same game server, atomically. Errors:
	// CodeValidation, CodeBadRequest (zero, MsgInsufficientFunds,
	// MsgNotOnSameGameServer, the same presence twice), CodeNotFound.
	TransferCurrency(ctx context.Context, gameServerID, sender, receiver uuid.UUID, in CurrencyAmount) error
	// ResetCurrency sets every balance on a game server to zero. Errors:
	// CodeNotFound.
	ResetCurrency(ctx context.Context, gameServerID uuid.UUID) (*CurrencyReset, error)
}
