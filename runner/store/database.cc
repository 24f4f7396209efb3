// SQLite wrappers: every return code goes through checkSqlite.
#include "runner/store/database.h"

#include <spdlog/spdlog.h>

namespace nixjail::runner::store {

void checkSqlite(sqlite3* db, int rc, const std::string& what) {
    if (rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE) return;
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    throw SqliteError(what + ": " + msg, rc);
}

Statement::Statement(sqlite3* db, std::string_view sql) : db_(db), sql_(sql) {
    checkSqlite(
        db_, sqlite3_prepare_v2(db_, sql_.data(), static_cast<int>(sql_.size()), &stmt_, nullptr),
        "preparing SQL '" + sql_ + "'");
}

Statement::Statement(Statement&& o) noexcept : db_(o.db_), stmt_(o.stmt_), sql_(std::move(o.sql_)) {
    o.stmt_ = nullptr;
}

Statement::~Statement() {
    if (stmt_) sqlite3_finalize(stmt_);
}

Statement& Statement::bind(int index, int64_t value) {
    checkSqlite(db_, sqlite3_bind_int64(stmt_, index, value),
                "binding parameter of '" + sql_ + "'");
    return *this;
}
Statement& Statement::bind(int index, double value) {
    checkSqlite(db_, sqlite3_bind_double(stmt_, index, value),
                "binding parameter of '" + sql_ + "'");
    return *this;
}
Statement& Statement::bind(int index, std::string_view value) {
    checkSqlite(db_,
                sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()),
                                  SQLITE_TRANSIENT),
                "binding parameter of '" + sql_ + "'");
    return *this;
}
Statement& Statement::bind(int index, std::nullopt_t) {
    checkSqlite(db_, sqlite3_bind_null(stmt_, index), "binding parameter of '" + sql_ + "'");
    return *this;
}
Statement& Statement::bind(int index, const std::optional<int64_t>& value) {
    return value ? bind(index, *value) : bind(index, std::nullopt);
}
Statement& Statement::bind(int index, const std::optional<double>& value) {
    return value ? bind(index, *value) : bind(index, std::nullopt);
}
Statement& Statement::bind(int index, const std::optional<bool>& value) {
    return value ? bind(index, int64_t{*value ? 1 : 0}) : bind(index, std::nullopt);
}

bool Statement::step() {
    int rc = sqlite3_step(stmt_);
    checkSqlite(db_, rc, "running SQL '" + sql_ + "'");
    return rc == SQLITE_ROW;
}

void Statement::run() {
    while (step()) {
    }
    reset();
}

void Statement::reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

bool Statement::isNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
int64_t Statement::columnInt(int col) const { return sqlite3_column_int64(stmt_, col); }
double Statement::columnDouble(int col) const { return sqlite3_column_double(stmt_, col); }
std::string Statement::columnText(int col) const {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
}
std::optional<int64_t> Statement::columnOptionalInt(int col) const {
    if (isNull(col)) return std::nullopt;
    return columnInt(col);
}

Database::Database(const std::filesystem::path& path) : path_(path) {
    int rc =
        sqlite3_open_v2(path.c_str(), &db_,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
        sqlite3_close(db_);
        db_ = nullptr;
        throw SqliteError("cannot open database '" + path.string() + "': " + msg +
                              "; check that the directory exists and is writable",
                          rc);
    }
    try {
        checkSqlite(db_, sqlite3_busy_timeout(db_, 5000), "setting busy timeout");
        exec("PRAGMA journal_mode=WAL");
        exec("PRAGMA foreign_keys=ON");
        exec("PRAGMA synchronous=NORMAL");
    } catch (...) {
        sqlite3_close(db_);
        db_ = nullptr;
        throw;
    }
}

Database::Database(Database&& o) noexcept : path_(std::move(o.path_)), db_(o.db_) {
    o.db_ = nullptr;
}

Database::~Database() {
    if (db_ && sqlite3_close(db_) != SQLITE_OK) {
        spdlog::warn("closing database '{}' failed, ignoring: {}", path_.string(),
                     sqlite3_errmsg(db_));
    }
}

void Database::exec(const std::string& sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
        std::string msg = err ? err : sqlite3_errstr(rc);
        sqlite3_free(err);
        throw SqliteError("executing SQL on '" + path_.string() + "': " + msg, rc);
    }
}

int64_t Database::lastInsertId() const { return sqlite3_last_insert_rowid(db_); }

int Database::userVersion() {
    Statement st(db_, "PRAGMA user_version");
    st.step();
    return static_cast<int>(st.columnInt(0));
}

Transaction::Transaction(Database& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }

Transaction::~Transaction() {
    if (done_) return;
    try {
        db_.exec("ROLLBACK");
    } catch (const std::exception& e) {
        spdlog::warn("rolling back transaction failed, ignoring: {}", e.what());
    }
}

void Transaction::commit() {
    db_.exec("COMMIT");
    done_ = true;
}

}  // namespace nixjail::runner::store
