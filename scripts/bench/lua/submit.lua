-- POST /task/submit: one task with a fixed-size recipe per request.
-- Usage: wrk -s submit.lua URL -- PROJECT_ID WORKER_ID SECRET [RECIPE_LEN]
-- The request is static (no request() function), so wrk formats it once.
-- response() counts bodies with "ok": true, so a 200 answer with
-- ok:false is reported as an error too.

local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
package.path = dir .. "?.lua;" .. package.path
local common = require "common"

counters = { ok = 0, not_ok = 0 }

function setup(thread) common.setup(thread) end

function init(args)
   local project = tonumber(common.arg(args, 1))
   local worker, secret = common.arg(args, 2), common.arg(args, 3)
   local recipe_len = tonumber(common.arg(args, 4, "64"))
   wrk.method = "POST"
   wrk.path = "/task/submit"
   wrk.headers["Content-Type"] = "application/json"
   wrk.headers["X-Worker-Id"] = worker
   wrk.headers["X-Secret"] = secret
   wrk.body = string.format('{"project":%d,"recipe":"%s"}', project,
                            common.recipe(tid or 0, recipe_len))
end

function response(status, headers, body)
   if status == 200 and body:find('"ok":%s*true') then
      counters.ok = counters.ok + 1
   else
      counters.not_ok = counters.not_ok + 1
   end
end

function done(summary, latency, requests) common.report(summary, latency) end
