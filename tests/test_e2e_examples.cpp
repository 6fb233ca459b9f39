// End to end: the wordfreq example, worker and client, counts the words of
// a directory of files on a real broker and prints the most frequent.
#include <doctest/doctest.h>

#include <fstream>

#include "system.hpp"

using namespace argon::test;
using namespace std::chrono_literals;

TEST_SUITE("e2e") {
TEST_CASE("wordfreq counts every file of a directory in parallel and adds the counts up") {
  argon_system sys({.secure = true, .workers = 0});
  child_process worker({exe("ARGON_WORDFREQ_WORKER"), "--broker", sys.endpoint, "--key", sys.keyfile, "--capacity", "3"},
                       sys.dir.file("wordfreq-worker.log"));
  REQUIRE(sys.wait_for_slots(3));
  temp_dir texts;
  std::ofstream(texts.file("a.txt")) << "The cat and the hat.\nTHE END";
  std::ofstream(texts.file("b.txt")) << "a cat, a bat; the cat's hat";
  std::ofstream(texts.file("c.txt")) << "";
  for (int i = 0; i < 20; ++i) {
    std::string name = std::to_string(i);
    std::ofstream(texts.file(name.append(".txt"))) << "cat " << i;
  }
  auto o = run({exe("ARGON_WORDFREQ_CLIENT"), "--broker", sys.endpoint, "--key", sys.keyfile, "--top", "3", texts.path()}, "",
               60s);
  INFO("stderr: " << o.err);
  CHECK(o.exit_code == 0);
  CHECK(o.out == "22 cat\n4 the\n2 a\n");  // "cat's" is a word of its own; a and hat tie at 2
  CHECK(o.err.find("23 of 23 files counted") != std::string::npos);
}
}
