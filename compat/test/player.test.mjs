// Players: created through POST /player (the reference creates them from
// game events, so its client has no method for it), then read, searched,
// given roles and deleted through the client's methods.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newDomain, rejects, unique } from '../lib/takaro.mjs';

test('player lifecycle', async () => {
  const { client } = await newDomain('player');
  const steamId = unique('steam');
  const created = (await client.axiosInstance.post('/player', { name: 'compat player', steamId })).data.data;

  const one = (await client.player.playerControllerGetOne(created.id)).data.data;
  assert.equal(one.steamId, steamId);
  const found = (await client.player.playerControllerSearch({ filters: { steamId: [steamId] } })).data;
  assert.equal(found.meta.total, 1);
  assert.equal(found.data[0].id, created.id);

  const role = (await client.role.roleControllerCreate({ name: unique('role'), permissions: [] })).data.data;
  await client.player.playerControllerAssignRole(created.id, role.id);
  const withRole = (await client.player.playerControllerGetOne(created.id)).data.data;
  assert.ok(withRole.roleAssignments.some((r) => r.roleId === role.id));
  await client.player.playerControllerRemoveRole(created.id, role.id);

  await client.player.playerControllerDelete(created.id);
  await rejects(client.player.playerControllerGetOne(created.id), 404, 'NotFoundError');
});
