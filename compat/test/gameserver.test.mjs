// Game servers: create, read (connection info only for MANAGE_GAMESERVERS),
// search, update, delete.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GameServerCreateDTOTypeEnum } from '@takaro/apiclient';
import { newDomain, rejects, unique, userWith } from '../lib/takaro.mjs';

test('game server lifecycle', async () => {
  const { client } = await newDomain('gs');
  const name = unique('server');
  const connectionInfo = JSON.stringify({ host: 'localhost:28082', eventInterval: 500 });
  const gs = (await client.gameserver.gameServerControllerCreate({ name, type: GameServerCreateDTOTypeEnum.Mock, connectionInfo })).data.data;
  assert.equal(gs.name, name);
  assert.equal(gs.type, 'MOCK');

  const one = (await client.gameserver.gameServerControllerGetOne(gs.id)).data.data;
  assert.deepEqual(JSON.parse(JSON.stringify(one.connectionInfo)), JSON.parse(connectionInfo));

  const found = (await client.gameserver.gameServerControllerSearch({ filters: { name: [name] } })).data;
  assert.equal(found.meta.total, 1);
  assert.equal(found.data[0].connectionInfo, undefined);

  const updated = (await client.gameserver.gameServerControllerUpdate(gs.id, { name: `${name}-2`, type: 'MOCK', connectionInfo })).data.data;
  assert.equal(updated.name, `${name}-2`);

  const { client: reader } = await userWith(client, ['READ_PLAYERS']);
  const seen = (await reader.gameserver.gameServerControllerGetOne(gs.id)).data.data;
  assert.equal(seen.connectionInfo, undefined);
  await rejects(reader.gameserver.gameServerControllerRemove(gs.id), 403, 'ForbiddenError');

  await client.gameserver.gameServerControllerRemove(gs.id);
  await rejects(client.gameserver.gameServerControllerGetOne(gs.id), 404, 'NotFoundError');
});

test('a game server of an unknown type is a 400', async () => {
  const { client } = await newDomain('gs');
  await rejects(client.gameserver.gameServerControllerCreate({ name: unique('server'), type: 'MINECRAFT', connectionInfo: '{}' }), 400);
});
