#!/usr/bin/env python3
"""Tests of layering.py on small made-up trees: each rule fails where it should, with file:line."""
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import layering  # noqa: E402

TABLE = """
floor: runner/cli
floor: runner/daemon
floor: runner/cache_server runner/artifact_server
floor: proxy executor
floor: runner/base
only executor: runner/base
entry executor: executor/executor.h
tests: tests
"""


class LayeringTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.root = self.dir.name
        self.table_text = TABLE
        self.write("runner/base/error.h", "// The error type.\n")
        self.write("executor/executor.h", '// The interface.\n#include "runner/base/error.h"\n')
        self.write("executor/namespace/namespace_executor.h", '#include "executor/executor.h"\n')
        self.write("proxy/proxy.h", '#include "runner/base/error.h"\n')
        self.write("runner/cache_server/cache_server.h", '#include "proxy/proxy.h"\n')
        self.write("runner/artifact_server/artifact_server.h", '#include "runner/base/error.h"\n')
        self.write("runner/daemon/daemon.cc",
                   '#include "runner/daemon/daemon.h"\n#include "executor/executor.h"\n'
                   '#include <vector>\n#include "runner/cache_server/cache_server.h"\n')
        self.write("runner/daemon/daemon.h", "// The daemon.\n")
        self.write("runner/cli/main.cc", '#include "runner/daemon/daemon.h"\n')
        self.write("tests/support/fake.h", '#include "runner/daemon/daemon.h"\n')

    def tearDown(self):
        self.dir.cleanup()

    def write(self, path, text):
        full = os.path.join(self.root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(text)

    def problems(self):
        table = layering.Table(self.table_text)
        return layering.check(self.root, table, "layers.txt")[0]

    def assertOneProblem(self, *parts):
        problems = self.problems()
        self.assertEqual(len(problems), 1, problems)
        for part in parts:
            self.assertIn(part, problems[0])

    def test_clean_tree_passes(self):
        self.assertEqual(self.problems(), [])

    def test_upward_include_names_file_line_and_rooms(self):
        self.write("runner/artifact_server/flags.cc",
                   '// Flags.\n#include "runner/daemon/daemon.h"\n')
        self.assertOneProblem("runner/artifact_server/flags.cc:2",
                              "runner/artifact_server -> runner/daemon", "upward")

    def test_an_upward_include_that_closes_a_circle_is_also_a_circle(self):
        self.write("proxy/policy.cc", '// Policy.\n#include "runner/daemon/daemon.h"\n')
        problems = self.problems()
        self.assertEqual(len(problems), 2, problems)
        self.assertIn("proxy/policy.cc:2: proxy -> runner/daemon", problems[0])
        self.assertIn("circle between proxy, runner/cache_server, runner/daemon", problems[1])

    def test_sideways_include_fails(self):
        self.write("runner/artifact_server/results.cc",
                   '#include "runner/cache_server/cache_server.h"\n')
        self.assertOneProblem("runner/artifact_server/results.cc:1",
                              "runner/artifact_server -> runner/cache_server", "sideways")

    def test_only_line_narrows_the_floors(self):
        # proxy is on executor's floor, but a room below it would still be refused by "only".
        self.table_text = TABLE.replace("floor: runner/base",
                                        "floor: runner/expr\nfloor: runner/base")
        self.write("runner/expr/expr.h", "// Expressions.\n")
        self.write("executor/spawn.cc", '// Spawn.\n\n#include "runner/expr/expr.h"\n')
        self.assertOneProblem("executor/spawn.cc:3", "executor -> runner/expr", "only runner/base")

    def test_product_code_enters_through_the_entry_headers_only(self):
        self.write("runner/daemon/sweep.cc",
                   '#include "executor/namespace/namespace_executor.h"\n')
        self.assertOneProblem("runner/daemon/sweep.cc:1", "runner/daemon -> executor",
                              "entered only through executor/executor.h")

    def test_tests_may_reach_backends_and_test_rooms(self):
        self.write("runner/daemon/daemon_test.cc",
                   '#include "executor/namespace/namespace_executor.h"\n'
                   '#include "tests/support/fake.h"\n')
        self.assertEqual(self.problems(), [])

    def test_tests_still_follow_the_floors(self):
        self.write("runner/daemon/daemon_test.cc", '#include "runner/cli/cli.h"\n')
        self.assertOneProblem("runner/daemon/daemon_test.cc:1", "upward")

    def test_product_code_never_includes_test_code(self):
        self.write("executor/golden.h", "// Golden files.\n")
        self.write("executor/spawn.cc", '#include "executor/golden.h"\n')
        self.write("runner/daemon/loop.cc", '#include "tests/support/fake.h"\n')
        problems = self.problems()
        self.assertEqual(len(problems), 2, problems)
        self.assertIn("executor/spawn.cc:1", problems[0])
        self.assertIn("runner/daemon/loop.cc:1", problems[1])

    def test_a_room_missing_from_the_table_fails(self):
        self.write("runner/actions/step_runner.cc", '#include "runner/base/error.h"\n')
        self.assertOneProblem("runner/actions/step_runner.cc", "'runner/actions' is not in")

    def test_an_allowed_exception_that_closes_a_circle_fails(self):
        self.table_text = TABLE + "allow runner/daemon -> runner/cli\n"
        self.write("runner/daemon/flags.cc", '#include "runner/cli/cli.h"\n')
        self.write("runner/cli/cli.h", "// The CLI.\n")
        self.assertOneProblem("circle between runner/cli, runner/daemon",
                              "runner/daemon -> runner/cli at runner/daemon/flags.cc:1")

    def test_an_unused_exception_fails(self):
        self.table_text = TABLE + "allow runner/cache_server -> runner/daemon\n"
        self.assertOneProblem("allow runner/cache_server -> runner/daemon", "no longer used")

    def test_library_links_follow_the_floors(self):
        self.write("runner/cache_server/CMakeLists.txt",
                   "add_library(nixjail_cache_server STATIC cache_server.cc)\n")
        self.write("runner/artifact_server/CMakeLists.txt",
                   "add_library(nixjail_artifact_server STATIC artifact_server.cc)\n"
                   "# a comment naming nixjail_cache_server is no link\n"
                   "target_link_libraries(nixjail_artifact_server PUBLIC\n"
                   "    nixjail_cache_server spdlog::spdlog)\n"
                   "add_executable(nixjail_artifact_server_test artifact_server_test.cc)\n"
                   "target_link_libraries(nixjail_artifact_server_test nixjail_cache_server)\n")
        self.assertOneProblem("runner/artifact_server/CMakeLists.txt:4",
                              "nixjail_artifact_server links nixjail_cache_server", "sideways")

    def test_a_malformed_table_is_refused(self):
        with self.assertRaises(layering.TableError):
            layering.Table("floor: a\nfloor: a\n")
        with self.assertRaises(layering.TableError):
            layering.Table("floor: a\nonly b: a\n")
        with self.assertRaises(layering.TableError):
            layering.Table("floors a b\n")


if __name__ == "__main__":
    unittest.main()
