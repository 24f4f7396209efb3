// Whether AddressSanitizer instruments the file including this (GCC and Clang say it
// differently): NIXJAIL_ASAN is 1 or 0. For the few places that do what ASan cannot follow.
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define NIXJAIL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NIXJAIL_ASAN 1
#endif
#endif
#ifndef NIXJAIL_ASAN
#define NIXJAIL_ASAN 0
#endif
