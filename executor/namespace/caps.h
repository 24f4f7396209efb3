// Dropping every capability from every set (child side, async-signal-safe).
#pragma once

namespace nixjail::executor::ns {

// Before the uid switch (needs CAP_SETPCAP): empty the bounding and ambient sets.
int dropBoundingAndAmbient(int cap_last_cap);
// After the uid switch: empty the effective, permitted and inheritable sets.
int clearCapabilitySets();

// Parent side: /proc/sys/kernel/cap_last_cap, or the compiled-in CAP_LAST_CAP.
int readCapLastCap();

}  // namespace nixjail::executor::ns
