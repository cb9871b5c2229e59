package postgres

import (
	"context"
	"time"
)

// Test-only access to the credential cache, so its bounds and expiry can be
// checked with a fake clock.

type CredentialCacheForTest struct{ c *credentialCache }

func NewCredentialCacheForTest(size int, idle time.Duration, now func() time.Time) *CredentialCacheForTest {
	return &CredentialCacheForTest{c: &credentialCache{size: size, idle: idle, now: now}}
}

func (c *CredentialCacheForTest) Get(token string) string { return c.c.get(tokenCacheKey(token)) }

func (c *CredentialCacheForTest) Put(token, hash string) { c.c.put(tokenCacheKey(token), hash) }

func (c *CredentialCacheForTest) Remove(token string) { c.c.remove(tokenCacheKey(token)) }

func (c *CredentialCacheForTest) Len() int { return c.c.len() }

func (c *CredentialCacheForTest) Verify(ctx context.Context, token, hash string, check func() (bool, error)) (bool, error) {
	return c.c.verify(ctx, tokenCacheKey(token), hash, check)
}
