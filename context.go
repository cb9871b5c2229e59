package takaro

import (
	"context"

	"github.com/google/uuid"
)

// Principal is who a request acts as: a user of one domain, authenticated
// by a session, an API key or an admin-issued token. The HTTP layer puts it
// into the request's context after authentication; the data layer takes
// the domain of every unit of work from it and from nowhere else.
type Principal struct {
	// Domain is the tenant every read and write of the request is bound to.
	Domain string
	// UserID is the acting user; it is recorded in audit events.
	UserID uuid.UUID
}

type principalKey struct{}

// NewContext returns a copy of ctx that carries p.
func NewContext(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal carried by ctx. It fails closed: with
// no principal, or one without a valid domain, it returns an unauthorized
// error rather than a zero value that could match something.
func PrincipalFrom(ctx context.Context) (Principal, error) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	if !ok || !ValidDomainID(p.Domain) {
		return Principal{}, Errorf(CodeUnauthorized, "Not authorized")
	}
	return p, nil
}

type clientAddressKey struct{}

// WithClientAddress returns a copy of ctx that carries the network address
// of the client a request came from, which failed authentication attempts
// are throttled by.
func WithClientAddress(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, clientAddressKey{}, addr)
}

// ClientAddress returns the client address carried by ctx, or "" (one
// shared address for all work that did not come from a client).
func ClientAddress(ctx context.Context) string {
	addr, _ := ctx.Value(clientAddressKey{}).(string)
	return addr
}
