'use strict';
'require baseclass';
'require dom';
'require poll';
'require request';
'require rpc';
'require uci';

/*
 * A small stand-in for LuCI's ui.js, for the wgmgr dev preview: modal dialogs,
 * notifications, header indicators, button handlers, the combo button of the page
 * footer, instantiateView() and ui.changes — the "Unsaved Changes" indicator and
 * the Save & Apply flow with rollback, as LuCI documents it:
 *
 *   apply(checked) POSTs admin/uci/apply_rollback (or apply_unchecked); after
 *   apply_holdoff seconds the page POSTs admin/uci/confirm until it answers 200/204
 *   or apply_rollback seconds have passed (then the router has rolled back). On
 *   success it dispatches the document event "uci-applied" and reloads the page
 *   after apply_display seconds.
 *
 * Written for wgmgr; not a copy of LuCI.
 */

var modalDiv = null;

function overlay() {
	if (!modalDiv)
		modalDiv = document.body.appendChild(E('div', { id: 'modal_overlay' },
			E('div', { 'class': 'modal', role: 'dialog', 'aria-modal': 'true' })));
	return modalDiv;
}

var ComboButton = baseclass.extend({
	__init__: function(value, choices, options) {
		this.value = value;
		this.choices = choices;
		this.options = options || {};
	},

	render: function() {
		var self = this, opts = this.options, keys = Object.keys(this.choices);
		var main = E('button', {
			'class': (opts.classes && opts.classes[this.value]) || 'btn',
			'disabled': opts.disabled,
			'click': function(ev) { return opts.click(ev, self.value); }
		}, this.choices[this.value]);
		var others = keys.filter(function(k) { return k != self.value; }).map(function(k) {
			return E('button', {
				'class': ((opts.classes && opts.classes[k]) || 'btn') + ' cbi-dropdown-alt',
				'disabled': opts.disabled,
				'style': 'display:none',
				'click': function(ev) { return opts.click(ev, k); }
			}, self.choices[k]);
		});
		var toggle = E('button', {
			'class': 'btn cbi-dropdown-toggle',
			'disabled': opts.disabled,
			'title': _('More choices'),
			'click': function() {
				others.forEach(function(b) { b.style.display = b.style.display ? '' : 'none'; });
			}
		}, [ '▾' ]);
		return E('span', { 'class': 'cbi-dropdown' }, [ main, toggle ].concat(others));
	}
});

