/*
 * A small stand-in for LuCI's luci.js (OpenWrt 23.05/24.10), for the wgmgr dev
 * preview and browser tests. It implements only what the wgmgr pages and the other
 * stand-in modules use, with LuCI's documented behaviour:
 *
 * - L.require(name) fetches <base_url>/<name with dots as slashes>.js, scans the
 *   leading string literals for 'use strict' and 'require <module> [as <alias>]'
 *   (skipping comments, stopping at the first other string), loads those modules,
 *   evals the source as the body of function(window, document, L, <aliases>), checks
 *   that it returns a subclass of baseclass, instantiates it once and caches it;
 * - baseclass.extend copies own enumerable properties onto a new prototype;
 * - view: load() -> render() -> content of #view plus the Save & Apply footer,
 *   disabled when the menu node is read-only (L.hasViewPermission());
 * - poll: one 1 s timer; a function added with an interval of N seconds runs every
 *   Nth tick, never twice at once;
 * - request: XHR with `query` (URL parameters) and `content` (JSON body);
 * - E() and String.prototype.format (%s %d %f %h %q %%); _() and N_() come from cbi.js,
 *   loaded before this file, as in LuCI.
 *
 * Written for wgmgr; not a copy of LuCI.
 */
(function(window, document) {
	'use strict';

	var env = {};
	var classes = {};

	/* ---- classes ---------------------------------------------------------------------------- */

	var superContext = null;

	function Class() {}

	Class.extend = function(properties) {
		var props = {
			__base__: { value: this.prototype },
			__name__: { value: properties.__name__ || 'anonymous' }
		};

		var C = function() {
			if (!(this instanceof C))
				throw new TypeError('Constructor must not be called without "new"');

			if (Object.getPrototypeOf(this).hasOwnProperty('__init__'))
				this.__init__.apply(this, arguments);
			else
				this.super('__init__', arguments);
		};

		for (var key in properties)
			if (!props[key] && Object.prototype.hasOwnProperty.call(properties, key))
				props[key] = { value: properties[key], writable: true };

		C.prototype = Object.create(this.prototype, props);
		C.prototype.constructor = C;
		C.extend = Class.extend;
		C.singleton = Class.singleton;
		C.instantiate = Class.instantiate;
		C.isSubclass = Class.isSubclass;
		return C;
	};

	Class.singleton = function(properties) {
		return Class.extend(properties).instantiate(Array.prototype.slice.call(arguments, 1));
	};

	Class.instantiate = function(args) {
		return new (Function.prototype.bind.apply(this, [null].concat(args || [])))();
	};

	Class.isSubclass = function(c) {
		return typeof c == 'function' && c.prototype instanceof this;
	};

	Class.prototype = {
		varargs: function(args, offset) {
			return Array.prototype.slice.call(arguments, 2).concat(Array.prototype.slice.call(args, offset));
		},

		super: function(key, callArgs) {
			var ctx = superContext || Object.getPrototypeOf(this);
			for (ctx = Object.getPrototypeOf(ctx); ctx && !ctx.hasOwnProperty(key); ctx = Object.getPrototypeOf(ctx)) {}
			if (!ctx)
				return null;

			var res = ctx[key];
			if (arguments.length > 1) {
				if (typeof res != 'function')
					throw new ReferenceError(key + ' is not a function in base class');
				var saved = superContext;
				superContext = ctx;
				try {
					res = res.apply(this, typeof callArgs == 'object' ? callArgs : this.varargs(arguments, 1));
				}
				finally {
					superContext = saved;
				}
			}
			return res;
		}
	};

	/* ---- strings ---------------------------------------------------------------------------- */

	function escapeHTML(s) {
		return String(s).replace(/[&<>"']/g, function(c) {
			return '&#' + c.charCodeAt(0) + ';';
		});
	}

	String.prototype.format = function() {
		var args = arguments, i = 0;
		return this.replace(/%(-?\d*)(?:\.(\d+))?([sdfhq%])/g, function(m, width, prec, type) {
			if (type == '%')
				return '%';
			var v = args[i++], s;
			switch (type) {
			case 'd': s = String(Math.trunc(Number(v)) || 0); break;
			case 'f': s = Number(v).toFixed(prec != null ? +prec : 6); break;
			case 'h': s = escapeHTML(v); break;
			case 'q': s = JSON.stringify(String(v)); break;
			default: s = (v == null) ? '' : String(v);
			}
			var w = Math.abs(+width || 0);
			while (s.length < w) s = (+width < 0) ? s + ' ' : ' ' + s;
			return s;
		});
	};

	/* ---- requests ---------------------------------------------------------------------------- */

	var Headers = Class.extend({
		__init__: function(xhr) {
			var h = this.headers = {};
			xhr.getAllResponseHeaders().split(/\r\n/).forEach(function(line) {
				var m = /^([^:]+):(.*)$/.exec(line);
				if (m) h[m[1].trim().toLowerCase()] = m[2].trim();
			});
		},
		has: function(name) { return Object.prototype.hasOwnProperty.call(this.headers, String(name).toLowerCase()); },
		get: function(name) { var k = String(name).toLowerCase(); return this.has(k) ? this.headers[k] : null; }
	});

	var Response = Class.extend({
		__init__: function(xhr, url, duration) {
			this.ok = xhr.status >= 200 && xhr.status <= 299;
			this.status = xhr.status;
			this.statusText = xhr.statusText;
			this.headers = new Headers(xhr);
			this.duration = duration;
			this.url = url;
			this.xhr = xhr;
			this.responseText = xhr.responseText;
		},
		json: function() { return JSON.parse(this.responseText); },
		text: function() { return this.responseText; }
	});

	function encodeQuery(q) {
		return Object.keys(q).filter(function(k) { return q[k] != null; }).map(function(k) {
			var v = (typeof q[k] == 'object') ? JSON.stringify(q[k]) : String(q[k]);
			return encodeURIComponent(k) + '=' + encodeURIComponent(v);
		}).join('&');
	}

	var Request = Class.singleton({
		__name__: 'LuCI.request',

		expandURL: function(url) {
			return /^(?:[^/]+:)?\/\//.test(url) ? url : location.protocol + '//' + location.host + url;
		},

		request: function(target, options) {
			var opt = Object.assign({}, options), url = this.expandURL(target), start = Date.now();
			var method = String(opt.method || 'GET').toUpperCase(), body = null, type = null;

			if (opt.query) {
				var q = encodeQuery(opt.query);
				if (q && (method == 'GET' || method == 'HEAD'))
					url += (/\?/.test(url) ? '&' : '?') + q;
				else if (q && opt.content == null) {
					body = q;
					type = 'application/x-www-form-urlencoded';
				}
			}
			if (!opt.cache)
				url += (/\?/.test(url) ? '&' : '?') + Date.now();
			if (opt.content != null) {
				body = (typeof opt.content == 'object') ? JSON.stringify(opt.content) : String(opt.content);
				type = (typeof opt.content == 'object') ? 'application/json' : type;
			}

			return new Promise(function(resolve, reject) {
				var xhr = new XMLHttpRequest();
				xhr.open(method, url, true);
				if (opt.timeout) xhr.timeout = +opt.timeout;
				if (type) xhr.setRequestHeader('Content-Type', type);
				xhr.onreadystatechange = function() {
					if (xhr.readyState !== 4)
						return;
					if (xhr.status === 0)
						reject(new Error('XHR request aborted by browser'));
					else
						resolve(new Response(xhr, xhr.responseURL || url, Date.now() - start));
				};
				xhr.send(body);
			});
		},

		get: function(url, options) { return this.request(url, Object.assign({ method: 'GET' }, options)); },
		post: function(url, data, options) { return this.request(url, Object.assign({ method: 'POST', content: data }, options)); }
	});

	/* ---- poll ---------------------------------------------------------------------------------- */

	var Poll = Class.singleton({
		__name__: 'LuCI.poll',
		queue: [],

		add: function(fn, interval) {
			if (interval == null || interval <= 0)
				interval = env.pollinterval || 5;
			if (isNaN(interval) || typeof fn != 'function')
				throw new TypeError('Invalid argument to LuCI.poll.add()');
			for (var i = 0; i < this.queue.length; i++)
				if (this.queue[i].fn === fn)
					return false;
			this.queue.push({ r: true, i: interval >>> 0, fn: fn });
			if (this.tick != null && !this.active())
				this.start();
			return true;
		},

		remove: function(fn) {
			var n = this.queue.length;
			this.queue = this.queue.filter(function(e) { return e.fn !== fn; });
			if (!this.queue.length && this.stop())
				this.tick = 0;
			return this.queue.length != n;
		},

		start: function() {
			if (this.active())
				return false;
			this.tick = 0;
			if (this.queue.length) {
				this.timer = window.setInterval(this.step, 1000);
				this.step();
				document.dispatchEvent(new CustomEvent('poll-start'));
			}
			return true;
		},

		stop: function() {
			if (!this.active())
				return false;
			document.dispatchEvent(new CustomEvent('poll-stop'));
			window.clearInterval(this.timer);
			delete this.timer;
			delete this.tick;
			return true;
		},

		step: function() {
			Poll.queue.forEach(function(e) {
				if (Poll.tick % e.i != 0 || !e.r)
					return;
				e.r = false;
				Promise.resolve(e.fn()).finally(function() { e.r = true; });
			});
			Poll.tick = (Poll.tick + 1) % Math.pow(2, 32);
		},

		active: function() { return this.timer != null; }
	});

	/* ---- DOM ------------------------------------------------------------------------------------- */

	var DOM = Class.singleton({
		__name__: 'LuCI.dom',
		registry: {},

		elem: function(e) { return e != null && typeof e == 'object' && 'nodeType' in e; },

		parse: function(s) {
			try { return new DOMParser().parseFromString(s, 'text/html').body.firstChild; }
			catch (e) { return null; }
		},

		matches: function(node, selector) { return this.elem(node) && node.matches ? node.matches(selector) : false; },
		parent: function(node, selector) { return this.elem(node) && node.closest ? node.closest(selector) : null; },

		append: function(node, children) {
			if (!this.elem(node))
				return null;
			if (Array.isArray(children)) {
				for (var i = 0; i < children.length; i++)
					if (this.elem(children[i]))
						node.appendChild(children[i]);
					else if (children[i] != null)
						node.appendChild(document.createTextNode(String(children[i])));
				return node.lastChild;
			}
			if (typeof children == 'function')
				return this.append(node, children(node));
			if (this.elem(children))
				return node.appendChild(children);
			if (children != null) {
				node.innerHTML = String(children);
				return node.lastChild;
			}
			return null;
		},

		content: function(node, children) {
			if (!this.elem(node))
				return null;
			var refs = node.querySelectorAll('[data-idref]');
			for (var i = 0; i < refs.length; i++)
				delete this.registry[refs[i].getAttribute('data-idref')];
			while (node.firstChild)
				node.removeChild(node.firstChild);
			return this.append(node, children);
		},

		attr: function(node, key, val) {
			if (!this.elem(node))
				return null;
			var attr = (typeof key == 'object' && key !== null) ? key : null;
			if (typeof key == 'string') {
				attr = {};
				attr[key] = val;
			}
			for (var k in attr) {
				if (!Object.prototype.hasOwnProperty.call(attr, k) || attr[k] == null)
					continue;
				if (typeof attr[k] == 'function')
					node.addEventListener(k, attr[k]);
				else if (typeof attr[k] == 'object')
					node.setAttribute(k, JSON.stringify(attr[k]));
				else
					node.setAttribute(k, attr[k]);
			}
		},

		create: function(html, attr, data) {
			var elem;
			if (!(attr instanceof Object) || Array.isArray(attr) || this.elem(attr)) {
				data = attr;
				attr = null;
			}
			if (Array.isArray(html)) {
				elem = document.createDocumentFragment();
				for (var i = 0; i < html.length; i++)
					elem.appendChild(this.create(html[i]));
			}
			else if (this.elem(html))
				elem = html;
			else if (html.charCodeAt(0) === 60)
				elem = this.parse(html);
			else
				elem = document.createElement(html);
			if (!elem)
				return null;
			this.attr(elem, attr);
			this.append(elem, data);
			return elem;
		},

		data: function(node, key, val) {
			var id = node.getAttribute('data-idref');
			if (arguments.length > 2 && key != null && val != null) {
				if (id == null) {
					do { id = Math.floor(Math.random() * 0xffffffff).toString(16); }
					while (this.registry[id]);
					node.setAttribute('data-idref', id);
					this.registry[id] = {};
				}
				return (this.registry[id][key] = val);
			}
			if (arguments.length == 2)
				return id != null && this.registry[id] ? this.registry[id][key] : null;
			return id != null ? this.registry[id] : null;
		},

		bindClassInstance: function(node, inst) { return this.data(node, '_class', inst); },

		findClassInstance: function(node) {
			var inst = null;
			do {
				inst = this.data(node, '_class');
				node = node.parentNode;
			}
			while (!(inst instanceof Class) && node != null && node.getAttribute);
			return inst;
		},

		callClassMethod: function(node, method) {
			var inst = this.findClassInstance(node);
			if (inst == null || typeof inst[method] != 'function')
				return null;
			return inst[method].apply(inst, Array.prototype.slice.call(arguments, 2));
		},

		isEmpty: function(node) {
			for (var c = node && node.firstElementChild; c; c = c.nextElementSibling)
				if (!c.classList.contains('hidden'))
					return false;
			return true;
		}
	});

	var Session = Class.singleton({
		__name__: 'LuCI.session',
		getID: function() { return env.sessionid || '00000000000000000000000000000000'; },
		getToken: function() { return env.token || null; }
	});

	/* ---- view -------------------------------------------------------------------------------------- */

	var View = Class.extend({
		__name__: 'LuCI.view',

		__init__: function() {
			var vp = document.getElementById('view');
			DOM.content(vp, E('div', { 'class': 'spinning' }, [ _('Loading view…') ]));

			return Promise.resolve(this.load())
				.then(function(result) {
					return L.loaded ? result : new Promise(function(resolve) {
						document.addEventListener('luci-loaded', function() { resolve(result); }, { once: true });
					});
				})
				.then(this.render.bind(this))
				.then(function(nodes) {
					var vp = document.getElementById('view');
					DOM.content(vp, nodes);
					DOM.append(vp, this.addFooter());
				}.bind(this))
				.catch(L.error);
		},

		load: function() {},
		render: function() {},

		handleSave: function(ev) {
			var tasks = [];
			document.getElementById('maincontent').querySelectorAll('.cbi-map').forEach(function(map) {
				tasks.push(DOM.callClassMethod(map, 'save'));
			});
			return Promise.all(tasks);
		},

		handleSaveApply: function(ev, mode) {
			return this.handleSave(ev).then(function() {
				classes.ui.changes.apply(mode == '0');
			});
		},

		handleReset: function(ev) {
			var tasks = [];
			document.getElementById('maincontent').querySelectorAll('.cbi-map').forEach(function(map) {
				tasks.push(DOM.callClassMethod(map, 'reset'));
			});
			return Promise.all(tasks);
		},

		addFooter: function() {
			var footer = E([]), vp = document.getElementById('view'), hasmap = false, readonly = true;
			vp.querySelectorAll('.cbi-map').forEach(function(map) {
				var m = DOM.findClassInstance(map);
				if (m) {
					hasmap = true;
					if (!m.readonly) readonly = false;
				}
			});
			if (!hasmap)
				readonly = !L.hasViewPermission();

			var ui = classes.ui;
			if (this.handleSaveApply || this.handleSave || this.handleReset) {
				footer.appendChild(E('div', { 'class': 'cbi-page-actions' }, [
					this.handleSaveApply ? new ui.ComboButton('0', {
						0: [ _('Save & Apply') ],
						1: [ _('Apply unchecked') ]
					}, {
						classes: {
							0: 'btn cbi-button cbi-button-apply important',
							1: 'btn cbi-button cbi-button-negative important'
						},
						click: ui.createHandlerFn(this, 'handleSaveApply'),
						disabled: readonly || null
					}).render() : '', ' ',
					this.handleSave ? E('button', {
						'class': 'cbi-button cbi-button-save',
						'click': ui.createHandlerFn(this, 'handleSave'),
						'disabled': readonly || null
					}, [ _('Save') ]) : '', ' ',
					this.handleReset ? E('button', {
						'class': 'cbi-button cbi-button-reset',
						'click': ui.createHandlerFn(this, 'handleReset'),
						'disabled': readonly || null
					}, [ _('Reset') ]) : ''
				]));
			}
			return footer;
		}
	});

	/* ---- the LuCI object ------------------------------------------------------------------------- */

	classes.baseclass = Class;
	classes.dom = DOM;
	classes.poll = Poll;
	classes.request = Request;
	classes.session = Session;
	classes.view = View;

	var REQUIRE = /^require[ \t]+(\S+)(?:[ \t]+as[ \t]+([a-zA-Z_]\S*))?$/;
	var STRICT = /^use[ \t]+strict$/;

	/* The leading 'require …' directives of a class file: [[module, alias], …]. */
	function scanDirectives(source) {
		var found = [];
		for (var i = 0, off = -1, prev = -1, quote = -1, comment = -1, esc = false; i < source.length; i++) {
			var chr = source.charCodeAt(i);
			if (esc)
				esc = false;
			else if (comment != -1) {
				if ((comment == 47 && chr == 10) || (comment == 42 && prev == 42 && chr == 47))
					comment = -1;
			}
			else if (quote == -1 && (chr == 42 || chr == 47) && prev == 47)
				comment = chr;
			else if (chr == 92)
				esc = true;
			else if (chr == quote) {
				var s = source.substring(off, i), m = REQUIRE.exec(s);
				if (m)
					found.push([ m[1], m[2] || m[1].replace(/[^a-zA-Z0-9_]/g, '_') ]);
				else if (!STRICT.exec(s))
					break;
				off = quote = -1;
			}
			else if (quote == -1 && (chr == 34 || chr == 39)) {
				off = i + 1;
				quote = chr;
			}
			prev = chr;
		}
		return found;
	}

	var LuCI = Class.extend({
		__name__: 'LuCI',

		__init__: function(setenv) {
			document.querySelectorAll('script[src*="/luci.js"]').forEach(function(s) {
				var m = (s.getAttribute('src') || '').match(/^(.*)\/luci\.js(?:\?v=([^?]+))?$/);
				if (m && !setenv.base_url) {
					setenv.base_url = m[1];
					setenv.resource_version = m[2];
				}
			});
			Object.assign(env, setenv);

			var domReady = new Promise(function(resolve) {
				document.addEventListener('DOMContentLoaded', resolve);
			});
			Promise.all([ domReady, this.require('ui'), this.require('rpc') ])
				.then(this.setupDOM.bind(this)).catch(this.error);
		},

		setupDOM: function(res) {
			var ui = res[1], rpc = res[2];
			rpc.setBaseURL(env.ubuspath);
			document.addEventListener('poll-start', function() {
				ui.showIndicator('poll-status', _('Refreshing'), function() {
					Poll.active() ? Poll.stop() : Poll.start();
				});
			});
			document.addEventListener('poll-stop', function() {
				ui.showIndicator('poll-status', _('Paused'), null, 'inactive');
			});
			Poll.start();
			L.loaded = true;
			document.dispatchEvent(new CustomEvent('luci-loaded'));
		},

		loaded: false,
		env: env,

		raise: function(type, fmt) {
			var msg = fmt ? String.prototype.format.apply(fmt, Array.prototype.slice.call(arguments, 2)) : null;
			var e;
			if (type instanceof Error) {
				e = type;
				if (msg) e.message = msg + ': ' + e.message;
			}
			else {
				e = new (window[type || 'Error'] || Error)(msg || 'Unspecified error');
				e.name = type || 'Error';
			}
			if (window.console && console.debug)
				console.debug(e);
			throw e;
		},

		error: function(type, fmt) {
			try {
				LuCI.prototype.raise.apply(LuCI.prototype, Array.prototype.slice.call(arguments));
			}
			catch (e) {
				if (!e.reported) {
					if (classes.ui && classes.ui.addNotification)
						classes.ui.addNotification(e.name || _('Runtime error'), E('pre', {}, [ e.message ]), 'danger');
					else
						DOM.content(document.querySelector('#maincontent'), E('pre', { 'class': 'alert-message error' }, [ e.message ]));
					e.reported = true;
				}
				throw e;
			}
		},

		bind: function(fn, self) {
			return Function.prototype.bind.apply(fn, [ self ].concat(Array.prototype.slice.call(arguments, 2)));
		},

		require: function(name, from) {
			from = from || [];
			if (classes[name] != null) {
				if (from.indexOf(name) != -1)
					LuCI.prototype.raise('DependencyError', 'Circular dependency: class "%s" depends on "%s"', name, from.join('" which depends on "'));
				return Promise.resolve(classes[name]);
			}

			var url = env.base_url + '/' + name.replace(/\./g, '/') + '.js' + (env.resource_version ? '?v=' + env.resource_version : '');
			from = [ name ].concat(from);

			var compile = function(res) {
				if (!res.ok)
					LuCI.prototype.raise('NetworkError', 'HTTP error %d while loading class file "%s"', res.status, url);

				var source = res.text(), deps = scanDirectives(source);
				return Promise.all(deps.map(function(d) { return LuCI.prototype.require(d[0], from); })).then(function(instances) {
					var factory;
					try {
						factory = eval('(function(window, document, L' + deps.map(function(d) { return ', ' + d[1]; }).join('') +
							') { ' + source + ' })\n\n//# sourceURL=' + res.url + '\n');
					}
					catch (err) {
						LuCI.prototype.raise('SyntaxError', '%s\n  in %s', err.message, res.url);
					}
					var cls = factory.apply(factory, [ window, document, L ].concat(instances));
					if (!Class.isSubclass(cls))
						LuCI.prototype.error('TypeError', '"%s" factory yields invalid constructor', name);

					var instance = new cls(), parts = name.split(/\./), ptr = Object.getPrototypeOf(L), i = 0;
					while (ptr && i < parts.length - 1)
						ptr = ptr[parts[i++]];
					if (ptr)
						ptr[parts[i]] = instance;
					classes[name] = instance;
					return instance;
				});
			};

			classes[name] = Request.get(url, { cache: true }).then(compile);
			return classes[name];
		},

		path: function(prefix, parts) {
			var url = [ prefix || '' ];
			for (var i = 0; i < parts.length; i++)
				if (/^(?:[a-zA-Z0-9_.%,;-]+\/)*[a-zA-Z0-9_.%,;-]+$/.test(parts[i]))
					url.push('/', parts[i]);
			if (url.length === 1)
				url.push('/');
			return url.join('');
		},

		url: function() { return this.path(env.scriptname, arguments); },
		resource: function() { return this.path(env.resource, arguments); },
		location: function() { return this.path(env.scriptname, env.requestpath); },

		isObject: function(v) { return v != null && typeof v == 'object'; },
		isArguments: function(v) { return Object.prototype.toString.call(v) == '[object Arguments]'; },

		toArray: function(v) {
			if (v == null) return [];
			if (Array.isArray(v)) return v;
			if (typeof v == 'object') return [ v ];
			var s = String(v).trim();
			return s == '' ? [] : s.split(/\s+/);
		},

		resolveDefault: function(value, defvalue) {
			return Promise.resolve(value).catch(function() { return defvalue; });
		},

		hasViewPermission: function() {
			if (!this.isObject(env.nodespec) || !env.nodespec.satisfied)
				return null;
			return !env.nodespec.readonly;
		},

		dom: DOM,
		view: View,
		Poll: Poll,
		Request: Request,
		Class: Class
	});

	window.LuCI = LuCI;
	window.E = function() { return DOM.create.apply(DOM, arguments); };
})(window, document);
