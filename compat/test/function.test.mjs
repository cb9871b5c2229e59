// Functions through the client's FunctionApi: a version's own functions
// and the code of its commands, hooks and cron jobs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newDomain, newModule, rejects } from '../lib/takaro.mjs';

test('function lifecycle', async () => {
  const { client } = await newDomain('function');
  const mod = await newModule(client);
  const versionId = mod.latestVersion.id;
  const created = (await client.function.functionControllerCreate({ name: 'helper', description: 'shared code', code: '// v1', versionId })).data.data;
  assert.equal(created.name, 'helper');
  assert.equal(created.code, '// v1');
  assert.equal(created.versionId, versionId);

  assert.equal((await client.function.functionControllerGetOne(created.id)).data.data.code, '// v1');
  const found = (await client.function.functionControllerSearch({ filters: { moduleId: [mod.id], name: ['helper'] } })).data;
  assert.deepEqual(found.data.map((f) => f.id), [created.id]);

  const updated = (await client.function.functionControllerUpdate(created.id, { code: '// v2', name: 'helper2' })).data.data;
  assert.equal(updated.code, '// v2');
  assert.equal(updated.name, 'helper2');
  const version = (await client.module.moduleVersionControllerGetModuleVersion(versionId)).data.data;
  assert.deepEqual(version.functions.map((f) => [f.id, f.code]), [[created.id, '// v2']]);

  // A command's code is a function too, changed through the function API.
  const command = (await client.command.commandControllerCreate({ name: 'c', trigger: 'c', versionId, function: '// c1' })).data.data;
  await client.function.functionControllerUpdate(command.functionId, { code: '// c2' });
  assert.equal((await client.command.commandControllerGetOne(command.id)).data.data.function.code, '// c2');

  await client.function.functionControllerRemove(created.id);
  await rejects(client.function.functionControllerGetOne(created.id), 404, 'NotFoundError');
  const after = (await client.function.functionControllerSearch({ filters: { versionId: [versionId] } })).data;
  assert.equal(after.meta.total, 0);
});
