package takaro

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// Ban keeps a player off one game server, or (IsGlobal, no GameServerID)
// off every game server of the domain, until Until (nil: for good).
// TakaroManaged bans were made through the API; the others mirror a
// game's own ban list.
type Ban struct {
	ID            uuid.UUID  `json:"id"`
	CreatedAt     Time       `json:"createdAt"`
	UpdatedAt     Time       `json:"updatedAt"`
	GameServerID  *uuid.UUID `json:"gameServerId"`
	PlayerID      uuid.UUID  `json:"playerId"`
	TakaroManaged bool       `json:"takaroManaged"`
	IsGlobal      bool       `json:"isGlobal"`
	Until         *Time      `json:"until"`
	Reason        *string    `json:"reason"`

	// Player and GameServer are present only when a search asks for them
	// with extend "player" and "gameServer".
	Player     *Player     `json:"player,omitzero"`
	GameServer *GameServer `json:"gameServer,omitzero"`
}

// MaxBanReason is the longest reason in characters.
const MaxBanReason = 10000

// BanCreate is the input for banning a player. TakaroManaged is accepted
// for the reference client's sake and always becomes true.
type BanCreate struct {
	PlayerID      uuid.UUID  `json:"playerId"`
	GameServerID  *uuid.UUID `json:"gameServerId,omitempty"`
	IsGlobal      *bool      `json:"isGlobal,omitempty"`
	TakaroManaged *bool      `json:"takaroManaged,omitempty"`
	Until         *time.Time `json:"until,omitempty"`
	Reason        *string    `json:"reason,omitempty"`
}

// Validate checks the input.
func (c BanCreate) Validate() error {
	if global := c.IsGlobal != nil && *c.IsGlobal; global == (c.GameServerID != nil) {
		return Errorf(CodeBadRequest, MsgBanScope)
	}
	return validateBanReason(c.Reason)
}

// BanUpdate changes a ban; absent fields are left as they are, except
// that a ban made global loses its game server.
type BanUpdate struct {
	PlayerID      *uuid.UUID `json:"playerId,omitempty"`
	GameServerID  *uuid.UUID `json:"gameServerId,omitempty"`
	IsGlobal      *bool      `json:"isGlobal,omitempty"`
	TakaroManaged *bool      `json:"takaroManaged,omitempty"`
	Until         *time.Time `json:"until,omitempty"`
	Reason        *string    `json:"reason,omitempty"`
}

// Validate checks the input.
func (u BanUpdate) Validate() error {
	if u.IsGlobal != nil && *u.IsGlobal && u.GameServerID != nil {
		return Errorf(CodeBadRequest, MsgBanScope)
	}
	return validateBanReason(u.Reason)
}

// MsgBanScope is the reference's message for a ban whose scope is
// contradictory.
const MsgBanScope = "When creating a global ban, gameServerId must be null. When creating a non-global ban, gameServerId must be set."

func validateBanReason(reason *string) error {
	if reason != nil {
		return validateLength("reason", *reason, 0, MaxBanReason)
	}
	return nil
}

// GameBan is one entry of a game server's ban list, in the shape a game
// connector reports it: the player as the game knows them.
type GameBan struct {
	Player    GamePlayer `json:"player"`
	Reason    string     `json:"reason"`
	ExpiresAt *Time      `json:"expiresAt"`
}

// GamePlayer is a player as a game server knows them.
type GamePlayer struct {
	GameID               string  `json:"gameId"`
	Name                 string  `json:"name"`
	SteamID              *string `json:"steamId"`
	EpicOnlineServicesID *string `json:"epicOnlineServicesId"`
	XboxLiveID           *string `json:"xboxLiveId"`
	PlatformID           *string `json:"platformId"`
	IP                   *string `json:"ip"`
	Ping                 *int    `json:"ping"`
}

// BanService manages the bans of the domain in the context's Principal.
type BanService interface {
	// CreateBan bans a player and records player-banned. Errors:
	// CodeValidation (also for an unknown player or game server),
	// CodeBadRequest MsgBanScope, CodeConflict when the player is
	// already banned there.
	CreateBan(ctx context.Context, in BanCreate) (*Ban, error)
	// FindBanByID returns a ban. Errors: CodeNotFound.
	FindBanByID(ctx context.Context, id uuid.UUID) (*Ban, error)
	// FindBans searches bans. Errors: CodeValidation.
	FindBans(ctx context.Context, q Query) (*Page[Ban], error)
	// UpdateBan changes a ban. Errors: CodeValidation, CodeBadRequest
	// MsgBanScope, CodeNotFound, CodeConflict.
	UpdateBan(ctx context.Context, id uuid.UUID, upd BanUpdate) (*Ban, error)
	// DeleteBan lifts a ban and records player-unbanned. Lifting a
	// Takaro-managed global ban also lifts the player's Takaro-managed
	// bans on single game servers, as in the reference. Errors:
	// CodeNotFound.
	DeleteBan(ctx context.Context, id uuid.UUID) error
	// GameServerBans lists the bans in force on a game server (its own and
	// the global ones) for the players it knows, as its ban list. Errors:
	// CodeNotFound.
	GameServerBans(ctx context.Context, gameServerID uuid.UUID) ([]GameBan, error)
}
