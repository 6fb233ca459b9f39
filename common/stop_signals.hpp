// The signals Argon's daemons (argon-broker, argon-worker) handle: SIGINT
// and SIGTERM stop them (draining first), and SIGHUP is logged and ignored,
// since they reload nothing: settings change by a restart, which drains.
//
// A daemon holds these signals from the first line of main until its loop
// watches them: key derivation (Argon2id) and start-up take a moment, and a
// signal then would otherwise kill the process with the default action
// (exit 143 or 129) instead of a clean stop. A signal that comes while they
// are held waits, and is handled as soon as they are released.
#pragma once

namespace argon::common {

// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread; threads it starts
// afterwards inherit that. Call first thing in main.
void hold_stop_signals() noexcept;

// Unblocks them in the calling thread, once a loop watches them. Threads
// started while they were held keep them blocked, so the main thread gets
// them; start threads that run child programs only after this.
void release_stop_signals() noexcept;

}  // namespace argon::common
