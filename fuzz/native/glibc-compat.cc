/**
 * @module fuzz/native/glibc-compat
 * The three symbols @jazzer.js/fuzzer 4.0.0's prebuilt addon (built on glibc
 * 2.38 / GCC 13) needs and Debian 12 (glibc 2.36, libstdc++ of GCC 12) lacks.
 * Loaded with RTLD_GLOBAL before the addon (fuzz/native/preload.ts); the
 * addon's version needs for them are marked weak by fuzz/native/setup.ts.
 */
#include <cstdlib>
// Including <iostream> gives this object a std::ios_base::Init: with GCC 13
// libstdc++ itself initialises std::cout/cerr, which GCC 12's does not.
#include <iostream>

// C23 strtol/strtoul also accept a "0b" prefix; libFuzzer only parses its
// decimal flags (-runs=N, -max_len=N) with them, where the two agree.
extern "C" long compat_strtol(const char *s, char **end, int base) __asm__("__isoc23_strtol");
extern "C" long compat_strtol(const char *s, char **end, int base) { return std::strtol(s, end, base); }
extern "C" unsigned long compat_strtoul(const char *s, char **end, int base) __asm__("__isoc23_strtoul");
extern "C" unsigned long compat_strtoul(const char *s, char **end, int base) { return std::strtoul(s, end, base); }

// GCC 13's <iostream> references std::ios_base_library_init() only to pull in
// the library's stream initialisation; the static Init above does that here.
extern "C" void compat_ios_base_library_init() __asm__("_ZSt21ios_base_library_initv");
extern "C" void compat_ios_base_library_init() {}

// Makes the file loadable with process.dlopen (an empty Node-API module).
extern "C" void *napi_register_module_v1(void *, void *exports) { return exports; }
