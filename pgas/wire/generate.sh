#!/usr/bin/env bash
# Regenerate the FlatBuffers TypeScript of the wire header (frame.fbs) into generated/.
# Needs flatc (Debian package flatbuffers-compiler; checked with 2.0.8). The output is committed, so
# building the project never needs flatc.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
flatc --ts -o "$tmp" "$here/frame.fbs"
# Under "module": "NodeNext" relative imports need explicit .js extensions; flatc writes none.
find "$tmp" -name '*.ts' -exec sed -i -E "s#(from '\.{1,2}/[^']*)'#\1.js'#" {} +
rm -rf "$here/generated"
mkdir -p "$here/generated"
cp -R "$tmp/." "$here/generated/"
echo "generated: $(cd "$here" && find generated -name '*.ts' | sort | tr '\n' ' ')"
