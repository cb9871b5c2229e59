// Modules through the client's ModuleApi: the module itself, its versions
// (tagging latest into an immutable copy), installations on a game server
// with user and system config, export and import, and module permissions
// held by a role.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newDomain, newGameServer, newModule, rejects, unique, userWith } from '../lib/takaro.mjs';

const greetingSchema = JSON.stringify({
  type: 'object',
  properties: { greeting: { type: 'string', maxLength: 10, default: 'hello' } },
  required: ['greeting'],
});

test('module lifecycle: create, get, search, update, remove', async () => {
  const { client } = await newDomain('module');
  const created = await newModule(client, { description: 'first', configSchema: greetingSchema });
  assert.equal(created.builtin, null);
  assert.equal(created.latestVersion.tag, 'latest');
  assert.equal(created.latestVersion.description, 'first');
  assert.deepEqual(JSON.parse(created.latestVersion.configSchema), JSON.parse(greetingSchema));
  assert.deepEqual(created.versions.map((v) => v.tag), ['latest']);

  const one = (await client.module.moduleControllerGetOne(created.id)).data.data;
  assert.equal(one.name, created.name);
  assert.equal(one.latestVersion.id, created.latestVersion.id);

  const found = (await client.module.moduleControllerSearch({ filters: { name: [created.name] } })).data;
  assert.equal(found.meta.total, 1);
  assert.equal(found.data[0].id, created.id);
  const bySearch = (await client.module.moduleControllerSearch({ search: { name: [created.name.slice(0, 10)] } })).data;
  assert.ok(bySearch.data.some((m) => m.id === created.id));

  const name = unique('renamed');
  const updated = (await client.module.moduleControllerUpdate(created.id, {
    name,
    author: 'compat',
    supportedGames: ['rust'],
    latestVersion: { description: 'second' },
  })).data.data;
  assert.equal(updated.name, name);
  assert.equal(updated.author, 'compat');
  assert.deepEqual(updated.supportedGames, ['rust']);
  assert.equal(updated.latestVersion.description, 'second');
  assert.equal(updated.latestVersion.id, created.latestVersion.id);

  const err = await rejects(client.module.moduleControllerCreate({ name, latestVersion: {} }), 409, 'ConflictError');
  assert.match(err.message, /Unique constraint violation/);
  const bad = await rejects(client.module.moduleControllerUpdate(created.id, { latestVersion: { configSchema: '{"type":"objekt"}' } }), 400, 'ValidationError');
  assert.match(JSON.stringify(bad), /configSchema/);

  await client.module.moduleControllerRemove(created.id);
  await rejects(client.module.moduleControllerGetOne(created.id), 404, 'NotFoundError');
  await rejects(client.module.moduleControllerRemove(created.id), 404, 'NotFoundError');
});

test('versions: tag, search, get; tagged versions are immutable', async () => {
  const { client } = await newDomain('module');
  const mod = await newModule(client);
  const latestId = mod.latestVersion.id;
  await client.command.commandControllerCreate({ name: 'greet', trigger: 'greet', versionId: latestId, function: '// v1' });

  // The client posts to /module/version/ (with a trailing slash).
  const tagged = (await client.module.moduleVersionControllerTagVersion({ moduleId: mod.id, tag: '1.0.0' })).data.data;
  assert.equal(tagged.tag, '1.0.0');
  assert.equal(tagged.moduleId, mod.id);
  assert.notEqual(tagged.id, latestId);
  assert.equal(tagged.commands.length, 1);
  assert.equal(tagged.commands[0].function.code, '// v1');
  await rejects(client.module.moduleVersionControllerTagVersion({ moduleId: mod.id, tag: '1.0.0' }), 409, 'ConflictError');
  const semver = await rejects(client.module.moduleVersionControllerTagVersion({ moduleId: mod.id, tag: 'one' }), 400, 'BadRequestError');
  assert.match(semver.message, /semver/);

  const got = (await client.module.moduleVersionControllerGetModuleVersion(tagged.id)).data.data;
  assert.equal(got.tag, '1.0.0');
  assert.equal(got.commands[0].name, 'greet');
  const versions = (await client.module.moduleVersionControllerSearchVersions({ filters: { moduleId: [mod.id] }, sortBy: 'tag' })).data;
  assert.equal(versions.meta.total, 2);
  assert.deepEqual(versions.data.map((v) => v.tag).sort(), ['1.0.0', 'latest']);
  const byTag = (await client.module.moduleVersionControllerSearchVersions({ filters: { moduleId: [mod.id], tag: ['1.0.0'] } })).data;
  assert.deepEqual(byTag.data.map((v) => v.id), [tagged.id]);

  const refused = await rejects(client.command.commandControllerCreate({ name: 'new', trigger: 'new', versionId: tagged.id }), 400, 'BadRequestError');
  assert.match(refused.message, /tagged version/);
  const after = (await client.module.moduleControllerGetOne(mod.id)).data.data;
  assert.deepEqual(after.versions.map((v) => v.tag), ['latest', '1.0.0']);
});

