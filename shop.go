package takaro

import (
	"context"
	"regexp"
	"unicode/utf8"

	"github.com/google/uuid"
)

// The shop: listings of game items that players buy with their currency
// on a game server, sorted into categories; an order takes the price from
// the buyer's balance in the same transaction that records it.

// Shop event names.
const (
	EventShopListingCreated     EventName = "shop-listing-created"
	EventShopListingUpdated     EventName = "shop-listing-updated"
	EventShopListingDeleted     EventName = "shop-listing-deleted"
	EventShopOrderCreated       EventName = "shop-order-created"
	EventShopOrderStatusChanged EventName = "shop-order-status-changed"
)

// MaxShopCategories is how many categories a domain may have.
const MaxShopCategories = 100

const (
	maxShopCategoryName = 50
	maxShopListingName  = 255
)

// The shop's refusals, in the reference's words where it has them.
const (
	MsgShopCategoryNameTaken    = "A category with this name already exists"
	MsgShopNotEnoughCurrency    = "Not enough currency"
	MsgShopNoPresence           = "You have not logged in to the game server yet."
	MsgShopDraftListing         = "Cannot order a draft listing"
	MsgShopUnknownPlayer        = "Unknown player, make sure you have linked your account"
	MsgShopOrderForOther        = "You cannot create an order for another user"
	MsgShopCircularCategory     = "Cannot create circular category hierarchy"
	MsgShopCategoryToItself     = "Cannot move a category to itself"
	MsgShopCategoryLimit        = "Maximum number of categories reached"
	MsgShopClaimNotPaid         = "Can only claim paid, unclaimed orders"
	MsgShopCancelNotPaid        = "Can only cancel paid orders that weren't claimed yet"
	MsgShopOrderNotFound        = "Shop order not found"
	MsgShopListingItemsRequired = "At least one item is required"
	MsgShopBulkAssignNothing    = "Give categories to add or to remove"
)

// ShopOrderStatus is where an order stands: PAID (paid, not yet handed
// over), then COMPLETED (claimed) or CANCELED (refunded).
type ShopOrderStatus string

// Order statuses.
const (
	ShopOrderPaid      ShopOrderStatus = "PAID"
	ShopOrderCompleted ShopOrderStatus = "COMPLETED"
	ShopOrderCanceled  ShopOrderStatus = "CANCELED"
)

// ShopCategory groups listings; categories form a tree.
type ShopCategory struct {
	ID       uuid.UUID  `json:"id"`
	Name     string     `json:"name"`
	Emoji    string     `json:"emoji"`
	ParentID *uuid.UUID `json:"parentId"`
	// ListingCount is the number of listings in the category or one of
	// its direct children.
	ListingCount int  `json:"listingCount"`
	CreatedAt    Time `json:"createdAt"`
	UpdatedAt    Time `json:"updatedAt"`

	// Parent and Children are always embedded, one level deep.
	Parent   *ShopCategory  `json:"parent,omitzero"`
	Children []ShopCategory `json:"children,omitzero"`
}

// ShopCategoryCreate is the input for creating a category.
type ShopCategoryCreate struct {
	Name     string     `json:"name"`
	Emoji    string     `json:"emoji"`
	ParentID *uuid.UUID `json:"parentId,omitempty"`
}

// Validate checks the input.
func (c ShopCategoryCreate) Validate() error {
	if err := validateCategoryName(c.Name); err != nil {
		return err
	}
	return validateEmoji(c.Emoji)
}

// ShopCategoryUpdate changes a category; absent fields stay.
type ShopCategoryUpdate struct {
	Name  *string `json:"name,omitempty"`
	Emoji *string `json:"emoji,omitempty"`
}

// Validate checks the input.
func (u ShopCategoryUpdate) Validate() error {
	if u.Name != nil {
		if err := validateCategoryName(*u.Name); err != nil {
			return err
		}
	}
	if u.Emoji != nil {
		return validateEmoji(*u.Emoji)
	}
	return nil
}

// ShopCategoryMove moves a category under another one, or to the root
// when ParentID is absent.
type ShopCategoryMove struct {
	ParentID *uuid.UUID `json:"parentId,omitempty"`
}

