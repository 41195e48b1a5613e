-- Batch cycles: GET /task/bulk_get/PROJECT?count=N, then POST /task/bulk_release
-- of every task just received (result OK), by the worker that received them.
-- Usage: wrk -s batch_cycle.lua URL -- WORKERS_FILE PROJECT_ID [COUNT] [THREADS]
--   WORKERS_FILE  one "id secret" line per worker; thread k of THREADS takes
--                 lines k, k+THREADS, ... (at least as many as its connections)
--   COUNT         tasks per batch (default 100)
--
-- The same state machine as cycle.lua (which explains it): each thread runs
-- as many logical workers as it has connections; a batch answer names its
-- worker (every task's "assignee") and the task ids, so the release is sent
-- by the holder with exactly those ids; release answers are matched FIFO.
-- Counters: tasks assigned, tasks released with "updated": true (closed), and
-- everything unexpected (not_updated, no_task, http_errors, parse_errors...).

local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
package.path = dir .. "?.lua;" .. package.path
local common = require "common"

counters = {
   batches = 0, assigned = 0, released_updated = 0, released_not_updated = 0,
   no_task = 0, http_errors = 0, other = 0, starved = 0, parse_errors = 0,
}
per_worker = {}

local probe = false
local get_req, headers_of = {}, {}
local free, ready, pending = {}, {}, {}
local skip = {}
local first_worker

local queue, push, pop = common.queue, common.push, common.pop

local function pop_pending()
   while true do
      local w = pop(pending)
      if w == nil then return nil end
      local s = skip[w]
      if s and s > 0 then skip[w] = s - 1 else return w end
   end
end

function setup(thread) common.setup(thread) end

function init(args)
   local file = common.arg(args, 1)
   local project = tonumber(common.arg(args, 2))
   local count = tonumber(common.arg(args, 3, "100"))
   local nthreads = tonumber(common.arg(args, 4, "1"))
   probe = (tid == 1)
   free, ready, pending = queue(), queue(), queue()
   local index = 0
   for line in io.lines(file) do
      local id, secret = line:match("^%s*(%d+)%s+(%S+)")
      if id then
         if index % nthreads == tid - 1 then
            local w = tonumber(id)
            headers_of[w] = { ["X-Worker-Id"] = id, ["X-Secret"] = secret }
            get_req[w] = wrk.format("GET", "/task/bulk_get/" .. project .. "?count=" .. count,
                                    headers_of[w])
            push(free, w)
            per_worker[w] = 0
            first_worker = first_worker or w
         end
         index = index + 1
      end
   end
   if first_worker == nil then error("no workers for thread " .. tid) end
end

local function release_req(w, ids)
   local h = headers_of[w]
   h["Content-Type"] = "application/json"
   local items = {}
   for i, id in ipairs(ids) do
      items[i] = '{"task_id":' .. id .. ',"result":0}'
   end
   return wrk.format("POST", "/task/bulk_release", h,
                     '{"releases":[' .. table.concat(items, ",") .. ']}')
end

function request()
   if probe then
      probe = false
      return wrk.format("GET", "/")
   end
   local r = pop(ready)
   if r then
      push(pending, r[1])
      return release_req(r[1], r[2])
   end
   local w = pop(free)
   if w == nil then
      counters.starved = counters.starved + 1
      w = first_worker
   end
   push(pending, w)
   return get_req[w]
end

local function unmatched_answer()
   local w = pop_pending()
   if w then push(free, w) end
end

function response(status, headers, body)
   if status ~= 200 then
      counters.http_errors = counters.http_errors + 1
      return unmatched_answer()
   end
   if body:find('"assignee"', 1, true) then
      -- Drop the embedded project objects: they have an "id" of their own.
      local tasks = body:gsub('"project"%s*:%s*%b{}', '')
      local ids, w = {}, nil
      for id in tasks:gmatch('"id"%s*:%s*(%d+)') do ids[#ids + 1] = id end
      w = tonumber(tasks:match('"assignee"%s*:%s*(%d+)'))
      if #ids == 0 or w == nil or headers_of[w] == nil then
         counters.parse_errors = counters.parse_errors + 1
         return unmatched_answer()
      end
      counters.batches = counters.batches + 1
      counters.assigned = counters.assigned + #ids
      per_worker[w] = per_worker[w] + #ids
      skip[w] = (skip[w] or 0) + 1
      push(ready, { w, ids })
      return
   end
   if body:find('"outcome"', 1, true) then
      local _, closed = body:gsub('"updated"%s*:%s*true', '')
      local _, all = body:gsub('"updated"', '')
      counters.released_updated = counters.released_updated + closed
      counters.released_not_updated = counters.released_not_updated + all - closed
   elseif body:find('No task available', 1, true) then
      counters.no_task = counters.no_task + 1
   else
      counters.other = counters.other + 1
   end
   unmatched_answer()
end

function done(summary, latency, requests) common.report(summary, latency) end
