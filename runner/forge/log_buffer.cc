// Log rows and their acknowledgement by the forge.
#include "runner/forge/log_buffer.h"

#include <fmt/format.h>

namespace nixjail::runner::forge {

int64_t LogBuffer::append(LogRow row) {
    unacked_.push_back(std::move(row));
    return size() - 1;
}

std::vector<LogRow> LogBuffer::pending(size_t max_rows) const {
    size_t n = std::min(max_rows, unacked_.size());
    return {unacked_.begin(), unacked_.begin() + static_cast<std::ptrdiff_t>(n)};
}

void LogBuffer::acknowledge(int64_t ack_index) {
    if (ack_index < offset_) {
        throw ForgeError(fmt::format("the forge acknowledged {} log rows after it had acknowledged "
                                     "{}: it lost rows of this task's log",
                                     ack_index, offset_),
                         "data_loss", 200);
    }
    if (ack_index > size()) {
        throw ForgeError(fmt::format("the forge acknowledged {} log rows but only {} were written",
                                     ack_index, size()),
                         "data_loss", 200);
    }
    unacked_.erase(unacked_.begin(), unacked_.begin() + (ack_index - offset_));
    offset_ = ack_index;
}

void uploadLog(ForgeClient& client, int64_t task_id, LogBuffer& buffer, bool no_more,
               size_t batch_rows) {
    if (no_more && buffer.allAcked()) buffer.append({Clock::now(), ""});
    while (!buffer.allAcked()) {
        auto rows = buffer.pending(batch_rows);
        bool last = no_more && static_cast<int64_t>(rows.size()) == buffer.size() - buffer.acked();
        int64_t before = buffer.acked();
        buffer.acknowledge(client.updateLog(task_id, before, rows, last));
        if (buffer.acked() == before) {
            throw ForgeError(
                fmt::format("the forge took none of {} log rows of task {} at index {}",
                            rows.size(), task_id, before),
                "data_loss", 200);
        }
    }
}

}  // namespace nixjail::runner::forge
