// Package takaro holds the vocabulary of the data core of a multi-tenant
// game-server management platform: the resources (domains, users, roles,
// game servers, players, variables, events, API keys, sessions), the search
// contract shared by every list endpoint, and the error type every layer
// speaks.
//
// Tenancy model: every tenant is a domain, and every tenant-owned resource
// carries the id of the domain it belongs to. Nothing in this package reads
// a domain from anywhere but its arguments; the postgres package binds each
// unit of work to exactly one domain and PostgreSQL's row-level security
// enforces the same rule a second time.
//
// This package depends on the standard library (and a UUID type) only.
// Adapters live in sub-packages named after what they wrap: postgres (the
// database) and httpapi (the REST API); cmd/takaro wires them together.
package takaro
