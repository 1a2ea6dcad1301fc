# Makefile.frag: appended by phpize's configure (config.m4) to its Makefile.
#
# The module is built by cargo, not by libtool: `make` runs cargo (which rebuilds
# only what changed) with PHP and PHP_CONFIG naming the PHP whose phpize ran, so
# ext-php-rs reads that PHP's headers and version; the library becomes
# modules/apns.so, which `make install` copies into that PHP's extension dir.

.PHONY: apns-cargo-build

$(phplibdir)/apns.so: apns-cargo-build
	@$(mkinstalldirs) $(phplibdir)
	cp $(APNS_TARGET_DIR)/release/$(APNS_CARGO_LIB) $@

apns-cargo-build:
	cd $(APNS_SRCDIR) && PHP=$(PHP_EXECUTABLE) PHP_CONFIG=$(APNS_PHP_CONFIG) \
		CARGO_TARGET_DIR=$(APNS_TARGET_DIR) $(CARGO) build --release --locked --lib -p apns
