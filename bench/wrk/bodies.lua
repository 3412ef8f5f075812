-- wrk script: POST each request with the next body of a file (one JSON body per line, used in turn) and a fresh
-- Idempotency-Key. Arguments after `--`: bodies file, key prefix, header lines ("Name: value", any number).
local threads = {}

function setup(thread)
  thread:set("number", #threads)
  table.insert(threads, thread)
end

function init(args)
  bodies = {}
  if args[1] ~= nil and args[1] ~= "" then
    for line in io.lines(args[1]) do
      table.insert(bodies, line)
    end
  end
  prefix = args[2] or "wrk"
  headers = {["Content-Type"] = "application/json"}
  for i = 3, #args do
    local name, value = string.match(args[i], "^([^:]+):%s*(.*)$")
    headers[name] = value
  end
  sent = 0
end

function request()
  sent = sent + 1
  headers["Idempotency-Key"] = prefix .. "-" .. number .. "-" .. sent
  local body = nil
  if #bodies > 0 then
    body = bodies[((sent * 7 + number) % #bodies) + 1]
  end
  return wrk.format("POST", nil, headers, body)
end
