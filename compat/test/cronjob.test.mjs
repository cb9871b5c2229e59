// Cron jobs through the client's CronJobApi, their recorded runs, and the
// trigger this data core does not run (501).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CronJobSearchInputDTOExtendEnum } from '@takaro/apiclient';
import { newDomain, newModule, newModuleOnServer, recordRun, rejects } from '../lib/takaro.mjs';

test('cron job lifecycle', async () => {
  const { client } = await newDomain('cronjob');
  const mod = await newModule(client);
  const versionId = mod.latestVersion.id;
  const created = (await client.cronjob.cronJobControllerCreate({ name: 'tick', temporalValue: '*/5 * * * *', versionId, function: '// tick' })).data.data;
  assert.equal(created.temporalValue, '*/5 * * * *');
  assert.equal(created.function.code, '// tick');

  assert.equal((await client.cronjob.cronJobControllerGetOne(created.id)).data.data.name, 'tick');
  const found = (await client.cronjob.cronJobControllerSearch({ filters: { versionId: [versionId] } })).data;
  assert.deepEqual(found.data.map((c) => c.id), [created.id]);
  const extended = (await client.cronjob.cronJobControllerSearch({ filters: { versionId: [versionId] }, extend: [CronJobSearchInputDTOExtendEnum.Module] })).data;
  assert.equal(extended.data[0].module.name, mod.name);

  const updated = (await client.cronjob.cronJobControllerUpdate(created.id, { temporalValue: '0 12 * * MON-FRI', description: 'noon' })).data.data;
  assert.equal(updated.temporalValue, '0 12 * * MON-FRI');
  assert.equal(updated.description, 'noon');
  const bad = await rejects(client.cronjob.cronJobControllerUpdate(created.id, { temporalValue: '61 * * * *' }), 400, 'ValidationError');
  assert.match(JSON.stringify(bad), /temporalValue/);

  await client.cronjob.cronJobControllerRemove(created.id);
  await rejects(client.cronjob.cronJobControllerGetOne(created.id), 404, 'NotFoundError');
});

test('executions and trigger', async () => {
  const { client, mod, gs } = await newModuleOnServer('cronjob');
  const cron = (await client.cronjob.cronJobControllerCreate({ name: 'tick', temporalValue: '* * * * *', versionId: mod.latestVersion.id })).data.data;
  await recordRun(client, 'cronjob', cron, mod, gs, false);
  assert.equal((await client.cronjob.cronJobControllerGetExecutions(cron.id)).data.meta.total, 1);
  assert.equal((await client.cronjob.cronJobControllerGetExecutions(cron.id, { success: true })).data.meta.total, 0);

  const err = await rejects(client.cronjob.cronJobControllerTrigger({ gameServerId: gs.id, moduleId: mod.id, cronjobId: cron.id }), 501, 'NotImplementedError');
  assert.match(err.message, /Not implemented/);
  await rejects(client.cronjob.cronJobControllerTrigger({ gameServerId: gs.id, moduleId: mod.id, cronjobId: gs.id }), 404, 'NotFoundError');
});
