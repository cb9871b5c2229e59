package httpapi_test

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gotakaro/takaro"
)

// TestCurrencyOverHTTP checks the currency routes' answers to bad amounts
// and, with concurrent transfers in both directions between two players
// through the API, that no currency is lost or made.
func TestCurrencyOverHTTP(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	k := newKit(t, s, map[string]any{"maxGameservers": 10})
	gs := k.gameServer("{}").ID.String()
	var pogs [2]takaro.PlayerOnGameServer
	for i := range pogs {
		p := k.player()
		s.do(http.MethodPost, "/gameserver/player", map[string]any{"playerId": p, "gameServerId": gs, "gameId": unique("game")}, k.root()).
			expect(t, http.StatusOK).decode(t, &pogs[i])
		s.do(http.MethodPost, "/gameserver/"+gs+"/player/"+p+"/currency", map[string]any{"currency": 1000}, k.root()).expect(t, http.StatusOK)
	}
	balance := "/gameserver/" + gs + "/player/" + pogs[0].PlayerID.String()

	for _, c := range []struct {
		path, body string
		message    string
	}{
		{"/currency", `{"currency": 1.5}`, "currency must be an integer"},
		{"/currency", `{"currency": -1}`, "currency must not be less than 0"},
		// Beyond any integer column: refused by the request decoder.
		{"/add-currency", `{"currency": 2147483648}`, "currency must be an integer between -2147483648 and 2147483647"},
		{"/add-currency", `{"currency": 0}`, "Amount must be greater than 0"},
		{"/add-currency", `{"currency": 2147483000}`, "The balance would exceed the largest amount"},
		{"/deduct-currency", `{"currency": 1001}`, takaro.MsgNotEnoughCurrency},
		{"/deduct-currency", `{}`, "currency is required"},
	} {
		r := s.do(http.MethodPost, balance+c.path, c.body, k.root())
		if r.Status != http.StatusBadRequest || (r.errorMessage() != c.message && !slices.Contains(r.complaints(), c.message)) {
			t.Errorf("%s %s: %d %s, want 400 %q", c.path, c.body, r.Status, r.Raw, c.message)
		}
	}
	// The rule is named as class-validator names it, as the reference's clients read it.
	r := s.do(http.MethodPost, balance+"/currency", `{"currency": -1}`, k.root())
	if !strings.Contains(string(r.Raw), `"constraints":{"min":"currency must not be less than 0"}`) {
		t.Errorf("a negative balance: %s, want the min constraint", r.Raw)
	}
	transfer := func(from, to int, amount int) *response {
		return s.do(http.MethodPost, "/gameserver/"+gs+"/player/"+pogs[from].ID.String()+"/"+pogs[to].ID.String()+"/transfer",
			map[string]any{"currency": amount}, k.root())
	}
	transfer(0, 1, 1001).expectMessage(t, http.StatusBadRequest, "BadRequestError", takaro.MsgInsufficientFunds)

	var wg sync.WaitGroup
	for i := range 100 {
		wg.Go(func() {
			r := transfer(i%2, 1-i%2, 1+i%7)
			if r.Status != http.StatusOK && r.errorMessage() != takaro.MsgInsufficientFunds {
				t.Errorf("transfer %d: %d %s", i, r.Status, r.Raw)
			}
		})
	}
	wg.Wait()
	sum := 0
	for _, p := range pogs {
		var now takaro.PlayerOnGameServer
		s.do(http.MethodGet, "/gameserver/"+gs+"/player/"+p.PlayerID.String(), nil, k.root()).expect(t, http.StatusOK).decode(t, &now)
		if now.Currency < 0 {
			t.Errorf("a balance of %d", now.Currency)
		}
		sum += now.Currency
	}
	if sum != 2000 {
		t.Errorf("the balances sum to %d after the transfers, want 2000", sum)
	}
}
