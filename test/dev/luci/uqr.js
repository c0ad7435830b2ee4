'use strict';
'require baseclass';

// Stand-in for LuCI's `uqr` module (luci-static/resources/uqr.js, OpenWrt 24.10):
// the same call, renderSVG(text, { ecc, border, pixelSize, whiteColor, blackColor }),
// returning an SVG string. Written for the dev preview from ISO/IEC 18004 (byte mode
// only, versions 1-40, all four error correction levels, automatic mask choice).
// Not shipped: on a router the views use LuCI's own module.

// Error correction codewords per block and number of blocks, per level (L, M, Q, H)
// and version 1..40 (ISO/IEC 18004 table 9).
var EC_PER_BLOCK = [
	[7,10,15,20,26,18,20,24,30,18,20,24,26,30,22,24,28,30,28,28,28,28,30,30,26,28,30,30,30,30,30,30,30,30,30,30,30,30,30,30],
	[10,16,26,18,24,16,18,22,22,26,30,22,22,24,24,28,28,26,26,26,26,28,28,28,28,28,28,28,28,28,28,28,28,28,28,28,28,28,28,28],
	[13,22,18,26,18,24,18,22,20,24,28,26,24,20,30,24,28,28,26,30,28,30,30,30,30,28,30,30,30,30,30,30,30,30,30,30,30,30,30,30],
	[17,28,22,16,22,28,26,26,24,28,24,28,22,24,24,30,28,28,26,28,30,24,30,30,30,30,30,30,30,30,30,30,30,30,30,30,30,30,30,30]
];
var BLOCKS = [
	[1,1,1,1,1,2,2,2,2,4,4,4,4,4,6,6,6,6,7,8,8,9,9,10,12,12,12,13,14,15,16,17,18,19,19,20,21,22,24,25],
	[1,1,1,2,2,4,4,4,5,5,5,8,9,9,10,10,11,13,14,16,17,17,18,20,21,23,25,26,28,29,31,33,35,37,38,40,43,45,47,49],
	[1,1,2,2,4,4,6,6,8,8,8,10,12,16,12,17,16,18,21,20,23,23,25,27,29,34,34,35,38,40,43,45,48,51,53,56,59,62,65,68],
	[1,1,2,4,4,4,5,6,8,8,11,11,16,16,18,16,19,21,25,25,25,34,30,32,35,37,40,42,45,48,51,54,57,60,63,66,70,74,77,81]
];
var LEVEL = { L: 0, M: 1, Q: 2, H: 3 };
var FORMAT_LEVEL_BITS = [1, 0, 3, 2];

// GF(256) with the QR polynomial x^8 + x^4 + x^3 + x^2 + 1.
var EXP = new Array(512), LOG = new Array(256);
(function() {
	var x = 1;
	for (var i = 0; i < 255; i++) {
		EXP[i] = x;
		LOG[x] = i;
		x <<= 1;
		if (x & 256) x ^= 0x11d;
	}
	for (var j = 255; j < 512; j++) EXP[j] = EXP[j - 255];
})();

function gfMul(a, b) {
	return (a === 0 || b === 0) ? 0 : EXP[LOG[a] + LOG[b]];
}

// Coefficients of prod(x - a^i), i < degree, highest power first (leading 1 dropped).
function generator(degree) {
	var g = [1];
	for (var i = 0; i < degree; i++) {
		var next = new Array(g.length + 1).fill(0);
		for (var j = 0; j < g.length; j++) {
			next[j] ^= g[j];
			next[j + 1] ^= gfMul(g[j], EXP[i]);
		}
		g = next;
	}
	return g.slice(1);
}

function ecCodewords(data, degree) {
	var gen = generator(degree), rem = new Array(degree).fill(0);
	for (var i = 0; i < data.length; i++) {
		var factor = data[i] ^ rem.shift();
		rem.push(0);
		for (var j = 0; j < degree; j++) rem[j] ^= gfMul(gen[j], factor);
	}
	return rem;
}

function rawModules(version) {
	var n = (16 * version + 128) * version + 64;
	if (version >= 2) {
		var align = Math.floor(version / 7) + 2;
		n -= (25 * align - 10) * align - 55;
		if (version >= 7) n -= 36;
	}
	return n;
}

function dataCodewords(version, level) {
	return Math.floor(rawModules(version) / 8) - EC_PER_BLOCK[level][version - 1] * BLOCKS[level][version - 1];
}

function alignmentPositions(version) {
	if (version === 1) return [];
	var count = Math.floor(version / 7) + 2, size = version * 4 + 17;
	var step = version === 32 ? 26 : Math.ceil((version * 4 + 4) / (count * 2 - 2)) * 2;
	var pos = [6];
	for (var p = size - 7; pos.length < count; p -= step) pos.splice(1, 0, p);
	return pos;
}

