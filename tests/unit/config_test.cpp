// Unit tests of the agent's MEMSCOPE_* option table: good values are taken, nonsense values
// fall back to the documented defaults.
#include <doctest/doctest.h>

#include <cstdlib>
#include <cstring>
#include <initializer_list>

#include "agent/config.hpp"

using memscope::agent::Config;
using memscope::agent::load_config;

namespace {

void clear_environment() {
  for (const char* name : {"MEMSCOPE_OUTPUT", "MEMSCOPE_STACKS", "MEMSCOPE_STACK_DEPTH",
                           "MEMSCOPE_RING_SLOTS", "MEMSCOPE_DROP_WHEN_FULL", "MEMSCOPE_FOLLOW",
                           "MEMSCOPE_FLUSH_MS", "MEMSCOPE_QUIET", "MEMSCOPE_SAMPLE_MS"})
    unsetenv(name);
}

}  // namespace

TEST_CASE("defaults when nothing is set") {
  clear_environment();
  Config c;
  load_config(c);
  CHECK(std::strcmp(c.output_dir, ".") == 0);
  CHECK(c.stacks);
  CHECK(c.stack_depth == 64);
  CHECK(c.ring_slots == 16384);
  CHECK_FALSE(c.drop_when_full);
  CHECK(c.follow_children);
  CHECK(c.sample_interval_ms == 100);
}

TEST_CASE("valid values are taken; ring sizes round up to a power of two") {
  clear_environment();
  setenv("MEMSCOPE_OUTPUT", "/tmp/traces", 1);
  setenv("MEMSCOPE_STACKS", "off", 1);
  setenv("MEMSCOPE_STACK_DEPTH", "12", 1);
  setenv("MEMSCOPE_RING_SLOTS", "5000", 1);
  setenv("MEMSCOPE_FOLLOW", "no", 1);
  Config c;
  load_config(c);
  CHECK(std::strcmp(c.output_dir, "/tmp/traces") == 0);
  CHECK_FALSE(c.stacks);
  CHECK(c.stack_depth == 12);
  CHECK(c.ring_slots == 8192);
  CHECK_FALSE(c.follow_children);
  clear_environment();
}

TEST_CASE("nonsense falls back to the defaults") {
  clear_environment();
  setenv("MEMSCOPE_QUIET", "1", 1);
  setenv("MEMSCOPE_STACKS", "maybe", 1);
  setenv("MEMSCOPE_STACK_DEPTH", "abc", 1);
  setenv("MEMSCOPE_RING_SLOTS", "-5", 1);
  setenv("MEMSCOPE_FLUSH_MS", "99999999999999999999999", 1);
  setenv("MEMSCOPE_SAMPLE_MS", "", 1);
  Config c;
  load_config(c);
  CHECK(c.stacks);
  CHECK(c.stack_depth == 64);
  CHECK(c.ring_slots == 16384);
  CHECK(c.flush_interval_ms == 500);
  CHECK(c.sample_interval_ms == 100);
  clear_environment();
}
