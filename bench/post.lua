-- wrk script: send $BODY with $METHOD (default POST), the JSON content type, and the platform's
-- credential header: $AUTH as Authorization, or $HDR as "Name: value" (Astro Zero's access-token).
wrk.method = os.getenv("METHOD") or "POST"
if wrk.method ~= "GET" then
  wrk.body = os.getenv("BODY") or "{}"
  wrk.headers["Content-Type"] = "application/json"
end
local auth = os.getenv("AUTH")
if auth and auth ~= "" then
  wrk.headers["Authorization"] = auth
end
local hdr = os.getenv("HDR")
if hdr and hdr ~= "" then
  local name, value = hdr:match("^([^:]+):%s*(.*)$")
  if name then
    wrk.headers[name] = value
  end
end
