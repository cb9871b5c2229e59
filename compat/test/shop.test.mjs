// The item and entity catalogue and the shop, through the client's methods.
// Catalogue entries are written through POST /items and /entities (the
// connector's sync in the reference, so the client has no method for it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GameServerCreateDTOTypeEnum } from '@takaro/apiclient';
import { newDomain, rejects, unique } from '../lib/takaro.mjs';

async function serverWithCatalogue(client) {
  const gs = (await client.gameserver.gameServerControllerCreate({ name: unique('server'), type: GameServerCreateDTOTypeEnum.Mock, connectionInfo: '{}' })).data.data;
  const item = (await client.axiosInstance.post('/items', { gameserverId: gs.id, code: 'woodPlank', name: 'Wooden plank', description: 'A plank', quality: '3' })).data.data;
  const entity = (await client.axiosInstance.post('/entities', { gameserverId: gs.id, code: 'zombieBoe', name: 'Boe', type: 'hostile' })).data.data;
  return { gs, item, entity };
}

test('items and entities: search and get', async () => {
  const { client } = await newDomain('catalogue');
  const { gs, item, entity } = await serverWithCatalogue(client);

  const items = (await client.item.itemControllerSearch({ filters: { gameserverId: [gs.id] }, search: { name: ['plank'] } })).data;
  assert.equal(items.meta.total, 1);
  assert.equal(items.data[0].code, 'woodPlank');
  const oneItem = (await client.item.itemControllerFindOne(item.id)).data.data;
  assert.equal(oneItem.name, 'Wooden plank');
  assert.equal(oneItem.quality, '3');
  await rejects(client.item.itemControllerFindOne(entity.id), 404, 'NotFoundError');

  const entities = (await client.entity.entityControllerSearch({ filters: { gameserverId: [gs.id], type: ['hostile'] } })).data;
  assert.deepEqual(entities.data.map((e) => e.id), [entity.id]);
  const oneEntity = (await client.entity.entityControllerFindOne(entity.id)).data.data;
  assert.equal(oneEntity.code, 'zombieBoe');
});

