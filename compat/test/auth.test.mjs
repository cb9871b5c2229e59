// Logging in and out with the reference client's own login(), and GET /me.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clientWith, newDomain, rejects } from '../lib/takaro.mjs';

test('login, me and logout', async () => {
  const { client, domain, rootUser } = await newDomain('auth');
  const me = (await client.user.userControllerMe()).data.data;
  assert.equal(me.user.id, rootUser.id);
  assert.equal(me.domain, domain.id);
  assert.deepEqual(me.domains.map((d) => d.id), [domain.id]);

  await client.user.userControllerLogout();
  await rejects(client.user.userControllerMe(), 401, 'UnauthorizedError');
});

test('a wrong password is 401', async () => {
  const { rootUser } = await newDomain('auth');
  const c = clientWith({ username: rootUser.email, password: 'not-the-password' });
  await rejects(c.login(), 401, 'UnauthorizedError');
});

test('no credential is 401', async () => {
  await rejects(clientWith({}).user.userControllerMe(), 401, 'UnauthorizedError');
});
