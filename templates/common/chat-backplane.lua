-- The chat backplane's writes (wsgen, docs/cluster.md in the wsgen repo):
-- every change to a chat cluster's state in Redis is one call of this
-- script, so ids, history, members and the events published agree whatever
-- instance (and language) runs it. The same text in every generated project.
--
-- Called as EVALSHA <sha1 of this text> 0 <op> <prefix> <args...>
--   post      room user owner limit text ref  -> {id, ts, ev}
--   join      room user owner instance limit  -> {"taken"} or
--             {"ok"|"again", ev, {member...}, {id, user, text, ts, ...}}
--   leave     room user owner instance        -> {"ok"|"gone", ev}
--   heartbeat instance ttl_ms                 -> {was_alive, {reaped instance...}}
--   retire    instance                        -> {reaped membership count}
-- owner is "<instance>:<connection>"; instance is 16 lowercase hex digits;
-- ref is the reply's `ref` as JSON text, or "" for none; limit is the
-- history limit, 0 when history is off.
--
-- An instance runs `heartbeat` before any other op (at start-up and after
-- Redis comes back): an instance without a liveness key is reaped.
--
-- Every event goes to the channel <prefix>:events as one JSON object with
-- `ev`, the room's event number (1, 2, 3, ... per room, in publish order).

local op, P = ARGV[1], ARGV[2]

local function int(n)
  return string.format('%d', n)
end

local function str(s)
  return cjson.encode(s)
end

local function room_key(room, what)
  return P .. ':room:' .. room .. ':' .. what
end

local function instance_key(instance, what)
  return P .. ':instance:' .. instance .. ':' .. what
end

-- Publishes `body` (the members of a JSON object, without braces) as an
-- event of `room`; returns its event number.
local function publish(room, body)
  local ev = redis.call('INCR', room_key(room, 'ev'))
  redis.call('PUBLISH', P .. ':events', '{' .. body .. ',"ev":' .. int(ev) .. '}')
  return ev
end

local function presence(room, user, event, owner)
  return publish(room, '"type":"presence","room":' .. str(room) .. ',"user":' .. str(user)
    .. ',"event":' .. str(event) .. ',"origin":' .. str(owner))
end

local function current_ev(room)
  return tonumber(redis.call('GET', room_key(room, 'ev')) or '0')
end

-- Removes every membership `instance` still owns, each with a `leave`.
local function reap(instance)
  local set = instance_key(instance, 'members')
  local entries = redis.call('SMEMBERS', set)
  table.sort(entries)
  local count = 0
  for _, entry in ipairs(entries) do
    local room, user, owner = string.match(entry, '^(%S+) (%S+) (%S+)$')
    if room and redis.call('HGET', room_key(room, 'members'), user) == owner then
      redis.call('HDEL', room_key(room, 'members'), user)
      presence(room, user, 'leave', owner)
      count = count + 1
    end
  end
  redis.call('DEL', set, instance_key(instance, 'alive'))
  redis.call('SREM', P .. ':instances', instance)
  return count
end

if op == 'post' then
  local room, user, owner, limit, text, ref = ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6]), ARGV[7], ARGV[8]
  local id = redis.call('INCR', room_key(room, 'seq'))
  local t = redis.call('TIME')
  local ts = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  if limit > 0 then
    redis.call('XADD', room_key(room, 'log'), 'MAXLEN', limit, '0-' .. int(id),
      'user', user, 'text', text, 'ts', int(ts))
  end
  local body = '"type":"message","room":' .. str(room) .. ',"user":' .. str(user)
    .. ',"text":' .. str(text) .. ',"id":' .. int(id) .. ',"ts":' .. int(ts)
    .. ',"origin":' .. str(owner)
  if ref ~= '' then
    body = body .. ',"ref":' .. ref
  end
  local ev = publish(room, body)
  return {id, ts, ev}
end

if op == 'join' then
  local room, user, owner, instance, limit = ARGV[3], ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7])
  local members = room_key(room, 'members')
  local holder = redis.call('HGET', members, user)
  local status = 'ok'
  if holder == owner then
    status = 'again'
  elseif holder then
    return {'taken'}
  else
    redis.call('HSET', members, user, owner)
    redis.call('SADD', instance_key(instance, 'members'), room .. ' ' .. user .. ' ' .. owner)
    presence(room, user, 'join', owner)
  end
  local history = {}
  if limit > 0 then
    local entries = redis.call('XREVRANGE', room_key(room, 'log'), '+', '-', 'COUNT', limit)
    for i = #entries, 1, -1 do
      local id = string.match(entries[i][1], '^0%-(%d+)$')
      local fields = {}
      local kv = entries[i][2]
      for j = 1, #kv, 2 do
        fields[kv[j]] = kv[j + 1]
      end
      table.insert(history, tonumber(id))
      table.insert(history, fields.user)
      table.insert(history, fields.text)
      table.insert(history, tonumber(fields.ts))
    end
  end
  return {status, current_ev(room), redis.call('HKEYS', members), history}
end

if op == 'leave' then
  local room, user, owner, instance = ARGV[3], ARGV[4], ARGV[5], ARGV[6]
  redis.call('SREM', instance_key(instance, 'members'), room .. ' ' .. user .. ' ' .. owner)
  if redis.call('HGET', room_key(room, 'members'), user) ~= owner then
    return {'gone', current_ev(room)}
  end
  redis.call('HDEL', room_key(room, 'members'), user)
  return {'ok', presence(room, user, 'leave', owner)}
end

if op == 'heartbeat' then
  local instance, ttl = ARGV[3], ARGV[4]
  local alive = instance_key(instance, 'alive')
  local was_alive = redis.call('EXISTS', alive)
  redis.call('SET', alive, '1', 'PX', ttl)
  redis.call('SADD', P .. ':instances', instance)
  local reaped = {}
  local instances = redis.call('SMEMBERS', P .. ':instances')
  table.sort(instances)
  for _, other in ipairs(instances) do
    if other ~= instance and redis.call('EXISTS', instance_key(other, 'alive')) == 0 then
      reap(other)
      table.insert(reaped, other)
    end
  end
  return {was_alive, reaped}
end

if op == 'retire' then
  return {reap(ARGV[3])}
end

return redis.error_reply('wsgen chat backplane: unknown op ' .. tostring(op))
