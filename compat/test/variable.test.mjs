// Variables: create, read, search, update, delete, and the unique key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newDomain, rejects, unique } from '../lib/takaro.mjs';

test('variable lifecycle', async () => {
  const { client } = await newDomain('variable');
  const key = unique('key');
  const v = (await client.variable.variableControllerCreate({ key, value: 'one' })).data.data;
  assert.equal(v.key, key);
  assert.equal(v.value, 'one');
  await rejects(client.variable.variableControllerCreate({ key, value: 'two' }), 409, 'ConflictError');

  assert.equal((await client.variable.variableControllerFindOne(v.id)).data.data.value, 'one');
  const found = (await client.variable.variableControllerSearch({ filters: { key: [key] } })).data;
  assert.equal(found.meta.total, 1);

  const updated = (await client.variable.variableControllerUpdate(v.id, { key, value: 'two' })).data.data;
  assert.equal(updated.value, 'two');

  await client.variable.variableControllerDelete(v.id);
  await rejects(client.variable.variableControllerFindOne(v.id), 404, 'NotFoundError');
});
