package postgres_test

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
	"github.com/gotakaro/takaro/postgres"
)

func storedPasswordHash(t testing.TB, core *postgres.DB, tn *tenant, id uuid.UUID) string {
	t.Helper()
	var hash string
	must(t, core.InDomainForTest(tn.ctx, func(tx *postgres.Tx) error {
		return tx.QueryRow(tn.ctx, "SELECT password_hash FROM users WHERE domain = $1 AND id = $2", tx.Domain, id).Scan(&hash)
	}))
	return hash
}

func TestHashPasswordsAreStoredAsBcrypt(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newDomain(t, takaro.DomainLimits{})
	const password = "correct horse battery staple"
	u := check[*takaro.User](t)(e.core.CreateUser(tn.ctx, takaro.UserCreate{Name: "alice", Email: "alice@example.com", Password: password}))
	hash := storedPasswordHash(t, e.core, tn, u.ID)
	if !regexp.MustCompile(`^\$2a\$04\$[./A-Za-z0-9]{53}$`).MatchString(hash) {
		t.Errorf("stored hash %q is not bcrypt at the configured cost 4", hash)
	}
	if strings.Contains(hash, password) || strings.Contains(hash, "horse") {
		t.Errorf("the stored hash %q contains the password", hash)
	}
	if out, _ := json.Marshal(u); strings.Contains(string(out), "$2a$") || strings.Contains(string(out), password) {
		t.Errorf("the user shows its password or hash: %s", out)
	}
	if !check[bool](t)(e.core.VerifyForTest(tn.ctx, password, hash)) {
		t.Error("the stored hash does not verify the password")
	}

	// The cost comes from the options.
	costly := e.db.Open(t, postgres.Options{BcryptCost: 5})
	u5 := check[*takaro.User](t)(costly.CreateUser(tn.ctx, takaro.UserCreate{Name: "bob", Email: "bob@example.com", Password: password}))
	if hash5 := storedPasswordHash(t, e.core, tn, u5.ID); !strings.HasPrefix(hash5, "$2a$05$") {
		t.Errorf("with cost 5 the hash is %q", hash5)
	}
	if _, err := postgres.Open(context.Background(), e.db.Config(t), postgres.Options{BcryptCost: 3}); err == nil {
		t.Error("bcrypt cost 3 was accepted")
	}
	if _, err := postgres.Open(context.Background(), e.db.Config(t), postgres.Options{BcryptCost: 32}); err == nil {
		t.Error("bcrypt cost 32 was accepted")
	}
}

func TestHashVerification(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	const secret = "s3cret-Passw0rd"
	hash := check[string](t)(e.core.HashForTest(ctx, secret))
	again := check[string](t)(e.core.HashForTest(ctx, secret))
	if hash == again {
		t.Errorf("the same secret hashed twice gives the same hash %q: no salt", hash)
	}
	for _, h := range []string{hash, again} {
		if !check[bool](t)(e.core.VerifyForTest(ctx, secret, h)) {
			t.Errorf("%q does not verify its own secret", h)
		}
	}
	for _, wrong := range []string{"", "s3cret-passw0rd", "s3cret-Passw0rd ", "s3cret-Passw0r", secret + secret, "S3CRET-PASSW0RD"} {
		if check[bool](t)(e.core.VerifyForTest(ctx, wrong, hash)) {
			t.Errorf("%q verifies against the hash of %q", wrong, secret)
		}
	}
	if check[bool](t)(e.core.VerifyForTest(ctx, secret, "not a hash")) {
		t.Error("a secret verifies against garbage")
	}
}

func TestHashLongPasswords(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	p71 := strings.Repeat("p", 71)
	p72 := p71 + "a"
	hash := check[string](t)(e.core.HashForTest(ctx, p72))
	if !check[bool](t)(e.core.VerifyForTest(ctx, p72, hash)) {
		t.Fatal("a 72-byte password does not verify")
	}
	// The 72nd byte counts.
	if check[bool](t)(e.core.VerifyForTest(ctx, p71+"b", hash)) {
		t.Error("a password that differs in its 72nd byte verifies")
	}
	// bcrypt ignores everything after byte 72, so a longer password would
	// match any other with the same first 72 bytes: they must be refused.
	if !check[bool](t)(e.core.VerifyForTest(ctx, p72+"X", check[string](t)(e.core.HashForTest(ctx, p72+"Y")))) {
		t.Error("bcrypt no longer truncates at 72 bytes; revisit takaro.MaxPasswordBytes")
	}
	if err := takaro.ValidatePassword(p72); err != nil {
		t.Errorf("a 72-byte password was refused: %v", err)
	}
	wantCode(t, takaro.ValidatePassword(p72+"X"), takaro.CodeValidation)
	// Bytes count, not characters: 37 two-byte characters are 74 bytes.
	if err := takaro.ValidatePassword(strings.Repeat("é", 36)); err != nil {
		t.Errorf("a 72-byte password of 36 characters was refused: %v", err)
	}
	wantCode(t, takaro.ValidatePassword(strings.Repeat("é", 37)), takaro.CodeValidation)

	tn := e.newDomain(t, takaro.DomainLimits{})
	_, err := e.core.CreateUser(tn.ctx, takaro.UserCreate{Name: "long", Email: "long@example.com", Password: p72 + "X"})
	if ve := wantCode(t, err, takaro.CodeValidation); !strings.Contains(ve.Message, "password") {
		t.Errorf("the error %q does not name the password", ve.Message)
	}
	check[*takaro.User](t)(e.core.CreateUser(tn.ctx, takaro.UserCreate{Name: "long", Email: "long@example.com", Password: p72}))
}