// The data bit stream for `bytes` in byte mode, padded to the version's capacity.
function dataBits(bytes, version, level) {
	var bits = [];
	var put = function(value, length) {
		for (var i = length - 1; i >= 0; i--) bits.push((value >>> i) & 1);
	};
	put(4, 4);
	put(bytes.length, version < 10 ? 8 : 16);
	bytes.forEach(function(b) { put(b, 8); });
	var capacity = dataCodewords(version, level) * 8;
	put(0, Math.min(4, capacity - bits.length));
	put(0, (8 - bits.length % 8) % 8);
	for (var pad = 0xec; bits.length < capacity; pad ^= 0xec ^ 0x11) put(pad, 8);
	var out = [];
	for (var k = 0; k < bits.length; k += 8) {
		var v = 0;
		for (var m = 0; m < 8; m++) v = (v << 1) | bits[k + m];
		out.push(v);
	}
	return out;
}

// Splits the data codewords into blocks, adds error correction and interleaves.
function interleave(data, version, level) {
	var nBlocks = BLOCKS[level][version - 1], ecLen = EC_PER_BLOCK[level][version - 1];
	var total = Math.floor(rawModules(version) / 8);
	var shortLen = Math.floor(total / nBlocks), nShort = nBlocks - total % nBlocks;
	var blocks = [], ecs = [], k = 0;
	for (var i = 0; i < nBlocks; i++) {
		var len = shortLen - ecLen + (i < nShort ? 0 : 1);
		var block = data.slice(k, k + len);
		k += len;
		blocks.push(block);
		ecs.push(ecCodewords(block, ecLen));
	}
	var out = [];
	for (var col = 0; col <= shortLen - ecLen; col++)
		for (var b = 0; b < nBlocks; b++)
			if (col < blocks[b].length) out.push(blocks[b][col]);
	for (var e = 0; e < ecLen; e++)
		for (var c = 0; c < nBlocks; c++) out.push(ecs[c][e]);
	return out;
}

function Matrix(version) {
	this.size = version * 4 + 17;
	this.dark = [];
	this.fixed = [];
	for (var y = 0; y < this.size; y++) {
		this.dark.push(new Array(this.size).fill(false));
		this.fixed.push(new Array(this.size).fill(false));
	}
}

Matrix.prototype.set = function(x, y, dark) {
	this.dark[y][x] = dark;
	this.fixed[y][x] = true;
};

function drawFunctionPatterns(m, version) {
	var size = m.size;
	[[3, 3], [size - 4, 3], [3, size - 4]].forEach(function(c) {
		for (var dy = -4; dy <= 4; dy++)
			for (var dx = -4; dx <= 4; dx++) {
				var x = c[0] + dx, y = c[1] + dy;
				if (x < 0 || y < 0 || x >= size || y >= size) continue;
				var d = Math.max(Math.abs(dx), Math.abs(dy));
				m.set(x, y, d !== 2 && d !== 4);
			}
	});
	for (var i = 8; i < size - 8; i++) {
		m.set(6, i, i % 2 === 0);
		m.set(i, 6, i % 2 === 0);
	}
	var pos = alignmentPositions(version), n = pos.length;
	for (var a = 0; a < n; a++)
		for (var b = 0; b < n; b++) {
			if ((a === 0 && b === 0) || (a === 0 && b === n - 1) || (a === n - 1 && b === 0)) continue;
			for (var ey = -2; ey <= 2; ey++)
				for (var ex = -2; ex <= 2; ex++)
					m.set(pos[a] + ex, pos[b] + ey, Math.max(Math.abs(ex), Math.abs(ey)) !== 1);
		}
	drawFormat(m, 0, 0); // reserve the format areas; rewritten once the mask is chosen
	if (version >= 7) {
		var rem = version;
		for (var j = 0; j < 12; j++) rem = (rem << 1) ^ ((rem >>> 11) * 0x1f25);
		var bits = (version << 12) | rem;
		for (var k = 0; k < 18; k++) {
			var bit = ((bits >>> k) & 1) === 1, p = size - 11 + k % 3, q = Math.floor(k / 3);
			m.set(p, q, bit);
			m.set(q, p, bit);
		}
	}
}

function drawFormat(m, level, mask) {
	var data = (FORMAT_LEVEL_BITS[level] << 3) | mask, rem = data;
	for (var i = 0; i < 10; i++) rem = (rem << 1) ^ ((rem >>> 9) * 0x537);
	var bits = ((data << 10) | rem) ^ 0x5412, size = m.size;
	var bit = function(i) { return ((bits >>> i) & 1) === 1; };
	for (var a = 0; a <= 5; a++) m.set(8, a, bit(a));
	m.set(8, 7, bit(6));
	m.set(8, 8, bit(7));
	m.set(7, 8, bit(8));
	for (var b = 9; b < 15; b++) m.set(14 - b, 8, bit(b));
	for (var c = 0; c < 8; c++) m.set(size - 1 - c, 8, bit(c));
	for (var d = 8; d < 15; d++) m.set(8, size - 15 + d, bit(d));
	m.set(8, size - 8, true);
}

