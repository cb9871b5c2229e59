// Users: create, read, search, update, roles, delete.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newDomain, rejects, unique, userWith } from '../lib/takaro.mjs';

test('user lifecycle', async () => {
  const { client } = await newDomain('user');
  const email = `${unique('u')}@example.com`;
  const user = (await client.user.userControllerCreate({ name: 'compat user', email, password: 'a-long-password-1' })).data.data;
  assert.equal(user.email, email);
  assert.equal(user.isDashboardUser, false);

  assert.equal((await client.user.userControllerGetOne(user.id)).data.data.id, user.id);
  const found = (await client.user.userControllerSearch({ filters: { email: [email] } })).data;
  assert.equal(found.meta.total, 1);

  const updated = (await client.user.userControllerUpdate(user.id, { name: 'renamed', isDashboardUser: true })).data.data;
  assert.equal(updated.name, 'renamed');
  assert.equal(updated.isDashboardUser, true);

  const role = (await client.role.roleControllerCreate({ name: unique('role'), permissions: [] })).data.data;
  await client.user.userControllerAssignRole(user.id, role.id);
  const withRole = (await client.user.userControllerGetOne(user.id)).data.data;
  assert.ok(withRole.roles.some((r) => r.roleId === role.id));
  await client.user.userControllerRemoveRole(user.id, role.id);
  const without = (await client.user.userControllerGetOne(user.id)).data.data;
  assert.ok(!without.roles.some((r) => r.roleId === role.id));

  await client.user.userControllerRemove(user.id);
  await rejects(client.user.userControllerGetOne(user.id), 404, 'NotFoundError');
});

test('a user without READ_USERS is refused', async () => {
  const { client } = await newDomain('user');
  const { client: reader } = await userWith(client, ['READ_VARIABLES']);
  await rejects(reader.user.userControllerSearch({}), 403, 'ForbiddenError');
  const { client: users } = await userWith(client, ['READ_USERS']);
  assert.ok((await users.user.userControllerSearch({})).data.meta.total >= 3);
});

test('an unknown filter is a 400 naming it', async () => {
  const { client } = await newDomain('user');
  const err = await rejects(client.user.userControllerSearch({ filters: { nope: ['x'] } }), 400, 'ValidationError');
  assert.match(JSON.stringify(err), /nope/);
});
