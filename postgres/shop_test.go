package postgres_test

import (
	"slices"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
)

// balance is the player's currency on the game server.
func (e *env) balance(t *testing.T, tn *tenant, gameServer, player uuid.UUID) int {
	t.Helper()
	return check[*takaro.PlayerOnGameServer](t)(e.core.FindPlayerOnGameServer(tn.ctx, gameServer, player)).Currency
}

func TestShopCategoriesFormATree(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newDomain(t, takaro.DomainLimits{})
	f := e.fill(t, tn)
	weapons := check[*takaro.ShopCategory](t)(e.core.CreateShopCategory(tn.ctx, takaro.ShopCategoryCreate{Name: "Weapons", Emoji: "⚔️"}))
	guns := check[*takaro.ShopCategory](t)(e.core.CreateShopCategory(tn.ctx, takaro.ShopCategoryCreate{Name: "Guns", Emoji: "🔫", ParentID: &weapons.ID}))
	rifles := check[*takaro.ShopCategory](t)(e.core.CreateShopCategory(tn.ctx, takaro.ShopCategoryCreate{Name: "Rifles", Emoji: "🎯", ParentID: &guns.ID}))

	// Names are unique whatever their case; emojis and names are checked.
	_, err := e.core.CreateShopCategory(tn.ctx, takaro.ShopCategoryCreate{Name: "WEAPONS", Emoji: "⚔️"})
	if got := wantCode(t, err, takaro.CodeBadRequest); got.Message != takaro.MsgShopCategoryNameTaken {
		t.Errorf("duplicate name: %q", got.Message)
	}
	_, err = e.core.CreateShopCategory(tn.ctx, takaro.ShopCategoryCreate{Name: "Two", Emoji: "⚔️⚔️"})
	wantCode(t, err, takaro.CodeValidation)
	_, err = e.core.CreateShopCategory(tn.ctx, takaro.ShopCategoryCreate{Name: "No;pe", Emoji: "⚔️"})
	wantCode(t, err, takaro.CodeValidation)
	_, err = e.core.CreateShopCategory(tn.ctx, takaro.ShopCategoryCreate{Name: "Orphan", Emoji: "⚔️", ParentID: ptrTo(uuid.New())})
	wantCode(t, err, takaro.CodeValidation)

	// The parent and children are embedded; listings count one level down.
	must(t, e.core.AssignShopCategories(tn.ctx, takaro.ShopCategoryBulkAssign{ListingIDs: []uuid.UUID{f.Listing.ID}, AddCategoryIDs: []uuid.UUID{guns.ID}}))
	got := check[*takaro.ShopCategory](t)(e.core.FindShopCategoryByID(tn.ctx, weapons.ID))
	if len(got.Children) != 1 || got.Children[0].ID != guns.ID || got.ListingCount != 1 || got.Parent != nil {
		t.Errorf("weapons: %+v, want child guns, one listing, no parent", got)
	}
	got = check[*takaro.ShopCategory](t)(e.core.FindShopCategoryByID(tn.ctx, rifles.ID))
	if got.Parent == nil || got.Parent.ID != guns.ID || got.ListingCount != 0 {
		t.Errorf("rifles: %+v, want parent guns and no listing", got)
	}

	// No cycles, no category of its own.
	_, err = e.core.MoveShopCategory(tn.ctx, weapons.ID, takaro.ShopCategoryMove{ParentID: &rifles.ID})
	if got := wantCode(t, err, takaro.CodeBadRequest); got.Message != takaro.MsgShopCircularCategory {
		t.Errorf("a cycle: %q", got.Message)
	}
	_, err = e.core.MoveShopCategory(tn.ctx, weapons.ID, takaro.ShopCategoryMove{ParentID: &weapons.ID})
	wantCode(t, err, takaro.CodeBadRequest)
	moved := check[*takaro.ShopCategory](t)(e.core.MoveShopCategory(tn.ctx, rifles.ID, takaro.ShopCategoryMove{ParentID: &weapons.ID}))
	if moved.ParentID == nil || *moved.ParentID != weapons.ID {
		t.Errorf("rifles after the move: parent %v, want weapons", moved.ParentID)
	}

	// Deleting a category moves its children to the root.
	must(t, e.core.DeleteShopCategory(tn.ctx, weapons.ID))
	for _, id := range []uuid.UUID{guns.ID, rifles.ID} {
		if c := check[*takaro.ShopCategory](t)(e.core.FindShopCategoryByID(tn.ctx, id)); c.ParentID != nil {
			t.Errorf("%s after its parent was deleted: parent %v, want none", c.Name, c.ParentID)
		}
	}
	wantCode(t, e.core.DeleteShopCategory(tn.ctx, weapons.ID), takaro.CodeNotFound)
}

