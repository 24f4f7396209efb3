// LogBuffer: a task's log rows with the forge's index/ack bookkeeping (spec §3.10), and
// uploadLog(), which sends what is unacknowledged in batches.
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "runner/forge/forge_client.h"

namespace nixjail::runner::forge {

class LogBuffer {
  public:
    // Returns the row's absolute index in the task's log (what StepState.log_index counts).
    int64_t append(LogRow row);
    int64_t size() const { return offset_ + static_cast<int64_t>(unacked_.size()); }
    int64_t acked() const { return offset_; }
    bool allAcked() const { return unacked_.empty(); }
    // Up to max_rows rows starting at acked().
    std::vector<LogRow> pending(size_t max_rows) const;
    // Drops rows the forge now holds. Throws ForgeError when the forge reports fewer rows than
    // it acknowledged before (it lost some) or more than were sent.
    void acknowledge(int64_t ack_index);

  private:
    std::deque<LogRow> unacked_;
    int64_t offset_ = 0;
};

// Sends every unacknowledged row in batches of batch_rows. With no_more the last batch seals the
// log; since Forgejo ignores no_more on an empty batch, an empty sentinel row is appended when
// nothing is pending. Throws ForgeError from the client, or when the forge stops taking rows.
void uploadLog(ForgeClient& client, int64_t task_id, LogBuffer& buffer, bool no_more,
               size_t batch_rows = 100);

}  // namespace nixjail::runner::forge
