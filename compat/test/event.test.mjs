// Events: recorded by the server for changes, created through the client,
// read and searched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventCreateDTOEventNameEnum } from '@takaro/apiclient';
import { newDomain, unique } from '../lib/takaro.mjs';

test('events are recorded and searchable', async () => {
  const { client, rootUser } = await newDomain('event');
  await client.variable.variableControllerCreate({ key: unique('key'), value: 'x' });
  const recorded = (await client.event.eventControllerSearch({ filters: { eventName: ['variable-created'] } })).data;
  assert.equal(recorded.meta.total, 1);
  assert.equal(recorded.data[0].actingUserId, rootUser.id);

  const created = (await client.event.eventControllerCreate({
    eventName: EventCreateDTOEventNameEnum.ChatMessage,
    meta: { msg: 'hello' },
  })).data.data;
  const one = (await client.event.eventControllerGetOne(created.id)).data.data;
  assert.equal(one.eventName, 'chat-message');
  assert.equal(one.meta.msg, 'hello');
});
