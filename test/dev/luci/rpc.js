'use strict';
'require baseclass';
'require request';

/*
 * A small stand-in for LuCI's rpc.js, for the wgmgr dev preview. rpc.declare() as
 * LuCI documents it: positional arguments become the named `params`; the call goes
 * out as JSON-RPC {method: "call", params: [sid, object, method, args]}; the reply
 * is the data of the ubus result [status, data], or the bare status when there is
 * no data (rpcd answers an empty object with [0]); a non-zero status resolves with
 * the numeric code, or rejects with `reject: true` ("... failed with ubus code N:
 * ..."); `expect` picks a key of the reply (the key '' the whole reply) and falls
 * back to its default when the key is missing or of another type (so
 * `expect: { '': {} }` turns [0] into {}); `filter` post-processes the reply.
 * JSON-RPC errors (such as uhttpd's -32002 "Access denied") reject.
 *
 * Written for wgmgr; not a copy of LuCI.
 */

var requestID = 1;
var sessionID = L.env.sessionid || '00000000000000000000000000000000';
var baseURL = L.env.ubuspath || '/ubus/';
var interceptors = [];

var STATUS = [ 'Command OK', 'Invalid command', 'Invalid argument', 'Method not found', 'Resource not found',
	'No data received', 'Permission denied', 'Request timeout', 'Not supported', 'Unspecified error', 'Connection lost' ];

return baseclass.extend({
	call: function(msg, cb) {
		return request.post(baseURL, msg, { timeout: (L.env.rpctimeout || 20) * 1000 }).then(cb, cb);
	},

	parseCallReply: function(req, res) {
		var msg;
		if (res instanceof Error)
			return req.reject(res);
		try {
			if (!res.ok)
				L.raise('RPCError', 'RPC call to %s/%s failed with HTTP error %d: %s', req.object, req.method, res.status, res.statusText || '?');
			msg = res.json();
		}
		catch (e) {
			return req.reject(e);
		}
		Promise.all(interceptors.map(function(fn) { return fn(msg, req); }))
			.then(this.handleCallReply.bind(this, req, msg))
			.catch(req.reject);
	},

	handleCallReply: function(req, msg) {
		var ret = null, type = Object.prototype.toString;
		try {
			if (!L.isObject(msg) || msg.jsonrpc != '2.0')
				L.raise('RPCError', 'RPC call to %s/%s returned invalid message frame', req.object, req.method);
			if (L.isObject(msg.error) && msg.error.code && msg.error.message)
				L.raise('RPCError', 'RPC call to %s/%s failed with error %d: %s', req.object, req.method, msg.error.code, msg.error.message);
			if (Array.isArray(msg.result)) {
				if (req.raise && msg.result[0] !== 0)
					L.raise('RPCError', 'RPC call to %s/%s failed with ubus code %d: %s', req.object, req.method, msg.result[0], this.getStatusText(msg.result[0]));
				ret = msg.result.length > 1 ? msg.result[1] : msg.result[0];
			}
		}
		catch (e) {
			return req.reject(e);
		}

		if (req.expect) {
			for (var key in req.expect) {
				if (ret != null && key != '')
					ret = ret[key];
				if (ret == null || type.call(ret) != type.call(req.expect[key]))
					ret = req.expect[key];
				break;
			}
		}
		if (typeof req.filter == 'function') {
			req.priv[0] = ret;
			req.priv[1] = req.params;
			ret = req.filter.apply(this, req.priv);
		}
		req.resolve(ret);
	},

	list: function() {
		var self = this, msg = { jsonrpc: '2.0', id: requestID++, method: 'list', params: arguments.length ? Array.prototype.slice.call(arguments) : undefined };
		return new Promise(function(resolve, reject) {
			self.call(msg, self.parseCallReply.bind(self, { resolve: resolve, reject: reject }));
		});
	},

	declare: function(options) {
		var self = this;
		return function() {
			var args = Array.prototype.slice.call(arguments);
			return new Promise(function(resolve, reject) {
				var params = {}, n = 0;
				if (Array.isArray(options.params))
					for (; n < options.params.length; n++)
						params[options.params[n]] = args[n];
				var priv = [ undefined, undefined ].concat(args.slice(n));
				var req = {
					expect: options.expect, filter: options.filter, resolve: resolve, reject: reject,
					params: params, priv: priv, object: options.object, method: options.method, raise: options.reject
				};
				var msg = { jsonrpc: '2.0', id: requestID++, method: 'call', params: [ sessionID, options.object, options.method, params ] };
				self.call(msg, self.parseCallReply.bind(self, req));
			});
		};
	},

	getSessionID: function() { return sessionID; },
	setSessionID: function(sid) { sessionID = sid; },
	getBaseURL: function() { return baseURL; },
	setBaseURL: function(url) { baseURL = url; },
	getStatusText: function(code) { return _(STATUS[code] || 'Unknown error code'); },

	addInterceptor: function(fn) {
		if (typeof fn == 'function')
			interceptors.push(fn);
		return fn;
	},

	removeInterceptor: function(fn) {
		var n = interceptors.length;
		interceptors = interceptors.filter(function(f) { return f !== fn; });
		return interceptors.length < n;
	}
});
