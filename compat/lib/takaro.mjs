// What every test file of the compatibility suite shares: where the server
// is, the reference's own clients set up against it, and assertions on the
// error envelope. Each test file creates its own domain, so files run in
// parallel (node --test runs each file in its own process).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { AdminClient, Client, EventCreateDTOEventNameEnum, GameServerCreateDTOTypeEnum } from '@takaro/apiclient';

export const url = process.env.TAKARO_URL;
const adminSecret = process.env.TAKARO_ADMIN_SECRET;
if (!url || !adminSecret) {
  throw new Error('set TAKARO_URL (e.g. http://127.0.0.1:3000) and TAKARO_ADMIN_SECRET (the server\'s ADMIN_CLIENT_SECRET)');
}

// readable makes a failed request reject with a short error naming the
// request and the envelope's error (an AxiosError prints pages of sockets),
// keeping the response for rejects().
function readable(client) {
  client.axiosInstance.interceptors.response.use(undefined, (err) => {
    if (!err.response) return Promise.reject(err);
    const { method, url: path } = err.config;
    const e = new Error(`${method.toUpperCase()} ${path}: ${err.response.status} ${JSON.stringify(err.response.data?.meta?.error ?? err.response.data)}`);
    e.response = err.response;
    return Promise.reject(e);
  });
  return client;
}

// unique returns a short name no other test uses.
export function unique(prefix) {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

// admin is the reference's admin client, authenticated with the admin token.
export function admin() {
  return readable(new AdminClient({ url, auth: { clientSecret: adminSecret }, log: false }));
}

// clientWith is the reference's client with the given auth (token: a domain
// token; username and password: for login()).
export function clientWith(auth) {
  return readable(new Client({ url, auth, log: false }));
}

// anonymous is a client without credentials.
export function anonymous() {
  return clientWith({});
}

// withBearer is a client sending a bearer credential (an API key).
export function withBearer(secret) {
  const c = anonymous();
  c.setHeader('Authorization', `Bearer ${secret}`);
  return c;
}

// newDomain creates a domain through the admin API (with room for a few
// dashboard users; limits override that) and logs in as its root user with
// the reference client's own login().
export async function newDomain(prefix = 'compat', limits = {}) {
  const created = (await admin().domain.domainControllerCreate({ name: unique(prefix), maxUsers: 10, ...limits })).data.data;
  const client = await loggedIn(created.rootUser.email, created.password);
  return { domain: created.createdDomain, rootUser: created.rootUser, password: created.password, client };
}

// loggedIn returns a client logged in with an e-mail address and password.
export async function loggedIn(username, password) {
  const c = clientWith({ username, password });
  await c.login();
  return c;
}

// userWith creates a user in the domain of client holding a new role with
// the given permission codes, and returns a client logged in as that user.
export async function userWith(client, permissions, { dashboard = true } = {}) {
  const role = (await client.role.roleControllerCreate({
    name: unique('role'),
    permissions: await client.permissionCodesToInputs(permissions),
  })).data.data;
  const email = `${unique('user')}@example.com`;
  const password = randomBytes(12).toString('hex');
  const user = (await client.user.userControllerCreate({ name: unique('user'), email, password, isDashboardUser: dashboard })).data.data;
  await client.user.userControllerAssignRole(user.id, role.id);
  return { user, role, client: await loggedIn(email, password) };
}

// rejects awaits a request that must fail with status and returns the
// envelope's error; code, when given, must be meta.error.code.
export async function rejects(promise, status, code) {
  let res;
  try {
    res = await promise;
  } catch (err) {
    if (!err.response) throw err;
    const body = err.response.data;
    assert.equal(err.response.status, status, `status ${err.response.status}, body ${JSON.stringify(body)}`);
    assert.ok(body?.meta?.error, `no error envelope in ${JSON.stringify(body)}`);
    assert.deepEqual(body.data, {});
    if (code) assert.equal(body.meta.error.code, code);
    return body.meta.error;
  }
  assert.fail(`expected ${status}, got ${res.status} ${JSON.stringify(res.data)}`);
}

// newModule creates a module through the client with the given latest
// version fields and returns it (its latestVersion holds the version id
// that commands, hooks, cron jobs and functions are created in).
export async function newModule(client, latestVersion = {}) {
  return (await client.module.moduleControllerCreate({ name: unique('module'), latestVersion })).data.data;
}

// newGameServer creates a game server of the mock type.
export async function newGameServer(client) {
  return (await client.gameserver.gameServerControllerCreate({ name: unique('server'), type: GameServerCreateDTOTypeEnum.Mock, connectionInfo: '{}' })).data.data;
}

const runEvents = {
  command: EventCreateDTOEventNameEnum.CommandExecuted,
  hook: EventCreateDTOEventNameEnum.HookExecuted,
  cronjob: EventCreateDTOEventNameEnum.CronjobExecuted,
};

// recordRun records the event a runner would record after running part, a
// command, hook or cron job (kind) of mod on gs: what the executions
// routes read.
export async function recordRun(client, kind, part, mod, gs, success) {
  await client.event.eventControllerCreate({
    eventName: runEvents[kind],
    moduleId: mod.id,
    gameserverId: gs.id,
    meta: { [kind]: { id: part.id }, result: { success, logs: [] } },
  });
}

// newModuleOnServer creates a domain with a module and a game server.
export async function newModuleOnServer(prefix) {
  const { client } = await newDomain(prefix);
  return { client, mod: await newModule(client), gs: await newGameServer(client) };
}
