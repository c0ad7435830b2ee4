--[[
Replay one recorded libuci case against the `uci` module found on LUA_PATH.

  lua5.1 replay-uci-fixture.lua <case.json>
  lua5.1 replay-uci-fixture.lua <libuci-lua.json> <case name>

Creates a temporary confdir with the case's `files`, runs its `ops` on one cursor
uci.cursor(confdir, savedir) and prints JSON {results, files_after, savedir_after}
in the fixture's format (see test/fixtures/README.md). Pseudo-ops:
  foreach              -> {"ret": [...], "sections": [what the callback received]}
  new_cursor_get_all   -> get_all on a second cursor with the same confdir and savedir
  fresh_cursor_get_all -> get_all on a cursor with the same confdir and an empty savedir
]]

local json = require "json"
local uci = require "uci"

local function sh(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function read(path)
	local f = assert(io.open(path, "rb"))
	local data = f:read("*a")
	f:close()
	return data
end

local function write(path, data)
	local f = assert(io.open(path, "wb"))
	f:write(data)
	f:close()
end

-- regular files of a directory (hidden ones too) -> {name = content}
local function snapshot(dir)
	local files = {}
	local ph = io.popen("LC_ALL=C ls -1Ap -- " .. sh(dir) .. " 2>/dev/null")
	for name in ph:lines() do
		if name:sub(-1) ~= "/" then files[name] = read(dir .. "/" .. name) end
	end
	ph:close()
	return files
end

local function load_case()
	local doc = json.decode(read(assert(arg[1], "usage: replay-uci-fixture.lua <case.json> | <fixture.json> <name>")))
	if not arg[2] then return doc end
	for _, c in ipairs(doc.cases) do
		if c.name == arg[2] then return c end
	end
	error("no case named " .. arg[2])
end

local case = load_case()

local base = os.tmpname() -- a fresh file name; turned into a directory
os.remove(base)
local confdir, savedir, freshdir = base .. "/config", base .. "/save", base .. "/fresh"
assert(os.execute("mkdir -p " .. sh(confdir)) == 0)
for name, text in pairs(case.files) do write(confdir .. "/" .. name, text) end

local cursor = uci.cursor(confdir, savedir)

-- JSON array of all return values (nil -> null)
local function rets(...) return json.array(select("#", ...), ...) end

local function args_of(op)
	local a = {}
	for i = 2, #op do
		if op[i] == json.null then a[i - 1] = nil else a[i - 1] = op[i] end
	end
	return a, #op - 1
end

local results = {}
for i, op in ipairs(case.ops) do
	local name = op[1]
	local a, n = args_of(op)
	local res
	local ok, err = pcall(function()
		if name == "foreach" then
			local sections = {}
			local r = rets(cursor:foreach(a[1], a[2], function(s) sections[#sections + 1] = s end))
			res = { ret = r, sections = json.array(#sections, unpack(sections)) }
		elseif name == "new_cursor_get_all" then
			res = { ret = rets(uci.cursor(confdir, savedir):get_all(unpack(a, 1, n))) }
		elseif name == "fresh_cursor_get_all" then
			res = { ret = rets(uci.cursor(confdir, freshdir):get_all(unpack(a, 1, n))) }
		else
			res = { ret = rets(cursor[name](cursor, unpack(a, 1, n))) }
		end
	end)
	if not ok then res = { raised = tostring(err) } end
	results[i] = res
end

io.write(json.encode({
	results = json.array(#results, unpack(results)),
	files_after = snapshot(confdir),
	savedir_after = snapshot(savedir),
}), "\n")

os.execute("rm -rf " .. sh(base))
