// Location and inventory history: written through the endpoints that stand
// in for the connector's sync (the client has no method for them), read
// through the client's tracking methods.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GameServerCreateDTOTypeEnum } from '@takaro/apiclient';
import { newDomain, unique } from '../lib/takaro.mjs';

test('location and inventory history', async () => {
  const { client } = await newDomain('tracking');
  const gs = (await client.gameserver.gameServerControllerCreate({ name: unique('server'), type: GameServerCreateDTOTypeEnum.Mock, connectionInfo: '{}' })).data.data;
  const player = (await client.axiosInstance.post('/player', { name: 'walker', steamId: unique('steam') })).data.data;
  await client.axiosInstance.post('/gameserver/player', { playerId: player.id, gameServerId: gs.id, gameId: unique('game') });
  const item = (await client.axiosInstance.post('/items', { gameserverId: gs.id, code: 'stone', name: 'Stone' })).data.data;
  const start = new Date(Date.now() - 60_000).toISOString();

  await client.axiosInstance.post('/tracking/location/record', { gameServerId: gs.id, samples: [{ playerId: player.id, x: 10, y: 20, z: 30 }] });
  await client.axiosInstance.post('/tracking/location/record', { gameServerId: gs.id, samples: [{ playerId: player.id, x: 500, y: 20, z: 30 }] });
  const t = client.tracking;
  const moves = (await t.trackingControllerGetPlayerMovementHistory({ playerId: [player.id], startDate: start })).data.data;
  assert.deepEqual(moves.map((m) => m.x), [500, 10]);
  assert.ok(moves.every((m) => m.playerId === player.id && m.pogId));
  const inBox = (await t.trackingControllerGetBoundingBoxPlayers({ gameserverId: gs.id, minX: 0, maxX: 100, minY: 0, maxY: 100, minZ: 0, maxZ: 100 })).data.data;
  assert.deepEqual(inBox.map((m) => m.x), [10]);
  const near = (await t.trackingControllerGetRadiusPlayers({ gameserverId: gs.id, x: 500, y: 20, z: 30, radius: 1 })).data.data;
  assert.deepEqual(near.map((m) => m.x), [500]);

  await client.axiosInstance.post('/tracking/inventory/record', { gameServerId: gs.id,
    samples: [{ playerId: player.id, items: [{ code: 'stone', amount: 4 }, { code: 'stone', amount: 3 }] }] });
  const end = new Date(Date.now() + 60_000).toISOString();
  const inventory = (await t.trackingControllerGetPlayerInventoryHistory({ playerId: player.id, startDate: start, endDate: end })).data.data;
  assert.equal(inventory.length, 1);
  assert.equal(inventory[0].itemId, item.id);
  assert.equal(inventory[0].itemCode, 'stone');
  assert.equal(inventory[0].itemName, 'Stone');
  assert.equal(inventory[0].quantity, 7);
  const holders = (await t.trackingControllerGetPlayersByItem({ itemId: item.id })).data.data;
  assert.deepEqual(holders.map((h) => [h.playerId, h.quantity]), [[player.id, 7]]);
});
