package takaro

import (
	"slices"
	"time"

	"github.com/google/uuid"
)

// APIKey is a long-lived credential of a user, limited to a set of
// permissions that the user holds. Its secret is shown once, when it is
// created, and is stored only as a crypt() hash.
type APIKey struct {
	ID          uuid.UUID `json:"id"`
	CreatedAt   Time      `json:"createdAt"`
	Name        string    `json:"name"`
	UserID      uuid.UUID `json:"userId"`
	Permissions []string  `json:"permissions"`
	ExpiresAt   *Time     `json:"expiresAt"`
	RevokedAt   *Time     `json:"revokedAt"`
	LastUsedAt  *Time     `json:"lastUsedAt"`
}

// APIKeyCreate is the input for creating an API key.
type APIKeyCreate struct {
	Name        string     `json:"name"`
	Permissions []string   `json:"permissions"`
	ExpiresAt   *time.Time `json:"expiresAt,omitempty"`
}

// Validate checks the input.
func (c APIKeyCreate) Validate(now time.Time) error {
	if err := validateLength("name", c.Name, 1, 100); err != nil {
		return err
	}
	for _, p := range c.Permissions {
		if !slices.Contains(PermissionCodes, p) {
			return Invalid("permissions", "contains the unknown permission %q", p)
		}
	}
	if c.ExpiresAt != nil && !c.ExpiresAt.After(now) {
		return Invalid("expiresAt", "must be in the future")
	}
	return nil
}