func TestShopCategoryLimitHoldsUnderConcurrency(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newDomain(t, takaro.DomainLimits{})
	wide := e.openWide(t)
	var created atomic.Int64
	for _, err := range atOnce(takaro.MaxShopCategories+20, func(i int) error {
		_, err := wide.CreateShopCategory(tn.ctx, takaro.ShopCategoryCreate{Name: uniqueName("Cat"), Emoji: "📦"})
		if err == nil {
			created.Add(1)
		}
		return err
	}) {
		if err != nil && takaro.ErrorMessage(err) != takaro.MsgShopCategoryLimit {
			t.Errorf("unexpected error: %v", err)
		}
	}
	if n := created.Load(); n != takaro.MaxShopCategories {
		t.Errorf("%d categories created, want exactly %d", n, takaro.MaxShopCategories)
	}
}

func TestShopOrdersPayRefundAndNeverDoubleSpend(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newDomain(t, takaro.DomainLimits{})
	f := e.fill(t, tn)
	gs, p := f.GameServer.ID, f.Player.ID
	// fill bought the listing once for 10 of the player's 100.
	if b := e.balance(t, tn, gs, p); b != 90 {
		t.Fatalf("balance after fill: %d, want 90", b)
	}

	// The caller's own linked player buys 3 for 30.
	order := check[*takaro.ShopOrder](t)(e.core.CreateShopOrder(tn.ctx, takaro.ShopOrderCreate{ListingID: f.Listing.ID, Amount: 3}, false))
	if order.Status != takaro.ShopOrderPaid || order.TotalPrice != 30 || order.PlayerID != p || order.GameServerID != gs {
		t.Errorf("order: %+v", order)
	}
	if b := e.balance(t, tn, gs, p); b != 60 {
		t.Errorf("balance after paying 30: %d, want 60", b)
	}
	// Too expensive: refused, nothing paid, nothing recorded.
	_, err := e.core.CreateShopOrder(tn.ctx, takaro.ShopOrderCreate{ListingID: f.Listing.ID, Amount: 7}, false)
	if got := wantCode(t, err, takaro.CodeBadRequest); got.Message != takaro.MsgShopNotEnoughCurrency {
		t.Errorf("too expensive: %q", got.Message)
	}
	// Naming another player needs the manage permission.
	_, err = e.core.CreateShopOrder(tn.ctx, takaro.ShopOrderCreate{ListingID: f.Listing.ID, Amount: 1, PlayerID: &p}, false)
	wantCode(t, err, takaro.CodeBadRequest)

	// Cancelling refunds exactly what was paid, even after a price change.
	check[*takaro.ShopListing](t)(e.core.UpdateShopListing(tn.ctx, f.Listing.ID, takaro.ShopListingUpdate{Price: ptrTo(50)}))
	canceled := check[*takaro.ShopOrder](t)(e.core.CancelShopOrder(tn.ctx, order.ID, false))
	if canceled.Status != takaro.ShopOrderCanceled || e.balance(t, tn, gs, p) != 90 {
		t.Errorf("after the cancellation: %s, balance %d; want CANCELED and 90", canceled.Status, e.balance(t, tn, gs, p))
	}
	_, err = e.core.CancelShopOrder(tn.ctx, order.ID, false)
	wantCode(t, err, takaro.CodeBadRequest)
	_, err = e.core.ClaimShopOrder(tn.ctx, order.ID, false)
	wantCode(t, err, takaro.CodeBadRequest)

	// Concurrent orders of the same player spend each coin once: at 50
	// each, 90 buys exactly one.
	wide := e.openWide(t)
	var bought atomic.Int64
	for _, err := range atOnce(20, func(int) error {
		_, err := wide.CreateShopOrder(tn.ctx, takaro.ShopOrderCreate{ListingID: f.Listing.ID, Amount: 1}, false)
		if err == nil {
			bought.Add(1)
		}
		return err
	}) {
		if err != nil && takaro.ErrorMessage(err) != takaro.MsgShopNotEnoughCurrency {
			t.Errorf("unexpected error: %v", err)
		}
	}
	if n, b := bought.Load(), e.balance(t, tn, gs, p); n != 1 || b != 40 {
		t.Errorf("%d concurrent orders went through, balance %d; want 1 and 40", n, b)
	}

	// Taking the listing off sale refunds the paid orders.
	must(t, e.core.DeleteShopListing(tn.ctx, f.Listing.ID))
	if b := e.balance(t, tn, gs, p); b != 100 {
		t.Errorf("balance after the listing was deleted: %d, want all 100 back", b)
	}
	page := check[*takaro.Page[takaro.ShopOrder]](t)(e.core.FindShopOrders(tn.ctx, takaro.Query{}, true))
	var statuses []takaro.ShopOrderStatus
	for _, o := range page.Items {
		statuses = append(statuses, o.Status)
	}
	slices.Sort(statuses)
	if want := []takaro.ShopOrderStatus{"CANCELED", "CANCELED", "CANCELED"}; !slices.Equal(statuses, want) {
		t.Errorf("orders after the listing was deleted: %v, want %v", statuses, want)
	}
	_, err = e.core.FindShopListingByID(tn.ctx, f.Listing.ID)
	wantCode(t, err, takaro.CodeNotFound)
}

