-- Assignment cycles: GET /task/get/PROJECT, then POST /task/release of the
-- task just received, by the worker that received it.
-- Usage: wrk -s cycle.lua URL -- WORKERS_FILE PROJECT_ID [RESULT] [DELAY_MS] [THREADS]
--   WORKERS_FILE  one "id secret" line per worker; thread k of THREADS takes
--                 lines k, k+THREADS, ... (at least as many as its connections)
--   RESULT        release result: 0 = OK (closes the task), 2 = SKIP (gives it
--                 back, so the queue depth stays constant)
--   DELAY_MS      pause before each request on a connection (0 = closed loop)
--
-- How workers map to requests.  wrk's Lua API never says which connection a
-- request() or response() belongs to, so a fixed worker-per-connection binding
-- is impossible without one thread per connection.  Instead every thread runs
-- N logical workers (N = its connections) through a small state machine:
--   free --GET--> (in flight) --task response--> ready --release--> (in flight)
--        <------------------------- release response --------------------'
-- * A task response names its worker ("assignee") and the task id, so each
--   release is sent with the X-Worker-Id/X-Secret of the worker that holds the
--   task, and with that task's id: every release is a real one.
-- * A worker only sends its next GET after its release was sent, and only when
--   some release answer has come back.  Release answers do not name the
--   worker, so they are matched to the oldest release in flight (FIFO).  The
--   number of free workers is always exact; if answers come back out of order,
--   a worker's next GET may reach the server before its own release, so it
--   holds two tasks for a moment (legal, and counted by nothing).  A mock
--   server that counted such overlaps saw none in 64-connection runs.
-- * Requests are not pipelined: one request per connection at a time.
-- wrk calls request() once in thread 1 before the run to check the request
-- format (script_verify_request); that probe is answered with a GET / that is
-- never sent and does not touch the state machine.

local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
package.path = dir .. "?.lua;" .. package.path
local common = require "common"

counters = {
   assigned = 0, no_task = 0, released_updated = 0, released_not_updated = 0,
   http_errors = 0, other = 0, starved = 0, parse_errors = 0,
}
per_worker = {}

local probe = false
local result = 0
local get_req, headers_of = {}, {}
local free, ready, pending = {}, {}, {}   -- FIFO queues {first=, last=}
local skip = {}                            -- lazy removals from `pending`
local first_worker

local queue, push, pop = common.queue, common.push, common.pop

-- The oldest in-flight request whose answer has not been matched yet.
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
   result = tonumber(common.arg(args, 3, "0"))
   local delay_ms = tonumber(common.arg(args, 4, "0"))
   local nthreads = tonumber(common.arg(args, 5, "1"))
   probe = (tid == 1)
   free, ready, pending = queue(), queue(), queue()
   local index = 0
   for line in io.lines(file) do
      local id, secret = line:match("^%s*(%d+)%s+(%S+)")
      if id then
         if index % nthreads == tid - 1 then
            local w = tonumber(id)
            headers_of[w] = { ["X-Worker-Id"] = id, ["X-Secret"] = secret }
            get_req[w] = wrk.format("GET", "/task/get/" .. project, headers_of[w])
            push(free, w)
            per_worker[w] = 0
            first_worker = first_worker or w
         end
         index = index + 1
      end
   end
   if first_worker == nil then error("no workers for thread " .. tid) end
   if delay_ms > 0 then
      delay = function() return delay_ms end
   end
end

local function release_req(w, task)
   local h = headers_of[w]
   h["Content-Type"] = "application/json"
   local body = string.format('{"task_id":%s,"result":%d}', task, result)
   return wrk.format("POST", "/task/release", h, body)
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
      -- Cannot happen while workers >= connections; counted, never hidden.
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
   if body:find('"task"', 1, true) then
      -- Drop the embedded project object: it has an "id" of its own.
      local task = body:gsub('"project"%s*:%s*%b{}', '')
      local id = task:match('"id"%s*:%s*(%d+)')
      local w = tonumber(task:match('"assignee"%s*:%s*(%d+)'))
      if id == nil or w == nil or headers_of[w] == nil then
         counters.parse_errors = counters.parse_errors + 1
         return unmatched_answer()
      end
      counters.assigned = counters.assigned + 1
      per_worker[w] = per_worker[w] + 1
      skip[w] = (skip[w] or 0) + 1
      push(ready, { w, id })
      return
   end
   if body:find('"updated"%s*:%s*true') then
      counters.released_updated = counters.released_updated + 1
   elseif body:find('"updated"', 1, true) then
      counters.released_not_updated = counters.released_not_updated + 1
   elseif body:find('No task available', 1, true) then
      counters.no_task = counters.no_task + 1
   else
      counters.other = counters.other + 1
   end
   unmatched_answer()
end

function done(summary, latency, requests) common.report(summary, latency) end
