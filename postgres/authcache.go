package postgres

import (
	"context"
	"crypto/sha256"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// Verifying a bearer token's secret is a bcrypt crypt() inside PostgreSQL:
// about 55 ms of database CPU at cost 10 on the development VM,
// far too much for every request. credentialCache remembers, per token, the
// stored hash its secret was verified against. Authenticate still reads the
// credential's row on every request (that is how revocation, expiry and a
// changed role take effect at once); when the row's hash is the remembered
// one, the token is accepted without crypt(). A replaced hash does not
// match, so the token is verified again. Concurrent requests with the same
// token that is not cached yet (a dashboard loads several resources at
// once) share one verification.
//
// The key is SHA-256 of the whole token text, so the process never keeps a
// usable token in memory, and a token with the same credential id but
// another secret can never hit another token's entry. The value is a
// bcrypt hash, which is no secret beyond what the database already holds.
const (
	// credentialCacheSize bounds the entries (about 200 bytes each, so
	// about 2 MB in all); when it is full, an arbitrary entry gives way.
	credentialCacheSize = 10_000
	// credentialCacheIdle is how long an entry lives without being used.
	// Each use extends it, so a token in active use is verified once per
	// process and idle ones drop out. It plays no part in revocation.
	credentialCacheIdle = 5 * time.Minute
)

type cacheKey = [sha256.Size]byte

type cachedCredential struct {
	hash    string
	expires time.Time
}

// flightKey names one verification: a token against one stored hash.
type flightKey struct {
	key  cacheKey
	hash string
}

// flight is a verification in progress; done is closed when it ends.
type flight struct {
	done chan struct{}
	ok   bool
	err  error
}

// credentialCache is safe for concurrent use; its zero value is ready.
type credentialCache struct {
	mu      sync.Mutex
	entries map[cacheKey]cachedCredential
	flights map[flightKey]*flight
	// seen remembers when this process last had a credential's (or a
	// token-named user's) "last seen" recorded; for a minute after that,
	// Authenticate sends the identity statement without its writes.
	seen map[uuid.UUID]time.Time
	// size and idle override the defaults (tests); now is the clock.
	size int
	idle time.Duration
	now  func() time.Time

	hits          atomic.Uint64
	verifications atomic.Uint64
}

func tokenCacheKey(token string) cacheKey { return sha256.Sum256([]byte(token)) }

func (c *credentialCache) clock() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}

func (c *credentialCache) idleTime() time.Duration {
	if c.idle > 0 {
		return c.idle
	}
	return credentialCacheIdle
}

func (c *credentialCache) capacity() int {
	if c.size > 0 {
		return c.size
	}
	return credentialCacheSize
}

// get returns the hash the token was last verified against, and extends
// the entry's life; "" when there is none.
func (c *credentialCache) get(key cacheKey) string {
	now := c.clock()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.getLocked(key, now)
}

func (c *credentialCache) getLocked(key cacheKey, now time.Time) string {
	e, ok := c.entries[key]
	if !ok {
		return ""
	}
	if !now.Before(e.expires) {
		delete(c.entries, key)
		return ""
	}
	e.expires = now.Add(c.idleTime())
	c.entries[key] = e
	return e.hash
}

// verify reports whether the token (key) matches the stored hash: at once
// when the token was verified against that hash before, otherwise by
// check, which runs once for all concurrent callers with the same token
// and hash. A match is cached; a mismatch drops the token's entry.
func (c *credentialCache) verify(ctx context.Context, key cacheKey, hash string, check func() (bool, error)) (bool, error) {
	fk := flightKey{key, hash}
	c.mu.Lock()
	// Looked up under the lock that a finishing verification holds while
	// it caches its result, so no caller starts a second one.
	if c.getLocked(key, c.clock()) == hash {
		c.mu.Unlock()
		c.hits.Add(1)
		return true, nil
	}
	if f, ok := c.flights[fk]; ok {
		c.mu.Unlock()
		select {
		case <-f.done:
		case <-ctx.Done():
			return false, ctx.Err()
		}
		if f.err != nil { // the other caller's failure, perhaps its own cancellation
			return check()
		}
		if f.ok {
			c.hits.Add(1)
		}
		return f.ok, nil
	}
	if c.flights == nil {
		c.flights = make(map[flightKey]*flight)
	}
	f := &flight{done: make(chan struct{})}
	c.flights[fk] = f
	c.mu.Unlock()

	defer func() {
		c.mu.Lock()
		delete(c.flights, fk)
		switch {
		case f.ok:
			c.putLocked(key, hash, c.clock())
		case f.err == nil:
			delete(c.entries, key)
		}
		c.mu.Unlock()
		close(f.done)
	}()
	f.ok, f.err = check()
	return f.ok, f.err
}