// ShopCategoryBulkAssign adds listings to categories and removes them
// from others.
type ShopCategoryBulkAssign struct {
	ListingIDs        []uuid.UUID `json:"listingIds"`
	AddCategoryIDs    []uuid.UUID `json:"addCategoryIds,omitempty"`
	RemoveCategoryIDs []uuid.UUID `json:"removeCategoryIds,omitempty"`
}

// Validate checks the input.
func (b ShopCategoryBulkAssign) Validate() error {
	if len(b.ListingIDs) == 0 {
		return Invalid("listingIds", "must name at least one listing")
	}
	if len(b.AddCategoryIDs) == 0 && len(b.RemoveCategoryIDs) == 0 {
		return Errorf(CodeBadRequest, MsgShopBulkAssignNothing)
	}
	return nil
}

// categoryNamePattern is the reference's alphabet for category names.
var categoryNamePattern = regexp.MustCompile(`^[\p{L}\p{N} _&-]+$`)

func validateCategoryName(name string) error {
	if err := validateLength("name", name, 1, maxShopCategoryName); err != nil {
		return err
	}
	if !categoryNamePattern.MatchString(name) {
		return Invalid("name", "may hold only letters, digits, spaces, '-', '_' and '&'")
	}
	return nil
}

// validateEmoji accepts one emoji: one pictographic code point, possibly
// followed by the emoji presentation selector.
func validateEmoji(s string) error {
	r, size := utf8.DecodeRuneInString(s)
	rest := s[size:]
	if rest == "\uFE0F" {
		rest = ""
	}
	if s == "" || rest != "" || r < 0x2000 {
		return Invalid("emoji", "must be exactly one emoji")
	}
	return nil
}

// ShopListingItem is one item a listing hands over, amount times per unit
// bought.
type ShopListingItem struct {
	ID      uuid.UUID `json:"id"`
	Amount  int       `json:"amount"`
	Quality *string   `json:"quality"`
	Item    Item      `json:"item"`
}

// ShopListing is something a game server's shop sells.
type ShopListing struct {
	ID           uuid.UUID         `json:"id"`
	GameServerID uuid.UUID         `json:"gameServerId"`
	Name         string            `json:"name"`
	Price        int               `json:"price"`
	Draft        bool              `json:"draft"`
	Items        []ShopListingItem `json:"items"`
	Categories   []ShopCategory    `json:"categories"`
	CreatedAt    Time              `json:"createdAt"`
	UpdatedAt    Time              `json:"updatedAt"`

	// GameServer is present only when a search asks for it with extend
	// "gameServer".
	GameServer *GameServer `json:"gameServer,omitzero"`
}

// ShopListingItemInput names an item of a listing by its code on the
// listing's game server, or by its id.
type ShopListingItemInput struct {
	Amount  int        `json:"amount"`
	Quality *string    `json:"quality,omitempty"`
	Code    *string    `json:"code,omitempty"`
	ItemID  *uuid.UUID `json:"itemId,omitempty"`
}

// ShopListingCreate is the input for creating a listing.
type ShopListingCreate struct {
	GameServerID uuid.UUID              `json:"gameServerId"`
	Name         string                 `json:"name"`
	Price        int                    `json:"price"`
	Items        []ShopListingItemInput `json:"items"`
	Draft        *bool                  `json:"draft,omitempty"`
	CategoryIDs  []uuid.UUID            `json:"categoryIds,omitempty"`
}

// Validate checks the input.
func (c ShopListingCreate) Validate() error {
	if err := validateLength("name", c.Name, 1, maxShopListingName); err != nil {
		return err
	}
	if c.Price < 1 {
		return Invalid("price", "must be at least 1")
	}
	if len(c.Items) == 0 {
		return Errorf(CodeBadRequest, MsgShopListingItemsRequired)
	}
	return validateListingItems(c.Items)
}

func validateListingItems(items []ShopListingItemInput) error {
	for _, it := range items {
		if it.Amount < 1 {
			return Invalid("items.amount", "must be at least 1")
		}
		if it.Code == nil && it.ItemID == nil {
			return Invalid("items", "each item needs a code or an itemId")
		}
		if it.Quality != nil {
			if err := validateLength("items.quality", *it.Quality, 1, 255); err != nil {
				return err
			}
		}
	}
	return nil
}

