#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_common_install.sh BUILD_DIR SOURCE_DIR CC - `cmake --install` gives
# a tree others can build against.
#
# Installs the build with DESTDIR into a temporary folder (prefix /opt/vigil,
# so the tree is also moved away from the prefix it was installed for:
# vigil.pc and the CMake package must find their files from where they
# are), checks the files (headers with the generated version.h, libvigil.a,
# libvigil.so with its soname, the program, the man page with its version,
# vigil.pc, the CMake package), then builds tests/install/consumer.c
#   - with pkg-config against the shared library,
#   - with pkg-config --static against all of libvigil.a (whole archive),
#   - with find_package(vigil) against vigil::vigil and vigil::vigil_static,
# and runs each program.  Run by ctest as test_common_install (not in the
# sanitizer builds, whose library needs the sanitizer's runtime).
set -euo pipefail

[ $# -eq 3 ] || { echo "usage: test_common_install.sh BUILD_DIR SOURCE_DIR CC" >&2; exit 2; }
build=$1 src=$2 cc=$3
for tool in pkg-config readelf cmake; do
  command -v $tool >/dev/null || { echo "install: $tool not installed, skipped"; exit 77; }
done
version=$(sed -n 's/^#define VIGIL_VERSION_STRING "\(.*\)"$/\1/p' "$build/include/vigil/version.h")
[ -n "$version" ] || { echo "install: no version in $build/include/vigil/version.h"; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
DESTDIR=$tmp/dest cmake --install "$build" --prefix /opt/vigil >"$tmp/install.log" || {
  cat "$tmp/install.log"
  exit 1
}
prefix=$tmp/dest/opt/vigil

fail=0
problem() {
  echo "install: $*"
  fail=1
}
pc=$(find "$prefix" -name vigil.pc -path '*/pkgconfig/*' | head -n1)
[ -n "$pc" ] || { echo "install: no vigil.pc under $prefix"; exit 1; }
libdir=$(dirname "$(dirname "$pc")")
for f in include/vigil/common.h include/vigil/version.h include/vigil/pdq.h bin/vigil share/man/man1/vigil.1; do
  [ -f "$prefix/$f" ] || problem "$f not installed"
done
for f in libvigil.a libvigil.so "libvigil.so.$version" "$libdir/cmake/vigil/vigilConfig.cmake"; do
  [ -e "$libdir/${f#$libdir/}" ] || problem "${f#$libdir/} not installed in $libdir"
done
[ $fail -eq 0 ] || exit 1
soname=$(readelf -d "$libdir/libvigil.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[[ $soname == libvigil.so.[0-9]* ]] || problem "libvigil.so has soname '$soname'"
[ -e "$libdir/$soname" ] || problem "$soname (the soname) not installed"
grep -q "^\.TH VIGIL 1 .*\"vigil $version\"" "$prefix/share/man/man1/vigil.1" || problem "the man page does not say vigil $version"
out=$(LD_LIBRARY_PATH=$libdir "$prefix/bin/vigil" --version) || true
[ "$out" = "vigil $version" ] || problem "bin/vigil --version printed '$out'"

export PKG_CONFIG_PATH=$libdir/pkgconfig
[ "$(pkg-config --modversion vigil)" = "$version" ] || problem "pkg-config --modversion vigil is not $version"

needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }
# run NAME PROGRAM: the consumer prints "ok VERSION sqlite".
run() {
  local got
  if ! got=$("$2" "$src/samples" "$tmp" 2>&1); then
    problem "$1: the program failed: $got"
  elif [ "$got" != "ok $version sqlite" ]; then
    problem "$1: printed '$got'"
  fi
  rm -f "$tmp"/consumer.db*
}

# Shared, through pkg-config.
# shellcheck disable=SC2046
if $cc -o "$tmp/pc_shared" "$src/tests/install/consumer.c" $(pkg-config --cflags --libs vigil) \
  -Wl,-rpath,"$libdir" 2>"$tmp/cc.log"; then
  needed "$tmp/pc_shared" | grep -qx "$soname" || problem "pkg-config shared: the program does not load $soname"
  run "pkg-config shared" "$tmp/pc_shared"
else
  problem "pkg-config shared: the build failed:"
  cat "$tmp/cc.log"
fi

# Static, through pkg-config --static: libvigil.a named by path so the
# linker cannot take the shared library instead, and linked whole, so
# every object's dependencies must be in vigil.pc, not only those of the
# objects this program happens to use.
libs=" $(pkg-config --static --libs vigil) "
libs=${libs/ -lvigil / -Wl,--whole-archive $libdir/libvigil.a -Wl,--no-whole-archive }
# shellcheck disable=SC2086
if $cc -o "$tmp/pc_static" "$src/tests/install/consumer.c" $(pkg-config --cflags vigil) $libs 2>"$tmp/cc.log"; then
  needed "$tmp/pc_static" | grep -q '^libvigil' && problem "pkg-config --static: the program still loads libvigil.so"
  run "pkg-config --static" "$tmp/pc_static"
else
  problem "pkg-config --static: the build failed (libs:$libs):"
  cat "$tmp/cc.log"
fi

# find_package(vigil), both targets.
if cmake -S "$src/tests/install" -B "$tmp/cm" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" \
  -DCMAKE_BUILD_TYPE=Release >"$tmp/cm.log" 2>&1 && cmake --build "$tmp/cm" >>"$tmp/cm.log" 2>&1; then
  needed "$tmp/cm/consumer_shared" | grep -qx "$soname" || problem "find_package: vigil::vigil does not load $soname"
  needed "$tmp/cm/consumer_static" | grep -q '^libvigil' && problem "find_package: vigil::vigil_static loads libvigil.so"
  run "find_package vigil::vigil" "$tmp/cm/consumer_shared"
  run "find_package vigil::vigil_static" "$tmp/cm/consumer_static"
else
  problem "find_package: configuring or building tests/install failed:"
  cat "$tmp/cm.log"
fi

[ $fail -eq 0 ] && echo "install: ok (vigil $version: headers, libvigil.a, $soname, vigil, vigil.1, vigil.pc shared and --static, find_package)"
exit $fail
