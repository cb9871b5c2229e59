package takaro

import (
	"context"
	"encoding/json"

	"github.com/google/uuid"
)

// GameServerType is the kind of game a server runs.
type GameServerType string

// Game server types.
const (
	GameServerMock           GameServerType = "MOCK"
	GameServerRust           GameServerType = "RUST"
	GameServerSevenDaysToDie GameServerType = "SEVENDAYSTODIE"
	GameServerGeneric        GameServerType = "GENERIC"
)

// Valid reports whether t is a known type.
// EnumValues lists the types, for the API's documentation.
func (GameServerType) EnumValues() []string {
	return []string{string(GameServerMock), string(GameServerRust), string(GameServerSevenDaysToDie), string(GameServerGeneric)}
}

func (t GameServerType) Valid() bool {
	switch t {
	case GameServerMock, GameServerRust, GameServerSevenDaysToDie, GameServerGeneric:
		return true
	}
	return false
}

// GameServerTypeInfo describes a game server type for clients: the JSON
// Schema (as text) of the connection info a server of the type needs.
type GameServerTypeInfo struct {
	Type                 GameServerType `json:"type"`
	ConnectionInfoSchema string         `json:"connectionInfoSchema"`
}

// GameServerTypes lists the types clients may offer, with the reference's
// connection-info schemas, in the reference's order.
var GameServerTypes = []GameServerTypeInfo{
	{GameServerSevenDaysToDie, `{"$schema":"http://json-schema.org/draft-07/schema#","title":"SdtdConnectionInfo","type":"object",` +
		`"properties":{"host":{"type":"string"},"adminUser":{"type":"string"},"adminToken":{"type":"string"},"useTls":{"type":"boolean"},` +
		`"useCPM":{"type":"boolean","default":false},"useLegacy":{"type":"boolean","default":false}},"required":["host","adminUser","adminToken","useTls"]}`},
	{GameServerRust, `{"$schema":"http://json-schema.org/draft-07/schema#","title":"RustConnectionInfo","type":"object",` +
		`"properties":{"host":{"type":"string"},"rconPort":{"type":"number"},"rconPassword":{"type":"string"},` +
		`"useTls":{"type":"boolean","default":false}},"required":["host","rconPort","rconPassword","useTls"]}`},
	{GameServerGeneric, `{"type":"object","properties":{},"required":[]}`},
	{GameServerMock, `{"type":"object","properties":{},"required":[]}`},
}

// GameServer is a game server managed by a domain.
//
// ConnectionInfo holds credentials (RCON passwords, tokens). It is stored
// encrypted and is only filled in where the caller asked for it to be
// decrypted; ciphertext never appears here.
type GameServer struct {
	ID             uuid.UUID       `json:"id"`
	CreatedAt      Time            `json:"createdAt"`
	UpdatedAt      Time            `json:"updatedAt"`
	DeletedAt      *Time           `json:"deletedAt"`
	Name           string          `json:"name"`
	Type           GameServerType  `json:"type"`
	ConnectionInfo json.RawMessage `json:"connectionInfo,omitempty"`
	Reachable      bool            `json:"reachable"`
	Enabled        bool            `json:"enabled"`
	IdentityToken  *string         `json:"identityToken"`

	// Players are the players seen on the game server, present only when
	// a search asks for them with extend "players".
	Players []Player `json:"players,omitzero"`
}

// GameServerCreate is the input for creating a game server. ConnectionInfo
// is a JSON object encoded as a string, as in the reference API.
type GameServerCreate struct {
	Name           string         `json:"name"`
	Type           GameServerType `json:"type"`
	ConnectionInfo string         `json:"connectionInfo"`
	IdentityToken  *string        `json:"identityToken,omitempty"`
}

// Validate checks the input against the reference's rules.
func (c GameServerCreate) Validate() error {
	if err := validateLength("name", c.Name, 3, 50); err != nil {
		return err
	}
	if !c.Type.Valid() {
		return Invalid("type", "must be one of MOCK, RUST, SEVENDAYSTODIE, GENERIC")
	}
	if err := validateJSONObject("connectionInfo", c.ConnectionInfo); err != nil {
		return err
	}
	if c.IdentityToken != nil {
		if err := validateLength("identityToken", *c.IdentityToken, 1, 255); err != nil {
			return err
		}
	}
	if c.Type == GameServerGeneric && c.IdentityToken == nil {
		return Errorf(CodeBadRequest, "identityToken is required for GENERIC game servers")
	}
	return nil
}

// GameServerUpdate changes a game server; nil fields are left as they are.
type GameServerUpdate struct {
	Name           *string         `json:"name,omitempty"`
	Type           *GameServerType `json:"type,omitempty"`
	ConnectionInfo *string         `json:"connectionInfo,omitempty"`
	Reachable      *bool           `json:"reachable,omitempty"`
	Enabled        *bool           `json:"enabled,omitempty"`
}

// Validate checks the input against the reference's rules.
func (u GameServerUpdate) Validate() error {
	if u.Name != nil {
		if err := validateLength("name", *u.Name, 3, 50); err != nil {
			return err
		}
	}
	if u.Type != nil && !u.Type.Valid() {
		return Invalid("type", "must be one of MOCK, RUST, SEVENDAYSTODIE, GENERIC")
	}
	if u.ConnectionInfo != nil {
		return validateJSONObject("connectionInfo", *u.ConnectionInfo)
	}
	return nil
}

// GameServerService manages the game servers of the domain in the context's
// Principal.
type GameServerService interface {
	// CreateGameServer creates a game server and records a
	// gameserver-created event. Errors: CodeValidation; CodeBadRequest when
	// the domain's maxGameservers is reached; CodeConflict for a taken name.
	CreateGameServer(ctx context.Context, in GameServerCreate) (*GameServer, error)
	// FindGameServerByID returns a game server that is not deleted, with its
	// connection info decrypted only when withConnectionInfo is set.
	// Errors: CodeNotFound.
	FindGameServerByID(ctx context.Context, id uuid.UUID, withConnectionInfo bool) (*GameServer, error)
	// FindGameServers searches game servers; connection info is never
	// included. Errors: CodeValidation for a query the search rejects.
	FindGameServers(ctx context.Context, q Query) (*Page[GameServer], error)
	// UpdateGameServer changes a game server and returns it with its
	// connection info decrypted. Errors: CodeValidation, CodeNotFound,
	// CodeConflict.
	UpdateGameServer(ctx context.Context, id uuid.UUID, upd GameServerUpdate) (*GameServer, error)
	// DeleteGameServer soft-deletes a game server. Errors: CodeNotFound.
	DeleteGameServer(ctx context.Context, id uuid.UUID) error
}
