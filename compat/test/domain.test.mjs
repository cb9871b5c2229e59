// Domains through the admin client: create, read, search, update, delete,
// the domain token of POST /token, and the server-registration token.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DomainOutputDTOStateEnum } from '@takaro/apiclient';
import { admin, anonymous, clientWith, newDomain, rejects, unique } from '../lib/takaro.mjs';

test('domain lifecycle through the admin client', async () => {
  const a = admin();
  const name = unique('domain');
  const created = (await a.domain.domainControllerCreate({ name, maxGameservers: 3 })).data.data;
  assert.equal(created.createdDomain.name, name);
  assert.equal(created.createdDomain.state, DomainOutputDTOStateEnum.Active);
  assert.equal(created.createdDomain.maxGameservers, 3);
  assert.ok(created.rootUser.email);
  assert.ok(created.password.length >= 16);
  const id = created.createdDomain.id;

  const one = (await a.domain.domainControllerGetOne(id)).data.data;
  assert.equal(one.id, id);

  const found = (await a.domain.domainControllerSearch({ filters: { name: [name] } })).data;
  assert.equal(found.meta.total, 1);
  assert.equal(found.data[0].id, id);

  const updated = (await a.domain.domainControllerUpdate(id, { state: DomainOutputDTOStateEnum.Maintenance })).data.data;
  assert.equal(updated.state, DomainOutputDTOStateEnum.Maintenance);

  await a.domain.domainControllerRemove(id);
  const disabled = (await a.domain.domainControllerGetOne(id)).data.data;
  assert.equal(disabled.state, DomainOutputDTOStateEnum.Disabled);
});

test('a domain token acts as the root user', async () => {
  const a = admin();
  const created = (await a.domain.domainControllerCreate({ name: unique('domain') })).data.data;
  const { token } = (await a.domain.domainControllerGetToken({ domainId: created.createdDomain.id })).data.data;
  const client = clientWith({ token });
  const me = (await client.user.userControllerMe()).data.data;
  assert.equal(me.domain, created.createdDomain.id);
  assert.equal(me.user.id, created.rootUser.id);
});

test('the admin API refuses a client without the admin token', async () => {
  await rejects(anonymous().axiosInstance.post('/domain/search', {}), 401, 'UnauthorizedError');
  await rejects(admin().domain.domainControllerGetOne('no-such-domain'), 404, 'NotFoundError');
});

test('server-registration token: shown, resolved, regenerated', async () => {
  const { client, domain } = await newDomain('registration');
  const a = admin();
  const token = (await a.domain.domainControllerGetOne(domain.id)).data.data.serverRegistrationToken;
  assert.match(token, /^[A-Za-z0-9+/]{43}=$/);
  const me = (await client.user.userControllerMe()).data.data;
  assert.equal(me.domains[0].serverRegistrationToken, token);

  const resolved = (await a.domain.domainControllerResolveRegistrationToken({ registrationToken: token })).data.data;
  assert.equal(resolved.id, domain.id);

  await client.gameserver.gameServerControllerRegenerateRegistrationToken();
  await rejects(a.domain.domainControllerResolveRegistrationToken({ registrationToken: token }), 404, 'NotFoundError');
  const fresh = (await client.user.userControllerMe()).data.data.domains[0].serverRegistrationToken;
  assert.notEqual(fresh, token);
  assert.equal((await a.domain.domainControllerResolveRegistrationToken({ registrationToken: fresh })).data.data.id, domain.id);
});
