// Players on game servers, their currency and bans, through the client's
// methods. Presences are recorded through POST /gameserver/player (the
// connector's part in the reference, so the client has no method for it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GameServerCreateDTOTypeEnum } from '@takaro/apiclient';
import { newDomain, rejects, unique } from '../lib/takaro.mjs';

// world creates a domain with a game server and two players on it.
async function world() {
  const { client } = await newDomain('economy');
  const gs = (await client.gameserver.gameServerControllerCreate({ name: unique('server'), type: GameServerCreateDTOTypeEnum.Mock, connectionInfo: '{}' })).data.data;
  const players = [];
  const pogs = [];
  for (const name of ['alice', 'bob']) {
    const p = (await client.axiosInstance.post('/player', { name, steamId: unique('steam') })).data.data;
    players.push(p);
    pogs.push((await client.axiosInstance.post('/gameserver/player', { playerId: p.id, gameServerId: gs.id, gameId: unique('game'), online: true, ping: 42 })).data.data);
  }
  return { client, gs, players, pogs };
}

test('players on a game server: search, get, delete', async () => {
  const { client, gs, players } = await world();
  const found = (await client.playerOnGameserver.playerOnGameServerControllerSearch({ filters: { gameServerId: [gs.id] } })).data;
  assert.equal(found.meta.total, 2);
  assert.deepEqual(found.data.map((p) => p.playerId).sort(), players.map((p) => p.id).sort());

  const one = (await client.playerOnGameserver.playerOnGameServerControllerGetOne(gs.id, players[0].id)).data.data;
  assert.equal(one.playerId, players[0].id);
  assert.equal(one.gameServerId, gs.id);
  assert.equal(one.online, true);
  assert.equal(one.ping, 42);
  assert.equal(one.currency, 0);

  await client.playerOnGameserver.playerOnGameServerControllerDelete(gs.id, players[1].id);
  await rejects(client.playerOnGameserver.playerOnGameServerControllerGetOne(gs.id, players[1].id), 404, 'NotFoundError');
  const left = (await client.playerOnGameserver.playerOnGameServerControllerSearch({ filters: { gameServerId: [gs.id] } })).data;
  assert.equal(left.meta.total, 1);
});

test('currency: refused while the economy is off, then set, add, deduct, transfer, reset', async () => {
  const { client, gs, players, pogs } = await world();
  const pog = client.playerOnGameserver;
  const off = await rejects(pog.playerOnGameServerControllerAddCurrency(gs.id, players[0].id, { currency: 10 }), 400, 'BadRequestError');
  assert.equal(off.message, 'Economy is not enabled');
  await rejects(client.gameserver.gameServerControllerResetCurrency(gs.id), 400, 'BadRequestError');

  await client.settings.settingsControllerSet('economyEnabled', { value: 'true' });
  assert.equal((await pog.playerOnGameServerControllerSetCurrency(gs.id, players[0].id, { currency: 100 })).data.data.currency, 100);
  assert.equal((await pog.playerOnGameServerControllerAddCurrency(gs.id, players[0].id, { currency: 25 })).data.data.currency, 125);
  assert.equal((await pog.playerOnGameServerControllerDeductCurrency(gs.id, players[0].id, { currency: 5 })).data.data.currency, 120);
  const broke = await rejects(pog.playerOnGameServerControllerDeductCurrency(gs.id, players[1].id, { currency: 1 }), 400, 'BadRequestError');
  assert.ok(broke.message.length > 0);

  await pog.playerOnGameServerControllerTransactBetweenPlayers(gs.id, pogs[0].id, pogs[1].id, { currency: 20 });
  const balances = async () => Promise.all(players.map(async (p) => (await pog.playerOnGameServerControllerGetOne(gs.id, p.id)).data.data.currency));
  assert.deepEqual(await balances(), [100, 20]);
  await rejects(pog.playerOnGameServerControllerTransactBetweenPlayers(gs.id, pogs[1].id, pogs[0].id, { currency: 21 }), 400, 'BadRequestError');

  // Off again for this game server alone: the override wins.
  await client.settings.settingsControllerSet('economyEnabled', { value: 'false', gameServerId: gs.id });
  await rejects(pog.playerOnGameServerControllerSetCurrency(gs.id, players[0].id, { currency: 1 }), 400, 'BadRequestError');
  await client.settings.settingsControllerDelete('economyEnabled', gs.id);

  const reset = (await client.gameserver.gameServerControllerResetCurrency(gs.id)).data.data;
  assert.equal(reset.affectedPlayerCount, 2);
  assert.deepEqual(await balances(), [0, 0]);
});

test('bans: create, get, search, update, list on the game server, delete', async () => {
  const { client, gs, players } = await world();
  const bans = client.player;
  const ban = (await bans.banControllerCreate({ playerId: players[0].id, gameServerId: gs.id, reason: 'griefing' })).data.data;
  assert.equal(ban.playerId, players[0].id);
  assert.equal(ban.gameServerId, gs.id);
  assert.equal(ban.reason, 'griefing');
  assert.equal(ban.isGlobal, false);
  const global = (await bans.banControllerCreate({ playerId: players[1].id, isGlobal: true, until: new Date(Date.now() + 3600_000).toISOString() })).data.data;
  assert.equal(global.isGlobal, true);

  assert.equal((await bans.banControllerGetOne(ban.id)).data.data.id, ban.id);
  const found = (await bans.banControllerSearch({ filters: { isGlobal: [true] } })).data;
  assert.deepEqual(found.data.map((b) => b.id), [global.id]);
  const updated = (await bans.banControllerUpdate(ban.id, { playerId: players[0].id, reason: 'griefing again' })).data.data;
  assert.equal(updated.reason, 'griefing again');

  const listed = (await client.gameserver.gameServerControllerListBans(gs.id)).data.data;
  assert.equal(listed.length, 2);
  assert.ok(listed.some((b) => b.reason === 'griefing again'));

  await bans.banControllerDelete(ban.id);
  await rejects(bans.banControllerGetOne(ban.id), 404, 'NotFoundError');
});
