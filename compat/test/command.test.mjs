// Commands and their arguments through the client's CommandApi, their
// recorded runs, and the trigger this data core does not run (501).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommandSearchInputDTOExtendEnum } from '@takaro/apiclient';
import { newDomain, newModule, newModuleOnServer, recordRun, rejects } from '../lib/takaro.mjs';

test('command lifecycle with arguments', async () => {
  const { client } = await newDomain('command');
  const mod = await newModule(client);
  const versionId = mod.latestVersion.id;
  const created = (await client.command.commandControllerCreate({
    name: 'greet',
    trigger: 'greet',
    versionId,
    function: '// greet',
    arguments: [
      { name: 'who', type: 'player', position: 0, helpText: 'whom to greet' },
      { name: 'times', type: 'number', position: 1, defaultValue: '1' },
    ],
  })).data.data;
  assert.equal(created.versionId, versionId);
  assert.equal(created.helpText, 'No help text available');
  assert.equal(created.function.code, '// greet');
  assert.equal(created.functionId, created.function.id);
  assert.deepEqual(created.arguments.map((a) => [a.name, a.type, a.position, a.defaultValue]), [
    ['who', 'player', 0, null],
    ['times', 'number', 1, '1'],
  ]);

  const one = (await client.command.commandControllerGetOne(created.id)).data.data;
  assert.equal(one.trigger, 'greet');
  assert.equal(one.arguments.length, 2);
  const found = (await client.command.commandControllerSearch({ filters: { moduleId: [mod.id] } })).data;
  assert.equal(found.meta.total, 1);
  assert.equal(found.data[0].id, created.id);
  const byName = (await client.command.commandControllerSearch({ search: { name: ['gre'] }, filters: { versionId: [versionId] } })).data;
  assert.deepEqual(byName.data.map((c) => c.id), [created.id]);
  assert.equal(byName.data[0].module, undefined);

  // extend: the module, and the version's permissions the command requires.
  await client.module.moduleControllerUpdate(mod.id, { latestVersion: { permissions: [{ permission: 'GREET', friendlyName: 'Greet', description: 'May greet' }] } });
  await client.command.commandControllerUpdate(created.id, { requiredPermissions: ['GREET'] });
  const extended = (await client.command.commandControllerSearch({
    filters: { id: [created.id] },
    extend: [CommandSearchInputDTOExtendEnum.Module, CommandSearchInputDTOExtendEnum.Permissions],
  })).data.data[0];
  assert.equal(extended.module.id, mod.id);
  assert.equal(extended.module.name, mod.name);
  assert.deepEqual(extended.permissions.map((p) => [p.permission, p.moduleVersionId]), [['GREET', versionId]]);
  // The reference accepts gameServer, which names no relation of a command
  // (and ignores every extend); the strict search contract refuses it.
  const unknown = await rejects(client.command.commandControllerSearch({ extend: [CommandSearchInputDTOExtendEnum.GameServer] }), 400, 'ValidationError');
  assert.match(JSON.stringify(unknown), /extend/);

  const updated = (await client.command.commandControllerUpdate(created.id, { trigger: 'hello', helpText: 'says hello', function: '// hello' })).data.data;
  assert.equal(updated.trigger, 'hello');
  assert.equal(updated.helpText, 'says hello');
  assert.equal(updated.function.code, '// hello');
  assert.equal(updated.arguments.length, 2);

  // Arguments one at a time.
  const arg = (await client.command.commandControllerCreateArgument({ name: 'loud', type: 'boolean', position: 2, commandId: created.id })).data.data;
  assert.equal(arg.type, 'boolean');
  const changed = (await client.command.commandControllerUpdateArgument(arg.id, { helpText: 'shout', defaultValue: 'false' })).data.data;
  assert.equal(changed.helpText, 'shout');
  assert.equal(changed.defaultValue, 'false');
  assert.equal((await client.command.commandControllerGetOne(created.id)).data.data.arguments.length, 3);
  await client.command.commandControllerRemoveArgument(arg.id);
  assert.deepEqual((await client.command.commandControllerGetOne(created.id)).data.data.arguments.map((a) => a.name), ['who', 'times']);

  // Given arguments replace the old ones.
  const replaced = (await client.command.commandControllerUpdate(created.id, { arguments: [{ name: 'text', type: 'string', position: 0 }] })).data.data;
  assert.deepEqual(replaced.arguments.map((a) => a.name), ['text']);

  const bad = await rejects(client.command.commandControllerCreate({
    name: 'bad', trigger: 'bad', versionId, arguments: [{ name: 'when', type: 'date', position: 0 }],
  }), 400, 'ValidationError');
  assert.match(JSON.stringify(bad), /arguments\[0\]\.type/);

  await client.command.commandControllerRemove(created.id);
  await rejects(client.command.commandControllerGetOne(created.id), 404, 'NotFoundError');
});

test('executions are read from the recorded events; trigger answers 501', async () => {
  const { client, mod, gs } = await newModuleOnServer('command');
  const command = (await client.command.commandControllerCreate({ name: 'greet', trigger: 'greet', versionId: mod.latestVersion.id })).data.data;

  await recordRun(client, 'command', command, mod, gs, true);
  await recordRun(client, 'command', command, mod, gs, false);
  // The failed runs by default, as in the reference. The 0.4.0 client
  // spreads its success argument into the query string, so it takes an
  // object: { success: true }.
  const failed = (await client.command.commandControllerGetExecutions(command.id)).data;
  assert.equal(failed.meta.total, 1);
  assert.equal(failed.data[0].meta.result.success, false);
  const succeeded = (await client.command.commandControllerGetExecutions(command.id, { success: true })).data;
  assert.equal(succeeded.meta.total, 1);
  assert.equal(succeeded.data[0].meta.result.success, true);

  const player = (await client.axiosInstance.post('/player', { name: 'compat player', steamId: `steam-${command.id}` })).data.data;
  const err = await rejects(client.command.commandControllerTrigger(gs.id, { playerId: player.id, msg: '/greet' }), 501, 'NotImplementedError');
  assert.match(err.message, /does not run/);
  await rejects(client.command.commandControllerTrigger(command.id, { playerId: player.id, msg: '/greet' }), 404, 'NotFoundError');
});
