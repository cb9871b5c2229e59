// Settings through the client's SettingsApi: defaults, the domain's value,
// a game server's override, removal, validation and permissions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GameServerCreateDTOTypeEnum, SettingsControllerGetKeysEnum, SettingsOutputDTOTypeEnum } from '@takaro/apiclient';
import { newDomain, rejects, unique, userWith } from '../lib/takaro.mjs';

test('every key the client knows has a default', async () => {
  const { client } = await newDomain('settings');
  const all = (await client.settings.settingsControllerGet()).data.data;
  for (const key of Object.values(SettingsControllerGetKeysEnum)) {
    const s = all.find((x) => x.key === key);
    assert.ok(s, `missing ${key}`);
    assert.equal(s.type, SettingsOutputDTOTypeEnum.Default);
    assert.equal(typeof s.value, 'string');
    assert.equal(typeof s.description, 'string');
    assert.equal(typeof s.canHaveGameServerOverride, 'boolean');
  }
  const prefix = (await client.settings.settingsControllerGetOne(SettingsControllerGetKeysEnum.CommandPrefix)).data.data;
  assert.equal(prefix.value, '/');
});

test('domain value, game server override, removal', async () => {
  const { client } = await newDomain('settings');
  const gs = (await client.gameserver.gameServerControllerCreate({ name: unique('server'), type: GameServerCreateDTOTypeEnum.Mock, connectionInfo: '{}' })).data.data;
  const key = SettingsControllerGetKeysEnum.EconomyEnabled;

  const set = (await client.settings.settingsControllerSet(key, { value: 'true' })).data.data;
  assert.equal(set.value, 'true');
  assert.equal(set.type, SettingsOutputDTOTypeEnum.Global);
  assert.equal((await client.settings.settingsControllerGetOne(key, gs.id)).data.data.type, SettingsOutputDTOTypeEnum.Inherit);

  const override = (await client.settings.settingsControllerSet(key, { value: 'false', gameServerId: gs.id })).data.data;
  assert.equal(override.type, SettingsOutputDTOTypeEnum.Override);
  const picked = (await client.settings.settingsControllerGet([key, SettingsControllerGetKeysEnum.CurrencyName], gs.id)).data.data;
  assert.deepEqual(picked.map((s) => [s.key, s.value, s.type]), [
    [key, 'false', 'override'],
    ['currencyName', 'Takaro coins', 'default'],
  ]);

  await client.settings.settingsControllerDelete(key, gs.id);
  assert.equal((await client.settings.settingsControllerGetOne(key, gs.id)).data.data.value, 'true');
  await client.settings.settingsControllerDelete(key);
  assert.equal((await client.settings.settingsControllerGetOne(key)).data.data.type, SettingsOutputDTOTypeEnum.Default);

  const events = (await client.event.eventControllerSearch({ filters: { eventName: ['settings-set'] } })).data;
  assert.equal(events.meta.total, 4);
});

test('bad values and missing permissions are refused', async () => {
  const { client } = await newDomain('settings');
  const err = await rejects(client.settings.settingsControllerSet(SettingsControllerGetKeysEnum.EconomyEnabled, { value: 'maybe' }), 400, 'ValidationError');
  assert.match(JSON.stringify(err), /economyEnabled/);
  const unknown = await rejects(client.settings.settingsControllerGetOne('noSuchSetting'), 400, 'ValidationError');
  assert.match(JSON.stringify(unknown), /isEnum/);

  const { client: reader } = await userWith(client, ['READ_SETTINGS']);
  assert.equal((await reader.settings.settingsControllerGet()).data.data.length >= 9, true);
  await rejects(reader.settings.settingsControllerSet(SettingsControllerGetKeysEnum.CommandPrefix, { value: '!' }), 403, 'ForbiddenError');
});
