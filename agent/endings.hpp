// Ends that no destructor sees, caught so the trace still gets its last chunk and its
// ProcessEnd: a signal whose default action ends the process, and quick_exit (see endings.cpp).
#pragma once

namespace memscope::agent {

// Once tracing runs in this process: a flush handler on every such signal the program left at
// SIG_DFL, and a last at_quick_exit handler. Safe to call again (a fork child).
void install_ending_flushes();
// The status quick_exit was called with, for the ProcessEnd its handler writes.
void note_quick_exit(int status);

}  // namespace memscope::agent
