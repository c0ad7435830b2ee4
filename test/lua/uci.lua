--[[
Test stand-in for OpenWrt's libuci Lua binding (`require "uci"`), pure Lua 5.1.

Written from the documented behaviour of openwrt/uci 66127cd (lua/uci.c, list.c,
file.c, delta.c, util.c) and checked against the recorded vectors in
test/fixtures/uci/libuci-lua.json (test/uci-standin.test.ts). It models the
library the same way: a cursor holds loaded packages; every change is applied in
memory and recorded as a delta; save() appends the deltas to <savedir>/<config>;
loading a config replays the delta files of every directory on the delta path
(the default savedir /tmp/.uci, then the cursor's savedir); commit() saves, re-reads
the config file, replays all deltas, and only writes the file when at least one
delta line applied (invalid names never apply, so they are silently dropped).

Stand-in-only conveniences (NOT in the real library):
  * env UCI_CONFDIR overrides the default confdir (/etc/config);
  * env UCI_SAVEDIR overrides the default savedir (/tmp/.uci), which is also the
    first entry of every cursor's delta path; tests set it to keep the host's
    /tmp/.uci out of the picture.
Not modelled: flock() locking, the conf2dir override (/var/run/uci), configs loaded
by absolute path, file modes/realpath on commit, hooks/backends.
Directory listing (list_configs, changes() without argument) uses `ls` via
io.popen, and save() creates a missing savedir with `mkdir` (one level, as libuci does).
]]

local M = {}

local OK, ERR_MEM, ERR_INVAL, ERR_NOTFOUND, ERR_IO, ERR_PARSE, ERR_DUPLICATE = 0, 1, 2, 3, 4, 5, 6
local ERRSTR = { [0] = "Success", "Out of memory", "Invalid argument", "Entry not found",
	"I/O error", "Parse error", "Duplicate entry", "Unknown error" }

-- libuci errors are thrown as tables and caught at the public API boundary (api()).
local function throw(code, reason, line, byte)
	error({ uci = code, reason = reason, line = line, byte = byte }, 0)
end

---------------------------------------------------------------------------
-- Small helpers
---------------------------------------------------------------------------

local function find_named(list, name)
	for _, e in ipairs(list) do
		if e.name ~= nil and e.name == name then return e end
	end
end

local function index_of(list, item)
	for i, e in ipairs(list) do
		if e == item then return i end
	end
end

local function remove_item(list, item)
	local i = index_of(list, item)
	if i then table.remove(list, i) end
end

-- name: [A-Za-z0-9_]+ ; package: also '-' ; type: printable ASCII 33..126
local function validate_name(s) return s ~= "" and not s:find("[^A-Za-z0-9_]") end
local function validate_package(s) return s ~= "" and not s:find("[^A-Za-z0-9_%-]") end
local function validate_type(s) return s ~= "" and not s:find("[^\33-\126]") end
-- values: control characters other than \t \n \r are rejected (delta/ptr syntax only)
local function validate_text(s) return not s:find("[%z\1-\8\11\12\14-\31]") end

local function shell_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- Contents of a regular file as a list of chunks, or nil (missing, unreadable or a
-- directory). The parser takes one line at a time from them; f:read("*a") would
-- build one string through a series of ever longer intermediate strings (about
-- four times the file size in garbage). CHUNK is Lua's buffer size (BUFSIZ with
-- glibc), so each read makes just the one string.
local CHUNK = 8192

