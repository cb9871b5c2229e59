package postgres

import (
	"crypto/sha256"
	"sync"
	"sync/atomic"
	"time"
)

// Verifying a bearer token's secret is a bcrypt crypt() inside PostgreSQL:
// about 55 ms of database CPU at cost 10 (shared/docs/perf-baseline.md §5),
// far too much for every request. credentialCache remembers, per token, the
// stored hash its secret was verified against. Authenticate still reads the
// credential's row on every request (that is how revocation, expiry and a
// changed role take effect at once); when the row's hash is the remembered
// one, the token is accepted without crypt(). A replaced hash does not
// match, so the token is verified again.
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

// credentialCache is safe for concurrent use; its zero value is ready.
type credentialCache struct {
	mu      sync.Mutex
	entries map[cacheKey]cachedCredential
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

// put remembers that the token's secret matches hash.
func (c *credentialCache) put(key cacheKey, hash string) {
	now := c.clock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = make(map[cacheKey]cachedCredential)
	}
	if _, ok := c.entries[key]; !ok && len(c.entries) >= c.capacity() {
		c.evict(now)
	}
	c.entries[key] = cachedCredential{hash: hash, expires: now.Add(c.idleTime())}
}

// evict makes room for one entry: it drops the expired entries, or else
// one arbitrary entry (Go randomises map iteration). It runs only after a
// crypt() verification, which costs far more than the sweep.
func (c *credentialCache) evict(now time.Time) {
	for k, e := range c.entries {
		if !now.Before(e.expires) {
			delete(c.entries, k)
		}
	}
	if len(c.entries) < c.capacity() {
		return
	}
	for k := range c.entries {
		delete(c.entries, k)
		return
	}
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
	// CacheHits counts tokens accepted without a crypt() verification.
	CacheHits uint64
	// Verifications counts crypt() verifications of a token's secret,
	// successful or not.
	Verifications uint64
	// Cached is the number of tokens in the cache now.
	Cached int
}

// CredentialStats returns the counters of the credential cache.
func (db *DB) CredentialStats() CredentialStats {
	return CredentialStats{
		CacheHits:     db.creds.hits.Load(),
		Verifications: db.creds.verifications.Load(),
		Cached:        db.creds.len(),
	}
}
