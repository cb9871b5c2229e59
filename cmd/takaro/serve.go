package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gotakaro/takaro/httpapi"
	"github.com/gotakaro/takaro/postgres"
)

// Timeouts of the HTTP server. Requests are small (bodies up to 1 MB) and
// answered from one database, so generous bounds only protect against slow
// or stuck clients.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
	shutdownTimeout   = 30 * time.Second
)

func runServe(ctx context.Context, a *app, args []string) error {
	if _, err := a.parseFlags(args, func(fs *flag.FlagSet) {
		fs.IntVar(&a.cfg.Port, "port", a.cfg.Port, "HTTP port (PORT)")
		fs.BoolVar(&a.cfg.Migrate, "migrate", a.cfg.Migrate, "apply pending migrations before serving (TAKARO_MIGRATE)")
	}); err != nil {
		return err
	}
	// Listen first: a port in use should stop serve before it migrates.
	listener, err := net.Listen("tcp", ":"+strconv.Itoa(a.cfg.Port))
	if err != nil {
		return err
	}
	defer func() { _ = listener.Close() }() // after serveUntilDone, already closed
	db, err := a.openServing(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	a.warnUnconfiguredKeys(ctx, db)
	cfg, err := a.apiConfig(db)
	if err != nil {
		return err
	}
	api, err := httpapi.New(cfg)
	if err != nil {
		return err
	}
	return a.serveUntilDone(ctx, api.Handler(), listener)
}

// warnUnconfiguredKeys warns, naming the key identifiers, when stored
// values are encrypted with keys that are not configured: the API serves,
// but every read of those values fails until the key is configured.
func (a *app) warnUnconfiguredKeys(ctx context.Context, db *postgres.DB) {
	keys, err := a.cfg.keyring()
	if err != nil || keys == nil {
		return // openServing has already refused both
	}
	usage, err := db.KeyUsage(ctx)
	if err != nil {
		a.log.Warn("could not count the encrypted values by key", "error", err.Error())
		return
	}
	var missing []string
	var values int64
	for _, u := range usage {
		if _, ok := keys.Lookup(u.KeyID); !ok {
			values += u.Values
			if !slices.Contains(missing, u.KeyID) {
				missing = append(missing, u.KeyID)
			}
		}
	}
	if len(missing) > 0 {
		a.log.Warn("stored values are encrypted with keys that are not configured: reading them fails until each key "+
			"is set in POSTGRES_ENCRYPTION_KEY_PREVIOUS (takaro db verify-encryption lists them)",
			"key_ids", strings.Join(missing, ","), "values", values)
	}
}

// openServing opens the database for serving the API: with the key, and
// with the schema this binary was built for (see prepareSchema).
func (a *app) openServing(ctx context.Context) (*postgres.DB, error) {
	db, err := a.openDatabase(ctx, true)
	if err != nil {
		return nil, err
	}
	if err := a.prepareSchema(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// prepareSchema applies pending migrations when asked to, and otherwise
// refuses to serve a database whose schema is not the one this binary was
// built for.
func (a *app) prepareSchema(ctx context.Context, db *postgres.DB) error {
	m, err := postgres.NewMigrator(db, a.migrations)
	if err != nil {
		return err
	}
	defer func() { _ = m.Close() }()
	if !a.cfg.Migrate {
		if err := m.CheckCurrent(ctx); err != nil {
			return fmt.Errorf("%w (or start with --migrate, or TAKARO_MIGRATE=true)", err)
		}
		return nil
	}
	results, err := m.Up(ctx)
	for _, r := range results {
		a.log.Info("applied migration", "migration", r.Name, "duration_ms", float64(r.Duration.Microseconds())/1000)
	}
	return err
}

// apiConfig wires the data core into the API's settings. With the embedded
// database and no secrets configured, development secrets are generated
// once and kept in the data directory, so a first run has a working admin
// API; their files are named in the log, never their values.
func (a *app) apiConfig(db *postgres.DB) (httpapi.Config, error) {
	adminSecret, jwtSecret := a.cfg.AdminSecret, a.cfg.JWTSecret
	if a.cfg.Embedded {
		var err error
		if adminSecret == "" {
			if adminSecret, err = a.devSecret("admin-token"); err != nil {
				return httpapi.Config{}, err
			}
		}
		if jwtSecret == "" {
			if jwtSecret, err = a.devSecret("jwt-secret"); err != nil {
				return httpapi.Config{}, err
			}
		}
	}
	if adminSecret == "" {
		a.log.Info("the admin API is off: ADMIN_CLIENT_SECRET is not set")
	}
	if jwtSecret == "" {
		a.log.Info("domain tokens (X-Takaro-Token) are off: JWT_SECRET is not set")
	}
	pool := db.Pool()
	return httpapi.Config{
		Domains: db, Users: db, Roles: db, GameServers: db, Players: db, Variables: db, Events: db, Settings: db, Tracking: db, Auth: db,
		Modules: db, Commands: db, Hooks: db, CronJobs: db, Functions: db,
		Currency: db, Bans: db, Items: db, Entities: db, Shop: db,
		SearchFields: postgres.SearchFields,
		Ready:        db.Ping,
		AdminSecret:  string(adminSecret),
		JWTSecret:    []byte(jwtSecret),
		Logger:       a.log,
		PoolStats: func() httpapi.PoolStats {
			st := pool.Stat()
			return httpapi.PoolStats{Acquired: st.AcquiredConns(), Idle: st.IdleConns(), Total: st.TotalConns(),
				Max: st.MaxConns(), Waits: st.EmptyAcquireCount(), WaitDuration: st.EmptyAcquireWaitTime()}
		},
		IdentityCacheStats: func() httpapi.IdentityCacheStats {
			st := db.IdentityCacheStats()
			return httpapi.IdentityCacheStats{Hits: st.Hits, Misses: st.Misses, Invalidations: st.Invalidations,
				Entries: st.Entries, Listening: st.Listening}
		},
	}, nil
}

// serveUntilDone serves until ctx ends (SIGINT or SIGTERM), then stops
// accepting connections and lets in-flight requests finish.
func (a *app) serveUntilDone(ctx context.Context, h http.Handler, l net.Listener) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          nil,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	a.log.Info("serving the API", "address", l.Addr().String(), "docs", "/api.html")
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.log.Info("shutting down: draining in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	a.log.Info("stopped")
	return nil
}
