// libFuzzer target for the expression language: the input is parsed and evaluated as a bare
// expression, as text with ${{ }} and as an if: condition, against a small fixed context and a
// tiny workspace for hashFiles. Any crash, sanitizer report or exception escaping is a finding.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "runner/expr/expr.h"

namespace {

using nixjail::runner::expr::EvalContext;
using nixjail::runner::expr::Value;

std::filesystem::path workspacePath;

void removeWorkspace() {
    std::error_code ec;
    std::filesystem::remove_all(workspacePath, ec);
}

std::filesystem::path makeWorkspace() {
    char tmpl[] = "/tmp/nixjail-expr-fuzz-XXXXXX";
    const char* dir = ::mkdtemp(tmpl);
    if (!dir) std::abort();
    std::filesystem::path ws(dir);
    workspacePath = ws;
    std::atexit(removeWorkspace);
    std::filesystem::create_directories(ws / "src" / "deep");
    std::ofstream(ws / "a.txt") << "a";
    std::ofstream(ws / "src" / "b.c") << "b";
    std::ofstream(ws / "src" / "deep" / ".hidden") << "h";
    std::error_code ec;
    std::filesystem::create_symlink("../a.txt", ws / "src" / "link", ec);
    std::filesystem::create_symlink("/etc/passwd", ws / "outside", ec);
    return ws;
}

const EvalContext& context() {
    static const EvalContext ctx = [] {
        EvalContext c;
        c.contexts = Value::parse(R"({
            "github": {"event_name": "push", "ref": "refs/heads/main", "run_number": 7,
                       "event": {"commits": [{"id": "a", "author": {"name": "x"}},
                                             {"id": "b", "author": {"name": "y"}}],
                                 "labels": [{"name": "bug"}, {"name": "doc"}]}},
            "env": {"A": "1", "B": "", "C": "0x10"},
            "matrix": {"os": "linux", "n": [1, 2.5, null, true, "s", [3], {"k": "v"}]},
            "steps": {"s1": {"outputs": {"o": "{\"j\": [1, 2]}"}, "outcome": "success"}},
            "needs": {}, "inputs": {"flag": false}, "secrets": {"T": "t"}
        })");
        c.success = [] { return true; };
        c.failure = [] { return false; };
        c.cancelled = [] { return false; };
        c.workspace = makeWorkspace();
        return c;
    }();
    return ctx;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    const EvalContext& ctx = context();
    namespace expr = nixjail::runner::expr;

    auto v = expr::evaluate(input, ctx);
    if (v) {
        (void)expr::toDisplayString(*v);
        (void)expr::isTruthy(*v);
    } else {
        // Positions must point into the expression (or just past its end).
        if (v.error().position > input.size()) std::abort();
        (void)v.error().format();
    }
    auto text = expr::interpolate(input, ctx);
    if (!text) {
        if (text.error().position > input.size()) std::abort();
        (void)text.error().format();
    }
    (void)expr::evaluateTemplate(input, ctx);
    (void)expr::evaluateCondition(input, ctx);
    (void)expr::usesStatusFunction(input);
    (void)expr::containsExpression(input);
    return 0;
}
