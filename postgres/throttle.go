package postgres

import (
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gotakaro/takaro"
)

// Throttling of failed authentication work. A failed login or a wrong
// bearer-token secret costs PostgreSQL one or more crypt() calls (about
// 55 ms of CPU each at cost 10), so each is paid for with a token from
// token buckets named by who asked: the client's address (and, for a
// login, the e-mail address tried), plus one global bucket for token
// verifications. A token is taken before the work and given back when the
// work succeeds, so only failures drain a bucket, and concurrent guesses
// cannot overshoot it. Buckets are never keyed by a credential: knowing a
// key's id (GET /apikey lists them) must not let anyone lock its owner
// out.

// Rate is a token bucket: Burst tokens at most, one more every Every.
type Rate struct {
	Burst int
	Every time.Duration
}

// Throttles are the limits on failed authentication work; a zero Rate
// takes its default.
type Throttles struct {
	// LoginPerAddress and LoginPerEmail limit failed logins per client
	// address and per e-mail address tried.
	LoginPerAddress, LoginPerEmail Rate
	// VerifyPerAddress and VerifyGlobal limit crypt() verifications of
	// bearer tokens that fail, per client address and in all.
	VerifyPerAddress, VerifyGlobal Rate
}

// Default limits: a person mistyping a password a few times is never
// throttled; a script guessing is slowed to a few attempts a minute per
// address and e-mail address, and wrong token secrets can burn at most
// about one crypt() every 100 ms of database CPU in all.
var defaultThrottles = Throttles{
	LoginPerAddress:  Rate{Burst: 20, Every: 6 * time.Second},
	LoginPerEmail:    Rate{Burst: 10, Every: 12 * time.Second},
	VerifyPerAddress: Rate{Burst: 20, Every: 3 * time.Second},
	VerifyGlobal:     Rate{Burst: 100, Every: 100 * time.Millisecond},
}

func (t Throttles) withDefaults() Throttles {
	for _, p := range []struct{ r, def *Rate }{
		{&t.LoginPerAddress, &defaultThrottles.LoginPerAddress},
		{&t.LoginPerEmail, &defaultThrottles.LoginPerEmail},
		{&t.VerifyPerAddress, &defaultThrottles.VerifyPerAddress},
		{&t.VerifyGlobal, &defaultThrottles.VerifyGlobal},
	} {
		if p.r.Burst <= 0 || p.r.Every <= 0 {
			*p.r = *p.def
		}
	}
	return t
}

// throttleKeys bounds the buckets one throttle remembers; a full bucket is
// the same as none, so those drop out first.
const throttleKeys = 10_000

type bucket struct {
	tokens float64
	at     time.Time
}

// throttle is a set of token buckets with one rate, keyed by a string.
type throttle struct {
	rate    Rate
	mu      sync.Mutex
	buckets map[string]bucket
}

func newThrottle(r Rate) *throttle { return &throttle{rate: r, buckets: map[string]bucket{}} }

// level returns the bucket's tokens as of now.
func (t *throttle) level(key string, now time.Time) float64 {
	b, ok := t.buckets[key]
	if !ok {
		return float64(t.rate.Burst)
	}
	return min(float64(t.rate.Burst), b.tokens+now.Sub(b.at).Seconds()/t.rate.Every.Seconds())
}

// take removes a token from key's bucket and returns 0, or, when the
// bucket is empty, leaves it and returns how long until it holds one.
func (t *throttle) take(key string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := t.level(key, now)
	if n < 1 {
		return time.Duration((1 - n) * float64(t.rate.Every))
	}
	if _, known := t.buckets[key]; !known {
		makeRoom(t.buckets, throttleKeys, func(b bucket) bool {
			return b.tokens+now.Sub(b.at).Seconds()/t.rate.Every.Seconds() >= float64(t.rate.Burst)
		})
	}
	t.buckets[key] = bucket{tokens: n - 1, at: now}
	return 0
}

// refund gives back a token taken from key's bucket.
func (t *throttle) refund(key string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.buckets[key]; ok {
		t.buckets[key] = bucket{tokens: min(float64(t.rate.Burst), t.level(key, now)+1), at: now}
	}
}

// claim names one bucket to take a token from.
type claim struct {
	t   *throttle
	key string
}

// reserve takes a token from every claimed bucket. When one is empty it
// gives back those it took and returns a TooManyRequests error that says
// when to retry. Otherwise the caller calls refund once the work
// succeeded, so only failures cost tokens.
func (ts *throttles) reserve(clock func() time.Time, claims ...claim) (refund func(), err error) {
	now := clock()
	for i, c := range claims {
		if wait := c.t.take(c.key, now); wait > 0 {
			for _, done := range claims[:i] {
				done.t.refund(done.key, now)
			}
			ts.refused.Add(1)
			return nil, tooManyAttempts(wait)
		}
	}
	return func() {
		now := clock()
		for _, c := range claims {
			c.t.refund(c.key, now)
		}
	}, nil
}

func tooManyAttempts(wait time.Duration) error {
	return &takaro.Error{
		Code:       takaro.CodeTooManyRequests,
		Message:    "Too many failed attempts. Please try again later.",
		RetryAfter: time.Duration(math.Ceil(wait.Seconds())) * time.Second,
	}
}

// throttles holds the buckets of one DB.
type throttles struct {
	loginAddress, loginEmail, verifyAddress, verifyGlobal *throttle
	// refused counts the attempts refused without any work.
	refused atomic.Uint64
}

func newThrottles(t Throttles) *throttles {
	t = t.withDefaults()
	return &throttles{
		loginAddress:  newThrottle(t.LoginPerAddress),
		loginEmail:    newThrottle(t.LoginPerEmail),
		verifyAddress: newThrottle(t.VerifyPerAddress),
		verifyGlobal:  newThrottle(t.VerifyGlobal),
	}
}
