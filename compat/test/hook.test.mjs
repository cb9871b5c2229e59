// Hooks through the client's HookApi, their recorded runs, and the
// trigger this data core does not run (501).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HookCreateDTOEventTypeEnum, HookSearchInputDTOExtendEnum, HookTriggerDTOEventTypeEnum } from '@takaro/apiclient';
import { newDomain, newModule, newModuleOnServer, recordRun, rejects } from '../lib/takaro.mjs';

test('hook lifecycle', async () => {
  const { client } = await newDomain('hook');
  const mod = await newModule(client);
  const versionId = mod.latestVersion.id;
  const created = (await client.hook.hookControllerCreate({
    name: 'welcome', regex: '^hello', eventType: HookCreateDTOEventTypeEnum.ChatMessage, versionId, function: '// welcome',
  })).data.data;
  assert.equal(created.eventType, 'chat-message');
  assert.equal(created.regex, '^hello');
  assert.equal(created.function.code, '// welcome');

  assert.equal((await client.hook.hookControllerGetOne(created.id)).data.data.name, 'welcome');
  const found = (await client.hook.hookControllerSearch({ filters: { eventType: ['chat-message'], moduleId: [mod.id] } })).data;
  assert.deepEqual(found.data.map((h) => h.id), [created.id]);
  const none = (await client.hook.hookControllerSearch({ filters: { eventType: ['player-connected'], moduleId: [mod.id] } })).data;
  assert.equal(none.meta.total, 0);
  const extended = (await client.hook.hookControllerSearch({ filters: { id: [created.id] }, extend: [HookSearchInputDTOExtendEnum.Module] })).data;
  assert.equal(extended.data[0].module.id, mod.id);
  assert.equal(found.data[0].module, undefined);

  const updated = (await client.hook.hookControllerUpdate(created.id, { eventType: HookCreateDTOEventTypeEnum.PlayerConnected, regex: '.*' })).data.data;
  assert.equal(updated.eventType, 'player-connected');
  assert.equal(updated.regex, '.*');

  const badRegex = await rejects(client.hook.hookControllerCreate({ name: 'bad', regex: '(a', eventType: 'log', versionId }), 400, 'ValidationError');
  assert.match(JSON.stringify(badRegex), /regex/);
  const badEvent = await rejects(client.hook.hookControllerUpdate(created.id, { eventType: 'no-such-event' }), 400, 'ValidationError');
  assert.match(JSON.stringify(badEvent), /eventType/);

  await client.hook.hookControllerRemove(created.id);
  await rejects(client.hook.hookControllerGetOne(created.id), 404, 'NotFoundError');
});

test('executions and trigger', async () => {
  const { client, mod, gs } = await newModuleOnServer('hook');
  const hook = (await client.hook.hookControllerCreate({ name: 'h', regex: '', eventType: 'log', versionId: mod.latestVersion.id })).data.data;
  await recordRun(client, 'hook', hook, mod, gs, true);
  assert.equal((await client.hook.hookControllerGetExecutions(hook.id, { success: true })).data.meta.total, 1);
  assert.equal((await client.hook.hookControllerGetExecutions(hook.id)).data.meta.total, 0);

  const err = await rejects(client.hook.hookControllerTrigger({
    gameServerId: gs.id, moduleId: mod.id, eventType: HookTriggerDTOEventTypeEnum.Log, eventMeta: { msg: 'x' },
  }), 501, 'NotImplementedError');
  assert.match(err.message, /Not implemented/);
});
