package takaro

import (
	"context"

	"github.com/google/uuid"
)

// CatalogueEntry is what items and entities have in common: an entry of a
// game server's catalogue, known by the game's own code.
type CatalogueEntry struct {
	ID           uuid.UUID `json:"id"`
	CreatedAt    Time      `json:"createdAt"`
	UpdatedAt    Time      `json:"updatedAt"`
	GameserverID uuid.UUID `json:"gameserverId"`
	Code         string    `json:"code"`
	Name         string    `json:"name"`
	Description  *string   `json:"description"`
}

// CatalogueUpsert is what the upserts of items and entities have in
// common.
type CatalogueUpsert struct {
	GameserverID uuid.UUID `json:"gameserverId"`
	Code         string    `json:"code"`
	Name         string    `json:"name"`
	Description  *string   `json:"description,omitempty"`
}

// validate checks the common fields.
func (u CatalogueUpsert) validate() error {
	if err := validateLength("code", u.Code, 1, 255); err != nil {
		return err
	}
	if err := validateLength("name", u.Name, 1, 255); err != nil {
		return err
	}
	if u.Description != nil {
		return validateLength("description", *u.Description, 0, 10000)
	}
	return nil
}

// Item is an entry of a game server's item catalogue.
type Item struct {
	CatalogueEntry
	Icon    *string `json:"icon"`
	Quality *string `json:"quality"`

	// GameServer is present only when a search asks for it with extend
	// "gameServer".
	GameServer *GameServer `json:"gameServer,omitzero"`
}

// ItemUpsert creates an item, or updates the one with the same code on the
// same game server: it stands in for the connector's catalogue sync.
type ItemUpsert struct {
	CatalogueUpsert
	Icon    *string `json:"icon,omitempty"`
	Quality *string `json:"quality,omitempty"`
}

// Validate checks the input.
func (u ItemUpsert) Validate() error {
	if err := u.validate(); err != nil {
		return err
	}
	if u.Icon != nil {
		if err := validateLength("icon", *u.Icon, 0, 10000); err != nil {
			return err
		}
	}
	if u.Quality != nil {
		return validateLength("quality", *u.Quality, 1, 255)
	}
	return nil
}

// ItemService manages the item catalogues of the game servers of the
// domain in the context's Principal.
type ItemService interface {
	// UpsertItem creates or updates an item. Errors: CodeValidation (also
	// for an unknown game server).
	UpsertItem(ctx context.Context, in ItemUpsert) (*Item, error)
	// FindItemByID returns an item. Errors: CodeNotFound.
	FindItemByID(ctx context.Context, id uuid.UUID) (*Item, error)
	// FindItems searches items; without sortBy, short codes come first.
	// Errors: CodeValidation.
	FindItems(ctx context.Context, q Query) (*Page[Item], error)
}
