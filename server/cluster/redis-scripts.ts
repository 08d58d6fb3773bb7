/**
 * The directory's atomic steps as Lua scripts: each checks and changes a
 * room in one go inside Redis, so two nodes racing for the broadcaster slot
 * or the last seat get exactly one winner. Every script takes the key prefix
 * as ARGV[1]. Keys (P = prefix):
 *
 * - `P c:<client>`  hash: s (stream), r (b|v), n (node), sub, name, ses,
 *                   e2 (a viewer's `join-stream.e2ee`: '1' or '')
 * - `P s:<stream>`  hash: b (broadcaster id), bn (its node), cap (maxViewers),
 *                   e2 ('1': that broadcaster encrypts end to end)
 * - `P v:<stream>`  hash: viewer id -> "<node> <session>", or
 *                   "<node> <session> 1" for a viewer that decrypts
 * - `P m:<node>`    set: the node's members (what a reaper frees)
 * - `P n:<node>`    string with a TTL: the node is alive; its value is where
 *                   its node link listens (`tcp://host:port`), or `1`
 * - `P nodes`       set: registered nodes
 * - `P resume-key`  the key of resume claims, when no secret is configured
 * - `P link-key`    the key of node links, when CLUSTER_SECRET is not set
 * - `P d:<node>`    the pub/sub channel of a node's clients' frames (while
 *                   a link to it is not open, or with NODE_LINKS=off)
 *
 * Redis deletes a hash or set when its last field goes, so a stream with no
 * one in it leaves no key behind. The keys are computed inside the scripts:
 * one Redis (or a replicated primary), not Redis Cluster.
 */

/**
 * Shared by every script. `depart` frees one client's place and returns the
 * departure flat: id, stream, role, node, sub, name, session, viewer count,
 * broadcaster id, broadcaster node, then (a broadcaster left) viewer id and
 * node pairs.
 */
const LIBRARY = `
local P = ARGV[1]
local function split(value)
  local i = string.find(value, ' ', 1, true)
  if not i then return value, '' end
  return string.sub(value, 1, i - 1), string.sub(value, i + 1)
end
local function seat(node, ses, e2)
  if e2 == '1' then return node .. ' ' .. ses .. ' 1' end
  return node .. ' ' .. ses
end
local function depart(id)
  local ck = P .. 'c:' .. id
  local c = redis.call('HMGET', ck, 's', 'r', 'n', 'sub', 'name', 'ses')
  local s, r, n = c[1], c[2], c[3]
  if not s then return false end
  redis.call('DEL', ck)
  redis.call('SREM', P .. 'm:' .. n, id)
  local sk, vk = P .. 's:' .. s, P .. 'v:' .. s
  local out = {id, s, r, n, c[4] or '', c[5] or '', c[6] or '', 0, '', ''}
  if r == 'b' then
    redis.call('DEL', sk)
    local vs = redis.call('HGETALL', vk)
    for i = 1, #vs, 2 do
      local node = split(vs[i + 1])
      out[#out + 1] = vs[i]
      out[#out + 1] = node
    end
    out[8] = #vs / 2
  else
    redis.call('HDEL', vk, id)
    local b = redis.call('HMGET', sk, 'b', 'bn')
    if b[1] then
      out[9] = b[1]
      out[10] = b[2]
    end
    out[8] = redis.call('HLEN', vk)
  end
  return out
end
local function place(id, s, r, n, sub, name, ses, e2)
  redis.call('HSET', P .. 'c:' .. id, 's', s, 'r', r, 'n', n, 'sub', sub,
    'name', name, 'ses', ses, 'e2', e2)
  redis.call('SADD', P .. 'm:' .. n, id)
end
`;

/**
 * ARGV: P, stream, client, node, subject, name, cap ('' = none), e2ee ('1'
 * or ''). Returns {'taken'}, {'conflict'} or {'ok', again, replaced,
 * switched, viewers (id, node, session, e2ee quadruples), e2ee before (1 or
 * 0: the record's flag before this step)}.
 */
