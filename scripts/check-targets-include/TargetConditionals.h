/* Stand-in for the macOS SDK header of this name, used only by scripts/check-targets.sh, which
 * checks the macOS targets from Linux with no SDK: ring's C code (the rustls crypto provider)
 * includes it on Apple targets to tell macOS from iOS. The objects built with it are never
 * linked; release builds compile ring on macOS against the real SDK. */
#ifndef PRODKIT_CHECK_TARGET_CONDITIONALS_H
#define PRODKIT_CHECK_TARGET_CONDITIONALS_H
#define TARGET_OS_MAC 1
#define TARGET_OS_OSX 1
#define TARGET_OS_IPHONE 0
#endif
