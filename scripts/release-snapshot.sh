#!/usr/bin/env bash
# Build every release artefact without publishing anything: the archives for
# linux/darwin/windows x amd64/arm64 (with man pages and shell completions),
# the deb and rpm packages and the checksums, into dist/, exactly as a tagged
# release would, but versioned as a snapshot of HEAD.
#
#   scripts/release-snapshot.sh [extra goreleaser release flags]
#
# goreleaser (pinned below) is installed through the Go module proxy into a
# temporary GOBIN, removed afterwards; nothing else is needed beyond Go and
# git. It builds the work tree as it is, uncommitted changes included. Takes
# a few minutes (six cross-compiled binaries); not part of `go test` or CI.
# Afterwards it checks what it built: the host's binary reports the snapshot
# version, the commit and its date, and the archives and packages carry the
# man pages and completions.
set -euo pipefail
cd "$(dirname "$0")/.."

GORELEASER_VERSION=v2.15.1

step() { printf '\n=== %s\n' "$*"; }
fail() { printf 'release-snapshot: %s\n' "$*" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

step "goreleaser $GORELEASER_VERSION (go install into a temporary GOBIN)"
GOBIN="$tmp/bin" go install "github.com/goreleaser/goreleaser/v2@$GORELEASER_VERSION"
goreleaser="$tmp/bin/goreleaser"
"$goreleaser" --version | grep GitVersion

# goreleaser reads the repository's URL with `git ls-remote --get-url`; in a
# snapshot, a failure there makes it drop every git fact (commit "none",
# date 0001-01-01). A checkout without a remote gets one for git commands
# run from here only, through git's environment, not in .git/config.
if ! git ls-remote --get-url >/dev/null 2>&1 && [ -z "${GIT_CONFIG_COUNT:-}" ]; then
  export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=remote.origin.url GIT_CONFIG_VALUE_0=https://github.com/wscope/wscope
fi
if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
  echo "note: the work tree has uncommitted changes; they are built too"
fi

step "goreleaser check"
"$goreleaser" check

step "goreleaser release --snapshot --clean"
"$goreleaser" release --snapshot --clean "$@"

step "what was built"
ls -l dist/*.tar.gz dist/*.zip dist/*.deb dist/*.rpm dist/*checksums.txt
(cd dist && sha256sum -c --quiet ./*checksums.txt) || fail "checksums do not match"

step "the host's binary knows its version"
goos=$(go env GOOS) goarch=$(go env GOARCH)
bin=$(ls -d dist/wscope_"${goos}_${goarch}"*/wscope 2>/dev/null | head -1) || true
if [ -z "$bin" ]; then
  echo "no $goos/$goarch binary to run; skipped"
else
  line=$("$bin" --version)
  echo "$bin --version: $line"
  "$bin" version
  commit=$(git rev-parse --short=12 HEAD)
  day=$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y-%m-%d HEAD)
  case "$line" in
    "wscope "*SNAPSHOT*" ($commit, $day)") ;;
    *) fail "--version says '$line', want the snapshot version, $commit and $day" ;;
  esac
fi

step "man pages and completions are packed"
want_files="man/man1/wscope.1.gz man/man1/wscope-connect.1.gz completions/wscope.bash completions/_wscope completions/wscope.fish completions/wscope.ps1"
for archive in dist/*.tar.gz dist/*.zip; do
  case "$archive" in
    *.zip)
      if ! command -v unzip >/dev/null; then
        echo "no unzip to list $archive; skipped"
        continue
      fi
      list=$(unzip -Z1 "$archive")
      ;;
    *) list=$(tar -tzf "$archive") ;;
  esac
  for f in $want_files; do
    grep -q "/$f\$" <<<"$list" || fail "$archive lacks $f"
  done
done
echo "every archive has $want_files"
if command -v dpkg-deb >/dev/null; then
  for deb in dist/*.deb; do
    list=$(dpkg-deb -c "$deb")
    for f in /usr/bin/wscope /usr/share/man/man1/wscope.1.gz /usr/share/bash-completion/completions/wscope \
      /usr/share/zsh/vendor-completions/_wscope /usr/share/fish/vendor_completions.d/wscope.fish; do
      grep -q " \.$f\$" <<<"$list" || fail "$deb lacks $f"
    done
  done
  echo "every deb installs the binary, man pages and completions"
fi

echo
echo "snapshot built in dist/"
