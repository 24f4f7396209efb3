// Schema migrations: numbered SQL scripts applied in order, version kept in PRAGMA user_version.
#pragma once

#include <string>
#include <vector>

#include "runner/store/database.h"

namespace nixjail::runner::store {

struct Migration {
    int version;       // NNN of migrations/NNN_name.sql; 1, 2, 3... without gaps
    std::string name;  // file name, for messages
    std::string sql;
};

// The migrations/ files compiled into the binary (generated at build time).
const std::vector<Migration>& embeddedMigrations();

// Applies every migration newer than the database's user_version, each in its own transaction
// together with the version bump. Refuses a database newer than the newest migration known.
void applyMigrations(Database& db, const std::vector<Migration>& migrations);

}  // namespace nixjail::runner::store
