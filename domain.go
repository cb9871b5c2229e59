package takaro

import (
	"context"
	"regexp"
)

// DomainState says whether a domain's users may use the API.
type DomainState string

// Domain states.
const (
	DomainActive      DomainState = "ACTIVE"
	DomainDisabled    DomainState = "DISABLED"
	DomainMaintenance DomainState = "MAINTENANCE"
)

// EnumValues lists the states, for the API's documentation.
func (DomainState) EnumValues() []string {
	return []string{string(DomainActive), string(DomainDisabled), string(DomainMaintenance)}
}

// Valid reports whether s is one of the known states.
func (s DomainState) Valid() bool {
	return s == DomainActive || s == DomainDisabled || s == DomainMaintenance
}

// domainIDPattern is the shape of generated domain ids ("green-times-fly")
// and of the ids the database accepts.
var domainIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{2,62}$`)

// ValidDomainID reports whether id has the shape of a domain id. Callers use
// it to reject garbage (from a token or a header) before any database work.
func ValidDomainID(id string) bool { return domainIDPattern.MatchString(id) }

// Domain is a tenant. Every tenant-owned row references exactly one domain.
type Domain struct {
	ID                   string      `json:"id"`
	CreatedAt            Time        `json:"createdAt"`
	UpdatedAt            Time        `json:"updatedAt"`
	Name                 string      `json:"name"`
	ExternalReference    *string     `json:"externalReference"`
	State                DomainState `json:"state"`
	RateLimitPoints      int         `json:"rateLimitPoints"`
	RateLimitDuration    int         `json:"rateLimitDuration"`
	MaxGameservers       int         `json:"maxGameservers"`
	MaxUsers             int         `json:"maxUsers"`
	EventRetentionDays   int         `json:"eventRetentionDays"`
	MaxVariables         int         `json:"maxVariables"`
	MaxModules           int         `json:"maxModules"`
	MaxFunctionsInModule int         `json:"maxFunctionsInModule"`
	// ServerRegistrationToken lets a game server register itself in the
	// domain. It is shown only to the admin API and to callers who may
	// manage game servers; searches never show it.
	ServerRegistrationToken *string `json:"serverRegistrationToken,omitempty"`
}

// DomainLimits are the per-domain quotas. A nil field keeps the current (or
// default) value.
type DomainLimits struct {
	MaxGameservers       *int `json:"maxGameservers,omitempty"`
	MaxUsers             *int `json:"maxUsers,omitempty"`
	EventRetentionDays   *int `json:"eventRetentionDays,omitempty"`
	MaxVariables         *int `json:"maxVariables,omitempty"`
	MaxModules           *int `json:"maxModules,omitempty"`
	MaxFunctionsInModule *int `json:"maxFunctionsInModule,omitempty"`
}

// DomainCreate is the input for creating a domain. The id is always
// generated.
type DomainCreate struct {
	Name              string       `json:"name"`
	ExternalReference *string      `json:"externalReference,omitempty"`
	State             *DomainState `json:"state,omitempty"`
	DomainLimits
}

// Validate checks the input against the reference's rules.
func (c DomainCreate) Validate() error {
	if err := validateLength("name", c.Name, 3, 200); err != nil {
		return err
	}
	return validateDomainCommon(c.ExternalReference, c.State, c.DomainLimits)
}

// DomainUpdate changes a domain; nil fields are left as they are.
type DomainUpdate struct {
	Name              *string      `json:"name,omitempty"`
	ExternalReference *string      `json:"externalReference,omitempty"`
	State             *DomainState `json:"state,omitempty"`
	DomainLimits
}

// Validate checks the input against the reference's rules.
func (u DomainUpdate) Validate() error {
	if u.Name != nil {
		if err := validateLength("name", *u.Name, 3, 200); err != nil {
			return err
		}
	}
	return validateDomainCommon(u.ExternalReference, u.State, u.DomainLimits)
}

func validateDomainCommon(ref *string, state *DomainState, l DomainLimits) error {
	if ref != nil {
		if err := validateLength("externalReference", *ref, 3, 200); err != nil {
			return err
		}
	}
	if state != nil && !state.Valid() {
		return Invalid("state", "must be one of ACTIVE, DISABLED, MAINTENANCE")
	}
	for _, f := range []struct {
		name string
		v    *int
	}{
		{"maxGameservers", l.MaxGameservers},
		{"maxUsers", l.MaxUsers},
		{"eventRetentionDays", l.EventRetentionDays},
		{"maxVariables", l.MaxVariables},
		{"maxModules", l.MaxModules},
		{"maxFunctionsInModule", l.MaxFunctionsInModule},
	} {
		if f.v != nil && (*f.v < 0 || *f.v > 1_000_000) {
			return Invalid(f.name, "must be between 0 and 1000000")
		}
	}
	return nil
}

// DomainCreated is the result of creating a domain. Password is the root
// user's generated password: it is shown this once and stored only hashed.
type DomainCreated struct {
	CreatedDomain Domain `json:"createdDomain"`
	RootUser      User   `json:"rootUser"`
	RootRole      Role   `json:"rootRole"`
	Password      string `json:"password"`
}

// DomainService manages the tenants themselves. It is the system path:
// callers must have established that the caller is an administrator.
type DomainService interface {
	// CreateDomain creates a domain with its standard roles and a root user,
	// atomically: a failure leaves nothing behind. Errors: CodeValidation,
	// CodeConflict for a taken external reference.
	CreateDomain(ctx context.Context, in DomainCreate) (*DomainCreated, error)
	// FindDomainByID returns a domain. Errors: CodeNotFound.
	FindDomainByID(ctx context.Context, id string) (*Domain, error)
	// FindDomains searches domains. Errors: CodeValidation.
	FindDomains(ctx context.Context, q Query) (*Page[Domain], error)
	// UpdateDomain changes a domain. Errors: CodeValidation, CodeNotFound,
	// CodeConflict.
	UpdateDomain(ctx context.Context, id string, upd DomainUpdate) (*Domain, error)
	// DeleteDomain disables a domain, or with hard removes it and, through
	// the database's cascades, every row it owns. Errors: CodeNotFound.
	DeleteDomain(ctx context.Context, id string, hard bool) error
	// RegistrationToken returns a domain's server-registration token; nil
	// when it has none yet (a domain created before tokens existed, until
	// one is regenerated).
	RegistrationToken(ctx context.Context, domain string) (*string, error)
	// ResolveRegistrationToken returns the domain of a server-registration
	// token. Errors: CodeNotFound when no domain has it or the domain is
	// disabled; CodeValidation for an empty or overlong token.
	ResolveRegistrationToken(ctx context.Context, token string) (*Domain, error)
	// RegenerateRegistrationToken gives the domain in ctx's principal a new
	// server-registration token; the old one stops resolving at once.
	RegenerateRegistrationToken(ctx context.Context) error
}
