// The process's normal end, after every destructor: a handler that exit() runs after the
// loader has run every module's destructors (ours included), where memscope frees the C and
// C++ runtimes' own buffers as valgrind does, so that what they free is recorded as freed, and
// then writes the trace's end.
#pragma once

namespace memscope::agent {

// From the library constructor, which runs before the program's start registers the loader's
// destructor pass: exit() runs handlers in reverse order, so ours comes after that pass.
void register_process_end();
// True once registered: the agent's destructor then leaves the end to the handler.
bool process_end_registered();

}  // namespace memscope::agent
