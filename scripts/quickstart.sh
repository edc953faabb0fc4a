#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Developer entry point on a fresh Debian 12 machine (run as root):
#
#   scripts/quickstart.sh run    install build deps, build, run aegis on the shipped config
#   scripts/quickstart.sh test   install build+test deps, build, run every test suite
#
# Both are idempotent. The test run is what CI runs (.ci/run).
set -euo pipefail

cd "$(dirname "$0")/.."
BUILD=${AEGIS_BUILD:-build}

BUILD_DEPS=(meson ninja-build clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev
	libcurl4-openssl-dev libsystemd-dev libpcre2-dev scdoc pkg-config systemd)
TEST_DEPS=(gcc linux-libc-dev jq curl wget netcat-openbsd python3 iproute2 util-linux libclang-rt-14-dev
	qemu-system-x86 kmod cpio xz-utils zstd
	debhelper dpkg-dev devscripts lintian ansible-core bash-completion zsh fish)

need_root() {
	if [ "$(id -u)" != 0 ]; then
		echo "quickstart: run as root (aegis loads BPF programs): sudo $0 $*" >&2
		exit 1
	fi
}

install_deps() {
	local missing=()
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "quickstart: installing ${missing[*]}" >&2
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

build() {
	local dir=$1
	shift
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" "$@"
	else
		meson setup --reconfigure "$dir" "$@" >/dev/null
	fi
	ninja -C "$dir"
}

cmd_run() {
	need_root "$@"
	install_deps "${BUILD_DEPS[@]}"
	build "$BUILD" --werror
	# aegis refuses policy files that are not root-owned or are writable by
	# others (they steer a root daemon): run on a root-owned copy.
	install -d -m 0755 "$BUILD/quickstart"
	install -m 0644 conf/aegis.toml "$BUILD/quickstart/aegis.toml"
	chown -R root:root "$BUILD/quickstart"
	echo "quickstart: starting aegis on the shipped default config (Ctrl-C stops it)" >&2
	exec "$BUILD/src/aegis" run -c "$BUILD/quickstart/aegis.toml" "$@"
}

cmd_test() {
	need_root "$@"
	install_deps "${BUILD_DEPS[@]}" "${TEST_DEPS[@]}"
	export AEGIS_TEST_STRICT=${AEGIS_TEST_STRICT:-1}
	local rc=0

	echo "=== build (gcc, -Werror) and all suites: unit, toml-test, integration" >&2
	build "$BUILD" --werror
	meson test -C "$BUILD" --print-errorlogs --num-processes 1 || rc=1

	echo "=== ASan/UBSan build (clang): unit, toml-test, integration, 60 s TOML fuzz run" >&2
	CC=clang build "$BUILD-asan" --werror -Db_sanitize=address,undefined -Db_lundef=false \
		-Dfuzz=true -Dman=false
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C "$BUILD-asan" --print-errorlogs --num-processes 1 --timeout-multiplier 5 \
		--suite unit --suite toml-test --suite fuzz --suite integration || rc=1

	echo "=== Debian package build, install, purge" >&2
	bash tests/ci/deb.sh || rc=1

	echo "=== benchmark driver smoke run (no timing asserted)" >&2
	AEGIS_BUILDDIR="$(cd "$BUILD" && pwd)" bash tests/bench/run.sh --smoke || rc=1

	# One closing line over every meson test of both builds (the package and
	# bench steps above are checked by their own exit status).
	local passed failed
	passed=$(cat "$BUILD"/meson-logs/testlog.json "$BUILD-asan"/meson-logs/testlog.json 2>/dev/null |
		jq -r .result | grep -cx OK || true)
	failed=$(cat "$BUILD"/meson-logs/testlog.json "$BUILD-asan"/meson-logs/testlog.json 2>/dev/null |
		jq -r .result | grep -cvx 'OK\|SKIP' || true)
	echo "$passed passed, $failed failed"
	[ "$failed" = 0 ] && [ "$passed" -gt 0 ] || rc=1
	if [ $rc = 0 ]; then
		echo "quickstart: all test suites passed" >&2
	else
		echo "quickstart: SOME TEST SUITES FAILED" >&2
	fi
	return $rc
}

case "${1:-}" in
run)
	shift
	cmd_run "$@"
	;;
test)
	shift
	cmd_test "$@"
	;;
*)
	echo "usage: $0 run|test" >&2
	exit 2
	;;
esac
