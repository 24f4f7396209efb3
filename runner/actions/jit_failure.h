// Recognises a step that died because the strict hardening profile forbids writable+executable
// memory, so that the log names the profile to use instead of leaving a V8 or JVM crash.
#pragma once

#include <string>
#include <string_view>

namespace nixjail::runner::actions {

class JitFailureScanner {
  public:
    // Output in any chunking.
    void feed(std::string_view chunk);
    // Whether the output showed node without WebAssembly (--jitless), V8 refused executable
    // memory, or a JVM that could not start for want of it.
    bool found() const { return found_; }

  private:
    std::string tail_;  // the end of the previous chunk, for a marker split across chunks
    bool found_ = false;
};

// The error line the runner adds after such a step.
std::string jitFailureNote();

}  // namespace nixjail::runner::actions
