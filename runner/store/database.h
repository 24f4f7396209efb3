// Database: an owned SQLite connection in WAL mode, with RAII Statement and Transaction.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "runner/base/error.h"

namespace nixjail::runner::store {

// An SQLite failure; the message ends with sqlite3_errmsg().
class SqliteError : public base::Error {
  public:
    SqliteError(const std::string& what, int code) : base::Error(what), code_(code) {}
    int code() const { return code_; }

  private:
    int code_;
};

// Throws SqliteError("<what>: <errmsg>") unless rc is OK, ROW or DONE.
void checkSqlite(sqlite3* db, int rc, const std::string& what);

class Statement {
  public:
    Statement(sqlite3* db, std::string_view sql);
    Statement(Statement&& o) noexcept;
    Statement& operator=(Statement&&) = delete;
    Statement(const Statement&) = delete;
    ~Statement();

    // Parameters are 1-based, like sqlite3_bind_*.
    Statement& bind(int index, int64_t value);
    Statement& bind(int index, double value);
    Statement& bind(int index, std::string_view value);
    Statement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
    Statement& bind(int index, const std::string& value) {
        return bind(index, std::string_view(value));
    }
    Statement& bind(int index, std::nullopt_t);
    Statement& bind(int index, const std::optional<int64_t>& value);
    Statement& bind(int index, const std::optional<double>& value);
    Statement& bind(int index, const std::optional<bool>& value);

    // True while a row is available; false once the statement is done.
    bool step();
    // Runs to completion (for INSERT/UPDATE/DELETE), then resets.
    void run();
    // Clears bindings and rewinds, so the statement can be used again.
    void reset();

    bool isNull(int col) const;
    int64_t columnInt(int col) const;
    double columnDouble(int col) const;
    std::string columnText(int col) const;
    std::optional<int64_t> columnOptionalInt(int col) const;

  private:
    sqlite3* db_;
    sqlite3_stmt* stmt_ = nullptr;
    std::string sql_;
};

class Database {
  public:
    // Opens (creating if needed) the database, turns on WAL, foreign keys and a busy timeout.
    explicit Database(const std::filesystem::path& path);
    Database(Database&& o) noexcept;
    Database& operator=(Database&&) = delete;
    Database(const Database&) = delete;
    ~Database();

    void exec(const std::string& sql);
    Statement prepare(std::string_view sql) { return Statement(db_, sql); }
    int64_t lastInsertId() const;
    int userVersion();
    const std::filesystem::path& path() const { return path_; }
    sqlite3* handle() { return db_; }

  private:
    std::filesystem::path path_;
    sqlite3* db_ = nullptr;
};

// BEGIN IMMEDIATE on construction; rolls back on destruction unless commit() ran.
class Transaction {
  public:
    explicit Transaction(Database& db);
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    ~Transaction();
    void commit();

  private:
    Database& db_;
    bool done_ = false;
};

}  // namespace nixjail::runner::store
