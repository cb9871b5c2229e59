// Roles and the permission catalogue.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newDomain, rejects, unique } from '../lib/takaro.mjs';

test('the permission catalogue has the reference codes', async () => {
  const { client } = await newDomain('role');
  const codes = (await client.role.roleControllerGetPermissions()).data.data.map((p) => p.permission);
  for (const code of ['ROOT', 'MANAGE_USERS', 'READ_SETTINGS', 'MANAGE_SETTINGS', 'MANAGE_GAMESERVERS']) {
    assert.ok(codes.includes(code), `missing ${code}`);
  }
});

test('role lifecycle', async () => {
  const { client } = await newDomain('role');
  const name = unique('role');
  const permissions = await client.permissionCodesToInputs(['READ_PLAYERS', 'READ_SETTINGS']);
  const role = (await client.role.roleControllerCreate({ name, permissions })).data.data;
  assert.equal(role.name, name);
  assert.deepEqual(role.permissions.map((p) => p.permission.permission).sort(), ['READ_PLAYERS', 'READ_SETTINGS']);

  assert.equal((await client.role.roleControllerGetOne(role.id)).data.data.id, role.id);
  const found = (await client.role.roleControllerSearch({ filters: { name: [name] } })).data;
  assert.equal(found.meta.total, 1);

  const updated = (await client.role.roleControllerUpdate(role.id, {
    name: `${name}-2`,
    permissions: await client.permissionCodesToInputs(['MANAGE_SETTINGS']),
  })).data.data;
  assert.equal(updated.name, `${name}-2`);
  assert.deepEqual(updated.permissions.map((p) => p.permission.permission), ['MANAGE_SETTINGS']);

  await client.role.roleControllerRemove(role.id);
  await rejects(client.role.roleControllerGetOne(role.id), 404, 'NotFoundError');
});
