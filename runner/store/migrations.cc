// Applies the numbered migrations; a failing one rolls back and leaves the version unchanged.
#include "runner/store/migrations.h"

#include <fmt/format.h>

namespace nixjail::runner::store {

void applyMigrations(Database& db, const std::vector<Migration>& migrations) {
    int known = migrations.empty() ? 0 : migrations.back().version;
    int current = db.userVersion();
    if (current > known) {
        throw base::Error(fmt::format(
            "database '{}' has schema version {} but this nixjail-runner knows only up to {}; "
            "it was written by a newer release: upgrade nixjail-runner or point it at another "
            "database",
            db.path().string(), current, known));
    }
    int expected = 1;
    for (const auto& m : migrations) {
        if (m.version != expected) {
            throw base::Error(
                fmt::format("migration '{}' has version {} where {} was expected; "
                            "migrations must be numbered 001, 002, ... without gaps",
                            m.name, m.version, expected));
        }
        ++expected;
        if (m.version <= current) continue;
        Transaction tx(db);
        try {
            db.exec(m.sql);
        } catch (const SqliteError& e) {
            throw SqliteError(fmt::format("migration '{}' on '{}' failed and was rolled back: {}",
                                          m.name, db.path().string(), e.what()),
                              e.code());
        }
        db.exec(fmt::format("PRAGMA user_version = {}", m.version));
        tx.commit();
    }
}

}  // namespace nixjail::runner::store
