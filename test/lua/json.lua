-- Tiny JSON encoder/decoder for the Lua test harness (not shipped).
--   decode(str) -> value; JSON null becomes json.null, objects/arrays become tables
--   encode(value) -> str; tables created with json.array(...) (or non-empty
--   sequences) become arrays, other tables objects ({} encodes as {}); nil/json.null
--   become null; strings are emitted as raw UTF-8.

local json = {}

json.null = setmetatable({}, { __tostring = function() return "null" end })
local ARRAY = {}

-- an explicit array of n values (n counts trailing nils)
function json.array(n, ...)
	return setmetatable({ n = n, ... }, ARRAY)
end

local escapes = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
	["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }

local function encode_string(s)
	return '"' .. s:gsub('[%z\1-\31"\\]', function(c)
		return escapes[c] or string.format("\\u%04x", c:byte())
	end) .. '"'
end

local function is_sequence(t)
	local n = 0
	for _ in pairs(t) do n = n + 1 end
	if n == 0 then return false end
	for i = 1, n do
		if t[i] == nil then return false end
	end
	return true
end

local encode

local function encode_table(t, out)
	if getmetatable(t) == ARRAY or is_sequence(t) then
		local n = getmetatable(t) == ARRAY and t.n or #t
		out[#out + 1] = "["
		for i = 1, n do
			if i > 1 then out[#out + 1] = "," end
			encode(t[i], out)
		end
		out[#out + 1] = "]"
		return
	end
	local keys = {}
	for k in pairs(t) do
		if type(k) ~= "string" then error("json: object key is not a string: " .. tostring(k)) end
		keys[#keys + 1] = k
	end
	table.sort(keys)
	out[#out + 1] = "{"
	for i, k in ipairs(keys) do
		if i > 1 then out[#out + 1] = "," end
		out[#out + 1] = encode_string(k)
		out[#out + 1] = ":"
		encode(t[k], out)
	end
	out[#out + 1] = "}"
end

function encode(v, out)
	local t = type(v)
	if v == nil or v == json.null then
		out[#out + 1] = "null"
	elseif t == "boolean" then
		out[#out + 1] = tostring(v)
	elseif t == "number" then
		if v ~= v or v == math.huge or v == -math.huge then error("json: cannot encode " .. tostring(v)) end
		out[#out + 1] = (v == math.floor(v) and math.abs(v) < 2 ^ 53) and string.format("%d", v)
			or string.format("%.17g", v)
	elseif t == "string" then
		out[#out + 1] = encode_string(v)
	elseif t == "table" then
		encode_table(v, out)
	else
		error("json: cannot encode a " .. t)
	end
end

function json.encode(v)
	local out = {}
	encode(v, out)
	return table.concat(out)
end

-- decoder ----------------------------------------------------------------

local function utf8_char(cp)
	if cp < 0x80 then return string.char(cp) end
	if cp < 0x800 then return string.char(0xC0 + math.floor(cp / 0x40), 0x80 + cp % 0x40) end
	if cp < 0x10000 then
		return string.char(0xE0 + math.floor(cp / 0x1000), 0x80 + math.floor(cp / 0x40) % 0x40, 0x80 + cp % 0x40)
	end
	return string.char(0xF0 + math.floor(cp / 0x40000), 0x80 + math.floor(cp / 0x1000) % 0x40,
		0x80 + math.floor(cp / 0x40) % 0x40, 0x80 + cp % 0x40)
end

function json.decode(str)
	local pos = 1

	local function fail(msg) error(string.format("json: %s at byte %d", msg, pos), 0) end
	local function ws() pos = str:find("[^ \t\r\n]", pos) or #str + 1 end

	local value

	local function string_value()
		local out = {}
		pos = pos + 1
		while true do
			local c = str:sub(pos, pos)
			if c == "" then fail("unterminated string") end
			if c == '"' then
				pos = pos + 1
				return table.concat(out)
			elseif c == "\\" then
				local e = str:sub(pos + 1, pos + 1)
				local simple = { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" }
				if simple[e] then
					out[#out + 1] = simple[e]
					pos = pos + 2
				elseif e == "u" then
					local cp = tonumber(str:sub(pos + 2, pos + 5), 16)
					if not cp then fail("bad \\u escape") end
					pos = pos + 6
					if cp >= 0xD800 and cp <= 0xDBFF and str:sub(pos, pos + 1) == "\\u" then
						local lo = tonumber(str:sub(pos + 2, pos + 5), 16)
						if lo and lo >= 0xDC00 and lo <= 0xDFFF then
							cp = 0x10000 + (cp - 0xD800) * 0x400 + (lo - 0xDC00)
							pos = pos + 6
						end
					end
					out[#out + 1] = utf8_char(cp)
				else
					fail("bad escape")
				end
			else
				local j = str:find('["\\]', pos) or #str + 1
				out[#out + 1] = str:sub(pos, j - 1)
				pos = j
			end
		end
	end

	function value()
		ws()
		local c = str:sub(pos, pos)
		if c == "{" then
			local t = {}
			pos = pos + 1
			ws()
			if str:sub(pos, pos) == "}" then
				pos = pos + 1
				return t
			end
			while true do
				ws()
				if str:sub(pos, pos) ~= '"' then fail("expected key") end
				local k = string_value()
				ws()
				if str:sub(pos, pos) ~= ":" then fail("expected ':'") end
				pos = pos + 1
				t[k] = value()
				ws()
				local d = str:sub(pos, pos)
				pos = pos + 1
				if d == "}" then return t end
				if d ~= "," then fail("expected ',' or '}'") end
			end
		elseif c == "[" then
			local t, n = {}, 0
			pos = pos + 1
			ws()
			if str:sub(pos, pos) == "]" then
				pos = pos + 1
				return t
			end
			while true do
				n = n + 1
				t[n] = value()
				ws()
				local d = str:sub(pos, pos)
				pos = pos + 1
				if d == "]" then return t end
				if d ~= "," then fail("expected ',' or ']'") end
			end
		elseif c == '"' then
			return string_value()
		elseif str:sub(pos, pos + 3) == "true" then
			pos = pos + 4
			return true
		elseif str:sub(pos, pos + 4) == "false" then
			pos = pos + 5
			return false
		elseif str:sub(pos, pos + 3) == "null" then
			pos = pos + 4
			return json.null
		else
			local num = str:match("^-?%d+%.?%d*[eE]?[+-]?%d*", pos)
			if not num or num == "" then fail("unexpected character") end
			pos = pos + #num
			return tonumber(num) or fail("bad number")
		end
	end

	local v = value()
	ws()
	if pos <= #str then fail("trailing data") end
	return v
end

return json