test('installations: install with user and system config, get, search, uninstall', async () => {
  const { client } = await newDomain('module');
  const mod = await newModule(client, { configSchema: greetingSchema });
  const versionId = mod.latestVersion.id;
  await client.command.commandControllerCreate({ name: 'greet', trigger: 'greet', versionId });
  await client.cronjob.cronJobControllerCreate({ name: 'tick', temporalValue: '*/5 * * * *', versionId });
  const gs = await newGameServer(client);

  const bad = await rejects(client.module.moduleInstallationsControllerInstallModule({
    versionId, gameServerId: gs.id, userConfig: JSON.stringify({ greeting: 'far too long a greeting' }),
  }), 400, 'ValidationError');
  assert.match(JSON.stringify(bad), /userConfig\.greeting/);
  const badSystem = await rejects(client.module.moduleInstallationsControllerInstallModule({
    versionId, gameServerId: gs.id, userConfig: '{}', systemConfig: JSON.stringify({ commands: { greet: { cost: -1 } } }),
  }), 400, 'ValidationError');
  assert.match(JSON.stringify(badSystem), /systemConfig\.commands\.greet\.cost/);

  // The client posts to /module/installation/ (with a trailing slash).
  const installed = (await client.module.moduleInstallationsControllerInstallModule({
    versionId,
    gameServerId: gs.id,
    userConfig: JSON.stringify({ greeting: 'hi' }),
    systemConfig: JSON.stringify({ commands: { greet: { aliases: ['yo'], cost: 5 } } }),
  })).data.data;
  assert.equal(installed.gameserverId, gs.id);
  assert.equal(installed.moduleId, mod.id);
  assert.equal(installed.versionId, versionId);
  assert.deepEqual(installed.userConfig, { greeting: 'hi' });
  assert.equal(installed.systemConfig.enabled, true);
  assert.deepEqual(installed.systemConfig.commands.greet.aliases, ['yo']);
  assert.equal(installed.systemConfig.commands.greet.cost, 5);
  assert.equal(installed.systemConfig.cronJobs.tick.temporalValue, '*/5 * * * *');
  assert.equal(installed.module.id, mod.id);
  assert.equal(installed.version.tag, 'latest');

  const got = (await client.module.moduleInstallationsControllerGetModuleInstallation(mod.id, gs.id)).data.data;
  assert.equal(got.id, installed.id);
  assert.deepEqual(got.userConfig, { greeting: 'hi' });
  const search = (await client.module.moduleInstallationsControllerGetInstalledModules({ filters: { gameserverId: [gs.id] } })).data;
  assert.equal(search.meta.total, 1);
  assert.equal(search.data[0].moduleId, mod.id);

  const removed = (await client.module.moduleInstallationsControllerUninstallModule(mod.id, gs.id)).data.data;
  assert.equal(removed.id, installed.id);
  await rejects(client.module.moduleInstallationsControllerGetModuleInstallation(mod.id, gs.id), 404, 'NotFoundError');
  const none = (await client.module.moduleInstallationsControllerGetInstalledModules({ filters: { moduleId: [mod.id] } })).data;
  assert.equal(none.meta.total, 0);
  const events = (await client.event.eventControllerSearch({ filters: { moduleId: [mod.id], eventName: ['module-installed', 'module-uninstalled'] } })).data;
  assert.deepEqual(events.data.map((e) => e.eventName).sort(), ['module-installed', 'module-uninstalled']);
});