const ANNOUNCE = `
local s, id, node, sub, name, cap, e2 =
  ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local cur = redis.call('HMGET', P .. 'c:' .. id, 's', 'r', 'n')
if cur[3] and cur[3] ~= node then return {'conflict'} end
local again = cur[1] == s and cur[2] == 'b'
local sk = P .. 's:' .. s
local holder = redis.call('HGET', sk, 'b')
local before = redis.call('HGET', sk, 'e2') == '1' and 1 or 0
local replaced = false
if holder and holder ~= id then
  local held = redis.call('HGET', P .. 'c:' .. holder, 'sub')
  if sub == '' or not held or held ~= sub then return {'taken'} end
  replaced = depart(holder)
end
local switched = false
if cur[1] and not again then switched = depart(id) end
redis.call('HSET', sk, 'b', id, 'bn', node, 'cap', cap, 'e2', e2)
place(id, s, 'b', node, sub, name, '', '')
local viewers = {}
local vs = redis.call('HGETALL', P .. 'v:' .. s)
for i = 1, #vs, 2 do
  local n, rest = split(vs[i + 1])
  local ses, ve2 = split(rest)
  viewers[#viewers + 1] = vs[i]
  viewers[#viewers + 1] = n
  viewers[#viewers + 1] = ses
  viewers[#viewers + 1] = ve2
end
return {'ok', again and 1 or 0, replaced, switched, viewers, before}
`;

/**
 * ARGV: P, stream, client, node, subject, name, session, maxViewers, the
 * broadcaster's viewer-joined frame up to its count ('' = not sent here),
 * e2ee ('1': the viewer decrypts, or ''). Returns {'full', cap},
 * {'conflict'} or {'ok', again, switched, broadcaster id, broadcaster node,
 * viewer count, told, e2ee (1: the broadcaster encrypts)}: a broadcaster on
 * another node is sent the frame here, in the same step (told = 1), unless
 * it encrypts and the viewer does not decrypt (it is not paired).
 */
const JOIN = `
local s, id, node, sub, name, ses, max, e2 = ARGV[2], ARGV[3], ARGV[4],
  ARGV[5], ARGV[6], ARGV[7], tonumber(ARGV[8]), ARGV[10]
local cur = redis.call('HMGET', P .. 'c:' .. id, 's', 'r', 'n')
if cur[3] and cur[3] ~= node then return {'conflict'} end
local again = cur[1] == s and cur[2] == 'v'
local sk, vk = P .. 's:' .. s, P .. 'v:' .. s
local cap = tonumber(redis.call('HGET', sk, 'cap') or '')
if cap and cap < max then max = cap end
if not again and redis.call('HLEN', vk) >= max then return {'full', max} end
local switched = false
if cur[1] and not again then switched = depart(id) end
redis.call('HSET', vk, id, seat(node, ses, e2))
place(id, s, 'v', node, sub, name, ses, e2)
local b = redis.call('HMGET', sk, 'b', 'bn', 'e2')
local count = redis.call('HLEN', vk)
local told = 0
local encrypted = b[1] and b[3] == '1'
if b[1] and b[2] ~= node and ARGV[9] ~= '' and (e2 == '1' or not encrypted) then
  redis.call('PUBLISH', P .. 'd:' .. b[2],
    't ' .. b[1] .. ' ' .. ARGV[9] .. count .. '}')
  told = 1
end
return {'ok', again and 1 or 0, switched, b[1] or '', b[2] or '', count, told,
  encrypted and 1 or 0}
`;

/** ARGV: P, client, node. The departure, or false if `node` holds no place for it. */
const LEAVE = `
if redis.call('HGET', P .. 'c:' .. ARGV[2], 'n') ~= ARGV[3] then return false end
return depart(ARGV[2])
`;

/**
 * ARGV: P, client, node, role (b|v), stream, viewer ('' = none), frame
 * ('' = a lookup only). Returns {'no-sender'}, {'no-target'}, or {'target',
 * id, node, sent}: a target on another node gets the frame published to
 * that node's channel here, in the same step (sent = 1).
 */
