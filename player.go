package takaro

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// Player is a person seen on one or more of a domain's game servers.
type Player struct {
	ID                   uuid.UUID `json:"id"`
	CreatedAt            Time      `json:"createdAt"`
	UpdatedAt            Time      `json:"updatedAt"`
	Name                 *string   `json:"name"`
	SteamID              *string   `json:"steamId"`
	XboxLiveID           *string   `json:"xboxLiveId"`
	EpicOnlineServicesID *string   `json:"epicOnlineServicesId"`
	PlatformID           *string   `json:"platformId"`
	// The Steam profile, as a Steam sync fills it in; null until then.
	SteamAvatar            *string `json:"steamAvatar"`
	SteamLastFetch         *Time   `json:"steamLastFetch"`
	SteamAccountCreated    *Time   `json:"steamAccountCreated"`
	SteamCommunityBanned   *bool   `json:"steamCommunityBanned"`
	SteamEconomyBan        *string `json:"steamEconomyBan"`
	SteamVacBanned         *bool   `json:"steamVacBanned"`
	SteamsDaysSinceLastBan *int    `json:"steamsDaysSinceLastBan"`
	SteamNumberOfVACBans   *int    `json:"steamNumberOfVACBans"`
	SteamLevel             *int    `json:"steamLevel"`
	PlaytimeSeconds        int     `json:"playtimeSeconds"`
	// RoleAssignments are the player's current roles, followed by the
	// implicit system role Player that every player holds.
	RoleAssignments []RoleAssignment `json:"roleAssignments"`
	// IPHistory and NameHistory are the latest ten addresses and names seen
	// for the player, newest first; only a single player's read has them.
	IPHistory   []PlayerIP   `json:"ipHistory,omitzero"`
	NameHistory []PlayerName `json:"nameHistory,omitzero"`

	// PlayerOnGameServers are the player's presences on game servers,
	// present only when a search asks for them with extend
	// "playerOnGameServers".
	PlayerOnGameServers []PlayerOnGameServer `json:"playerOnGameServers,omitzero"`
}

// PlayerIP is an IP address seen for a player. The location fields are
// filled in by a geolocation lookup where one is configured.
type PlayerIP struct {
	CreatedAt Time    `json:"createdAt"`
	IP        string  `json:"ip"`
	Country   *string `json:"country"`
	City      *string `json:"city"`
	Latitude  *string `json:"latitude"`
	Longitude *string `json:"longitude"`
}

// PlayerName is a name seen for a player.
type PlayerName struct {
	ID        uuid.UUID `json:"id"`
	CreatedAt Time      `json:"createdAt"`
	UpdatedAt Time      `json:"updatedAt"`
	Name      string    `json:"name"`
}

// PlayerHistoryLength is how many addresses and names a player's read shows.
const PlayerHistoryLength = 10

// PlayerBulkDelete names many players to delete at once, or to remove
// from one game server.
type PlayerBulkDelete struct {
	PlayerIDs []uuid.UUID `json:"playerIds"`
}

// MaxBulkDelete is the most ids one bulk delete takes, as in the reference.
const MaxBulkDelete = 1000

// Validate checks the input.
func (d PlayerBulkDelete) Validate() error {
	if len(d.PlayerIDs) < 1 || len(d.PlayerIDs) > MaxBulkDelete {
		return Invalid("playerIds", "must list between 1 and %d ids", MaxBulkDelete)
	}
	return nil
}

// PlayerBulkDeleteResult says how a bulk delete went: the ids that were not
// deleted are in Errors with the reason.
type PlayerBulkDeleteResult struct {
	Deleted int                     `json:"deleted"`
	Failed  int                     `json:"failed"`
	Errors  []PlayerBulkDeleteError `json:"errors"`
}

// PlayerBulkDeleteError is one id a bulk delete did not delete.
type PlayerBulkDeleteError struct {
	PlayerID uuid.UUID `json:"playerId"`
	Reason   string    `json:"reason"`
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
	PositionX       *int      `json:"positionX"`
	PositionY       *int      `json:"positionY"`
	PositionZ       *int      `json:"positionZ"`
	Dimension       *string   `json:"dimension"`
	LastSeen        Time      `json:"lastSeen"`
	PlaytimeSeconds int       `json:"playtimeSeconds"`

	// GameServer and Player are present only when a search asks for them
	// with extend "gameServer" and "player".
	GameServer *GameServer `json:"gameServer,omitzero"`
	Player     *Player     `json:"player,omitzero"`
}

// PlayerOnGameServerUpsert records that a player is known on a game server
// under the game's own id, with what the game last reported of them: it
// stands in for the connector's player sync. Absent fields are left as
// they are. Currency is not among them: it changes only through the
// currency operations, which keep it consistent.
type PlayerOnGameServerUpsert struct {
	PlayerID        uuid.UUID `json:"playerId"`
	GameServerID    uuid.UUID `json:"gameServerId"`
	GameID          string    `json:"gameId"`
	Online          *bool     `json:"online,omitempty"`
	Ping            *int      `json:"ping,omitempty"`
	IP              *string   `json:"ip,omitempty"`
	PositionX       *int      `json:"positionX,omitempty"`
	PositionY       *int      `json:"positionY,omitempty"`
	PositionZ       *int      `json:"positionZ,omitempty"`
	Dimension       *string   `json:"dimension,omitempty"`
	PlaytimeSeconds *int      `json:"playtimeSeconds,omitempty"`
}

