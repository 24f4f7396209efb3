// Database, Statement and Transaction against a real file in a TempDir.
#include "runner/store/database.h"

#include <gtest/gtest.h>

#include "runner/base/temp_dir.h"

namespace nixjail::runner::store {
namespace {

TEST(Database, OpensInWalMode) {
    base::TempDir dir("nixjail-store-");
    Database db(dir.path() / "x.db");
    auto st = db.prepare("PRAGMA journal_mode");
    ASSERT_TRUE(st.step());
    EXPECT_EQ(st.columnText(0), "wal");
}

TEST(Database, TransactionRollsBackUnlessCommitted) {
    base::TempDir dir("nixjail-store-");
    Database db(dir.path() / "x.db");
    db.exec("CREATE TABLE t (v INTEGER)");
    {
        Transaction tx(db);
        db.prepare("INSERT INTO t VALUES (1)").run();
    }
    {
        Transaction tx(db);
        db.prepare("INSERT INTO t VALUES (2)").run();
        tx.commit();
    }
    auto st = db.prepare("SELECT group_concat(v) FROM t");
    ASSERT_TRUE(st.step());
    EXPECT_EQ(st.columnText(0), "2");
}

TEST(Database, BadSqlNamesTheStatement) {
    base::TempDir dir("nixjail-store-");
    Database db(dir.path() / "x.db");
    try {
        db.prepare("SELEC 1");
        FAIL() << "expected SqliteError";
    } catch (const SqliteError& e) {
        EXPECT_NE(std::string(e.what()).find("SELEC 1"), std::string::npos) << e.what();
    }
}

TEST(Database, UnopenablePathSaysWhich) {
    try {
        Database db("/nonexistent-dir-nixjail/x.db");
        FAIL() << "expected SqliteError";
    } catch (const SqliteError& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent-dir-nixjail/x.db"), std::string::npos);
    }
}

TEST(Statement, ResetAllowsReuseWithNewBindings) {
    base::TempDir dir("nixjail-store-");
    Database db(dir.path() / "x.db");
    db.exec("CREATE TABLE t (v INTEGER, s TEXT)");
    auto ins = db.prepare("INSERT INTO t VALUES (?, ?)");
    ins.bind(1, int64_t{1}).bind(2, "a").run();
    ins.bind(1, std::optional<int64_t>{}).bind(2, "b").run();
    auto st = db.prepare("SELECT v, s FROM t ORDER BY s");
    ASSERT_TRUE(st.step());
    EXPECT_EQ(st.columnOptionalInt(0), 1);
    ASSERT_TRUE(st.step());
    EXPECT_FALSE(st.columnOptionalInt(0).has_value());
    EXPECT_EQ(st.columnText(1), "b");
    EXPECT_FALSE(st.step());
}

}  // namespace
}  // namespace nixjail::runner::store
