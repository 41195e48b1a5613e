-- Shared helpers for the tracker wrk scripts (loaded with require "common").
--
-- wrk runs one Lua state per thread plus one "main" state that calls setup()
-- and done().  Each thread keeps its counters in the global table `counters`;
-- done() in the main state sums them over all threads and prints one line
--   @@BENCH {json}
-- that scripts/bench/wrk.py parses.  Times are in microseconds.

local M = {}

local threads = {}

-- Call from setup(thread): numbers threads 1..T and tells each its number.
function M.setup(thread)
   table.insert(threads, thread)
   thread:set("tid", #threads)
end

-- init(args) gets the words after `--` as args[1..]; args[0] is the URL.
function M.arg(args, i, default)
   local v = args[i]
   if v == nil or v == "" then
      if default == nil then error("missing script argument " .. i) end
      return default
   end
   return v
end

-- A JSON body of recipe_len bytes that differs per index (ASCII only).
function M.recipe(i, recipe_len)
   local s = string.format("r%d-", i)
   return s .. string.rep("x", recipe_len - #s)
end

local function encode(v)
   local t = type(v)
   if t == "number" then
      if v ~= v or v == math.huge or v == -math.huge then return "null" end
      if v == math.floor(v) and math.abs(v) < 2^53 then
         return string.format("%d", v)
      end
      return string.format("%.6f", v)
   elseif t == "string" then
      return '"' .. v:gsub('[%c"\\]', function(c)
         return string.format("\\u%04x", c:byte())
      end) .. '"'
   elseif t == "boolean" then
      return tostring(v)
   elseif t == "table" then
      local parts = {}
      if #v > 0 then
         for _, x in ipairs(v) do parts[#parts + 1] = encode(x) end
         return "[" .. table.concat(parts, ",") .. "]"
      end
      local keys = {}
      for k in pairs(v) do keys[#keys + 1] = tostring(k) end
      table.sort(keys)
      for _, k in ipairs(keys) do
         local x = v[k]
         if x == nil then x = v[tonumber(k)] end
         parts[#parts + 1] = encode(k) .. ":" .. encode(x)
      end
      return "{" .. table.concat(parts, ",") .. "}"
   end
   return "null"
end
M.encode = encode

-- FIFO queues {first=, last=} for the cycle scripts' state machines.
function M.queue() return { first = 1, last = 0 } end
function M.push(q, v) q.last = q.last + 1; q[q.last] = v end
function M.pop(q)
   if q.first > q.last then return nil end
   local v = q[q.first]
   q[q.first] = nil
   q.first = q.first + 1
   return v
end

-- Sum the `counters` tables of all threads.
local function gather_counters()
   local total = {}
   for _, thread in ipairs(threads) do
      local c = thread:get("counters") or {}
      for k, v in pairs(c) do total[k] = (total[k] or 0) + v end
   end
   return total
end

-- Merge the `per_worker` tables (worker id -> count) of all threads.
local function gather_per_worker()
   local merged, n = {}, 0
   for _, thread in ipairs(threads) do
      local pw = thread:get("per_worker") or {}
      for k, v in pairs(pw) do
         if merged[k] == nil then n = n + 1 end
         merged[k] = (merged[k] or 0) + v
      end
   end
   if n == 0 then return nil end
   local lo, hi = math.huge, 0
   for _, v in pairs(merged) do
      if v < lo then lo = v end
      if v > hi then hi = v end
   end
   return { workers = n, min = lo, max = hi }
end

-- Call from done(summary, latency, requests).
function M.report(summary, latency)
   local lat = {
      mean = latency.mean, stdev = latency.stdev, max = latency.max,
      p50 = latency:percentile(50), p75 = latency:percentile(75),
      p90 = latency:percentile(90), p99 = latency:percentile(99),
      p999 = latency:percentile(99.9),
   }
   local out = {
      duration_us = summary.duration,
      requests = summary.requests,
      bytes = summary.bytes,
      errors = summary.errors,
      latency_us = lat,
      counters = gather_counters(),
      per_worker = gather_per_worker(),
      threads = #threads,
   }
   io.write("@@BENCH ", encode(out), "\n")
end

return M