func TestShopOrdersOfOthersAreHiddenWithoutManage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newDomain(t, takaro.DomainLimits{MaxGameservers: ptrTo(2)})
	f := e.fill(t, tn)
	other := e.createPlayer(t, tn, uniqueName("steam"))
	check[*takaro.PlayerOnGameServer](t)(e.core.UpsertPlayerOnGameServer(tn.ctx, takaro.PlayerOnGameServerUpsert{
		PlayerID: other.ID, GameServerID: f.GameServer.ID, GameID: uniqueName("game")}))
	check[*takaro.PlayerOnGameServer](t)(e.core.AddCurrency(tn.ctx, f.GameServer.ID, other.ID, takaro.CurrencyAmount{Currency: 10}))
	theirs := check[*takaro.ShopOrder](t)(e.core.CreateShopOrder(tn.ctx, takaro.ShopOrderCreate{ListingID: f.Listing.ID, Amount: 1, PlayerID: &other.ID}, true))

	// The root user is linked to f.Player, not to other.
	_, err := e.core.FindShopOrderByID(tn.ctx, theirs.ID, false)
	wantCode(t, err, takaro.CodeNotFound)
	_, err = e.core.ClaimShopOrder(tn.ctx, theirs.ID, false)
	wantCode(t, err, takaro.CodeNotFound)
	mine := check[*takaro.Page[takaro.ShopOrder]](t)(e.core.FindShopOrders(tn.ctx, takaro.Query{
		Filters: map[string]takaro.Values{"playerId": {other.ID.String()}}}, false))
	for _, o := range mine.Items {
		if o.PlayerID != f.Player.ID {
			t.Errorf("a search without manage shows an order of %s", o.PlayerID)
		}
	}
	if len(mine.Items) != 1 {
		t.Errorf("a search without manage finds %d orders, want the caller's own one", len(mine.Items))
	}
	claimed := check[*takaro.ShopOrder](t)(e.core.ClaimShopOrder(tn.ctx, theirs.ID, true))
	if claimed.Status != takaro.ShopOrderCompleted {
		t.Errorf("claimed by a manager: %s", claimed.Status)
	}
}
