// The agent's one way to tell the user something: a "memscope: ..." line on stderr, written
// with one writev (no allocation, safe before libc's constructors), silent under MEMSCOPE_QUIET.
#pragma once

#include <initializer_list>
#include <string_view>

namespace memscope::agent {

void set_messages_quiet(bool quiet);
void tell_user(std::initializer_list<std::string_view> parts);

}  // namespace memscope::agent
