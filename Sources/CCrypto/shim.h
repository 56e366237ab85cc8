// SHA-256 from Debian's libssl-dev (OpenSSL's libcrypto, with its SHA-NI and AVX2 code);
// Package.swift links its static library, so the binary gains no shared library. The one-shot
// SHA256_* calls are all ailab uses: they stay in OpenSSL 3, and the 1.1.1 API level declares
// them without a deprecation warning.
#define OPENSSL_API_COMPAT 10101
#include <openssl/sha.h>
