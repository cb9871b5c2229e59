package postgres_test

import (
	"math/rand/v2"
	"testing"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
)

// economy is a game server with players on it, each holding a balance.
type economy struct {
	server *takaro.GameServer
	pogs   []*takaro.PlayerOnGameServer
}

func (e *env) newEconomy(t testing.TB, tn *tenant, players, balance int) *economy {
	t.Helper()
	ec := &economy{server: e.createGameServer(t, tn, uniqueName("economy"))}
	e.setEconomy(t, tn, nil, true)
	for range players {
		p := e.createPlayer(t, tn, uniqueName("steam"))
		check[*takaro.PlayerOnGameServer](t)(e.core.UpsertPlayerOnGameServer(tn.ctx, takaro.PlayerOnGameServerUpsert{
			PlayerID: p.ID, GameServerID: ec.server.ID, GameID: uniqueName("game")}))
		ec.pogs = append(ec.pogs, check[*takaro.PlayerOnGameServer](t)(e.core.SetCurrency(tn.ctx, ec.server.ID, p.ID,
			takaro.CurrencyAmount{Currency: balance})))
	}
	return ec
}

// balances reads every balance of the economy.
func (ec *economy) balances(t testing.TB, e *env, tn *tenant) []int {
	t.Helper()
	out := make([]int, len(ec.pogs))
	for i, p := range ec.pogs {
		out[i] = check[*takaro.PlayerOnGameServer](t)(e.core.FindPlayerOnGameServer(tn.ctx, ec.server.ID, p.PlayerID)).Currency
	}
	return out
}

func countEvents(t testing.TB, e *env, tn *tenant, name takaro.EventName, gameServerID uuid.UUID) int {
	t.Helper()
	return check[*takaro.Page[takaro.Event]](t)(e.core.FindEvents(tn.ctx, takaro.Query{Filters: map[string]takaro.Values{
		"eventName": {string(name)}, "gameserverId": {gameServerID.String()}}, Limit: ptrTo(1)})).Total
}

// TestCurrencyTransfersKeepTheSum races hundreds of transfers in both
// directions between the same few players: none may deadlock or fail for
// any reason but insufficient funds, no balance may go negative, the sum
// stays what it was, and every transfer that happened logged both sides.
func TestCurrencyTransfersKeepTheSum(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	wide := e.openWide(t)
	tn := e.newDomain(t, takaro.DomainLimits{})
	ec := e.newEconomy(t, tn, 3, 100)

	const n = 300
	type move struct {
		from, to *takaro.PlayerOnGameServer
		amount   int
	}
	moves := make([]move, n)
	for i := range moves {
		a := rand.IntN(len(ec.pogs))
		b := (a + 1 + rand.IntN(len(ec.pogs)-1)) % len(ec.pogs)
		moves[i] = move{ec.pogs[a], ec.pogs[b], 1 + rand.IntN(60)}
	}
	errs := atOnce(n, func(i int) error {
		m := moves[i]
		return wide.TransferCurrency(tn.ctx, ec.server.ID, m.from.ID, m.to.ID, takaro.CurrencyAmount{Currency: m.amount})
	})
	done := 0
	for i, err := range errs {
		if err == nil {
			done++
			continue
		}
		if got := wantCode(t, err, takaro.CodeBadRequest); got.Message != takaro.MsgInsufficientFunds {
			t.Errorf("transfer %d: %v", i, err)
		}
	}
	if done == 0 {
		t.Error("no transfer went through")
	}
	sum := 0
	for i, b := range ec.balances(t, e, tn) {
		if b < 0 {
			t.Errorf("player %d has %d", i, b)
		}
		sum += b
	}
	if sum != 100*len(ec.pogs) {
		t.Errorf("the balances sum to %d, want %d", sum, 100*len(ec.pogs))
	}
	// Each transfer that happened logged a deduction and an addition (on
	// top of the initial SetCurrency additions).
	if got := countEvents(t, e, tn, takaro.EventCurrencyDeducted, ec.server.ID); got != done {
		t.Errorf("%d currency-deducted events for %d transfers", got, done)
	}
	if got := countEvents(t, e, tn, takaro.EventCurrencyAdded, ec.server.ID); got != done+len(ec.pogs) {
		t.Errorf("%d currency-added events for %d transfers and %d initial balances", got, done, len(ec.pogs))
	}
}

