#!/usr/bin/env bash
# Every target the package declares (package.json napi.targets) compiles: for each one,
# adds the Rust standard library for it (rustup target add, a no-op when present), then
# runs `cargo check --lib` and `cargo clippy --lib -- -D warnings` for it. Exits non-zero
# if any target fails, after trying them all, and names the ones that failed.
#
# Checking needs no linker or SDK for the target (nothing is linked), so macOS and
# Windows are checked from Linux. It proves the code compiles, not that it runs: the
# behaviour each platform gets is in docs/platforms.md.
#
# Options (environment):
#   CHECK_TARGETS="t1 t2"   check these instead of package.json's list
#   CHECK_TARGETS_CLIPPY=0  cargo check only (faster; CI should keep clippy on)
set -euo pipefail

cd "$(dirname "$0")/.."

if [[ -n "${CHECK_TARGETS:-}" ]]; then
  read -r -a targets <<<"$CHECK_TARGETS"
else
  mapfile -t targets < <(node -e '
    const { napi } = require("./package.json")
    const list = (napi && napi.targets) || []
    if (list.length === 0) { console.error("package.json has no napi.targets"); process.exit(1) }
    for (const t of list) console.log(t)
  ')
fi

clippy="${CHECK_TARGETS_CLIPPY:-1}"
installed="$(rustup target list --installed)"
failed=()

for target in "${targets[@]}"; do
  echo "== $target"
  if ! grep -qx "$target" <<<"$installed" && ! rustup target add "$target"; then
    failed+=("$target (rustup target add)")
    continue
  fi
  if ! cargo check --lib --locked --target "$target"; then
    failed+=("$target (check)")
    continue
  fi
  if [[ "$clippy" != 0 ]] && ! cargo clippy --lib --locked --target "$target" -- -D warnings; then
    failed+=("$target (clippy)")
  fi
done

if ((${#failed[@]} > 0)); then
  echo "check-targets: failed: ${failed[*]}" >&2
  exit 1
fi
echo "check-targets: all ${#targets[@]} targets compile: ${targets[*]}"
