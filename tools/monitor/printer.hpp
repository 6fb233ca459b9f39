// argon-monitor's line output: one line per event on stdout, flushed at
// once so a pipe or file sees events as they come. JSON lines with --json;
// otherwise trace events as readable trace lines and the others as plain
// "TIME NAME key=value ..." lines. Only the kinds in `shown` are printed
// (the stats heartbeat is subscribed to even when not shown). Warnings
// about a silent broker go to stderr, once per change. With several brokers
// each line names its broker: a "broker" key in JSON, "[ENDPOINT] " before text.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sink.hpp"

namespace argon::tools {

class printer final : public sink {
 public:
  // labels: each broker's endpoint when there are several, else empty.
  printer(bool json, std::uint32_t shown, std::vector<std::string> labels = {})
      : json_(json), shown_(shown), labels_(std::move(labels)) {}
  bool show(const common::monitor::event& e, std::size_t from) override;
  void tick(std::uint64_t now_ms, const std::string& notice) override;

 private:
  bool json_;                // JSON lines instead of text
  std::uint32_t shown_;      // bit per event kind to print
  std::vector<std::string> labels_;  // broker endpoints to label lines with; empty: one broker
  std::string last_notice_;  // the notice last written to stderr
};

}  // namespace argon::tools
