-- POST /task/bulk_submit: BULK_SIZE tasks of one project per request.
-- Usage: wrk -s bulk.lua URL -- PROJECT_ID WORKER_ID SECRET [BULK_SIZE] [RECIPE_LEN]
-- Static request (formatted once per thread); every element has its own
-- recipe text inside one body.  response() counts "ok": true bodies.

local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
package.path = dir .. "?.lua;" .. package.path
local common = require "common"

counters = { ok = 0, not_ok = 0 }

function setup(thread) common.setup(thread) end

function init(args)
   local project = tonumber(common.arg(args, 1))
   local worker, secret = common.arg(args, 2), common.arg(args, 3)
   local size = tonumber(common.arg(args, 4, "1000"))
   local recipe_len = tonumber(common.arg(args, 5, "64"))
   local items = {}
   for i = 1, size do
      items[i] = string.format('{"project":%d,"recipe":"%s"}', project,
                               common.recipe(i, recipe_len))
   end
   wrk.method = "POST"
   wrk.path = "/task/bulk_submit"
   wrk.headers["Content-Type"] = "application/json"
   wrk.headers["X-Worker-Id"] = worker
   wrk.headers["X-Secret"] = secret
   wrk.body = '{"requests":[' .. table.concat(items, ",") .. ']}'
end

function response(status, headers, body)
   if status == 200 and body:find('"ok":%s*true') then
      counters.ok = counters.ok + 1
   else
      counters.not_ok = counters.not_ok + 1
   end
end

function done(summary, latency, requests) common.report(summary, latency) end