// put remembers that the token's secret matches hash.
func (c *credentialCache) put(key cacheKey, hash string) {
	now := c.clock()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(key, hash, now)
}

func (c *credentialCache) putLocked(key cacheKey, hash string, now time.Time) {
	if c.entries == nil {
		c.entries = make(map[cacheKey]cachedCredential)
	}
	if _, ok := c.entries[key]; !ok {
		makeRoom(c.entries, c.capacity(), func(e cachedCredential) bool { return !now.Before(e.expires) })
	}
	c.entries[key] = cachedCredential{hash: hash, expires: now.Add(c.idleTime())}
}

// makeRoom makes room in m for one more key when it holds capacity keys:
// it drops the stale entries, or else an arbitrary one (Go randomises map
// iteration). It runs only on the way to work that costs far more than the
// sweep (a crypt(), a statement).
func makeRoom[K comparable, V any](m map[K]V, capacity int, stale func(V) bool) {
	if len(m) < capacity {
		return
	}
	for k, v := range m {
		if stale(v) {
			delete(m, k)
		}
	}
	for k := range m {
		if len(m) < capacity {
			return
		}
		delete(m, k)
	}
}

// seenInterval's length in Go; the SQL checks the same bound.
const seenEvery = time.Minute

// seenRecently reports whether id was recorded as seen within the minute.
func (c *credentialCache) seenRecently(id uuid.UUID) bool {
	now := c.clock()
	c.mu.Lock()
	defer c.mu.Unlock()
	at, ok := c.seen[id]
	return ok && now.Sub(at) < seenEvery
}

// markSeen notes that "last seen" of id is recorded as of now (written by
// the statement that just ran, or less than a minute ago by another).
func (c *credentialCache) markSeen(id uuid.UUID) {
	now := c.clock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if at, ok := c.seen[id]; ok && now.Sub(at) < seenEvery {
		return // keep the older time: the write is due a minute after it
	}
	if c.seen == nil {
		c.seen = make(map[uuid.UUID]time.Time)
	}
	if _, known := c.seen[id]; !known {
		makeRoom(c.seen, c.capacity(), func(at time.Time) bool { return now.Sub(at) >= seenEvery })
	}
	c.seen[id] = now
}

// remove forgets a token that no longer authenticates.
func (c *credentialCache) remove(key cacheKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, key)
}

func (c *credentialCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// CredentialStats describes how bearer tokens were checked since the DB
// was opened, for metrics.
type CredentialStats struct {
	// CacheHits counts tokens accepted without a crypt() verification of
	// their own: found in the credential or identity cache, or verified by a
	// concurrent request.
	CacheHits uint64
	// Verifications counts crypt() verifications of a token's secret,
	// successful or not.
	Verifications uint64
	// Cached is the number of tokens in the cache now.
	Cached int
	// Throttled counts logins and verifications refused without a
	// crypt() because their client address (or e-mail address, or the
	// whole process) had too many failures lately.
	Throttled uint64
}

// CredentialStats returns the counters of the credential cache.
func (db *DB) CredentialStats() CredentialStats {
	return CredentialStats{
		CacheHits:     db.creds.hits.Load(),
		Verifications: db.creds.verifications.Load(),
		Cached:        db.creds.len(),
		Throttled:     db.throttles.refused.Load(),
	}
}
