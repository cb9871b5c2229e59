package httpapi

import (
	"net/http"

	"github.com/gotakaro/takaro"
)

type shopSuccess struct {
	Success bool `json:"success"`
}

// shopRoutes declares the shop: categories and listings, which every user
// of the domain may read and MANAGE_SHOP_LISTINGS changes, and orders,
// which a user places and handles for their own linked player, and
// MANAGE_SHOP_ORDERS for anyone's.
func (s *Server) shopRoutes() []endpoint {
	c := s.cfg
	manage := func(r *request) bool { return hasPermission(r.identity, takaro.PermManageShopOrders) }
	return []endpoint{
		searchHandler("/shop/category/search", "Search shop categories, each with its parent and children", "Shop", c.Shop.FindShopCategories).searchOf("shop_categories"),
		handler(http.MethodGet, "/shop/category/{id}", "Get a shop category", "Shop", func(r *request) (*takaro.ShopCategory, error) {
			return c.Shop.FindShopCategoryByID(r.Context(), r.idParam("id"))
		}),
		bodyHandler(http.MethodPost, "/shop/category", "Create a shop category", "Shop", func(r *request, in *takaro.ShopCategoryCreate) (*takaro.ShopCategory, error) {
			return c.Shop.CreateShopCategory(r.Context(), *in)
		}).need(takaro.PermManageShopListings),
		bodyHandler(http.MethodPut, "/shop/category/{id}", "Rename a shop category or change its emoji", "Shop",
			func(r *request, in *takaro.ShopCategoryUpdate) (*takaro.ShopCategory, error) {
				return c.Shop.UpdateShopCategory(r.Context(), r.idParam("id"), *in)
			}).need(takaro.PermManageShopListings),
		bodyHandler(http.MethodPost, "/shop/category/{id}/move", "Move a shop category under another, or to the root", "Shop",
			func(r *request, in *takaro.ShopCategoryMove) (*takaro.ShopCategory, error) {
				return c.Shop.MoveShopCategory(r.Context(), r.idParam("id"), *in)
			}).need(takaro.PermManageShopListings),
		handler(http.MethodDelete, "/shop/category/{id}", "Delete a shop category; its children move to the root", "Shop",
			func(r *request) (*shopSuccess, error) {
				return &shopSuccess{true}, c.Shop.DeleteShopCategory(r.Context(), r.idParam("id"))
			}).need(takaro.PermManageShopListings),
		bodyHandler(http.MethodPost, "/shop/category/bulk-assign", "Add listings to categories and remove them from others", "Shop",
			func(r *request, in *takaro.ShopCategoryBulkAssign) (*shopSuccess, error) {
				return &shopSuccess{true}, c.Shop.AssignShopCategories(r.Context(), *in)
			}).need(takaro.PermManageShopListings),

		searchHandler("/shop/listing/search", "Search the listings on sale", "Shop", c.Shop.FindShopListings).searchOf("shop_listings"),
		handler(http.MethodGet, "/shop/listing/{id}", "Get a listing on sale", "Shop", func(r *request) (*takaro.ShopListing, error) {
			return c.Shop.FindShopListingByID(r.Context(), r.idParam("id"))
		}),
		bodyHandler(http.MethodPost, "/shop/listing", "Create a listing", "Shop", func(r *request, in *takaro.ShopListingCreate) (*takaro.ShopListing, error) {
			return c.Shop.CreateShopListing(r.Context(), *in)
		}).need(takaro.PermManageShopListings),
		bodyHandler(http.MethodPut, "/shop/listing/{id}", "Change a listing; making it a draft cancels and refunds its paid orders", "Shop",
			func(r *request, in *takaro.ShopListingUpdate) (*takaro.ShopListing, error) {
				return c.Shop.UpdateShopListing(r.Context(), r.idParam("id"), *in)
			}).need(takaro.PermManageShopListings),
		handler(http.MethodDelete, "/shop/listing/{id}", "Take a listing off sale; its paid orders are cancelled and refunded", "Shop",
			func(r *request) (*empty, error) {
				return none(c.Shop.DeleteShopListing(r.Context(), r.idParam("id")))
			}).need(takaro.PermManageShopListings),

		pageHandler("/shop/order/search", "Search orders: your own player's, or anyone's with MANAGE_SHOP_ORDERS", "Shop",
			func(r *request, q takaro.Query) (*takaro.Page[takaro.ShopOrder], error) {
				return c.Shop.FindShopOrders(r.Context(), q, manage(r))
			}).searchOf("shop_orders"),
		handler(http.MethodGet, "/shop/order/{id}", "Get an order", "Shop", func(r *request) (*takaro.ShopOrder, error) {
			return c.Shop.FindShopOrderByID(r.Context(), r.idParam("id"), manage(r))
		}),
		bodyHandler(http.MethodPost, "/shop/order", "Buy: the price leaves the player's balance on the listing's game server", "Shop",
			func(r *request, in *takaro.ShopOrderCreate) (*takaro.ShopOrder, error) {
				return c.Shop.CreateShopOrder(r.Context(), *in, manage(r))
			}),
		handler(http.MethodPost, "/shop/order/{id}/claim", "Mark a paid order as handed over", "Shop", func(r *request) (*takaro.ShopOrder, error) {
			return c.Shop.ClaimShopOrder(r.Context(), r.idParam("id"), manage(r))
		}),
		handler(http.MethodPost, "/shop/order/{id}/cancel", "Cancel a paid order and refund what it cost", "Shop", func(r *request) (*takaro.ShopOrder, error) {
			return c.Shop.CancelShopOrder(r.Context(), r.idParam("id"), manage(r))
		}),
	}
}