const ROUTE = `
local id, node, r, s, viewer, text =
  ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local c = redis.call('HMGET', P .. 'c:' .. id, 's', 'r', 'n')
if c[1] ~= s or c[2] ~= r or c[3] ~= node then return {'no-sender'} end
local target, tnode
if r == 'b' then
  local v = viewer ~= '' and redis.call('HGET', P .. 'v:' .. s, viewer)
  if not v then return {'no-target'} end
  target, tnode = viewer, split(v)
else
  local b = redis.call('HMGET', P .. 's:' .. s, 'b', 'bn')
  if not b[1] then return {'no-target'} end
  target, tnode = b[1], b[2]
end
if tnode == node or text == '' then return {'target', target, tnode, 0} end
redis.call('PUBLISH', P .. 'd:' .. tnode, 't ' .. target .. ' ' .. text)
return {'target', target, tnode, 1}
`;

/**
 * ARGV: P, client, stream, role (b|v), node. Moves the place to `node` if it
 * is the claimed one; returns the node that held it, or false.
 */
const RESUME = `
local id, s, r, node = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local ck = P .. 'c:' .. id
local c = redis.call('HMGET', ck, 's', 'r', 'n', 'ses', 'e2')
if c[1] ~= s or c[2] ~= r then return false end
local old = c[3]
if old ~= node then
  redis.call('HSET', ck, 'n', node)
  redis.call('SREM', P .. 'm:' .. old, id)
  redis.call('SADD', P .. 'm:' .. node, id)
  if r == 'b' then
    redis.call('HSET', P .. 's:' .. s, 'bn', node)
  else
    redis.call('HSET', P .. 'v:' .. s, id, seat(node, c[4] or '', c[5] or ''))
  end
end
return old
`;

/**
 * ARGV: P, node, ttl ms, proposed resume key ('' = none wanted), link
 * address ('' = none), proposed link key ('' = none wanted). Returns {0} if
 * that node id is alive already, else {1, the cluster's resume key, the
 * cluster's link key}: the first node's proposal wins and stays while Redis
 * does.
 */
const REGISTER = `
local address = ARGV[5] ~= '' and ARGV[5] or '1'
if not redis.call('SET', P .. 'n:' .. ARGV[2], address, 'PX', ARGV[3], 'NX') then
  return {0}
end
redis.call('SADD', P .. 'nodes', ARGV[2])
local function shared(name, proposed)
  if proposed == '' then return '' end
  redis.call('SET', P .. name, proposed, 'NX')
  return redis.call('GET', P .. name)
end
return {1, shared('resume-key', ARGV[4]), shared('link-key', ARGV[6] or '')}
`;

/** ARGV: P, node, ttl ms. 1 if still registered (TTL renewed), 0 if forgotten. */
const HEARTBEAT = `
if redis.call('SISMEMBER', P .. 'nodes', ARGV[2]) == 0 then return 0 end
if redis.call('PEXPIRE', P .. 'n:' .. ARGV[2], ARGV[3]) == 0 then return 0 end
return 1
`;

/**
 * ARGV: P. Frees every member of every registered node whose TTL ran out.
 * Returns {dead node ids, departures}; atomic, so one reaper gets each.
 */
const REAP = `
local dead, departures = {}, {}
for _, node in ipairs(redis.call('SMEMBERS', P .. 'nodes')) do
  if redis.call('EXISTS', P .. 'n:' .. node) == 0 then
    redis.call('SREM', P .. 'nodes', node)
    dead[#dead + 1] = node
    local mk = P .. 'm:' .. node
    for _, id in ipairs(redis.call('SMEMBERS', mk)) do
      local d = depart(id)
      if d then departures[#departures + 1] = d end
    end
    redis.call('DEL', mk)
  end
end
return {dead, departures}
`;

/** Script bodies by command name, each with the library in front. */
export const SCRIPTS = {
  lwAnnounce: LIBRARY + ANNOUNCE,
  lwJoin: LIBRARY + JOIN,
  lwLeave: LIBRARY + LEAVE,
  lwRoute: LIBRARY + ROUTE,
  lwResume: LIBRARY + RESUME,
  lwRegister: LIBRARY + REGISTER,
  lwHeartbeat: LIBRARY + HEARTBEAT,
  lwReap: LIBRARY + REAP,
} as const;

export type ScriptName = keyof typeof SCRIPTS;
