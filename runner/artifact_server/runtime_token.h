// The ACTIONS_RUNTIME_TOKEN of an `exec` run. @actions/artifact 2.x (upload-artifact@v4) decodes
// the token as a JWT and reads its run and job ids from the `scp` claim's
// "Actions.Results:<run>:<job>" scope, so the token is a JWT: a header, a payload with that
// scope, and 32 random bytes in place of a signature. The servers never verify it as a JWT: they
// compare the whole string with the one they were told to accept, and the random part makes it
// a per-run secret.
#pragma once

#include <string>
#include <string_view>

namespace nixjail::runner::artifact_server {

// The workflow_job_run_backend_id in the tokens of exec runs (one token serves every job).
inline constexpr std::string_view kExecJobBackendId = "exec";

// A fresh token for run `run_id`; throws base::Error when OpenSSL has no random bytes.
std::string makeRuntimeToken(const std::string& run_id);

// The base64url encoding without padding that JWTs use.
std::string base64Url(std::string_view bytes);

}  // namespace nixjail::runner::artifact_server
