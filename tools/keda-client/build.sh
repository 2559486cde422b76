#!/usr/bin/env bash
# Builds keda-client (tools/keda-client/main.go) offline, from Debian's packages only:
#
#   golang-go                 the Go 1.19 toolchain
#   protobuf-compiler         protoc
#   golang-goprotobuf-dev     protoc-gen-go (1.3.5) and github.com/golang/protobuf sources
#   protoc-gen-go-grpc        protoc-gen-go-grpc (grpc-go 1.33's generator, as KEDA uses)
#   golang-google-grpc-dev    google.golang.org/grpc 1.33 sources (pulls in x/net, genproto, ...)
#
# The Go stubs are generated from src/publish/keda/externalscaler.proto into a throw-away GOPATH
# (never into the tree), and the build runs in GOPATH mode against /usr/share/gocode: module mode
# would try to reach proxy.golang.org, which is not reachable here.
#
# Usage: tools/keda-client/build.sh OUTPUT_BINARY
# GOCACHE from the environment is honoured (tests point it at a directory they reuse).
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 OUTPUT_BINARY" >&2; exit 2; }
out=$1
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
mkdir -p "$(dirname "$out")"

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
proto_dir="$root/src/publish/keda"
gocode=/usr/share/gocode

missing=()
command -v go >/dev/null || missing+=(golang-go)
command -v protoc >/dev/null || missing+=(protobuf-compiler)
command -v protoc-gen-go >/dev/null || missing+=(golang-goprotobuf-dev)
command -v protoc-gen-go-grpc >/dev/null || missing+=(protoc-gen-go-grpc)
[ -d "$gocode/src/google.golang.org/grpc" ] || missing+=(golang-google-grpc-dev)
[ -d "$gocode/src/github.com/golang/protobuf/proto" ] || missing+=(golang-goprotobuf-dev)
if [ ${#missing[@]} -gt 0 ]; then
  echo "keda-client build: missing Debian packages; run: apt-get install -y --no-install-recommends $(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')" >&2
  exit 3
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/keda-client-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
# The import path main.go uses for the generated package.
import_path=foresight/tools/keda-client/externalscaler
pkg="$work/src/foresight/tools/keda-client"
mkdir -p "$pkg/externalscaler"
cp "$here/main.go" "$pkg/main.go"

# The .proto has no go_package option (it is shared with the TypeScript server), so the import path
# is given with M; paths=source_relative puts both files straight into the package directory.
protoc -I "$proto_dir" \
  --go_out="$pkg/externalscaler" --go_opt="paths=source_relative,Mexternalscaler.proto=$import_path" \
  --go-grpc_out="$pkg/externalscaler" --go-grpc_opt="paths=source_relative,Mexternalscaler.proto=$import_path" \
  "$proto_dir/externalscaler.proto"

cd "$pkg"
GO111MODULE=off GOPATH="$work:$gocode" GOFLAGS= GOPROXY=off go build -o "$out.tmp.$$" .
mv -f "$out.tmp.$$" "$out"
