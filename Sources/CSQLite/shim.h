// SQLite from Debian's libsqlite3-dev; Package.swift links its static library, so the binary
// gains no shared library.
#include <sqlite3.h>
