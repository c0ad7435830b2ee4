/*
 * A stand-in for the translation part of LuCI's cbi.js, for the wgmgr dev preview and
 * browser tests. LuCI's theme loads, before luci.js:
 *
 *   <script src="/cgi-bin/luci/admin/translations/<lang>"></script>  -> window.TR
 *   <script src="/luci-static/resources/cbi.js"></script>             -> _() and N_()
 *
 * window.TR maps the SuperFastHash of a message key, as 8 hex digits, to its translation;
 * "00000000" holds the catalog's Plural-Forms expression. A key is the msgid with
 * whitespace collapsed, "context\1msgid" with a context, and "...\2n" for plural form n
 * (the form the Plural-Forms expression picks for the count). Without a translation,
 * _() gives the msgid and N_() the singular or plural as English would.
 *
 * Written for wgmgr from LuCI's documented behaviour; not a copy of LuCI.
 */
(function(window) {
	'use strict';

	function utf8(s) {
		return Array.prototype.slice.call(new TextEncoder().encode(s));
	}

	/* Paul Hsieh's SuperFastHash over the UTF-8 bytes, seeded with their number; the
	 * remainder bytes count as signed chars, as in LuCI's C (lmo.c). */
	function sfh(s) {
		var b = utf8(s), len = b.length, hash = len >>> 0, i = 0, tmp;
		if (!len)
			return null;
		var u16 = function(o) { return b[o] | (b[o + 1] << 8); };
		var s8 = function(o) { return (b[o] << 24) >> 24; };

		for (var n = len >>> 2; n > 0; n--, i += 4) {
			hash = (hash + u16(i)) >>> 0;
			tmp = ((u16(i + 2) << 11) ^ hash) >>> 0;
			hash = ((hash << 16) ^ tmp) >>> 0;
			hash = (hash + (hash >>> 11)) >>> 0;
		}
		switch (len & 3) {
		case 3:
			hash = (hash + u16(i)) >>> 0;
			hash = (hash ^ (hash << 16)) >>> 0;
			hash = (hash ^ (s8(i + 2) << 18)) >>> 0;
			hash = (hash + (hash >>> 11)) >>> 0;
			break;
		case 2:
			hash = (hash + u16(i)) >>> 0;
			hash = (hash ^ (hash << 11)) >>> 0;
			hash = (hash + (hash >>> 17)) >>> 0;
			break;
		case 1:
			hash = (hash + s8(i)) >>> 0;
			hash = (hash ^ (hash << 10)) >>> 0;
			hash = (hash + (hash >>> 1)) >>> 0;
		}
		hash = (hash ^ (hash << 3)) >>> 0;
		hash = (hash + (hash >>> 5)) >>> 0;
		hash = (hash ^ (hash << 4)) >>> 0;
		hash = (hash + (hash >>> 17)) >>> 0;
		hash = (hash ^ (hash << 25)) >>> 0;
		hash = (hash + (hash >>> 6)) >>> 0;
		return ('0000000' + hash.toString(16)).slice(-8);
	}

	function trimws(s) {
		return String(s).trim().replace(/[ \t\n]+/g, ' ');
	}

	function key(s, c) {
		return (c != null ? trimws(c) + '\u0001' : '') + trimws(s);
	}

	var pluralForm = null;

	window.sfh = sfh;

	window._ = function(s, c) {
		return (window.TR && window.TR[sfh(key(s, c))]) || s;
	};

	window.N_ = function(n, s, p, c) {
		if (pluralForm == null && window.TR)
			pluralForm = new Function('n', 'var nplurals, plural; ' + (window.TR['00000000'] || 'plural=(n != 1);') + ' return +plural;');
		var i = pluralForm ? pluralForm(n) : +(n != 1);
		return (window.TR && window.TR[sfh(key(s, c) + '\u0002' + i)]) || (i ? p : s);
	};
})(window);
