package takaro

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/google/uuid"
)

// EntityType is how an entity behaves towards players.
type EntityType string

// EntityTypes are the entity types of the reference.
var EntityTypes = []EntityType{"hostile", "friendly", "neutral"}

// Entity is an entry of a game server's catalogue of creatures and other
// entities, known by the game's own code.
type Entity struct {
	CatalogueEntry
	Type     *EntityType     `json:"type"`
	Metadata json.RawMessage `json:"metadata"`
}

// EntityUpsert creates an entity, or updates the one with the same code on
// the same game server: it stands in for the connector's catalogue sync.
type EntityUpsert struct {
	CatalogueUpsert
	Type     *EntityType     `json:"type,omitempty"`
	Metadata json.RawMessage `json:"metadata,omitempty"`
}

// Validate checks the input.
func (u EntityUpsert) Validate() error {
	if err := u.validate(); err != nil {
		return err
	}
	if u.Type != nil && !slices.Contains(EntityTypes, *u.Type) {
		return Invalid("type", "must be one of hostile, friendly, neutral")
	}
	if len(u.Metadata) > 0 && string(u.Metadata) != "null" {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(u.Metadata, &obj); err != nil || obj == nil {
			return Invalid("metadata", "must be a JSON object")
		}
	}
	return nil
}

// EntityService manages the entity catalogues of the game servers of the
// domain in the context's Principal.
type EntityService interface {
	// UpsertEntity creates or updates an entity. Errors: CodeValidation
	// (also for an unknown game server).
	UpsertEntity(ctx context.Context, in EntityUpsert) (*Entity, error)
	// FindEntityByID returns an entity. Errors: CodeNotFound.
	FindEntityByID(ctx context.Context, id uuid.UUID) (*Entity, error)
	// FindEntities searches entities; without sortBy, short codes come
	// first. Errors: CodeValidation.
	FindEntities(ctx context.Context, q Query) (*Page[Entity], error)
}
