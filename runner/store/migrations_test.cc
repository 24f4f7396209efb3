// Migrations: order, version bookkeeping, rollback of a failing script, newer-database refusal.
#include "runner/store/migrations.h"

#include <gtest/gtest.h>

#include "runner/base/temp_dir.h"

namespace nixjail::runner::store {
namespace {

bool tableExists(Database& db, const std::string& name) {
    auto st = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
    st.bind(1, name);
    return st.step();
}

TEST(Migrations, EmbeddedApplyFromEmptyAndReopen) {
    base::TempDir dir("nixjail-store-");
    const auto& embedded = embeddedMigrations();
    ASSERT_FALSE(embedded.empty());
    EXPECT_EQ(embedded.front().name, "001_initial.sql");
    {
        Database db(dir.path() / "x.db");
        applyMigrations(db, embedded);
        EXPECT_EQ(db.userVersion(), embedded.back().version);
        EXPECT_TRUE(tableExists(db, "jobs"));
        EXPECT_TRUE(tableExists(db, "steps"));
        EXPECT_TRUE(tableExists(db, "network_decisions"));
        db.prepare("INSERT INTO jobs (forge_task_id, started_at_ms) VALUES (7, 1)").run();
    }
    Database db(dir.path() / "x.db");
    applyMigrations(db, embedded);  // nothing to do, data kept
    auto st = db.prepare("SELECT forge_task_id FROM jobs");
    ASSERT_TRUE(st.step());
    EXPECT_EQ(st.columnInt(0), 7);
}

TEST(Migrations, AppliesOnlyNewOnes) {
    base::TempDir dir("nixjail-store-");
    Database db(dir.path() / "x.db");
    std::vector<Migration> v1 = {{1, "001_a.sql", "CREATE TABLE a (x);"}};
    applyMigrations(db, v1);
    auto v2 = v1;
    v2.push_back({2, "002_b.sql", "CREATE TABLE b (x); INSERT INTO a VALUES (1);"});
    applyMigrations(db, v2);
    applyMigrations(db, v2);
    EXPECT_EQ(db.userVersion(), 2);
    auto st = db.prepare("SELECT COUNT(*) FROM a");
    st.step();
    EXPECT_EQ(st.columnInt(0), 1);
}

TEST(Migrations, FailedMigrationRollsBackAndKeepsVersion) {
    base::TempDir dir("nixjail-store-");
    Database db(dir.path() / "x.db");
    std::vector<Migration> ms = {
        {1, "001_a.sql", "CREATE TABLE a (x);"},
        {2, "002_bad.sql", "CREATE TABLE b (x); INSERT INTO nope VALUES (1);"}};
    try {
        applyMigrations(db, ms);
        FAIL() << "expected the second migration to fail";
    } catch (const SqliteError& e) {
        EXPECT_NE(std::string(e.what()).find("002_bad.sql"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("rolled back"), std::string::npos) << e.what();
    }
    EXPECT_EQ(db.userVersion(), 1);
    EXPECT_TRUE(tableExists(db, "a"));
    EXPECT_FALSE(tableExists(db, "b"));
}

TEST(Migrations, RefusesNewerDatabase) {
    base::TempDir dir("nixjail-store-");
    Database db(dir.path() / "x.db");
    db.exec("PRAGMA user_version = 99");
    try {
        applyMigrations(db, embeddedMigrations());
        FAIL() << "expected refusal";
    } catch (const base::Error& e) {
        std::string msg = e.what();
        EXPECT_NE(msg.find("schema version 99"), std::string::npos) << msg;
        EXPECT_NE(msg.find("newer release"), std::string::npos) << msg;
    }
    EXPECT_EQ(db.userVersion(), 99);
}

TEST(Migrations, RejectsGapInNumbering) {
    base::TempDir dir("nixjail-store-");
    Database db(dir.path() / "x.db");
    std::vector<Migration> ms = {{1, "001_a.sql", "CREATE TABLE a (x);"},
                                 {3, "003_c.sql", "CREATE TABLE c (x);"}};
    EXPECT_THROW(applyMigrations(db, ms), base::Error);
    EXPECT_EQ(db.userVersion(), 1);
}

}  // namespace
}  // namespace nixjail::runner::store
