package takaro

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// Player is a person seen on one or more of a domain's game servers.
type Player struct {
	ID                   uuid.UUID        `json:"id"`
	CreatedAt            Time             `json:"createdAt"`
	UpdatedAt            Time             `json:"updatedAt"`
	Name                 *string          `json:"name"`
	SteamID              *string          `json:"steamId"`
	XboxLiveID           *string          `json:"xboxLiveId"`
	EpicOnlineServicesID *string          `json:"epicOnlineServicesId"`
	PlatformID           *string          `json:"platformId"`
	PlaytimeSeconds      int              `json:"playtimeSeconds"`
	RoleAssignments      []RoleAssignment `json:"roleAssignments"`

	// PlayerOnGameServers are the player's presences on game servers,
	// present only when a search asks for them with extend
	// "playerOnGameServers".
	PlayerOnGameServers []PlayerOnGameServer `json:"playerOnGameServers,omitzero"`
}

// PlayerUpsert creates a player, or updates the one with the same platform
// identity. At least one platform id is required.
type PlayerUpsert struct {
	Name                 *string `json:"name,omitempty"`
	SteamID              *string `json:"steamId,omitempty"`
	XboxLiveID           *string `json:"xboxLiveId,omitempty"`
	EpicOnlineServicesID *string `json:"epicOnlineServicesId,omitempty"`
	PlatformID           *string `json:"platformId,omitempty"`
}

// Validate checks the input.
func (u PlayerUpsert) Validate() error {
	if u.SteamID == nil && u.XboxLiveID == nil && u.EpicOnlineServicesID == nil && u.PlatformID == nil {
		return Invalid("steamId", "or another platform id (xboxLiveId, epicOnlineServicesId, platformId) is required")
	}
	for _, f := range []struct {
		name string
		v    *string
		max  int
	}{
		{"name", u.Name, 255},
		{"steamId", u.SteamID, 255},
		{"xboxLiveId", u.XboxLiveID, 255},
		{"epicOnlineServicesId", u.EpicOnlineServicesID, 32},
		{"platformId", u.PlatformID, 255},
	} {
		if f.v != nil {
			if err := validateLength(f.name, *f.v, 1, f.max); err != nil {
				return err
			}
		}
	}
	return nil
}

// PlayerOnGameServer is a player's presence on one game server.
type PlayerOnGameServer struct {
	ID              uuid.UUID `json:"id"`
	CreatedAt       Time      `json:"createdAt"`
	UpdatedAt       Time      `json:"updatedAt"`
	PlayerID        uuid.UUID `json:"playerId"`
	GameServerID    uuid.UUID `json:"gameServerId"`
	GameID          string    `json:"gameId"`
	Online          bool      `json:"online"`
	Currency        int       `json:"currency"`
	Ping            *int      `json:"ping"`
	IP              *string   `json:"ip"`
	LastSeen        Time      `json:"lastSeen"`
	PlaytimeSeconds int       `json:"playtimeSeconds"`

	// GameServer and Player are present only when a search asks for them
	// with extend "gameServer" and "player".
	GameServer *GameServer `json:"gameServer,omitzero"`
	Player     *Player     `json:"player,omitzero"`
}

// PlayerOnGameServerUpsert records that a player is known on a game server
// under the game's own id.
type PlayerOnGameServerUpsert struct {
	PlayerID     uuid.UUID `json:"playerId"`
	GameServerID uuid.UUID `json:"gameServerId"`
	GameID       string    `json:"gameId"`
	Online       *bool     `json:"online,omitempty"`
	Ping         *int      `json:"ping,omitempty"`
	IP           *string   `json:"ip,omitempty"`
}

// Validate checks the input.
func (u PlayerOnGameServerUpsert) Validate() error {
	if u.PlayerID == uuid.Nil {
		return Invalid("playerId", "is required")
	}
	if u.GameServerID == uuid.Nil {
		return Invalid("gameServerId", "is required")
	}
	return validateLength("gameId", u.GameID, 1, 255)
}

// PlayerService manages the players of the domain in the context's
// Principal and where they were seen.
type PlayerService interface {
	// UpsertPlayer creates a player, or updates the one that has any of the
	// given platform ids (recording player-created for a new one). Errors:
	// CodeValidation; CodeConflict when the ids belong to different players.
	UpsertPlayer(ctx context.Context, in PlayerUpsert) (*Player, error)
	// FindPlayerByID returns a player with their current role assignments.
	// Errors: CodeNotFound.
	FindPlayerByID(ctx context.Context, id uuid.UUID) (*Player, error)
	// FindPlayers searches players. Errors: CodeValidation.
	FindPlayers(ctx context.Context, q Query) (*Page[Player], error)
	// DeletePlayer deletes a player and records player-deleted. Errors:
	// CodeNotFound.
	DeletePlayer(ctx context.Context, id uuid.UUID) error
	// AssignPlayerRole gives a player a role, on one game server or (nil)
	// on all, until expiresAt or forever; assigning it again updates the
	// expiry. Errors: CodeNotFound for an unknown player or role,
	// CodeBadRequest for the implicit roles, CodeValidation for an unknown
	// game server.
	AssignPlayerRole(ctx context.Context, playerID, roleID uuid.UUID, gameServerID *uuid.UUID, expiresAt *time.Time) error
	// RemovePlayerRole takes a role from a player. Errors: CodeNotFound.
	RemovePlayerRole(ctx context.Context, playerID, roleID uuid.UUID, gameServerID *uuid.UUID) error
	// UpsertPlayerOnGameServer records a player's presence on a game server
	// under the game's own id. Errors: CodeValidation (also for an unknown
	// player or game server), CodeConflict.
	UpsertPlayerOnGameServer(ctx context.Context, in PlayerOnGameServerUpsert) (*PlayerOnGameServer, error)
	// FindPlayerOnGameServer returns a player's presence on a game server.
	// Errors: CodeNotFound.
	FindPlayerOnGameServer(ctx context.Context, gameServerID, playerID uuid.UUID) (*PlayerOnGameServer, error)
	// FindPlayerOnGameServers searches presences. Errors: CodeValidation.
	FindPlayerOnGameServers(ctx context.Context, q Query) (*Page[PlayerOnGameServer], error)
}
