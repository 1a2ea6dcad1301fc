dnl config.m4: lets phpize build apns the way PHP extensions are built, and PIE too
dnl (PIE runs `phpize && ./configure && make && make install` on this directory):
dnl
dnl   phpize && ./configure && make && sudo make install
dnl
dnl The extension is a Rust crate: configure checks for cargo (Rust 1.88 or newer)
dnl and libclang (ext-php-rs generates its PHP bindings with bindgen), and
dnl Makefile.frag runs `cargo build --release` against the PHP whose phpize ran
dnl (its php-config and php binary), then puts the library in modules/apns.so, which
dnl `make install` copies into that PHP's extension directory.

PHP_ARG_ENABLE([apns],
  [whether to enable apns (Apple push notifications, Rust core)],
  [AS_HELP_STRING([--enable-apns], [Build the apns extension (default: yes)])],
  [yes])

if test "$PHP_APNS" != "no"; then
  apns_rust_needed=1.88

  AC_ARG_VAR([CARGO], [cargo, Rust's build tool (Rust 1.88 or newer)])
  AC_PATH_PROG([CARGO], [cargo], [no], [$PATH$PATH_SEPARATOR$HOME/.cargo/bin])
  if test "$CARGO" = "no"; then
    AC_MSG_ERROR([cargo not found: apns is written in Rust and needs Rust $apns_rust_needed or newer. Install it with rustup (https://rustup.rs) or your distribution's cargo and rustc packages if they are that recent (Debian 13: apt install -t trixie-backports cargo rustc), then run configure again (or pass CARGO=/path/to/cargo)])
  fi

  dnl cargo reports the version of the Rust release it belongs to.
  AC_MSG_CHECKING([for Rust $apns_rust_needed or newer])
  apns_cargo_version=`$CARGO --version 2>/dev/null | awk '{print $2}'`
  if test -z "$apns_cargo_version"; then
    AC_MSG_ERROR([$CARGO --version failed: is that Rust installation complete? (rustup: rustup default stable)])
  fi
  apns_version_ok=`echo "$apns_cargo_version $apns_rust_needed" | awk '{
    split($1, have, "[[.-]]"); split($2, need, ".");
    for (i = 1; i <= 3; i++) { if (have[[i]] + 0 > need[[i]] + 0) { print "yes"; exit } if (have[[i]] + 0 < need[[i]] + 0) { print "no"; exit } }
    print "yes" }'`
  if test "$apns_version_ok" != "yes"; then
    AC_MSG_RESULT([no, $apns_cargo_version])
    AC_MSG_ERROR([$CARGO is Rust $apns_cargo_version; apns needs Rust $apns_rust_needed or newer (rustup: rustup update stable; Debian 13: apt install -t trixie-backports cargo rustc; or pass CARGO=/path/to/a/newer/cargo)])
  fi
  AC_MSG_RESULT([yes, $apns_cargo_version])

  dnl bindgen loads libclang at build time: look where clang-sys looks.
  AC_MSG_CHECKING([for libclang])
  apns_libclang=
  apns_llvm_libdir=
  if command -v llvm-config >/dev/null 2>&1; then
    apns_llvm_libdir=`llvm-config --libdir 2>/dev/null`
  fi
  for apns_dir in $LIBCLANG_PATH $apns_llvm_libdir /usr/lib/llvm-*/lib /usr/lib/*-linux-gnu /usr/lib64 /usr/lib /usr/local/lib /usr/local/opt/llvm/lib /opt/homebrew/opt/llvm/lib /Library/Developer/CommandLineTools/usr/lib /Applications/Xcode.app/Contents/Developer/Toolchains/XcodeDefault.xctoolchain/usr/lib; do
    for apns_file in "$apns_dir"/libclang.so "$apns_dir"/libclang.so.* "$apns_dir"/libclang-[[0-9]]*.so* "$apns_dir"/libclang.dylib; do
      if test -f "$apns_file"; then
        apns_libclang="$apns_file"
        break 2
      fi
    done
  done
  if test -z "$apns_libclang"; then
    AC_MSG_RESULT([no])
    AC_MSG_ERROR([libclang not found: ext-php-rs generates apns's PHP bindings with bindgen, which needs libclang. Install it (Debian/Ubuntu: apt install libclang-dev clang; Fedora: dnf install clang-devel; Alpine: apk add clang-dev; macOS: xcode-select --install), or set LIBCLANG_PATH to the directory that holds libclang])
  fi
  AC_MSG_RESULT([$apns_libclang])

  dnl Cargo's target directory: CARGO_TARGET_DIR when set at configure time (to share
  dnl a build), else target/ here. The library's name is the platform's.
  APNS_TARGET_DIR="${CARGO_TARGET_DIR:-$abs_builddir/target}"
  case $host_os in
    darwin*) APNS_CARGO_LIB=libapns.dylib ;;
    *) APNS_CARGO_LIB=libapns.so ;;
  esac
  APNS_PHP_CONFIG="$PHP_CONFIG"
  APNS_SRCDIR="$abs_srcdir"
  PHP_SUBST(CARGO)
  PHP_SUBST(APNS_TARGET_DIR)
  PHP_SUBST(APNS_CARGO_LIB)
  PHP_SUBST(APNS_PHP_CONFIG)
  PHP_SUBST(APNS_SRCDIR)

  dnl No C sources: the module is the one file cargo makes (see Makefile.frag).
  PHP_MODULES="\$(phplibdir)/apns.so"
  PHP_ADD_MAKEFILE_FRAGMENT([$abs_srcdir/Makefile.frag])
fi
