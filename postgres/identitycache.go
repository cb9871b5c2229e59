package postgres

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The identity cache: what a verified credential acts as (user, domain,
// domain state, permissions) is kept in memory, so that a request in
// steady state sends PostgreSQL only its data statement.
//
// Correctness rests on being told of every change. Triggers on the tables
// an identity is made of (migration 00015, takaro_watch_identity) NOTIFY
// the channel takaro_identity with the scope of a change: a credential, a
// user or a whole domain. Every DB holds one LISTEN connection of its own,
// outside the pool, and drops the identities a message names. The same
// triggers raise a NOTICE with the same text, which pgx hands to the pool
// connection that made the change before its statement returns, so an
// instance's own changes take effect for its next request without waiting
// for the notification.
//
// When the listening connection is not known to work, the cache is empty
// and bypassed: every request reads its identity from the database as
// before. "Known to work" means that LISTEN succeeded and that a message
// this DB sends itself comes back: a heartbeat every listenHeartbeat,
// answered within listenTimeout. That usually also catches a listening
// connection that goes through PgBouncer in transaction mode, where LISTEN
// does not stay on the server connection, but cannot prove it: give the
// listener a direct connection with Options.ListenConfig. Each entry also
// expires after identityMaxAge, and at the earliest expiry of the
// credential or of a role assignment it depends on.
//
// A fill races with a change: a request may read an identity just before
// a change commits and store it just after the change's message was
// handled. Every invalidation therefore bumps a generation, and a fill is
// stored only if the generation did not move while it ran.
const (
	identityChannel = "takaro_identity"
	// identityMaxAge bounds how long an entry lives, whatever happens: a
	// second line of defence should a message ever be lost unnoticed.
	identityMaxAge  = 10 * time.Second
	identityEntries = 10_000

	listenHeartbeat = 5 * time.Second
	listenTimeout   = 2 * time.Second
	listenRetry     = time.Second
)

type identityEntry struct {
	identity takaro.Identity
	credID   uuid.UUID // uuid.Nil for a user named by an admin-signed token
	expires  time.Time
}

// identityCache is safe for concurrent use.
type identityCache struct {
	mu        sync.Mutex
	entries   map[cacheKey]identityEntry
	listening bool
	now       func() time.Time
	// relayed are, per connection, the changes that triggers on Citus
	// shards reported, for the connection's transaction to announce
	// before it commits (relayIdentityChanges).
	relayed map[*pgconn.PgConn][]string

	generation    atomic.Uint64
	hits          atomic.Uint64
	misses        atomic.Uint64
	invalidations atomic.Uint64
}

func newIdentityCache(now func() time.Time) *identityCache {
	if now == nil {
		now = time.Now
	}
	return &identityCache{entries: map[cacheKey]identityEntry{}, now: now, relayed: map[*pgconn.PgConn][]string{}}
}

// userCacheKey names the identity of a user that an admin-signed token
// names; it cannot collide with a token's key, a hash of the token text.
func userCacheKey(domain string, userID uuid.UUID) cacheKey {
	return sha256.Sum256([]byte("user\x00" + domain + "\x00" + userID.String()))
}

// get returns a copy of the cached identity of key, if the cache is in use
// and holds a live one; it counts a hit or a miss.
func (c *identityCache) get(key cacheKey) (*takaro.Identity, bool) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[key]
	if ok && !now.Before(e.expires) {
		delete(c.entries, key)
		ok = false
	}
	c.mu.Unlock()
	if !ok {
		c.misses.Add(1)
		return nil, false
	}
	c.hits.Add(1)
	id := e.identity
	return &id, true
}

// put stores an identity read from the database, unless the cache is
// bypassed or something was invalidated since the read began (gen is the
// generation from before it). validUntil, when set, is the earliest
// expiry of what the identity depends on.
func (c *identityCache) put(key cacheKey, gen uint64, id *takaro.Identity, validUntil *time.Time) {
	now := c.now()
	expires := now.Add(identityMaxAge)
	if validUntil != nil && validUntil.Before(expires) {
		expires = *validUntil
	}
	e := identityEntry{identity: *id, expires: expires}
	if id.Credential != nil {
		e.credID = id.Credential.ID
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.listening || c.generation.Load() != gen {
		return
	}
	if _, known := c.entries[key]; !known {
		makeRoom(c.entries, identityEntries, func(e identityEntry) bool { return !now.Before(e.expires) })
	}
	c.entries[key] = e
}

// invalidate drops what a message names ("<scope> <domain> [<id>]");
// anything it cannot read drops everything.
func (c *identityCache) invalidate(message string) {
	scope, rest, _ := strings.Cut(message, " ")
	domain, idText, _ := strings.Cut(rest, " ")
	id, err := uuid.Parse(idText)
	matches := func(e identityEntry) bool { return true }
	switch {
	case scope == "domain" && domain != "":
		matches = func(e identityEntry) bool { return e.identity.Domain == domain }
	case scope == "user" && err == nil:
		matches = func(e identityEntry) bool { return e.identity.Domain == domain && e.identity.UserID == id }
	case scope == "credential" && err == nil:
		matches = func(e identityEntry) bool { return e.identity.Domain == domain && e.credID == id }
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.generation.Add(1)
	for k, e := range c.entries {
		if matches(e) {
			delete(c.entries, k)
		}
	}
	c.invalidations.Add(1) // last, so that a reader of it sees the drop done
}

// setListening turns the cache on or off; either way it starts empty,
// since messages may have been missed.
func (c *identityCache) setListening(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.generation.Add(1)
	clear(c.entries)
	c.listening = on
}

func (c *identityCache) isListening() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.listening
}

func (c *identityCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// noticePrefix starts the NOTICE of takaro_identity_changed; relayPrefix
// starts it on a Citus shard, which cannot NOTIFY (migration 00111).
const (
	noticePrefix = identityChannel + " "
	relayPrefix  = identityChannel + "_relay "
)

// onNotice returns a pgx notice handler that invalidates on the notices
// of takaro_identity_changed and passes the others to next.
func (c *identityCache) onNotice(next pgconn.NoticeHandler) pgconn.NoticeHandler {
	return func(pc *pgconn.PgConn, n *pgconn.Notice) {
		if message, ok := strings.CutPrefix(n.Message, noticePrefix); ok {
			c.invalidate(message)
			return
		}
		if message, ok := strings.CutPrefix(n.Message, relayPrefix); ok {
			c.invalidate(message)
			c.mu.Lock()
			c.relayed[pc] = append(c.relayed[pc], message)
			c.mu.Unlock()
			return
		}
		if next != nil {
			next(pc, n)
		}
	}
}

// takeRelayed returns and forgets the changes relayed on pc.
func (c *identityCache) takeRelayed(pc *pgconn.PgConn) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	messages := c.relayed[pc]
	delete(c.relayed, pc)
	return messages
}

// relayIdentityChanges announces on the coordinator, in tx, the changes
// that the triggers on Citus shards reported on its connection: other
// instances drop those identities once tx commits. On plain PostgreSQL
// there are none and it costs nothing.
func (db *DB) relayIdentityChanges(ctx context.Context, tx pgx.Tx) error {
	messages := slices.Compact(db.identities.takeRelayed(tx.Conn().PgConn()))
	if len(messages) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, "SELECT pg_notify('"+identityChannel+"', m) FROM unnest($1::text[]) m", messages)
	return err
}

