// A step's program that the job's root does not hold: said by name, with the package to declare
// ("python3: not in this job's root; declare a package that provides it, e.g. python3"), instead
// of the jail's "exec: No such file or directory" or the shell's bare "command not found".
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "executor/executor.h"

namespace nixjail::runner::engine {

// The nixpkgs attribute that provides `program` (gnumake for make, findutils for xargs, ...); the
// program's own name when it is not a well-known one.
std::string packageProviding(const std::string& program);

// "python3: not in this job's root; declare a package that provides it, e.g. python3" + note.
std::string missingProgramMessage(const std::string& program, const std::string& note = {});

// The program a shell could not find, from one line of its output: bash's
// "/runner/temp/x.sh: line 3: python3: command not found" and dash's "...: 3: python3: not found";
// empty for any other line.
std::string programNotFoundIn(std::string_view line);

enum class ProgramPresence { kPresent, kMissing, kUnknown };

// Whether `program` (a name looked up in `path`, a PATH value, or a path with a '/') is an
// executable file in a jail whose root is `root` with `binds` mounted over it. Resolved on the host
// without leaving the root (links are followed as the jail would, inside it) and without following
// any link below a bind. kUnknown when the answer depends on something only the jail sees (a
// relative PATH entry, /tmp, a link in the workspace).
ProgramPresence findProgram(const std::filesystem::path& root,
                            const std::vector<executor::BindMount>& binds, const std::string& path,
                            const std::string& program);

// Wraps a job's jail: a step whose program is missing from the root does not start and fails with
// missingProgramMessage() as its setup error; a failed step whose shell reported a program "not
// found" that the root does not hold gets the same message as an error annotation. `note` is added
// to every message.
std::unique_ptr<executor::Jail> checkProgramsInRoot(std::unique_ptr<executor::Jail> jail,
                                                    std::filesystem::path root,
                                                    std::vector<executor::BindMount> binds,
                                                    std::string note);

}  // namespace nixjail::runner::engine