// ShopListingUpdate changes a listing; absent fields stay. Items and
// categories, when given, replace the listing's own.
type ShopListingUpdate struct {
	Name        *string                `json:"name,omitempty"`
	Price       *int                   `json:"price,omitempty"`
	Items       []ShopListingItemInput `json:"items,omitempty"`
	Draft       *bool                  `json:"draft,omitempty"`
	CategoryIDs []uuid.UUID            `json:"categoryIds,omitempty"`
}

// Validate checks the input.
func (u ShopListingUpdate) Validate() error {
	if u.Name != nil {
		if err := validateLength("name", *u.Name, 1, maxShopListingName); err != nil {
			return err
		}
	}
	if u.Price != nil && *u.Price < 1 {
		return Invalid("price", "must be at least 1")
	}
	return validateListingItems(u.Items)
}

// ShopOrder is a purchase of Amount units of a listing by a player.
type ShopOrder struct {
	ID           uuid.UUID `json:"id"`
	ListingID    uuid.UUID `json:"listingId"`
	PlayerID     uuid.UUID `json:"playerId"`
	GameServerID uuid.UUID `json:"gameServerId"`
	Amount       int       `json:"amount"`
	// TotalPrice is what the player paid, and what a cancellation refunds.
	TotalPrice int             `json:"totalPrice"`
	Status     ShopOrderStatus `json:"status"`
	CreatedAt  Time            `json:"createdAt"`
	UpdatedAt  Time            `json:"updatedAt"`

	// Listing is present only when a search asks for it with extend
	// "listing".
	Listing *ShopListing `json:"listing,omitzero"`
}

// ShopOrderCreate is the input for buying. Without PlayerID the buyer is
// the caller's linked player; naming another player needs
// MANAGE_SHOP_ORDERS.
type ShopOrderCreate struct {
	ListingID uuid.UUID  `json:"listingId"`
	Amount    int        `json:"amount"`
	PlayerID  *uuid.UUID `json:"playerId,omitempty"`
}

// Validate checks the input.
func (c ShopOrderCreate) Validate() error {
	if c.Amount < 1 || c.Amount > 1_000_000 {
		return Invalid("amount", "must be between 1 and 1000000")
	}
	return nil
}

// ShopService keeps the shop of the domain in the context's Principal.
// The operations on orders take manage, whether the caller holds
// MANAGE_SHOP_ORDERS: without it a caller sees and acts on the orders of
// their own linked player only, and others' orders do not exist for them.
type ShopService interface {
	CreateShopCategory(ctx context.Context, in ShopCategoryCreate) (*ShopCategory, error)
	FindShopCategoryByID(ctx context.Context, id uuid.UUID) (*ShopCategory, error)
	FindShopCategories(ctx context.Context, q Query) (*Page[ShopCategory], error)
	UpdateShopCategory(ctx context.Context, id uuid.UUID, in ShopCategoryUpdate) (*ShopCategory, error)
	MoveShopCategory(ctx context.Context, id uuid.UUID, in ShopCategoryMove) (*ShopCategory, error)
	// DeleteShopCategory moves the category's children to the root and
	// deletes it.
	DeleteShopCategory(ctx context.Context, id uuid.UUID) error
	AssignShopCategories(ctx context.Context, in ShopCategoryBulkAssign) error

	CreateShopListing(ctx context.Context, in ShopListingCreate) (*ShopListing, error)
	FindShopListingByID(ctx context.Context, id uuid.UUID) (*ShopListing, error)
	FindShopListings(ctx context.Context, q Query) (*Page[ShopListing], error)
	// UpdateShopListing changes a listing; making it a draft cancels and
	// refunds its paid orders.
	UpdateShopListing(ctx context.Context, id uuid.UUID, in ShopListingUpdate) (*ShopListing, error)
	// DeleteShopListing removes a listing from sale and cancels and
	// refunds its paid orders.
	DeleteShopListing(ctx context.Context, id uuid.UUID) error

	CreateShopOrder(ctx context.Context, in ShopOrderCreate, manage bool) (*ShopOrder, error)
	FindShopOrderByID(ctx context.Context, id uuid.UUID, manage bool) (*ShopOrder, error)
	FindShopOrders(ctx context.Context, q Query, manage bool) (*Page[ShopOrder], error)
	ClaimShopOrder(ctx context.Context, id uuid.UUID, manage bool) (*ShopOrder, error)
	CancelShopOrder(ctx context.Context, id uuid.UUID, manage bool) (*ShopOrder, error)
}