function placeCodewords(m, codewords) {
	var size = m.size, k = 0, total = codewords.length * 8;
	for (var right = size - 1; right >= 1; right -= 2) {
		if (right === 6) right = 5;
		for (var v = 0; v < size; v++) {
			var upward = ((right + 1) & 2) === 0;
			var y = upward ? size - 1 - v : v;
			for (var j = 0; j < 2; j++) {
				var x = right - j;
				if (m.fixed[y][x]) continue;
				if (k < total) m.dark[y][x] = ((codewords[k >>> 3] >>> (7 - (k & 7))) & 1) === 1;
				k++;
			}
		}
	}
}

var MASKS = [
	function(x, y) { return (x + y) % 2 === 0; },
	function(x, y) { return y % 2 === 0; },
	function(x, y) { return x % 3 === 0; },
	function(x, y) { return (x + y) % 3 === 0; },
	function(x, y) { return (Math.floor(x / 3) + Math.floor(y / 2)) % 2 === 0; },
	function(x, y) { return x * y % 2 + x * y % 3 === 0; },
	function(x, y) { return (x * y % 2 + x * y % 3) % 2 === 0; },
	function(x, y) { return ((x + y) % 2 + x * y % 3) % 2 === 0; }
];

function applyMask(m, mask) {
	for (var y = 0; y < m.size; y++)
		for (var x = 0; x < m.size; x++)
			if (!m.fixed[y][x] && MASKS[mask](x, y)) m.dark[y][x] = !m.dark[y][x];
}

// The four penalty rules of the standard (runs, 2x2 blocks, finder look-alikes, balance).
function penalty(m) {
	var size = m.size, score = 0, dark = 0;
	var line = function(get) {
		var s = 0, run = 1, seq = '';
		for (var i = 0; i < size; i++) {
			var v = get(i);
			seq += v ? '1' : '0';
			if (i > 0) {
				if (v === get(i - 1)) {
					run++;
					if (run === 5) s += 3; else if (run > 5) s += 1;
				} else run = 1;
			}
		}
		var re = /(?=(10111010000|00001011101))/g;
		while (re.exec(seq) !== null) { s += 40; re.lastIndex++; }
		return s;
	};
	for (var y = 0; y < size; y++) score += line(function(i) { return m.dark[y][i]; });
	for (var x = 0; x < size; x++) score += line(function(i) { return m.dark[i][x]; });
	for (var by = 0; by < size - 1; by++)
		for (var bx = 0; bx < size - 1; bx++) {
			var c = m.dark[by][bx];
			if (c === m.dark[by][bx + 1] && c === m.dark[by + 1][bx] && c === m.dark[by + 1][bx + 1]) score += 3;
		}
	for (var ry = 0; ry < size; ry++) for (var rx = 0; rx < size; rx++) if (m.dark[ry][rx]) dark++;
	var percent = dark * 100 / (size * size);
	return score + Math.floor(Math.abs(percent - 50) / 5) * 10;
}

function encode(text, options) {
	var level = LEVEL[options.ecc || 'L'];
	if (level === undefined) throw new RangeError('Unknown error correction level');
	var bytes = Array.from(new TextEncoder().encode(String(text)));
	var version = 1;
	while (version <= 40 && 4 + (version < 10 ? 8 : 16) + bytes.length * 8 > dataCodewords(version, level) * 8) version++;
	if (version > 40) throw new RangeError('Data too long for a QR code');
	var codewords = interleave(dataBits(bytes, version, level), version, level);
	var best = null, bestScore = Infinity;
	for (var mask = 0; mask < 8; mask++) {
		var m = new Matrix(version);
		drawFunctionPatterns(m, version);
		placeCodewords(m, codewords);
		applyMask(m, mask);
		drawFormat(m, level, mask);
		var score = penalty(m);
		if (score < bestScore) { best = m; bestScore = score; }
	}
	return best;
}

return baseclass.extend({
	renderSVG: function(text, options) {
		options = options || {};
		var m = encode(text, options);
		var border = options.border != null ? options.border : 1;
		var px = options.pixelSize || 1;
		var full = (m.size + border * 2) * px;
		var path = '';
		for (var y = 0; y < m.size; y++)
			for (var x = 0; x < m.size; x++)
				if (m.dark[y][x])
					path += 'M' + (x + border) * px + ',' + (y + border) * px + 'h' + px + 'v' + px + 'h-' + px + 'z';
		return '<svg xmlns="http://www.w3.org/2000/svg" width="' + full + '" height="' + full + '">' +
			'<rect fill="' + (options.whiteColor || 'white') + '" width="' + full + '" height="' + full + '"/>' +
			'<path fill="' + (options.blackColor || 'black') + '" d="' + path + '"/></svg>';
	}
});
