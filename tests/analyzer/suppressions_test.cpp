// Unit tests of the leak suppressions: LeakSanitizer's pattern match, the file parser and its
// errors, and which frame field a rule matches (analyzer/suppressions.hpp).
#include <doctest/doctest.h>

#include <unistd.h>
#include <cstdio>

#include <fstream>

#include "analyzer/suppressions.hpp"

using namespace memscope::analyzer;

TEST_CASE("suppression patterns: substring, wildcard, anchors") {
  CHECK(suppression_matches("foo", "foo"));
  CHECK(suppression_matches("foo", "a_foo_b"));
  CHECK_FALSE(suppression_matches("foo", "fo"));
  CHECK_FALSE(suppression_matches("foo", ""));
  CHECK(suppression_matches("^foo", "foobar"));
  CHECK_FALSE(suppression_matches("^foo", "xfoo"));
  CHECK(suppression_matches("bar$", "foobar"));
  CHECK_FALSE(suppression_matches("bar$", "barfoo"));
  CHECK(suppression_matches("^foo$", "foo"));
  CHECK_FALSE(suppression_matches("^foo$", "foo2"));
  CHECK(suppression_matches("a*c", "xxabbbcxx"));
  CHECK_FALSE(suppression_matches("a*c", "cba"));
  CHECK(suppression_matches("^a*c$", "abcbc"));  // backtracks past the first c
  CHECK_FALSE(suppression_matches("^a*c$", "abcb"));
  CHECK(suppression_matches("^std::*::allocate", "std::vector<int>::allocate(unsigned long)"));
  CHECK(suppression_matches("*", "anything"));
  CHECK(suppression_matches("lib*.so", "/usr/lib/x86_64-linux-gnu/libz.so.1"));
  CHECK_FALSE(suppression_matches("^lib*.so", "/usr/lib/x86_64-linux-gnu/libz.so.1"));
}

TEST_CASE("suppression files: rules, comments, blank lines") {
  SuppressionList list;
  CHECK_FALSE(
      list.parse("# a comment\n\nleak:make_cache\n  leak: ^init_$  \r\n  # indented\n", "supp.txt")
          .has_value());
  REQUIRE(list.rules().size() == 2);
  CHECK(list.rules()[0].pattern == "make_cache");
  CHECK(list.rules()[0].origin == "supp.txt:3");
  CHECK(list.rules()[1].pattern == "^init_$");
  CHECK(list.rules()[1].origin == "supp.txt:4");
}

TEST_CASE("a malformed suppression line is an error naming file and line, and adds nothing") {
  SuppressionList list;
  auto error = list.parse("leak:ok\nfun:malloc\n", "my.supp");
  REQUIRE(error.has_value());
  CHECK(error->find("my.supp:2:") == 0);
  CHECK(error->find("leak:PATTERN") != std::string::npos);
  CHECK(error->find("fun:malloc") != std::string::npos);
  CHECK(list.rules().empty());

  auto empty = list.parse("\n\nleak:   \n", "my.supp");
  REQUIRE(empty.has_value());
  CHECK(empty->find("my.supp:3:") == 0);
  CHECK(list.parse("leak:^$", "x").has_value());
  CHECK(list.parse("race:foo", "x").has_value());  // TSan's kind: not a leak rule
  CHECK(list.parse("Leak:foo", "x").has_value());
  CHECK(list.rules().empty());
}

TEST_CASE("load_suppressions: files after the built-ins, unreadable files refused") {
  std::string path = "suppressions_test_" + std::to_string(::getpid()) + ".supp";
  {
    std::ofstream f(path);
    f << "leak:mine\n";
  }
  SuppressionList with;
  CHECK_FALSE(load_suppressions({path}, true, with).has_value());
  CHECK(with.rules().size() == SuppressionList::builtin().rules().size() + 1);
  CHECK(with.rules().back().pattern == "mine");
  SuppressionList without;
  CHECK_FALSE(load_suppressions({path}, false, without).has_value());
  REQUIRE(without.rules().size() == 1);
  std::remove(path.c_str());

  SuppressionList missing;
  auto error = load_suppressions({"/nonexistent/x.supp"}, false, missing);
  REQUIRE(error.has_value());
  CHECK(error->find("/nonexistent/x.supp") == 0);
}

TEST_CASE("a rule matches a frame's function, file or module, in any frame") {
  SuppressionList list;
  REQUIRE_FALSE(list.parse("leak:^cache_init$\nleak:vendor/\nleak:libfoo.so\n", "s").has_value());
  Frame alloc{"malloc", "", 0, "/usr/lib/libc.so.6", 1, 1, false};
  Frame by_function{"cache_init", "src/cache.c", 10, "/bin/app", 2, 2, false};
  Frame by_file{"helper", "/src/vendor/zz.c", 5, "/bin/app", 3, 3, false};
  Frame by_module{"", "", 0, "/opt/libfoo.so.2", 4, 4, false};
  Frame other{"cache_init_all", "src/cache.c", 20, "/bin/app", 5, 5, false};

  const SuppressionRule* r = list.match({&alloc, &other, &by_function});
  REQUIRE(r != nullptr);
  CHECK(r->pattern == "^cache_init$");
  REQUIRE(list.match({&alloc, &by_file}) != nullptr);
  CHECK(list.match({&alloc, &by_file})->pattern == "vendor/");
  REQUIRE(list.match({&by_module}) != nullptr);
  CHECK(list.match({&by_module})->pattern == "libfoo.so");
  CHECK(list.match({&alloc, &other}) == nullptr);
  CHECK(list.match({}) == nullptr);
}
