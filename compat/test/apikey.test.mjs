// API keys (not in the reference, so not in its client): created through
// the client's own HTTP instance, then used as a bearer credential by the
// client's methods.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newDomain, rejects, unique, withBearer } from '../lib/takaro.mjs';

test('an API key acts with the permissions it was given', async () => {
  const { client, rootUser } = await newDomain('apikey');
  const created = (await client.axiosInstance.post('/apikey', { name: unique('key'), permissions: ['READ_VARIABLES'] })).data.data;
  assert.match(created.secret, /^takaro_k_/);

  const keyed = withBearer(created.secret);
  const me = (await keyed.user.userControllerMe()).data.data;
  assert.equal(me.user.id, rootUser.id);
  await keyed.variable.variableControllerSearch({});
  await rejects(keyed.user.userControllerSearch({}), 403, 'ForbiddenError');

  const listed = (await client.axiosInstance.get('/apikey')).data.data;
  assert.ok(listed.some((k) => k.id === created.apiKey.id));
  await client.axiosInstance.delete(`/apikey/${created.apiKey.id}`);
  await rejects(keyed.user.userControllerMe(), 401, 'UnauthorizedError');
});
