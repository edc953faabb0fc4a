#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs a libFuzzer target for a bounded time, seeded with the toml-test corpus
# (copied into a temporary directory: the source tree is never written).
# usage: run-fuzz.sh FUZZER CORPUS_DIR [DICT]   ($TOML_TEST_DIR overrides CORPUS_DIR,
# $FUZZ_SECONDS overrides the 60 s budget)
set -eu

fuzzer=$1
seeds=${TOML_TEST_DIR:-$2}
seconds=${FUZZ_SECONDS:-60}
dict=${3:-}

[ -d "$seeds" ] || { echo "seed corpus not found: $seeds" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-toml.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
mkdir "$work/corpus" "$work/artifacts"
i=0
find "$seeds" -name '*.toml' -type f | while read -r f; do
	i=$((i + 1))
	cp "$f" "$work/corpus/seed-$i.toml"
done
echo "seeds: $(ls "$work/corpus" | wc -l) files from $seeds"

rc=0
"$fuzzer" -max_total_time="$seconds" -rss_limit_mb=1024 -timeout=10 -max_len=65536 \
	-print_final_stats=1 -artifact_prefix="$work/artifacts/" \
	${dict:+-dict="$dict"} "$work/corpus" || rc=$?
if [ "$rc" -ne 0 ] || [ -n "$(ls "$work/artifacts")" ]; then
	echo "fuzzer failed (exit $rc); reproducers:" >&2
	for a in "$work/artifacts"/*; do
		[ -e "$a" ] || continue
		echo "--- $a (base64)" >&2
		base64 "$a" >&2
	done
	exit 1
fi
echo "fuzzer finished cleanly after ${seconds}s"
