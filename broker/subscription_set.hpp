// Which monitor events someone is listening to, from the XPUB's subscription
// messages.
//
// An XPUB socket (not verbose about unsubscriptions) passes up a
// subscription when a topic prefix gains its first subscriber and an
// unsubscription when it loses its last one (also when that subscriber
// disconnects). So the set of live prefixes is exactly what some
// subscriber wants, and an event is wanted when a live prefix starts its
// name: "" wants everything, "task_" every task event, "trace" the trace.
// wanted() is a bit per event kind, so the broker's hooks test one bit and
// build nothing for events nobody reads.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "monitor_events.hpp"

namespace argon::broker {

class subscription_set {
 public:
  // Applies one message read from the XPUB: [1|0][prefix]. Returns false if it was not one.
  bool apply(std::string_view message);
  // Bit k set: some subscriber wants events of kind k.
  [[nodiscard]] std::uint32_t wanted() const { return wanted_; }
  [[nodiscard]] bool wants(std::size_t kind) const { return (wanted_ >> kind) & 1u; }
  // Whether this message subscribed (not unsubscribed) to a prefix of the kind's name.
  static bool subscribes_to(std::string_view message, std::size_t kind);

 private:
  void recompute();

  std::set<std::string, std::less<>> prefixes_;  // prefixes with at least one subscriber
  std::uint32_t wanted_ = 0;                     // bit per event kind
};

static_assert(common::monitor::kind_count <= 32, "wanted() has one bit per event kind");

}  // namespace argon::broker