// Validate checks the input.
func (u PlayerOnGameServerUpsert) Validate() error {
	if u.PlayerID == uuid.Nil {
		return Invalid("playerId", "is required")
	}
	if u.GameServerID == uuid.Nil {
		return Invalid("gameServerId", "is required")
	}
	if err := validateLength("gameId", u.GameID, 1, 255); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		v    *int
		min  int
	}{
		{"ping", u.Ping, 0}, {"playtimeSeconds", u.PlaytimeSeconds, 0},
		{"positionX", u.PositionX, MinInt32}, {"positionY", u.PositionY, MinInt32}, {"positionZ", u.PositionZ, MinInt32},
	} {
		if f.v != nil && (*f.v < f.min || *f.v > MaxInt32) {
			return Invalid(f.name, "must be between %d and %d", f.min, MaxInt32)
		}
	}
	if u.IP != nil {
		if err := validateLength("ip", *u.IP, 1, 64); err != nil {
			return err
		}
	}
	if u.Dimension != nil {
		return validateLength("dimension", *u.Dimension, 1, 255)
	}
	return nil
}

// BulkDeleteResult says which players a bulk delete removed from the game
// server and why the others were not.
type BulkDeleteResult struct {
	Deleted int               `json:"deleted"`
	Failed  int               `json:"failed"`
	Errors  []BulkDeleteError `json:"errors"`
}

// BulkDeleteError is one player a bulk delete did not remove.
type BulkDeleteError struct {
	PlayerID uuid.UUID `json:"playerId"`
	Reason   string    `json:"reason"`
}

// PlayerService manages the players of the domain in the context's
// Principal and where they were seen.
type PlayerService interface {
	// UpsertPlayer creates a player, or updates the one that has any of the
	// given platform ids (recording player-created for a new one). A name
	// the player was not last seen with goes into the name history and
	// records player-new-name-detected. Errors:
	// CodeValidation; CodeConflict when the ids belong to different players.
	UpsertPlayer(ctx context.Context, in PlayerUpsert) (*Player, error)
	// FindPlayerByID returns a player with their current role assignments
	// and their IP and name history. Errors: CodeNotFound.
	FindPlayerByID(ctx context.Context, id uuid.UUID) (*Player, error)
	// FindPlayers searches players. Errors: CodeValidation.
	FindPlayers(ctx context.Context, q Query) (*Page[Player], error)
	// DeletePlayer deletes a player and records player-deleted. Errors:
	// CodeNotFound.
	DeletePlayer(ctx context.Context, id uuid.UUID) error
	// DeletePlayers deletes the players of ids that exist, recording
	// player-deleted for each, and reports the others as failed. Errors:
	// CodeValidation.
	DeletePlayers(ctx context.Context, in PlayerBulkDelete) (*PlayerBulkDeleteResult, error)
	// AssignPlayerRole gives a player a role, on one game server or (nil)
	// on all, until expiresAt or forever; assigning it again updates the
	// expiry. Errors: CodeNotFound for an unknown player or role,
	// CodeBadRequest for the implicit roles, CodeValidation for an unknown
	// game server.
	AssignPlayerRole(ctx context.Context, playerID, roleID uuid.UUID, gameServerID *uuid.UUID, expiresAt *time.Time) error
	// RemovePlayerRole takes a role from a player. Errors: CodeNotFound.
	RemovePlayerRole(ctx context.Context, playerID, roleID uuid.UUID, gameServerID *uuid.UUID) error
	// UpsertPlayerOnGameServer records a player's presence on a game server
	// under the game's own id. An IP address the player was not last seen
	// with goes into the IP history and records player-new-ip-detected.
	// Errors: CodeValidation (also for an unknown
	// player or game server), CodeConflict.
	UpsertPlayerOnGameServer(ctx context.Context, in PlayerOnGameServerUpsert) (*PlayerOnGameServer, error)
	// FindPlayerOnGameServer returns a player's presence on a game server.
	// Errors: CodeNotFound.
	FindPlayerOnGameServer(ctx context.Context, gameServerID, playerID uuid.UUID) (*PlayerOnGameServer, error)
	// FindPlayerOnGameServers searches presences. Errors: CodeValidation.
	FindPlayerOnGameServers(ctx context.Context, q Query) (*Page[PlayerOnGameServer], error)
	// DeletePlayerOnGameServer removes a player from a game server (their
	// currency there included; the player stays) and records
	// player-deleted. Errors: CodeNotFound.
	DeletePlayerOnGameServer(ctx context.Context, gameServerID, playerID uuid.UUID) error
	// DeletePlayersOnGameServer removes several players from a game server
	// at once, recording player-deleted for each. Errors: CodeValidation.
	DeletePlayersOnGameServer(ctx context.Context, gameServerID uuid.UUID, in PlayerBulkDelete) (*BulkDeleteResult, error)
}