test('export and import round trip', async () => {
  const { client } = await newDomain('module');
  const mod = await newModule(client, { description: 'exported', configSchema: greetingSchema });
  const versionId = mod.latestVersion.id;
  await client.command.commandControllerCreate({
    name: 'greet', trigger: 'greet', versionId, function: '// greet',
    arguments: [{ name: 'who', type: 'player', position: 0, helpText: 'whom to greet' }],
  });
  await client.hook.hookControllerCreate({ name: 'chat', regex: '^hi', eventType: 'chat-message', versionId, function: '// chat' });
  await client.function.functionControllerCreate({ name: 'helper', code: '// helper', versionId });
  await client.module.moduleVersionControllerTagVersion({ moduleId: mod.id, tag: '1.0.0' });

  const exported = (await client.module.moduleControllerExport(mod.id, {})).data.data;
  assert.equal(exported.name, mod.name);
  assert.deepEqual(exported.versions.map((v) => v.tag), ['1.0.0', 'latest']);
  const latest = exported.versions[1];
  assert.equal(latest.description, 'exported');
  assert.equal(latest.commands[0].function, '// greet');
  assert.deepEqual(latest.commands[0].arguments.map((a) => [a.name, a.type, a.position]), [['who', 'player', 0]]);
  assert.equal(latest.hooks[0].regex, '^hi');
  assert.equal(latest.functions[0].function, '// helper');

  // The 0.4.0 client types the import's answer as void; this server
  // answers with the imported module (named as the reference names a
  // module whose name is taken).
  const imported = (await client.module.moduleControllerImport(exported)).data.data;
  assert.equal(imported.name, `${mod.name}-imported`);
  assert.deepEqual(imported.versions.map((v) => v.tag), ['latest', '1.0.0']);
  const again = (await client.module.moduleControllerExport(imported.id, {})).data.data;
  assert.deepEqual({ ...again, name: exported.name }, exported);

  const onlyLatest = (await client.module.moduleControllerExport(mod.id, { versionIds: [versionId] })).data.data;
  assert.deepEqual(onlyLatest.versions.map((v) => v.tag), ['latest']);
});

test('module permissions are held by roles with a count', async () => {
  const { client } = await newDomain('module');
  const code = `GREET_${Date.now()}`;
  const mod = await newModule(client, {
    permissions: [{ permission: code, friendlyName: 'Greet', description: 'May greet', canHaveCount: true }],
  });
  assert.deepEqual(mod.latestVersion.permissions.map((p) => [p.permission, p.canHaveCount, p.moduleVersionId]), [[code, true, mod.latestVersion.id]]);

  const catalogue = (await client.role.roleControllerGetPermissions()).data.data;
  assert.ok(catalogue.some((p) => p.permission === code && p.moduleVersionId === mod.latestVersion.id));
  const [input] = await client.permissionCodesToInputs([code]);
  const role = (await client.role.roleControllerCreate({ name: unique('role'), permissions: [{ ...input, count: 3 }] })).data.data;
  assert.equal(role.permissions.length, 1);
  assert.equal(role.permissions[0].count, 3);
  assert.equal(role.permissions[0].permission.permission, code);
  assert.equal(role.permissions[0].permission.moduleVersionId, mod.latestVersion.id);

  // Removing the permission from the version takes it from the role.
  await client.module.moduleControllerUpdate(mod.id, { latestVersion: { permissions: [] } });
  const after = (await client.role.roleControllerGetOne(role.id)).data.data;
  assert.deepEqual(after.permissions, []);
});

test('module routes need READ_MODULES or MANAGE_MODULES', async () => {
  const { client } = await newDomain('module');
  const mod = await newModule(client);
  const { client: reader } = await userWith(client, ['READ_MODULES']);
  assert.equal((await reader.module.moduleControllerGetOne(mod.id)).data.data.id, mod.id);
  await rejects(reader.module.moduleControllerUpdate(mod.id, { name: unique('nope') }), 403, 'ForbiddenError');
  await rejects(reader.module.moduleControllerCreate({ name: unique('nope') }), 403, 'ForbiddenError');
  const { client: nobody } = await userWith(client, []);
  await rejects(nobody.module.moduleControllerSearch({}), 403, 'ForbiddenError');
});