// TestCurrencyNeverNegative races deductions and transfers out of one
// balance that covers only some of them: exactly that many succeed.
func TestCurrencyNeverNegative(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	wide := e.openWide(t)
	tn := e.newDomain(t, takaro.DomainLimits{})
	ec := e.newEconomy(t, tn, 2, 500)
	poor, other := ec.pogs[0], ec.pogs[1]

	errs := atOnce(100, func(i int) error {
		amount := takaro.CurrencyAmount{Currency: 10}
		if i%2 == 0 {
			_, err := wide.DeductCurrency(tn.ctx, ec.server.ID, poor.PlayerID, amount)
			return err
		}
		// The receiver only gains, so only the poor player's balance
		// limits these.
		return wide.TransferCurrency(tn.ctx, ec.server.ID, poor.ID, other.ID, amount)
	})
	ok := 0
	for i, err := range errs {
		if err == nil {
			ok++
			continue
		}
		msg := wantCode(t, err, takaro.CodeBadRequest).Message
		if msg != takaro.MsgNotEnoughCurrency && msg != takaro.MsgInsufficientFunds {
			t.Errorf("operation %d: %v", i, err)
		}
	}
	if ok != 50 {
		t.Errorf("%d operations of 10 succeeded on a balance of 500, want 50", ok)
	}
	if b := ec.balances(t, e, tn); b[0] != 0 {
		t.Errorf("the poor player has %d, want 0", b[0])
	}
}

func TestCurrencyOperations(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newDomain(t, takaro.DomainLimits{MaxGameservers: ptrTo(5)})
	ec := e.newEconomy(t, tn, 2, 100)
	gs, p := ec.server.ID, ec.pogs[0]

	pog := check[*takaro.PlayerOnGameServer](t)(e.core.AddCurrency(tn.ctx, gs, p.PlayerID, takaro.CurrencyAmount{Currency: 25}))
	if pog.Currency != 125 {
		t.Errorf("after adding 25 to 100: %d", pog.Currency)
	}
	pog = check[*takaro.PlayerOnGameServer](t)(e.core.DeductCurrency(tn.ctx, gs, p.PlayerID, takaro.CurrencyAmount{Currency: 125}))
	if pog.Currency != 0 {
		t.Errorf("after deducting everything: %d", pog.Currency)
	}
	_, dErr := e.core.DeductCurrency(tn.ctx, gs, p.PlayerID, takaro.CurrencyAmount{Currency: 1})
	if got := wantCode(t, dErr, takaro.CodeBadRequest); got.Message != takaro.MsgNotEnoughCurrency {
		t.Errorf("deducting from nothing: %v", dErr)
	}
	_, aErr := e.core.AddCurrency(tn.ctx, gs, p.PlayerID, takaro.CurrencyAmount{Currency: 0})
	wantCode(t, aErr, takaro.CodeBadRequest)
	_, sErr := e.core.SetCurrency(tn.ctx, gs, p.PlayerID, takaro.CurrencyAmount{Currency: -1})
	wantCode(t, sErr, takaro.CodeValidation)
	check[*takaro.PlayerOnGameServer](t)(e.core.SetCurrency(tn.ctx, gs, p.PlayerID, takaro.CurrencyAmount{Currency: takaro.MaxInt32}))
	_, oErr := e.core.AddCurrency(tn.ctx, gs, p.PlayerID, takaro.CurrencyAmount{Currency: 1})
	wantCode(t, oErr, takaro.CodeBadRequest)
	_, nErr := e.core.AddCurrency(tn.ctx, gs, uuid.New(), takaro.CurrencyAmount{Currency: 1})
	wantCode(t, nErr, takaro.CodeNotFound)

	// Transfers: only between two presences on the named game server.
	other := e.newEconomy(t, tn, 1, 100)
	wantCode(t, e.core.TransferCurrency(tn.ctx, gs, p.ID, p.ID, takaro.CurrencyAmount{Currency: 1}), takaro.CodeBadRequest)
	wantCode(t, e.core.TransferCurrency(tn.ctx, gs, p.ID, uuid.New(), takaro.CurrencyAmount{Currency: 1}), takaro.CodeNotFound)
	if got := wantCode(t, e.core.TransferCurrency(tn.ctx, gs, ec.pogs[1].ID, other.pogs[0].ID, takaro.CurrencyAmount{Currency: 1}),
		takaro.CodeBadRequest); got.Message != takaro.MsgNotOnSameGameServer {
		t.Errorf("across game servers: %v", got.Message)
	}
	wantCode(t, e.core.TransferCurrency(tn.ctx, other.server.ID, ec.pogs[1].ID, p.ID, takaro.CurrencyAmount{Currency: 1}), takaro.CodeBadRequest)
	if got := wantCode(t, e.core.TransferCurrency(tn.ctx, gs, ec.pogs[1].ID, p.ID, takaro.CurrencyAmount{Currency: 101}),
		takaro.CodeBadRequest); got.Message != takaro.MsgInsufficientFunds {
		t.Errorf("more than the sender has: %v", got.Message)
	}

	// Reset: every balance of the game server, none elsewhere, one event.
	res := check[*takaro.CurrencyReset](t)(e.core.ResetCurrency(tn.ctx, gs))
	if res.AffectedPlayerCount != 2 {
		t.Errorf("reset %d players, want 2", res.AffectedPlayerCount)
	}
	if b := ec.balances(t, e, tn); b[0] != 0 || b[1] != 0 {
		t.Errorf("after the reset: %v", b)
	}
	if b := other.balances(t, e, tn); b[0] != 100 {
		t.Errorf("another game server's balance after the reset: %v", b)
	}
	if n := countEvents(t, e, tn, takaro.EventCurrencyResetAll, gs); n != 1 {
		t.Errorf("%d currency-reset-all events", n)
	}
	if res := check[*takaro.CurrencyReset](t)(e.core.ResetCurrency(tn.ctx, gs)); res.AffectedPlayerCount != 0 {
		t.Errorf("a second reset touched %d", res.AffectedPlayerCount)
	}
	if n := countEvents(t, e, tn, takaro.EventCurrencyResetAll, gs); n != 1 {
		t.Errorf("a reset of nothing was logged: %d events", n)
	}
	_, rErr := e.core.ResetCurrency(tn.ctx, uuid.New())
	wantCode(t, rErr, takaro.CodeNotFound)

	// Every change names the acting user.
	events := check[*takaro.Page[takaro.Event]](t)(e.core.FindEvents(tn.ctx, takaro.Query{Filters: map[string]takaro.Values{
		"eventName": {"currency-added", "currency-deducted", "currency-reset-all"}}}))
	for _, ev := range events.Items {
		if ev.ActingUserID == nil || *ev.ActingUserID != tn.rootUserID() {
			t.Errorf("%s event without the acting user: %+v", ev.EventName, ev)
		}
	}
}