// listen keeps a LISTEN connection open until ctx ends, reconnecting after
// a failure, and keeps the cache on only while the connection is proven to
// deliver messages. It logs when the cache turns on or off.
func (c *identityCache) listen(ctx context.Context, cfg *pgx.ConnConfig, log *slog.Logger) {
	failing := false
	for ctx.Err() == nil {
		err := c.listenOnce(ctx, cfg, func() {
			failing = false
			log.Info("identity cache on: listening for changes")
		})
		c.setListening(false)
		if ctx.Err() != nil {
			return
		}
		if !failing {
			failing = true
			log.Warn("identity cache bypassed (every request reads its identity from the database): "+
				"the listening connection failed; retrying every second", "error", err.Error())
		}
		select {
		case <-ctx.Done():
		case <-time.After(listenRetry):
		}
	}
}

// listenOnce connects, listens and handles messages until the connection
// fails a heartbeat or ctx ends; up is called when the cache turns on.
func (c *identityCache) listenOnce(ctx context.Context, cfg *pgx.ConnConfig, up func()) error {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	if _, err := conn.Exec(ctx, "LISTEN "+identityChannel); err != nil {
		return err
	}
	for first := true; ; first = false {
		if err := c.heartbeat(ctx, conn); err != nil {
			return err
		}
		if first {
			c.setListening(true)
			up()
		}
		if err := c.receive(ctx, conn, time.Now().Add(listenHeartbeat), ""); err != nil {
			return err
		}
	}
}

// heartbeat sends itself a message on the channel and waits for it,
// handling the messages that come first.
func (c *identityCache) heartbeat(ctx context.Context, conn *pgx.Conn) error {
	nonce := make([]byte, 8)
	_, _ = rand.Read(nonce)
	ping := "ping " + hex.EncodeToString(nonce)
	tctx, cancel := context.WithTimeout(ctx, listenTimeout)
	defer cancel()
	if _, err := conn.Exec(tctx, "SELECT pg_notify($1, $2)", identityChannel, ping); err != nil {
		return err
	}
	if err := c.receive(ctx, conn, time.Now().Add(listenTimeout), ping); err != nil {
		if errors.Is(err, errListenIdle) {
			return errors.New("the heartbeat did not come back: the connection does not deliver notifications")
		}
		return err
	}
	return nil
}

var errListenIdle = errors.New("no message")

// receive handles messages until the deadline (nil), or until the message
// want arrives (nil); with want set, reaching the deadline is
// errListenIdle.
func (c *identityCache) receive(ctx context.Context, conn *pgx.Conn, deadline time.Time, want string) error {
	tctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	for {
		n, err := conn.WaitForNotification(tctx)
		switch {
		case err != nil && tctx.Err() != nil && ctx.Err() == nil && pgconn.Timeout(err):
			if want != "" {
				return errListenIdle
			}
			return nil
		case err != nil:
			return err
		case n.Payload == want:
			return nil
		case strings.HasPrefix(n.Payload, "ping "):
			// another instance's heartbeat
		default:
			c.invalidate(n.Payload)
		}
	}
}

// IdentityCacheStats describes the identity cache, for metrics.
type IdentityCacheStats struct {
	// Hits and Misses count identities served from memory and read from
	// the database (misses include every request while it is bypassed).
	Hits, Misses uint64
	// Invalidations counts the change messages handled.
	Invalidations uint64
	// Entries is the number of identities held now.
	Entries int
	// Listening reports whether the listening connection is up and proven;
	// while it is not, the cache is empty and bypassed.
	Listening bool
}

// IdentityCacheStats returns the counters and state of the identity cache.
func (db *DB) IdentityCacheStats() IdentityCacheStats {
	c := db.identities
	return IdentityCacheStats{Hits: c.hits.Load(), Misses: c.misses.Load(), Invalidations: c.invalidations.Load(),
		Entries: c.len(), Listening: c.isListening()}
}
