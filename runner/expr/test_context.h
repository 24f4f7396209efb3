// The contexts the expression tests evaluate against.
#pragma once

#include "runner/expr/expr.h"

namespace nixjail::runner::expr::testing {

inline EvalContext testContext() {
    EvalContext ctx;
    ctx.contexts = Value::parse(R"({
        "github": {
            "event_name": "push",
            "ref": "refs/heads/main",
            "sha": "abc123",
            "run_number": 42,
            "event": {
                "commits": [
                    {"author": {"name": "Ann"}, "message": "one"},
                    {"author": {"name": "Bob"}, "message": "two"}
                ],
                "issue": {"labels": [{"name": "bug"}, {"name": "Docs"}]}
            }
        },
        "env": {"FOO": "bar", "EMPTY": "", "NUM": "10", "HEX": "0x1A", "SPACE": "  7  "},
        "matrix": {
            "os": "ubuntu",
            "node": 18,
            "list": [1, 2, 3],
            "nested": {"a": {"b": {"c": "deep"}}},
            "numkeys": {"1": "one", "true": "yes", "": "empty"},
            "Mixed": {"CamelKey": "camel"}
        },
        "steps": {
            "build": {"outputs": {"result": "ok"}, "outcome": "success"},
            "my-step": {"outputs": {"x-y": "dash"}}
        },
        "secrets": {"TOKEN": "s3cr3t"},
        "inputs": {"flag": true, "count": 3, "off": false},
        "needs": {}
    })");
    return ctx;
}

}  // namespace nixjail::runner::expr::testing