local function read_file(path)
	local f = io.open(path, "rb")
	if not f then return nil end
	local chunks = {}
	while true do
		local chunk, err = f:read(CHUNK)
		if not chunk then
			f:close()
			if err then return nil end
			return chunks
		end
		chunks[#chunks + 1] = chunk
	end
end

local function exists(path) return os.rename(path, path) == true end

local function is_dir(path)
	local f = io.open(path, "rb")
	if not f then return exists(path) end -- unreadable: assume a directory
	local _, _, code = f:read(1)
	f:close()
	return code == 21 -- EISDIR
end

-- strtoul(s, NULL, 10) cast to int, for reorder positions
local function c_strtoul(s)
	local sign, digits = s:match("^%s*([+-]?)(%d*)")
	local n = tonumber(digits) or 0
	return sign == "-" and -n or n
end

-- djb2 hash as used for anonymous section names (chars are signed, as on x86/MIPS)
local function djbhash(hash, str)
	hash = hash or 5381
	for i = 1, #str do
		local c = str:byte(i)
		if c >= 128 then c = c - 256 end
		hash = (hash * 33 + c) % 4294967296
	end
	return hash % 2147483648
end

---------------------------------------------------------------------------
-- Data model: package { name, path, sections, delta, saved_delta, has_delta, n_section }
-- section { name, type, anonymous, options }; option { name, kind="string"|"list", value|items }
-- delta { cmd, section, option, value }
---------------------------------------------------------------------------

local CMD_CHAR = { add = "+", remove = "-", change = "", rename = "@", reorder = "^",
	list_add = "|", list_del = "~" }
local CHAR_CMD = { ["+"] = "add", ["-"] = "remove", ["@"] = "rename", ["^"] = "reorder",
	["|"] = "list_add", ["~"] = "list_del" }

local function add_delta(list, cmd, section, option, value)
	list[#list + 1] = { cmd = cmd, section = section, option = option, value = value }
end

local function delta_line(pkg, d)
	local s = CMD_CHAR[d.cmd] .. pkg .. "." .. d.section
	if d.option then s = s .. "." .. d.option end
	if d.cmd == "remove" and d.value == nil then return s .. "\n" end
	return s .. "='" .. d.value:gsub("'", "'\\''") .. "'\n"
end

local function new_package(name)
	return { name = name, sections = {}, delta = {}, saved_delta = {}, has_delta = false, n_section = 0 }
end

-- every new section bumps the package counter (also named ones); "" means unnamed
local function alloc_section(p, stype, name)
	if name == "" then name = nil end
	local s = { name = name, type = stype, anonymous = (name == nil), options = {} }
	p.n_section = p.n_section + 1
	p.sections[#p.sections + 1] = s
	return s
end

-- unnamed sections are called cfg<counter><hash of type and options>; options are
-- always empty at this point (parser and add() name the section on creation)
local function fixup_section(p, s)
	if s.name then return end
	local h = djbhash(nil, s.type)
	for _, o in ipairs(s.options) do
		h = djbhash(h, o.name)
		if o.kind == "string" then h = djbhash(h, o.value) end
	end
	s.name = string.format("cfg%02x%04x", p.n_section, h % 65536)
end

local function add_section(p, stype, internal)
	local s = alloc_section(p, stype, nil)
	fixup_section(p, s)
	if not internal and p.has_delta then add_delta(p.delta, "add", s.name, nil, stype) end
	return s
end

---------------------------------------------------------------------------
-- Parser for config files and delta lines. Works like libuci's: a line buffer read
-- at a byte position, quoted strings may continue over several lines, a trailing
-- backslash joins lines, '#' starts a comment, ';' separates commands.
--
-- Positions (`pos`, `filled`, the "byte N" of parse errors) are byte positions in
-- libuci's line buffer. The parser works on the line string itself: `buf` holds
-- the buffer's bytes from position off+1 on. The read position never moves back
-- and nothing before it is read again, so when getln() joins the next physical
-- line it only needs to advance `off` instead of keeping (and copying) the bytes
-- that libuci keeps in front of the new line.
--
-- libuci NUL-terminates words in place. A terminator written behind the read
-- position is never read again, so only the ones written at the read position
-- matter (a comment '#', and the ';' right after an unquoted word): those end the
-- rest of the line, which cut() models by cutting `buf` there. A NUL byte in the
-- file reads as a terminator, as it does for libuci's C string functions.
---------------------------------------------------------------------------

local NL, CR, SEMI, HASH = 10, 13, 59, 35
local SQUOTE, DQUOTE, BSLASH = 39, 34, 92
local SPACE = { [32] = true, [9] = true, [10] = true, [11] = true, [12] = true, [13] = true } -- isspace()
-- end of a run of ordinary bytes: in a word, in '...' and in "..."
local WORD_STOP = "[%z \t\n\v\f\r'\"#;\\]"
local QUOTE_STOP = { [SQUOTE] = "[%z']", [DQUOTE] = "[%z\"\\]" }

local byte = string.byte

local Parser = {}
Parser.__index = Parser

-- chunks: the input, from read_file(); `text` is the chunk being read (from
-- `next_ln` on), chunks[ci] the next one
local function new_parser(chunks)
	return setmetatable({ chunks = chunks, ci = 1, text = "", next_ln = 1,
		buf = "", off = 0, pos = 1, filled = 0, line = 0, out = {}, n = 0 }, Parser)
end

-- the next chunk of the input (handed over: the list lets go of it), or nil
function Parser:read_chunk()
	local chunk = self.chunks[self.ci]
	if chunk then self.chunks[self.ci], self.ci = nil, self.ci + 1 end
	return chunk
end

-- false at the end of the input
function Parser:more()
	if self.next_ln > #self.text then
		local chunk = self:read_chunk()
		if not chunk then return false end
		self.text, self.next_ln = chunk, 1
	end
	return true
end

-- the next physical line with its "\n" (which the last one may lack); nil at the end
function Parser:read_line()
	if not self:more() then return nil end
	local text, start = self.text, self.next_ln
	local nl = text:find("\n", start, true)
	if nl then
		self.next_ln = nl + 1
		return text:sub(start, nl)
	end
	-- the line goes on in the next chunk(s)
	local pieces = { text:sub(start) }
	self.text, self.next_ln = "", 1
	repeat
		local chunk = self:read_chunk()
		if not chunk then break end
		nl = chunk:find("\n", 1, true)
		pieces[#pieces + 1] = nl and chunk:sub(1, nl) or chunk
		if nl then self.text, self.next_ln = chunk, nl + 1 end
	until nl
	return table.concat(pieces)
end

-- the byte at position i (default: the read position); 0 past the end of the buffer
function Parser:byte(i)
	return byte(self.buf, (i or self.pos) - self.off) or 0
end

-- the one-character string at the read position
function Parser:char()
	local k = self.pos - self.off
	return self.buf:sub(k, k)
end

function Parser:error(reason)
	throw(ERR_PARSE, reason, self.line, self.pos - 1)
end

-- keep the first `keep` bytes of the buffer and append the next physical line;
-- `keep` is always the read position minus one, so the kept bytes are never read
-- again: they are only counted in `off`
function Parser:getln(keep)
	self.off, self.buf = keep, "" -- (at the end of the input only the cut remains)
	local l = self:read_line()
	if not l then return end
	self.buf = l
	self.filled = keep + #l
	if l:byte(-1) == NL then self.line = self.line + 1 end
end

-- read the next physical line into an empty buffer; false if it starts with NUL
function Parser:start_line()
	self.pos = 1
	self:getln(0)
	return self:byte(1) ~= 0
end

-- add a piece to the string being read (out[1..n], a table reused for every string)
function Parser:put(piece)
	local n = self.n + 1
	self.out[n], self.n = piece, n
end

-- NUL-terminate the buffer at the read position: the rest of the line is gone
function Parser:cut()
	self.buf = self.buf:sub(1, self.pos - self.off - 1)
end

function Parser:skip_ws()
	local _, e = self.buf:find("^[ \t\n\v\f\r]*", self.pos - self.off)
	self.pos = self.off + e + 1
end

-- after a backslash: true if the next char is to be taken literally,
-- false if it was a line continuation (the next line has been joined)
function Parser:backslash()
	self.pos = self.pos + 1
	local c = self:byte()
	if c == 0 or c == NL or (c == CR and self:byte(self.pos + 1) == NL and self:byte(self.pos + 2) == 0) then
		self:getln(self.pos - 1)
		return false
	end
	return true
end

-- a quoted string (q: the quote's byte), the read position being at the opening quote
function Parser:quoted(q)
	local stop = QUOTE_STOP[q]
	self.pos = self.pos + 1
	while true do
		-- copy the run of ordinary bytes up to the closing quote, a NUL or (in
		-- double quotes) a backslash
		local k = self.pos - self.off
		local e = self.buf:find(stop, k) or #self.buf + 1
		if e > k then
			self:put(self.buf:sub(k, e - 1))
			self.pos = self.off + e
		end
		local c = self:byte()
		if c == q then
			self.pos = self.pos + 1
			return
		elseif c == 0 then
			self:getln(self.pos - 1) -- the string goes on in the next line
			if self:byte() == 0 then self:error("EOF with unterminated " .. string.char(q)) end
		elseif self:backslash() then -- (a backslash in double quotes)
			self:put(self:char())
			self.pos = self.pos + 1
		end
	end
end

-- one (possibly quoted/concatenated) string argument
function Parser:str()
	local plain, skip = true, true
	self.n = 0
	local c = self:byte()
	repeat
		if c == SQUOTE or c == DQUOTE then
			plain = false
			self:quoted(c)
		elseif c == HASH then
			self:cut() -- comment: the rest of the line is gone
			c = 0
			break
		elseif c == 0 then
			break
		elseif c == SEMI then
			skip = false
			break
		elseif c == BSLASH then
			plain = false
			if self:backslash() then
				self:put(self:char())
				self.pos = self.pos + 1
			end
		else
			-- this char and the run of ordinary chars after it, up to the next space,
			-- NUL, quote, '#', ';' or backslash
			local k = self.pos - self.off
			local e = self.buf:find(WORD_STOP, k + 1) or #self.buf + 1
			self:put(self.buf:sub(k, e - 1))
			self.pos = self.off + e
		end
		c = self:byte()
	until c == 0 or SPACE[c]
	if c ~= 0 and skip then self.pos = self.pos + 1 end
	-- libuci terminates the string in place: for an unquoted word directly followed
	-- by ';' that overwrites the ';', which drops the rest of the line (upstream quirk)
	if plain and not skip then self:cut() end
	if self.n <= 1 then return self.n == 1 and self.out[1] or "" end
	return table.concat(self.out, "", 1, self.n)
end

function Parser:arg(required, name, package)
	self:skip_ws()
	local s
	if self:byte() == SEMI then
		self.pos = self.pos + 1 -- (libuci NUL-terminates the ';', which is not read again)
		s = ""
	else
		s = self:str()
	end
	if s == "" then
		if required then self:error("insufficient arguments") end
		return s
	end
	if name and not (package and validate_package(s) or validate_name(s)) then
		self:error("invalid character in name field")
	end
	return s
end

function Parser:assert_eol()
	self:skip_ws()
	if self:arg(false) ~= "" then self:error("too many arguments") end
end

-- the command word: delimited by space/tab only (strtok); returns it and the
-- position just behind it (libuci NUL-terminates it there, which is not read again)
function Parser:word()
	local buf = self.buf
	local i = buf:find("[^ \t]", self.pos - self.off)
	if not i or buf:byte(i) == 0 then return nil end
	local j = buf:find("[%z \t]", i) or #buf + 1
	return buf:sub(i, j - 1), self.off + j
end

-- move past the command word; fails when nothing follows it
function Parser:past_word(j, what)
	if j > self.filled then self:error(what .. " without name") end
	self.pos = j + 1
end

local function parse_config_file(content, name)
	local P = new_parser(content)
	local p, section
	-- sections by name, for "config" lines naming a section again (a linear search
	-- per section would make parsing quadratic). Sections are only added while
	-- parsing, so the first one of a name is the one find_named() would return.
	local named = {}

	local function cmd_config(j)
		if not p then p = new_package(name) end
		P:past_word(j, "config")
		local stype = P:arg(true, false, false)
		if not validate_type(stype) then P:error("invalid character in type field") end
		local sname = P:arg(false, true, false)
		P:assert_eol()
		if sname == "" then
			section = add_section(p, stype, true)
		else
			section = named[sname]
			if section then
				if section.type ~= stype then
					P:error("section of different type overwrites prior section with same name")
				end
				return
			end
			section = alloc_section(p, stype, sname)
		end
		-- (an unnamed section's generated name may be taken already)
		if not named[section.name] then named[section.name] = section end
	end

	local function cmd_option(j, is_list)
		if not section then P:error("option/list command found before the first section") end
		P:past_word(j, "option")
		local oname = P:arg(true, true, false)
		local value = P:arg(false, false, false)
		P:assert_eol()
		local o = find_named(section.options, oname)
		if is_list then
			if o and o.kind == "string" then
				o.kind, o.items, o.value = "list", { o.value }, nil
			elseif not o then
				o = { name = oname, kind = "list", items = {} }
				section.options[#section.options + 1] = o
			end
			o.items[#o.items + 1] = value
		elseif value ~= "" then -- an empty value is ignored when parsing
			if o then
				o.kind, o.value, o.items = "string", value, nil
			else
				section.options[#section.options + 1] = { name = oname, kind = "string", value = value }
			end
		end
	end

	while P:more() do
		if P:start_line() then
			P:skip_ws()
			while true do
				local w, j = P:word()
				if not w or w:sub(1, 1) == "#" then break end
				if w == "c" or w == "config" then
					cmd_config(j)
				elseif w == "o" or w == "option" then
					cmd_option(j, false)
				elseif w == "l" or w == "list" then
					cmd_option(j, true)
				elseif w == "p" or w == "package" then
					P:past_word(j, "package")
					P:arg(true, true, true) -- accepted and ignored when loading one config
					P:assert_eol()
				else
					P:error("invalid command")
				end
			end
		end
	end
	return p or new_package(name)
end

---------------------------------------------------------------------------
-- Pointers ("p.s.o=v") and lookups
---------------------------------------------------------------------------

local function parse_ptr(ptr, str)
	for k in pairs(ptr) do ptr[k] = nil end
	local eq = str:find("=", 1, true)
	if eq then
		ptr.value = str:sub(eq + 1)
		str = str:sub(1, eq - 1)
	end
	local parts, start = {}, 1
	while true do
		local dot = str:find(".", start, true)
		parts[#parts + 1] = str:sub(start, (dot or 0) - 1)
		if not dot then break end
		start = dot + 1
	end
	if #parts > 3 then throw(ERR_PARSE) end
	ptr.package, ptr.section, ptr.option = parts[1], parts[2], parts[3]
	if not validate_package(ptr.package) then throw(ERR_PARSE) end
	if ptr.section and not validate_name(ptr.section) then ptr.extended = true end
	if ptr.option and not validate_name(ptr.option) then throw(ERR_PARSE) end
	if ptr.value and not validate_text(ptr.value) then throw(ERR_PARSE) end
end

-- "@type[idx]" / "@[idx]" (negative idx counts from the end)
local function lookup_ext_section(ptr)
	local tname, idxstr = ptr.section:match("^@([^%[]*)%[(.*)%]$")
	-- strtol() must consume the whole index; an empty index means 0
	local idx = idxstr and (idxstr == "" and 0 or tonumber(idxstr:match("^%s*([+-]?%d+)$")))
	if not idx or (tname ~= "" and not validate_type(tname)) then throw(ERR_INVAL) end
	if tname == "" then tname = nil end
	local secs = {}
	for _, s in ipairs(ptr.p.sections) do
		if not tname or s.type == tname then secs[#secs + 1] = s end
	end
	if idx < 0 then idx = idx + #secs end
	local s = secs[idx + 1]
	if s then ptr.section = s.name end
	return s
end

local load_package -- defined below

local function lookup_ptr(ctx, ptr, str, extended)
	if str then parse_ptr(ptr, str) end
	ptr.done = true
	if not ptr.p then
		ptr.p = find_named(ctx.root, ptr.package) or load_package(ctx, ptr.package)
	end
	if not ptr.section and not ptr.s then
		ptr.complete = true
		return
	end
	local s = ptr.s
	if not s then
		if ptr.extended then
			if not extended then throw(ERR_INVAL) end
			s = lookup_ext_section(ptr)
		else
			s = find_named(ptr.p.sections, ptr.section)
		end
	end
	if not s then return end
	ptr.s = s
	if ptr.option then
		local o = find_named(s.options, ptr.option)
		if not o then return end
		ptr.o = o
	end
	ptr.complete = true
end

local function expand_ptr(ctx, ptr, complete)
	if not ptr.done then lookup_ptr(ctx, ptr, nil, true) end
	if complete and not ptr.complete then throw(ERR_NOTFOUND) end
	if not ptr.p then throw(ERR_INVAL) end
	ptr.package = ptr.package or ptr.p.name
	if ptr.s and not ptr.section then ptr.section = ptr.s.name end
	if ptr.o and not ptr.option then ptr.option = ptr.o.name end
end

---------------------------------------------------------------------------
-- Changes (each records a delta unless `internal`, i.e. replaying)
---------------------------------------------------------------------------

local function uci_delete(ctx, ptr, internal)
	expand_ptr(ctx, ptr, true)
	if not ptr.s then throw(ERR_INVAL) end
	local p = ptr.p
	if ptr.o and ptr.o.kind == "list" and ptr.value and ptr.value ~= "" then
		-- "p.s.o=<index>" removes one list item
		local idx = tonumber(ptr.value:match("^%s*([+-]?%d+)"))
		if not idx then return end -- upstream returns an error code without setting ctx->err
		local item = ptr.o.items[idx + 1]
		if idx >= 0 and item then
			if not internal and p.has_delta then add_delta(p.delta, "remove", ptr.section, ptr.option, ptr.value) end
			table.remove(ptr.o.items, idx + 1)
		end
		return
	end
	if not internal and p.has_delta then add_delta(p.delta, "remove", ptr.section, ptr.option, nil) end
	if ptr.o then
		remove_item(ptr.s.options, ptr.o)
	else
		remove_item(p.sections, ptr.s)
	end
	if ptr.option then ptr.o = nil elseif ptr.section then ptr.s = nil end
end

local function uci_set(ctx, ptr, internal)
	expand_ptr(ctx, ptr, false)
	if not ptr.value then throw(ERR_INVAL) end
	if not (ptr.s or (not ptr.option and ptr.section)) then throw(ERR_INVAL) end
	if not ptr.option and ptr.value ~= "" and not validate_type(ptr.value) then throw(ERR_INVAL) end
	if not ptr.o and ptr.s and ptr.option then ptr.o = find_named(ptr.s.options, ptr.option) end
	if ptr.value == "" then
		-- setting "" deletes an existing entry and is a no-op otherwise; the delete is
		-- recorded even when replaying (libuci resets its internal flag on the way)
		if not ptr.complete then return end
		return uci_delete(ctx, ptr, false)
	elseif not ptr.o and ptr.option then -- new option (appended)
		ptr.o = { name = ptr.option, kind = "string", value = ptr.value }
		ptr.s.options[#ptr.s.options + 1] = ptr.o
	elseif not ptr.s and ptr.section then -- new section (appended)
		ptr.s = alloc_section(ptr.p, ptr.value, ptr.section)
	elseif ptr.o and ptr.option then -- update option, keeping its position
		if ptr.o.kind == "string" and ptr.o.value == ptr.value then return end
		ptr.o.kind, ptr.o.value, ptr.o.items = "string", ptr.value, nil
	elseif ptr.s and ptr.section then -- change section type
		if ptr.s.type == ptr.value then return end
		-- upstream re-creates the section under its current name when the type length
		-- differs, so an anonymous section becomes a named one
		if #ptr.s.type ~= #ptr.value and ptr.s.name then ptr.s.anonymous = false end
		ptr.s.type = ptr.value
	else
		throw(ERR_INVAL)
	end
	if not internal and ptr.p.has_delta then
		add_delta(ptr.p.delta, "change", ptr.section, ptr.option, ptr.value)
	end
end

local function uci_add_list(ctx, ptr, internal)
	expand_ptr(ctx, ptr, false)
	if not ptr.s or not ptr.value then throw(ERR_INVAL) end
	local o = ptr.o
	if o and o.kind == "string" then -- an option becomes a list in place
		o.kind, o.items, o.value = "list", { o.value }, nil
	elseif not o then
		o = { name = ptr.option, kind = "list", items = {} }
		ptr.s.options[#ptr.s.options + 1] = o
		ptr.o = o
	end
	if not internal and ptr.p.has_delta then
		add_delta(ptr.p.delta, "list_add", ptr.section, ptr.option, ptr.value)
	end
	o.items[#o.items + 1] = ptr.value
end

local function uci_del_list(ctx, ptr, internal)
	expand_ptr(ctx, ptr, false)
	if not ptr.s or not ptr.value then throw(ERR_INVAL) end
	if not (ptr.o and ptr.option) or ptr.o.kind ~= "list" then return end
	if not internal and ptr.p.has_delta then
		add_delta(ptr.p.delta, "list_del", ptr.section, ptr.option, ptr.value)
	end
	local items = ptr.o.items
	for i = #items, 1, -1 do
		if items[i] == ptr.value then table.remove(items, i) end
	end
end

local function uci_rename(ctx, ptr, internal)
	expand_ptr(ctx, ptr, true)
	if not ptr.s or not ptr.value then throw(ERR_INVAL) end
	if not internal and ptr.p.has_delta then
		add_delta(ptr.p.delta, "rename", ptr.section, ptr.option, ptr.value)
	end
	if ptr.o then
		ptr.o.name = ptr.value
	else
		ptr.s.name = ptr.value
	end
	ptr.s.anonymous = false
end

-- move s so that `pos` sections precede it; a delta is only recorded if it moved
local function uci_reorder(ctx, p, s, pos, internal)
	local list = p.sections
	local i = index_of(list, s)
	local old_prev = list[i - 1]
	table.remove(list, i)
	local at = math.min(math.max(pos, 0), #list) + 1
	table.insert(list, at, s)
	if list[at - 1] ~= old_prev and not internal and p.has_delta then
		add_delta(p.delta, "reorder", s.name, nil, string.format("%d", pos))
	end
end

---------------------------------------------------------------------------
-- Delta files
---------------------------------------------------------------------------

-- one delta line: "[cmd]pkg.section[.option][='value']" (one argument, nothing after)
local function parse_delta_tuple(P)
	local arg = P:arg(false, false, false)
	if P:byte() ~= 0 then throw(ERR_INVAL) end
	local cmd = CHAR_CMD[arg:sub(1, 1)]
	if cmd then arg = arg:sub(2) else cmd = "change" end
	local ptr = {}
	parse_ptr(ptr, arg)
	if not ptr.section or ptr.extended then throw(ERR_INVAL) end
	if cmd ~= "remove" and not ptr.value then throw(ERR_INVAL) end
	if cmd == "reorder" and ptr.option then throw(ERR_INVAL) end
	if cmd == "rename" and not validate_name(ptr.value) then throw(ERR_INVAL) end
	if (cmd == "list_add" or cmd == "list_del") and not ptr.option then throw(ERR_INVAL) end
	return cmd, ptr
end

local function apply_delta_line(ctx, p, P)
	local cmd, ptr = parse_delta_tuple(P)
	if ptr.package ~= p.name then throw(ERR_PARSE) end
	add_delta(p.saved_delta, cmd, ptr.section, ptr.option, ptr.value) -- shown by changes()
	ptr.p = p
	if cmd == "reorder" then
		expand_ptr(ctx, ptr, true)
		uci_reorder(ctx, p, ptr.s, c_strtoul(ptr.value), true)
	elseif cmd == "rename" then
		uci_rename(ctx, ptr, true)
	elseif cmd == "remove" then
		uci_delete(ctx, ptr, true)
	elseif cmd == "list_add" then
		uci_add_list(ctx, ptr, true)
	elseif cmd == "list_del" then
		uci_del_list(ctx, ptr, true)
	else
		uci_set(ctx, ptr, true)
		if cmd == "add" and not ptr.option and ptr.s then ptr.s.anonymous = true end
	end
end

-- number of lines that applied; bad lines are skipped one by one
local function load_delta_file(ctx, p, path)
	local content = read_file(path)
	if not content then return 0 end
	local P, changes = new_parser(content), 0
	while P:more() do
		if P:start_line() then
			local ok, e = pcall(apply_delta_line, ctx, p, P)
			if ok then
				changes = changes + 1
			elseif type(e) ~= "table" or not e.uci then
				error(e, 0)
			end
		end
	end
	return changes
end

-- replay the deltas of every delta path entry; with `flush`, empty the cursor's own
-- delta file afterwards, but only if something applied
local function load_delta(ctx, p, flush)
	if not p.has_delta then return 0 end
	local changes = 0
	for _, dir in ipairs(ctx.delta_path) do
		changes = changes + load_delta_file(ctx, p, dir .. "/" .. p.name)
	end
	local own = ctx.savedir .. "/" .. p.name
	if flush and changes > 0 then
		local f = io.open(own, "r+b") -- only an existing file is truncated
		if f then
			f:close()
			f = io.open(own, "wb")
			if not f then throw(ERR_IO) end
			f:close()
		end
	end
	ctx.err = OK
	return changes
end

local function uci_save(ctx, p)
	if #p.delta == 0 then return end
	if not exists(ctx.savedir) then
		os.execute("mkdir " .. shell_quote(ctx.savedir) .. " 2>/dev/null") -- not -p: libuci mkdir()s one level
	elseif not is_dir(ctx.savedir) then
		throw(ERR_IO)
	end
	local f = io.open(ctx.savedir .. "/" .. p.name, "ab")
	if not f then throw(ERR_IO) end
	for _, d in ipairs(p.delta) do f:write(delta_line(p.name, d)) end
	f:close()
	p.delta = {}
end

-- rewrite the cursor's delta file without the lines for section/option (all if nil);
-- any unparsable line aborts the whole rewrite, like upstream
local function filter_delta(ctx, name, section, option)
	local path = ctx.savedir .. "/" .. name
	local content = read_file(path)
	if not content then throw(ERR_IO) end
	local P, keep = new_parser(content), {}
	while P:more() do
		if P:start_line() then
			local cmd, ptr = parse_delta_tuple(P)
			local match = true
			if section and ptr.section ~= section then match = false end
			if match and option and ptr.option ~= option then match = false end
			if not match then keep[#keep + 1] = { cmd = cmd, section = ptr.section, option = ptr.option, value = ptr.value } end
		end
	end
	local f = io.open(path, "wb")
	if not f then throw(ERR_IO) end
	for _, d in ipairs(keep) do f:write(delta_line(name, d)) end
	f:close()
end

---------------------------------------------------------------------------
-- Loading, exporting, committing
---------------------------------------------------------------------------

function load_package(ctx, name)
	-- (libuci would load "/abs/path" or "./rel" outside the confdir; not modelled)
	if not validate_package(name) then throw(ERR_INVAL) end
	local path = ctx.confdir .. "/" .. name
	local content = read_file(path)
	if not content then throw(ERR_NOTFOUND) end
	if find_named(ctx.root, name) then throw(ERR_DUPLICATE) end
	local p = parse_config_file(content, name)
	p.path, p.has_delta = path, true
	ctx.root[#ctx.root + 1] = p
	load_delta(ctx, p, false)
	return p
end

local function escape(s) return (s:gsub("'", "'\\''")) end

-- the config file text of package p, handed piece by piece to write(...) (building
-- one string would take several times the file size in intermediate strings)
local function export(p, write)
	for _, s in ipairs(p.sections) do
		write("\nconfig ", escape(s.type))
		if not s.anonymous then write(" '", escape(s.name), "'") end
		write("\n")
		for _, o in ipairs(s.options) do
			if o.kind == "string" then
				write("\toption ", escape(o.name), " '", escape(o.value), "'\n")
			else
				for _, item in ipairs(o.items) do
					write("\tlist ", escape(o.name), " '", escape(item), "'\n")
				end
			end
		end
	end
	write("\n")
end

local function uci_commit(ctx, p)
	if not p.path then throw(ERR_INVAL) end
	-- Tests of interrupted changes (not libuci's): the process dies as a kill -9 would,
	-- just before it commits this config, after the configs it committed before.
	if os.getenv("UCI_TEST_DIE_BEFORE_COMMIT") == p.name then os.exit(137) end
	if not exists(p.path) then -- libuci opens the file with O_CREAT
		local f = io.open(p.path, "ab")
		if not f then throw(ERR_IO) end
		f:close()
	end
	if p.has_delta then
		-- save our own changes, re-read the file (others may have changed it) and
		-- replay every delta; nothing applied means nothing is written
		uci_save(ctx, p)
		remove_item(ctx.root, p)
		local content = read_file(p.path)
		if not content then throw(ERR_IO) end
		local np = parse_config_file(content, p.name)
		np.path, np.has_delta = p.path, true
		ctx.root[#ctx.root + 1] = np
		if load_delta(ctx, np, true) == 0 then return end
		p = np
	end
	-- atomic replace: temp file in the confdir, then rename over the config
	local tmp
	repeat
		tmp = string.format("%s/.%s.uci-%06x", ctx.confdir, p.name, math.random(0, 0xffffff))
	until not exists(tmp)
	local f = io.open(tmp, "wb")
	if not f then throw(ERR_IO) end
	local ok = true
	export(p, function(...) ok = f:write(...) and ok end)
	ok = f:close() and ok -- (a failed write may only show when the buffer is flushed)
	if not ok or not os.rename(tmp, p.path) then
		os.remove(tmp)
		throw(ERR_IO)
	end
end

local function uci_revert(ctx, ptr)
	expand_ptr(ctx, ptr, false)
	if not ptr.p.has_delta then throw(ERR_INVAL) end
	uci_save(ctx, ptr.p) -- unsaved changes are flushed first
	local name = ptr.p.name
	remove_item(ctx.root, ptr.p)
	local ok, e = pcall(filter_delta, ctx, name, ptr.section, ptr.option)
	if not ok and (type(e) ~= "table" or not e.uci) then error(e, 0) end -- uci errors are ignored
	ptr.p = load_package(ctx, name)
	ctx.err = OK
end

local function list_configs(ctx)
	local names, any = {}, false
	local ph = io.popen("LC_ALL=C ls -1pL -- " .. shell_quote(ctx.confdir) .. " 2>/dev/null")
	if ph then
		for line in ph:lines() do
			any = true
			if line:sub(-1) ~= "/" and validate_package(line) then names[#names + 1] = line end
		end
		ph:close()
	end
	if not any then throw(ERR_NOTFOUND) end -- glob() found nothing
	return names
end

---------------------------------------------------------------------------
-- Contexts ("cursors")
---------------------------------------------------------------------------

local function new_context()
	local confdir = os.getenv("UCI_CONFDIR") -- stand-in only
	local savedir = os.getenv("UCI_SAVEDIR") -- stand-in only
	if not confdir or confdir == "" then confdir = "/etc/config" end
	if not savedir or savedir == "" then savedir = "/tmp/.uci" end
	return { confdir = confdir, savedir = savedir, delta_path = { savedir }, root = {}, err = OK }
end

local function set_savedir(ctx, dir)
	for i, d in ipairs(ctx.delta_path) do
		if d == dir then table.remove(ctx.delta_path, i) break end
	end
	ctx.delta_path[#ctx.delta_path + 1] = dir -- the savedir is always last on the delta path
	ctx.savedir = dir
end

-- a libuci public call: resets ctx.err and turns a thrown uci error into ctx.err
local function api(ctx, fn, ...)
	ctx.err = OK
	local ok, ret = pcall(fn, ...)
	if ok then return OK, ret end
	if type(ret) ~= "table" or not ret.uci then error(ret, 0) end
	ctx.err, ctx.perr = ret.uci, ret
	return ret.uci
end

local function errstr(ctx)
	local s = "uci: " .. (ERRSTR[ctx.err] or ERRSTR[7])
	local e = ctx.perr
	if ctx.err == ERR_PARSE and e and e.reason then
		s = s .. string.format(" (%s) at line %d, byte %d", e.reason, e.line, e.byte)
	end
	return s
end

-- `true` or `false, "uci: <error>"`
local function status(ctx)
	if ctx.err == OK then return true end
	return false, errstr(ctx)
end

-- `nil` or `nil, "uci: <error>"`
local function nil_status(ctx)
	if ctx.err == OK then return nil end
	return nil, errstr(ctx)
end

-- luaL_checkstring: strings, and numbers converted like tostring()
local function checkstring(fname, narg, n, v)
	local t = type(v)
	if t == "string" then return v end
	if t == "number" then return tostring(v) end
	local got = narg > n and "no value" or t
	error(string.format("bad argument #%d to '%s' (string expected, got %s)", narg, fname, got), 0)
end

local function isstring(v) return type(v) == "string" or type(v) == "number" end

local function find_package(ctx, str, autoload)
	local name = str:match("^[^.]*")
	local p = find_named(ctx.root, name)
	if not p and autoload then
		local _, lp = api(ctx, load_package, ctx, name)
		p = lp
	end
	return p
end

-- lookup with "@type[n]" support (the binding retries those as extended lookups)
local function lua_lookup(ctx, ptr, str)
	if not ptr.s and ptr.section and ptr.section:sub(1, 1) == "@" then
		local copy = {}
		for k, v in pairs(ptr) do copy[k] = v end
		copy.extended = true
		local rv = api(ctx, lookup_ptr, ctx, copy, str, true)
		if rv == OK then
			for k in pairs(ptr) do ptr[k] = nil end
			for k, v in pairs(copy) do ptr[k] = v end
		end
		return rv
	end
	return (api(ctx, lookup_ptr, ctx, ptr, str, true))
end

-- (package[, section[, option]]) or ("package.section.option=value"); nil on error
local function lookup_args(ctx, fname, n, a1, a2, a3)
	local s = checkstring(fname, 1, n, a1)
	if not find_package(ctx, s, true) then return nil end
	local ptr = {}
	if n >= 2 and n <= 4 then
		if n >= 3 then ptr.option = checkstring(fname, 3, n, a3) end
		ptr.section = checkstring(fname, 2, n, a2)
		ptr.package = s
		if lua_lookup(ctx, ptr, nil) ~= OK then return nil end
	elseif n == 1 then
		if lua_lookup(ctx, ptr, s) ~= OK then return nil end
	else
		error("invalid argument count", 0)
	end
	return ptr
end

local function push_option(o)
	if o.kind == "string" then return o.value end
	local t = {}
	for i, v in ipairs(o.items) do t[i] = v end
	return t
end

local function push_section(s, index)
	local t = { [".anonymous"] = s.anonymous, [".type"] = s.type, [".name"] = s.name }
	if index >= 0 then t[".index"] = index end
	for _, o in ipairs(s.options) do t[o.name] = push_option(o) end
	return t
end

local function push_package(p)
	local t = {}
	for i, s in ipairs(p.sections) do
		if s.name then t[s.name] = push_section(s, i - 1) end
	end
	return t
end

---------------------------------------------------------------------------
-- The binding's functions; each takes the context first
---------------------------------------------------------------------------

local B = {}

local function get_any(ctx, all, fname, ...)
	local n = select("#", ...)
	local ptr = lookup_args(ctx, fname, n, ...)
	if not ptr then return nil_status(ctx) end
	if not all and not ptr.s then
		ctx.err = ERR_INVAL
		return nil_status(ctx)
	end
	if not ptr.complete then
		ctx.err = ERR_NOTFOUND
		return nil_status(ctx)
	end
	if ptr.o then return push_option(ptr.o) end
	if ptr.s then
		if all then return push_section(ptr.s, -1) end
		return ptr.s.type, ptr.s.name
	end
	return push_package(ptr.p)
end

function B.get(ctx, ...) return get_any(ctx, false, "get", ...) end
function B.get_all(ctx, ...) return get_any(ctx, true, "get_all", ...) end

function B.foreach(ctx, ...)
	local n = select("#", ...)
	local cfg, stype, fn = ...
	local package = checkstring("foreach", 1, n, cfg)
	if stype ~= nil or n < 2 then stype = checkstring("foreach", 2, n, stype) end
	if type(fn) ~= "function" then error("Invalid argument", 0) end
	local p = find_package(ctx, package, true)
	if not p then return false end
	local list, ret, i = p.sections, false, 0
	-- `at` is where s is expected in the list; only a callback that changed the list
	-- makes the (linear) index_of() searches necessary
	local s, at = list[1], 1
	while s do
		if list[at] ~= s then at = index_of(list, s) or #list end
		local nxt = list[at + 1] -- taken before the callback
		i = i + 1
		if not stype or s.type == stype then
			local r = fn(push_section(s, i - 1))
			ret = true
			if r == false then break end
		end
		s, at = nxt, at + 1
		if s and list[at] ~= s and not index_of(list, s) then break end -- removed by the callback
	end
	return ret
end

function B.add(ctx, ...)
	local n = select("#", ...)
	local cfg, stype = ...
	local package = checkstring("add", 1, n, cfg)
	stype = checkstring("add", 2, n, stype)
	local p = find_package(ctx, package, true)
	if not p then return nil_status(ctx) end
	local rv, s = api(ctx, add_section, p, stype, false)
	if rv ~= OK then return nil_status(ctx) end
	return s.name
end

function B.set(ctx, ...)
	local n = select("#", ...)
	local a1, a2, a3, a4 = ...
	local ptr = lookup_args(ctx, "set", n, a1, a2, a3)
	if not ptr then return status(ctx) end
	local list
	if n == 4 then
		if type(a4) == "table" then
			if #a4 < 1 then error("Cannot set an uci option to an empty table value", 0) end
			list = a4
			ptr.value = checkstring("set", -2, 1, a4[1])
		else
			ptr.value = checkstring("set", 4, n, a4)
		end
	elseif n == 3 then -- set(config, section, type)
		ptr.value, ptr.option = ptr.option, nil
	elseif n ~= 1 then
		ctx.err = ERR_INVAL
		return status(ctx)
	end
	if lua_lookup(ctx, ptr, nil) ~= OK then return status(ctx) end
	if (not ptr.s and ptr.option) or not ptr.value then
		ctx.err = ERR_INVAL
		return status(ctx)
	end
	if not list then
		api(ctx, uci_set, ctx, ptr, false)
		return status(ctx)
	end
	-- a table sets a list: one element replaces the option by a fresh list,
	-- several elements set the first as a value and add the others
	local first
	if #list == 1 then
		first = 1
		if ptr.o then
			local v = ptr.value
			ptr.value = nil
			if api(ctx, uci_delete, ctx, ptr, false) ~= OK then return status(ctx) end
			ptr.value = v
		end
	else
		first = 2
		if api(ctx, uci_set, ctx, ptr, false) ~= OK then return status(ctx) end
	end
	for i = first, #list do
		ptr.value = checkstring("set", -2, 1, list[i])
		if api(ctx, uci_add_list, ctx, ptr, false) ~= OK then break end
	end
	return status(ctx)
end

function B.delete(ctx, ...)
	local ptr = lookup_args(ctx, "delete", select("#", ...), ...)
	if ptr then api(ctx, uci_delete, ctx, ptr, false) end
	return status(ctx)
end

function B.rename(ctx, ...)
	local n = select("#", ...)
	local a1, a2, a3, a4 = ...
	local ptr = lookup_args(ctx, "rename", n, a1, a2, a3)
	if not ptr then return status(ctx) end
	if n == 4 then
		ptr.value = checkstring("rename", 4, n, a4)
	elseif n == 3 then
		ptr.value, ptr.option = ptr.option, nil
	elseif n ~= 1 then
		ctx.err = ERR_INVAL
		return status(ctx)
	end
	if lua_lookup(ctx, ptr, nil) ~= OK then return status(ctx) end
	if (not ptr.s and ptr.option) or not ptr.value then
		ctx.err = ERR_INVAL
		return status(ctx)
	end
	api(ctx, uci_rename, ctx, ptr, false)
	return status(ctx)
end

function B.reorder(ctx, ...)
	local n = select("#", ...)
	local ptr = lookup_args(ctx, "reorder", n, ...)
	if not ptr then return status(ctx) end
	if n == 1 then
		if ptr.option then
			ctx.err = ERR_INVAL
			return status(ctx)
		end
	elseif n == 3 then
		ptr.value, ptr.option = ptr.option, nil
	else
		ctx.err = ERR_INVAL
		return status(ctx)
	end
	if lua_lookup(ctx, ptr, nil) ~= OK then return status(ctx) end
	if not ptr.s or not ptr.value then
		ctx.err = ERR_INVAL
		return status(ctx)
	end
	api(ctx, uci_reorder, ctx, ptr.p, ptr.s, c_strtoul(ptr.value), false)
	return status(ctx)
end

local function package_cmd(ctx, cmd, ...)
	local n = select("#", ...)
	-- (upstream reports the previous call's status for extra arguments)
	if cmd ~= "revert" and n > 1 then return status(ctx) end
	local ptr = lookup_args(ctx, cmd, n, ...)
	if not ptr then return status(ctx) end
	lua_lookup(ctx, ptr, nil)
	local pkgs = {}
	for i, p in ipairs(ctx.root) do pkgs[i] = p end
	for _, p in ipairs(pkgs) do
		if not ptr.p or ptr.p == p then
			ptr.p = p
			if cmd == "commit" then
				api(ctx, uci_commit, ctx, p)
			elseif cmd == "save" then
				api(ctx, uci_save, ctx, p)
			else
				api(ctx, uci_revert, ctx, ptr)
			end
		end
	end
	return status(ctx)
end

function B.save(ctx, ...) return package_cmd(ctx, "save", ...) end
function B.commit(ctx, ...) return package_cmd(ctx, "commit", ...) end
function B.revert(ctx, ...) return package_cmd(ctx, "revert", ...) end

-- changes() view of one delta: {section = {option = value | list, [".type"] = ...}}
local function add_change(t, d)
	if not d.section then return end
	local sec = t[d.section]
	if sec == nil then
		sec = {}
		t[d.section] = sec
	end
	local value = d.value or ""
	if not d.option then
		sec[".type"] = value
	elseif d.cmd == "list_add" then
		local cur = sec[d.option]
		if type(cur) == "table" then
			cur[#cur + 1] = value
		elseif cur ~= nil then
			sec[d.option] = { cur, value }
		else
			sec[d.option] = { value }
		end
	else
		sec[d.option] = value
	end
end

local function changes_pkg(ctx, t, name)
	local p, autoload = find_package(ctx, name, false), false
	if not p then
		autoload = true
		p = find_package(ctx, name, true)
		if not p then return end
	end
	if #p.delta > 0 or #p.saved_delta > 0 then
		local pt = {}
		for _, d in ipairs(p.saved_delta) do add_change(pt, d) end
		for _, d in ipairs(p.delta) do add_change(pt, d) end
		t[p.name] = pt
	end
	if autoload then remove_item(ctx.root, p) end
end

function B.changes(ctx, ...)
	local n = select("#", ...)
	local t = {}
	if n == 1 then
		changes_pkg(ctx, t, checkstring("changes", 1, n, (...)))
	elseif n == 0 then
		local rv, names = api(ctx, list_configs, ctx)
		if rv == OK then
			for _, name in ipairs(names) do changes_pkg(ctx, t, name) end
		end
	else
		error("invalid argument count", 0)
	end
	return t
end

function B.load(ctx, ...)
	local n = select("#", ...)
	local name = checkstring("load", 1, n, (...))
	local p = find_package(ctx, name, false)
	if p then remove_item(ctx.root, p) end
	api(ctx, load_package, ctx, name)
	return status(ctx)
end

function B.unload(ctx, ...)
	local n = select("#", ...)
	local p = find_package(ctx, checkstring("unload", 1, n, (...)), false)
	if not p then return false end
	api(ctx, remove_item, ctx.root, p)
	return status(ctx)
end

function B.get_confdir(ctx) return ctx.confdir end
function B.get_savedir(ctx) return ctx.savedir end

-- (like upstream, the directory is taken from the last argument)
local function dir_arg(fname, ...)
	local n = select("#", ...)
	checkstring(fname, 1, n, (...))
	local last = select(n, ...)
	return isstring(last) and tostring(last) or nil
end

function B.set_confdir(ctx, ...)
	local dir = dir_arg("set_confdir", ...)
	api(ctx, function() if not dir then throw(ERR_INVAL) end ctx.confdir = dir end)
	return status(ctx)
end

function B.set_savedir(ctx, ...)
	local dir = dir_arg("set_savedir", ...)
	api(ctx, function() if not dir then throw(ERR_INVAL) end set_savedir(ctx, dir) end)
	return status(ctx)
end

-- an extra (read-only) delta directory, inserted just before the savedir
function B.add_delta(ctx, ...)
	local dir = dir_arg("add_delta", ...)
	api(ctx, function()
		if not dir then throw(ERR_INVAL) end
		for _, d in ipairs(ctx.delta_path) do
			if d == dir then throw(ERR_DUPLICATE) end
		end
		table.insert(ctx.delta_path, #ctx.delta_path, dir)
	end)
	return status(ctx)
end
B.add_history = B.add_delta

function B.list_configs(ctx)
	local rv, names = api(ctx, list_configs, ctx)
	if rv ~= OK then return status(ctx) end
	return names
end

---------------------------------------------------------------------------
-- Cursor objects and the module table
---------------------------------------------------------------------------

local contexts = setmetatable({}, { __mode = "k" })
local Cursor = {}
Cursor.__index = Cursor

local function ctx_of(c)
	local ctx = contexts[c]
	if not ctx then error("failed to get UCI context", 0) end
	return ctx
end

for name, fn in pairs(B) do
	Cursor[name] = function(self, ...) return fn(ctx_of(self), ...) end
end

function Cursor.close(self) contexts[self] = nil end
Cursor.__gc = Cursor.close -- (no effect on tables in Lua 5.1)

-- uci.cursor([confdir[, savedir]])
function M.cursor(...)
	local n = select("#", ...)
	local confdir, savedir = ...
	local ctx = new_context()
	if n == 2 and isstring(savedir) then set_savedir(ctx, tostring(savedir)) end
	if (n == 1 or n == 2) and isstring(confdir) then ctx.confdir = tostring(confdir) end
	local c = setmetatable({}, Cursor)
	contexts[c] = ctx
	return c
end

-- module-level functions work on a global context, unless given a cursor first
local global_ctx
for name, fn in pairs(B) do
	M[name] = function(...)
		if getmetatable((...)) == Cursor then return fn(ctx_of((...)), select(2, ...)) end
		global_ctx = global_ctx or new_context()
		return fn(global_ctx, ...)
	end
end

function M.close(c)
	if getmetatable(c) == Cursor then contexts[c] = nil else global_ctx = nil end
end

math.randomseed(os.time() + math.floor((os.clock() * 1e6) % 1e6))

return M
