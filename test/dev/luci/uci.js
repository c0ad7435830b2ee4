'use strict';
'require baseclass';
'require rpc';

/*
 * A small stand-in for LuCI's uci.js, for the wgmgr dev preview: only changes(),
 * which ui.changes uses for the "Unsaved Changes" indicator (ubus `uci changes`
 * with the session, answered from the session's staged deltas).
 */

var callChanges = rpc.declare({ object: 'uci', method: 'changes', expect: { changes: {} } });

return baseclass.extend({
	changes: function() {
		return callChanges();
	}
});