test('shop: categories, listings, orders claimed and cancelled with a refund', async () => {
  const { client } = await newDomain('shop');
  const { gs, item } = await serverWithCatalogue(client);
  const player = (await client.axiosInstance.post('/player', { name: 'buyer', steamId: unique('steam') })).data.data;
  await client.axiosInstance.post('/gameserver/player', { playerId: player.id, gameServerId: gs.id, gameId: unique('game') });
  await client.settings.settingsControllerSet('economyEnabled', { value: 'true' });
  await client.playerOnGameserver.playerOnGameServerControllerSetCurrency(gs.id, player.id, { currency: 100 });

  // Categories: a tree, moved, searched, updated.
  const cat = client.shopCategory;
  const weapons = (await cat.shopCategoryControllerCreate({ name: unique('Weapons'), emoji: '⚔️' })).data.data;
  const tools = (await cat.shopCategoryControllerCreate({ name: unique('Tools'), emoji: '🔨' })).data.data;
  const axes = (await cat.shopCategoryControllerCreate({ name: unique('Axes'), emoji: '🪓', parentId: weapons.id })).data.data;
  assert.equal(axes.parentId, weapons.id);
  const moved = (await cat.shopCategoryControllerMove(axes.id, { parentId: tools.id })).data.data;
  assert.equal(moved.parentId, tools.id);
  const renamed = (await cat.shopCategoryControllerUpdate(weapons.id, { name: `${weapons.name}-2`, emoji: '🗡️' })).data.data;
  assert.equal(renamed.emoji, '🗡️');
  assert.equal((await cat.shopCategoryControllerGetOne(tools.id)).data.data.id, tools.id);
  const all = (await cat.shopCategoryControllerGetAll()).data.data;
  assert.ok([weapons.id, tools.id, axes.id].every((id) => all.some((c) => c.id === id)));
  const searched = (await cat.shopCategoryControllerSearch({ filters: { name: [tools.name] } })).data;
  assert.deepEqual(searched.data.map((c) => c.id), [tools.id]);

  // Listings.
  const listings = client.shopListing;
  const listing = (await listings.shopListingControllerCreate({ gameServerId: gs.id, name: 'Plank', price: 30,
    items: [{ amount: 2, code: 'woodPlank' }], categoryIds: [weapons.id] })).data.data;
  assert.equal(listing.price, 30);
  assert.equal(listing.draft, false);
  assert.equal(listing.items[0].item.id, item.id);
  assert.deepEqual(listing.categories.map((c) => c.id), [weapons.id]);
  await cat.shopCategoryControllerBulkAssign({ listingIds: [listing.id], addCategoryIds: [tools.id], removeCategoryIds: [weapons.id] });
  const reassigned = (await listings.shopListingControllerGetOne(listing.id)).data.data;
  assert.deepEqual(reassigned.categories.map((c) => c.id), [tools.id]);
  const updated = (await listings.shopListingControllerUpdate(listing.id, { price: 40, items: [{ amount: 2, code: 'woodPlank' }] })).data.data;
  assert.equal(updated.price, 40);
  const found = (await listings.shopListingControllerSearch({ filters: { gameServerId: [gs.id] } })).data;
  assert.deepEqual(found.data.map((l) => l.id), [listing.id]);

  // Orders: each paid at once; a claim completes one, a cancel refunds the other.
  const orders = client.shopOrder;
  const balance = async () => (await client.playerOnGameserver.playerOnGameServerControllerGetOne(gs.id, player.id)).data.data.currency;
  const first = (await orders.shopOrderControllerCreate({ listingId: listing.id, amount: 1, playerId: player.id })).data.data;
  assert.equal(first.status, 'PAID');
  assert.equal(await balance(), 60);
  const second = (await orders.shopOrderControllerCreate({ listingId: listing.id, amount: 1, playerId: player.id })).data.data;
  assert.equal(await balance(), 20);
  await rejects(orders.shopOrderControllerCreate({ listingId: listing.id, amount: 1, playerId: player.id }), 400, 'BadRequestError');
  assert.equal(await balance(), 20);

  assert.equal((await orders.shopOrderControllerClaim(first.id)).data.data.status, 'COMPLETED');
  await rejects(orders.shopOrderControllerCancel(first.id), 400, 'BadRequestError');
  assert.equal((await orders.shopOrderControllerCancel(second.id)).data.data.status, 'CANCELED');
  assert.equal(await balance(), 60);
  assert.equal((await orders.shopOrderControllerGetOne(second.id)).data.data.status, 'CANCELED');
  const paid = (await orders.shopOrderControllerSearch({ filters: { listingId: [listing.id], status: ['COMPLETED'] } })).data;
  assert.deepEqual(paid.data.map((o) => o.id), [first.id]);

  await listings.shopListingControllerDelete(listing.id);
  await rejects(listings.shopListingControllerGetOne(listing.id), 404, 'NotFoundError');
  await cat.shopCategoryControllerRemove(axes.id);
  await rejects(cat.shopCategoryControllerGetOne(axes.id), 404, 'NotFoundError');
});

test('shop: listings exported by search are imported through the dashboard\'s form', async () => {
  const { client } = await newDomain('import');
  const { gs } = await serverWithCatalogue(client);
  const listings = client.shopListing;
  await listings.shopListingControllerCreate({ gameServerId: gs.id, name: 'Plank', price: 30, items: [{ amount: 2, code: 'woodPlank' }] });
  const exported = (await listings.shopListingControllerSearch({ filters: { gameServerId: [gs.id] } })).data.data;

  const form = new FormData();
  form.append('import', JSON.stringify(exported));
  form.append('options', JSON.stringify({ gameServerId: gs.id, replace: true, draft: true }));
  const res = await listings.shopListingControllerImportListings({ data: form });
  assert.equal(res.status, 200);
  const now = (await listings.shopListingControllerSearch({ filters: { gameServerId: [gs.id] } })).data.data;
  assert.equal(now.length, 1);
  assert.notEqual(now[0].id, exported[0].id);
  assert.equal(now[0].name, 'Plank');
  assert.equal(now[0].draft, true);
  assert.equal(now[0].items[0].item.code, 'woodPlank');
});
