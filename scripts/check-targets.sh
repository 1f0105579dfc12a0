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
# Cross targets' C code: the TLS stack (rustls with the ring provider, for shipping logs)
# compiles C in its build script, and `cargo check` runs build scripts, so each cross target
# needs a C compiler for it. With no sysroot for the other platforms here, clang compiles
# ring's C without any libc headers, the way ring's own build does for targets that have none
# (RING_CORE_NOSTDLIBINC: ring needs only the compiler's own stddef.h/stdint.h), with
# llvm-ar/llvm-lib as the archiver; macOS gets a one-line TargetConditionals.h stand-in
# (scripts/check-targets-include/), Windows clang's GNU builtins (__builtin_bswap) instead of
# MSVC's stdlib.h ones, and __MM_MALLOC_H keeps clang's immintrin.h from pulling in stdlib.h.
# None of these objects is linked. Variables already set (CC_<target>, CFLAGS_<target>,
# AR_<target>) are left as they are. Needs Debian's clang and llvm (.ci/run installs them).
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

host="$(rustc -vV | sed -n 's/^host: //p')"
cross_c_env () { # target: exports CC_/CFLAGS_/AR_ for a cross target unless already set
  local t="${1//-/_}" flags
  [[ "$1" == "$host" ]] && return 0
  command -v clang >/dev/null || { echo "check-targets: clang is needed to check $1 (apt-get install clang llvm)" >&2; return 0; }
  flags="-nostdlibinc -DRING_CORE_NOSTDLIBINC=1 -D__MM_MALLOC_H -I$PWD/scripts/check-targets-include"
  [[ "$1" == *windows-msvc ]] && flags+=" -fgnuc-version=4.2.1"
  local ar=llvm-ar
  [[ "$1" == *windows-msvc ]] && ar=llvm-lib
  local cc="CC_$t" cflags="CFLAGS_$t" arv="AR_$t"
  [[ -n "${!cc:-}" ]] || export "$cc=clang"
  [[ -n "${!cflags:-}" ]] || export "$cflags=$flags"
  [[ -n "${!arv:-}" ]] || export "$arv=$ar"
}

for target in "${targets[@]}"; do
  echo "== $target"
  cross_c_env "$target"
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