// TestCurrencyNeedsTheEconomy checks that every currency operation answers
// the reference's 400 while economyEnabled is off (its default), works
// once it is on for the domain, and refuses again on a game server that
// overrides it to off while another server of the domain carries on.
func TestCurrencyNeedsTheEconomy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newDomain(t, takaro.DomainLimits{MaxGameservers: ptrTo(5)})
	ec, other := e.newEconomy(t, tn, 2, 100), e.newEconomy(t, tn, 1, 100)
	gs, a, b := ec.server.ID, ec.pogs[0], ec.pogs[1]
	amount := takaro.CurrencyAmount{Currency: 1}
	operations := map[string]func(gs, player uuid.UUID) error{
		"set": func(gs, player uuid.UUID) error { _, err := e.core.SetCurrency(tn.ctx, gs, player, amount); return err },
		"add": func(gs, player uuid.UUID) error { _, err := e.core.AddCurrency(tn.ctx, gs, player, amount); return err },
		"deduct": func(gs, player uuid.UUID) error {
			_, err := e.core.DeductCurrency(tn.ctx, gs, player, amount)
			return err
		},
		"transfer": func(gs, _ uuid.UUID) error { return e.core.TransferCurrency(tn.ctx, gs, a.ID, b.ID, amount) },
		"reset":    func(gs, _ uuid.UUID) error { _, err := e.core.ResetCurrency(tn.ctx, gs); return err },
	}
	refused := func(when string, gs uuid.UUID) {
		t.Helper()
		for name, op := range operations {
			if got := wantCode(t, op(gs, a.PlayerID), takaro.CodeBadRequest); got.Message != takaro.MsgEconomyNotEnabled {
				t.Errorf("%s, %s: %q", when, name, got.Message)
			}
		}
	}
	e.setEconomy(t, tn, nil, false)
	refused("off for the domain", gs)
	// The economy is checked before the amount, as in the reference.
	amount.Currency = -100
	refused("off, with a negative amount", gs)
	amount.Currency = 1
	if bal := ec.balances(t, e, tn); bal[0] != 100 || bal[1] != 100 {
		t.Errorf("refused operations changed the balances: %v", bal)
	}

	e.setEconomy(t, tn, nil, true)
	for _, name := range []string{"set", "add", "deduct", "transfer", "reset"} {
		must(t, operations[name](gs, a.PlayerID))
	}

	e.setEconomy(t, tn, &gs, false)
	refused("off for the game server", gs)
	check[*takaro.PlayerOnGameServer](t)(e.core.AddCurrency(tn.ctx, other.server.ID, other.pogs[0].PlayerID, amount))
	if bal := other.balances(t, e, tn); bal[0] != 101 {
		t.Errorf("the other game server's balance: %v", bal)
	}
}
