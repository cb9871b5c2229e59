// Package httpapi is the REST API: the reference platform's paths, JSON
// shapes and {data, meta} envelope over the data core's services.
//
// Where things are:
//   - routes.go: the route table, assembled from one part per resource
//     (domain.go, session.go, user.go, …), each route declared once with
//     its access, permissions and body type. The router, the OpenAPI
//     document (openapi.go, schema.go), the permission checks and the
//     tests all read this one table.
//   - server.go, serve: the life of a request. It is authenticated
//     (auth.go), authorized (domain state, permissions), bound to the
//     caller's domain with takaro.NewContext (the only place a request's
//     domain is fixed, and only from its credential), then its path ids and
//     body are validated (endpoint.go) and its handler runs.
//   - respond.go: the envelope and the one table from error codes to HTTP
//     statuses. Errors that are not a *takaro.Error are logged with the
//     request id and answered with a generic 500.
//   - middleware.go: request ids, the per-request log line, metrics, the
//     body limit and panic recovery.
//
// The package never reads the environment and never imports the database
// driver: it speaks only the root package's service interfaces.
package httpapi
