# wgmgr: `make` builds the router filesystem in build/root and the .ipk and .apk in dist/;
# `make test` runs every test. See README.md.

BUILD   := build
ROOT    := $(BUILD)/root
PLUGIN  := $(ROOT)/usr/libexec/rpcd/wgmgr
DEPS    := node_modules/.package-lock.json
LUASRC  := $(shell find luasrc -name '*.ts')
VIEWSRC := $(shell find htdocs -type f 2>/dev/null)
STATIC  := $(shell find root -type f 2>/dev/null)

.PHONY: all plugin views static i18n pot po test bench dev clean

all: plugin views static i18n ipk apk

$(DEPS): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

plugin: $(PLUGIN)

$(PLUGIN): $(DEPS) $(LUASRC) tsconfig.json scripts/pack-lua.mjs
	npx tstl -p tsconfig.json
	@mkdir -p $(dir $@)
	node scripts/pack-lua.mjs $(BUILD)/lua/wgmgr.lua $@

views: $(BUILD)/.views

$(BUILD)/.views: $(DEPS) $(VIEWSRC) $(LUASRC) scripts/build-views.mjs
	node scripts/build-views.mjs $(ROOT)
	@touch $@

# Files installed as they are (menu.d, acl.d, uci-defaults, ...).
static: $(BUILD)/.static

$(BUILD)/.static: $(STATIC)
	@mkdir -p $(ROOT)
	cp -R root/. $(ROOT)/
	@touch $@

# Translations, as LuCI ships them: po/templates/wgmgr.pot from the sources (`make pot`),
# po/<language>/wgmgr.po updated from it (`make po`), and each .po compiled into LuCI's
# binary catalog, for /usr/lib/lua/luci/i18n/ (LuCI names zh_Hans "zh-cn").
# See scripts/i18n/.
i18n: $(BUILD)/i18n/wgmgr.zh-cn.lmo $(BUILD)/.i18n-root

$(BUILD)/i18n/wgmgr.zh-cn.lmo: po/zh_Hans/wgmgr.po scripts/i18n/po2lmo.mjs scripts/i18n/lmo.mjs scripts/i18n/po.mjs
	node scripts/i18n/po2lmo.mjs $< $@

# The tree of the translation package luci-i18n-wgmgr-zh-cn, what luci.mk's LuciTranslation
# installs: the catalog, and the uci-defaults script that offers the language in LuCI.
I18NROOT := $(BUILD)/i18n-root
I18NPKG  := scripts/ipk/luci-i18n-wgmgr-zh-cn

$(BUILD)/.i18n-root: $(BUILD)/i18n/wgmgr.zh-cn.lmo $(I18NPKG)/uci-defaults
	rm -rf $(I18NROOT)
	mkdir -p $(I18NROOT)/usr/lib/lua/luci/i18n $(I18NROOT)/etc/uci-defaults
	cp $(BUILD)/i18n/wgmgr.zh-cn.lmo $(I18NROOT)/usr/lib/lua/luci/i18n/
	cp $(I18NPKG)/uci-defaults $(I18NROOT)/etc/uci-defaults/luci-i18n-wgmgr-zh-cn
	@touch $@

pot: $(DEPS)
	node scripts/i18n/extract.mjs

po: $(DEPS)
	node scripts/i18n/extract.mjs --update

# The opkg packages, dist/luci-app-wgmgr_<version>_all.ipk and
# dist/luci-i18n-wgmgr-zh-cn_<version>_all.ipk (scripts/build-ipk.mjs; the packages are
# described in scripts/package.mjs). Always repacked: it takes a moment and the result is
# byte-reproducible.
.PHONY: ipk apk size
ipk: plugin views static i18n
	node scripts/build-ipk.mjs

# The apk packages for OpenWrt 25.12 and later, dist/<name>-<version>-r<release>.apk
# (scripts/build-apk.mjs): the same files and control data. Always repacked, like the .ipk.
apk: plugin views static i18n
	node scripts/build-apk.mjs

# Every package's size and every installed file's, biggest first.
size: ipk apk
	node scripts/ipk/size.mjs

test: all
	npx vitest run

bench: all
	node test/bench/bench.mjs

# `make dev LUCI_LANG=zh_cn`: the pages in another language (as /etc/config/luci's main.lang).
dev: all
	node test/dev/server.mjs $(if $(LUCI_LANG),--lang $(LUCI_LANG))

clean:
	rm -rf $(BUILD) dist test-output
