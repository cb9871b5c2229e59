package takaro

import (
	"context"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// MaxVariableValue is the largest variable value in characters (128 KiB).
const MaxVariableValue = 131072

// Variable is a key/value pair scoped to a domain and optionally to a game
// server, a player and a module. A scope holds each key once.
type Variable struct {
	ID           uuid.UUID  `json:"id"`
	CreatedAt    Time       `json:"createdAt"`
	UpdatedAt    Time       `json:"updatedAt"`
	Key          string     `json:"key"`
	Value        string     `json:"value"`
	ExpiresAt    *Time      `json:"expiresAt"`
	GameServerID *uuid.UUID `json:"gameServerId"`
	PlayerID     *uuid.UUID `json:"playerId"`
	ModuleID     *uuid.UUID `json:"moduleId"`

	// GameServer and Player are the variable's scope, present only when a
	// search asks for them with extend "gameServer" and "player" (and the
	// variable has that scope).
	GameServer *GameServer `json:"gameServer,omitzero"`
	Player     *Player     `json:"player,omitzero"`
}

// VariableCreate is the input for creating a variable.
type VariableCreate struct {
	Key          string     `json:"key"`
	Value        string     `json:"value"`
	ExpiresAt    *time.Time `json:"expiresAt,omitempty"`
	GameServerID *uuid.UUID `json:"gameServerId,omitempty"`
	PlayerID     *uuid.UUID `json:"playerId,omitempty"`
	ModuleID     *uuid.UUID `json:"moduleId,omitempty"`
}

// Validate checks the input.
func (c VariableCreate) Validate() error {
	return validateVariable(&c.Key, c.Value)
}

// VariableUpdate replaces a variable's value. As in the reference API, an
// absent ExpiresAt clears the expiry; absent scope ids are left as they are.
type VariableUpdate struct {
	Key          *string    `json:"key,omitempty"`
	Value        string     `json:"value"`
	ExpiresAt    *time.Time `json:"expiresAt,omitempty"`
	GameServerID *uuid.UUID `json:"gameServerId,omitempty"`
	PlayerID     *uuid.UUID `json:"playerId,omitempty"`
	ModuleID     *uuid.UUID `json:"moduleId,omitempty"`
}

// Validate checks the input.
func (u VariableUpdate) Validate() error {
	return validateVariable(u.Key, u.Value)
}

func validateVariable(key *string, value string) error {
	if key != nil {
		if err := validateLength("key", *key, 1, 255); err != nil {
			return err
		}
	}
	// An oversized value is the reference's BadRequestError "Invalid data
	// provided" (its database refuses it), which its clients expect.
	if utf8.RuneCountInString(value) > MaxVariableValue {
		return Errorf(CodeBadRequest, "Invalid data provided")
	}
	return validateLength("value", value, 0, MaxVariableValue)
}

// VariableService manages the variables of the domain in the context's
// Principal. Expired variables are invisible.
type VariableService interface {
	// CreateVariable creates a variable. Errors: CodeValidation (also for an
	// unknown game server or player); CodeBadRequest "Too many variables"
	// when maxVariables is reached; CodeConflict when the scope already has
	// the key.
	CreateVariable(ctx context.Context, in VariableCreate) (*Variable, error)
	// FindVariableByID returns a variable. Errors: CodeNotFound.
	FindVariableByID(ctx context.Context, id uuid.UUID) (*Variable, error)
	// FindVariables searches variables. Errors: CodeValidation.
	FindVariables(ctx context.Context, q Query) (*Page[Variable], error)
	// UpdateVariable replaces a variable's value. Errors: CodeValidation,
	// CodeNotFound, CodeConflict.
	UpdateVariable(ctx context.Context, id uuid.UUID, upd VariableUpdate) (*Variable, error)
	// DeleteVariable deletes a variable. Errors: CodeNotFound.
	DeleteVariable(ctx context.Context, id uuid.UUID) error
}