var UI = baseclass.extend({
	__init__: function() {
		document.addEventListener('luci-loaded', function() { UI.prototype.changes.init(); });
		document.addEventListener('uci-loaded', function() { UI.prototype.changes.init(); });
	},

	showModal: function(title, children) {
		var dlg = overlay().firstElementChild;
		dlg.setAttribute('class', 'modal');
		for (var i = 2; i < arguments.length; i++)
			dlg.classList.add(arguments[i]);
		dom.content(dlg, E('h4', {}, title));
		dom.append(dlg, children);
		document.body.classList.add('modal-overlay-active');
		return dlg;
	},

	hideModal: function() {
		document.body.classList.remove('modal-overlay-active');
	},

	addNotification: function(title, children) {
		var mc = document.querySelector('#maincontent') || document.body;
		var body = E('div', { style: 'flex:10' });
		var msg = E('div', { 'class': 'alert-message', style: 'display:flex' }, [
			body,
			E('div', { style: 'flex:1 1 auto;display:flex' }, [
				E('button', {
					'class': 'btn',
					'style': 'margin-left:auto;margin-top:auto',
					'click': function() { msg.remove(); }
				}, [ _('Dismiss') ])
			])
		]);
		if (title != null)
			dom.append(body, E('h4', {}, title));
		dom.append(body, children);
		for (var i = 2; i < arguments.length; i++)
			msg.classList.add(arguments[i]);
		mc.insertBefore(msg, mc.firstElementChild);
		return msg;
	},

	showIndicator: function(id, label, handler, style) {
		var box = document.querySelector('#indicators');
		if (!box)
			return false;
		var ind = box.querySelector('span[data-indicator="' + id + '"]');
		if (!ind) {
			ind = box.appendChild(E('span', { 'data-indicator': id, 'class': 'label', 'data-clickable': handler ? true : null }));
			ind.addEventListener('click', function(ev) { if (ind._handler) ind._handler(ev); });
		}
		ind._handler = handler;
		dom.content(ind, [ label ]);
		ind.classList.toggle('notice', style !== 'inactive');
		return true;
	},

	hideIndicator: function(id) {
		var ind = document.querySelector('#indicators span[data-indicator="' + id + '"]');
		if (ind) ind.remove();
		return !!ind;
	},

	createHandlerFn: function(ctx, fn) {
		if (typeof fn == 'string')
			fn = ctx[fn];
		if (typeof fn != 'function')
			return null;
		var extra = Array.prototype.slice.call(arguments, 2);
		return function() {
			var args = extra.concat(Array.prototype.slice.call(arguments));
			var ev = arguments[0], t = ev && ev.currentTarget;
			if (t) {
				t.classList.add('spinning');
				t.disabled = true;
			}
			return Promise.resolve(fn.apply(ctx, args)).finally(function() {
				if (t) {
					t.classList.remove('spinning');
					t.disabled = false;
				}
			});
		};
	},

	instantiateView: function(path) {
		var name = 'view.' + path.replace(/\//g, '.');
		return L.require(name).then(function(view) {
			if (!(view instanceof L.view))
				throw new TypeError('Loaded class ' + name + ' is not a descendant of View');
			return view;
		}).catch(function(err) {
			dom.content(document.querySelector('#view'), null);
			L.error(err);
		});
	},

	ComboButton: ComboButton,

	changes: baseclass.singleton({
		init: function() {
			if (!L.env.sessionid)
				return;
			return uci.changes().then(this.renderChangeIndicator.bind(this));
		},

		setIndicator: function(n) {
			if (n > 0)
				UI.prototype.showIndicator('uci-changes', _('Unsaved Changes') + ': ' + n, this.displayChanges.bind(this));
			else
				UI.prototype.hideIndicator('uci-changes');
		},

		renderChangeIndicator: function(changes) {
			var n = 0;
			for (var config in changes)
				n += changes[config].length;
			this.changes = changes;
			this.setIndicator(n);
		},

		displayChanges: function() {
			var list = E('div', { 'class': 'uci-change-list' });
			for (var config in this.changes) {
				list.appendChild(E('h5', {}, [ '# /etc/config/' + config ]));
				this.changes[config].forEach(function(c) {
					var words = { 'add': 'add', 'set': 'set', 'remove': 'del', 'order': 'reorder',
						'list-add': 'add_list', 'list-del': 'del_list', 'rename': 'rename' };
					var line = 'uci ' + (words[c[0]] || c[0]) + ' ' + config + '.' + c[1] +
						(c.length > 3 ? '.' + c[2] + "='" + c[3] + "'" : c.length > 2 ? '=' + c[2] : '');
					list.appendChild(E(c[0] == 'remove' || c[0] == 'list-del' ? 'del' : 'ins', {}, [ line ]));
					list.appendChild(E('br'));
				});
			}
			UI.prototype.showModal(_('Configuration') + ' / ' + _('Changes'), [
				E('div', { 'class': 'cbi-section' }, [
					list,
					E('div', { 'class': 'right' }, [
						E('button', { 'class': 'btn', 'click': UI.prototype.hideModal }, [ _('Close') ]), ' ',
						E('button', { 'class': 'cbi-button cbi-button-positive important', 'click': this.apply.bind(this, true) }, [ _('Save & Apply') ]), ' ',
						E('button', { 'class': 'cbi-button cbi-button-reset', 'click': this.revert.bind(this) }, [ _('Revert') ])
					])
				])
			], 'uci-dialog');
		},

		displayStatus: function(type, content) {
			if (type) {
				var message = UI.prototype.showModal('', '');
				message.classList.add('alert-message');
				DOMTokenList.prototype.add.apply(message.classList, type.split(/\s+/));
				if (content)
					dom.content(message, content);
				if (!this.was_polling) {
					this.was_polling = poll.active();
					poll.stop();
				}
			}
			else {
				UI.prototype.hideModal();
				if (this.was_polling)
					poll.start();
			}
		},

		rollback: function(checked) {
			var self = this;
			if (!checked) {
				this.displayStatus('warning', [
					E('h4', {}, [ _('Device unreachable!') ]),
					E('p', {}, [ _('Could not regain access to the device after applying the configuration changes.') ])
				]);
				return;
			}
			this.displayStatus('warning spinning', E('p', {}, [ _('Failed to confirm apply within %ds, waiting for rollback…').format(L.env.apply_rollback) ]));
			var ask = function(r) {
				if (r.status === 204) {
					self.displayStatus('warning', [
						E('h4', {}, [ _('Configuration changes have been rolled back!') ]),
						E('p', {}, [ _('The device could not be reached within %d seconds after applying the pending changes, which caused the configuration to be rolled back for safety reasons.').format(L.env.apply_rollback) ]),
						E('div', { 'class': 'right' }, [
							E('button', { 'class': 'btn', 'click': self.displayStatus.bind(self, false) }, [ _('Dismiss') ]), ' ',
							E('button', { 'class': 'btn cbi-button-action important', 'click': self.revert.bind(self) }, [ _('Revert changes') ]), ' ',
							E('button', { 'class': 'btn cbi-button-negative important', 'click': self.apply.bind(self, false) }, [ _('Apply unchecked') ])
						])
					]);
					return;
				}
				window.setTimeout(function() {
					request.request(L.url('admin/uci/confirm'), { method: 'post', timeout: L.env.apply_timeout * 1000, query: { sid: L.env.sessionid, token: L.env.token } })
						.then(ask, ask.bind(null, { status: 0 }));
				}, 1000);
			};
			ask({ status: 0 });
		},

		confirm: function(checked, deadline, override_token) {
			var self = this, tt, ts = Date.now();
			this.displayStatus('notice');
			if (override_token)
				this.confirm_auth = { token: override_token };

			var call = function(r, data, duration) {
				if (Date.now() >= deadline) {
					window.clearTimeout(tt);
					self.rollback(checked);
					return;
				}
				if (r && (r.status === 200 || r.status === 204)) {
					document.dispatchEvent(new CustomEvent('uci-applied'));
					self.setIndicator(0);
					self.displayStatus('notice', E('p', {}, [ _('Configuration changes applied.') ]));
					window.clearTimeout(tt);
					window.setTimeout(function() {
						window.location = window.location.href.split('#')[0];
					}, L.env.apply_display * 1000);
					return;
				}
				var delay = isNaN(duration) ? 0 : Math.max(1000 - duration, 0);
				window.setTimeout(function() {
					request.request(L.url('admin/uci/confirm'), {
						method: 'post',
						timeout: L.env.apply_timeout * 1000,
						query: self.confirm_auth
					}).then(call, call.bind(null, { status: 0, duration: 0 }));
				}, delay);
			};

			var tick = function() {
				var now = Date.now();
				self.displayStatus('notice spinning', E('p', {}, [
					_('Applying configuration changes… %ds').format(Math.max(Math.floor((deadline - Date.now()) / 1000), 0)) ]));
				if (now >= deadline)
					return;
				tt = window.setTimeout(tick, 1000 - (now - ts));
				ts = now;
			};

			tick();
			window.setTimeout(call.bind(null, { status: 0 }), L.env.apply_holdoff * 1000);
		},

		apply: function(checked) {
			var self = this;
			this.displayStatus('notice spinning', E('p', {}, [ _('Starting configuration apply…') ]));
			request.request(L.url('admin/uci', checked ? 'apply_rollback' : 'apply_unchecked'), {
				method: 'post',
				query: { sid: L.env.sessionid, token: L.env.token }
			}).then(function(r) {
				if (r.status === (checked ? 200 : 204)) {
					var tok = null;
					try { tok = r.json(); } catch (e) {}
					if (checked && tok && typeof tok.token == 'string')
						self.confirm_auth = tok;
					self.confirm(checked, Date.now() + L.env.apply_rollback * 1000);
				}
				else if (checked && r.status === 204) {
					self.displayStatus('notice', E('p', {}, [ _('There are no changes to apply') ]));
					window.setTimeout(function() { self.displayStatus(false); }, L.env.apply_display * 1000);
				}
				else {
					self.displayStatus('warning', E('p', {}, [ _('Apply request failed with status %s').format(r.responseText || r.statusText || r.status) ]));
					window.setTimeout(function() { self.displayStatus(false); }, L.env.apply_display * 1000);
				}
			});
		},

		revert: function() {
			var self = this;
			this.displayStatus('notice spinning', E('p', {}, [ _('Reverting configuration…') ]));
			request.request(L.url('admin/uci/revert'), {
				method: 'post',
				query: { sid: L.env.sessionid, token: L.env.token }
			}).then(function(r) {
				if (r.status === 200) {
					document.dispatchEvent(new CustomEvent('uci-reverted'));
					self.setIndicator(0);
					self.displayStatus('notice', E('p', {}, [ _('Changes have been reverted.') ]));
					window.setTimeout(function() { window.location = window.location.href.split('#')[0]; }, L.env.apply_display * 1000);
				}
				else {
					self.displayStatus('warning', E('p', {}, [ _('Revert request failed with status %s').format(r.statusText || r.status) ]));
					window.setTimeout(function() { self.displayStatus(false); }, L.env.apply_display * 1000);
				}
			});
		}
	})
});

return UI;
