// The broker's ZAP handler, asked directly (raw ZAP requests on
// inproc://zeromq.zap.01) and through real CURVE handshakes over loopback:
// the worker and client keys are admitted with User-Id "worker" or
// "client"; any other key (the broker's own included) and any other
// mechanism is refused with 400, counted, and passed to the refusal hook
// with the peer's address; a malformed request is answered (500) so the
// handler goes on, and is not counted as a refusal.
#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <optional>
#include <vector>

#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "loop_pump.hpp"
#include "zap_handler.hpp"

using namespace argon;
using namespace argon::common;
using namespace argon::test;
using namespace std::chrono_literals;

namespace {

keypair fresh_keypair() {
  char pub[41], sec[41];
  REQUIRE(zmq_curve_keypair(pub, sec) == 0);
  keypair k;
  REQUIRE(zmq_z85_decode(k.public_key.data(), pub) != nullptr);
  REQUIRE(zmq_z85_decode(k.secret_key.data(), sec) != nullptr);
  return k;
}

role_keys fresh_keys() { return {fresh_keypair(), fresh_keypair(), fresh_keypair()}; }

// One refusal as the hook heard it.
struct refusal {
  std::string address, mechanism, why;
};

// A ZAP handler on a loop the test pumps, with its refusals recorded.
struct zap_rig {
  zmq::context_t ctx;
  event_loop loop;
  role_keys keys = fresh_keys();
  fake_clock clk;
  std::vector<refusal> refusals;
  broker::zap_handler zap{ctx, loop.get(), clk, keys, [this](const std::string& a, const std::string& m, const std::string& w) {
                            refusals.push_back({a, m, w});
                          }};
};

// A peer speaking ZAP to the handler, as libzmq does.
struct zap_asker {
  explicit zap_asker(zap_rig& r) : rig(r), socket(r.ctx, zmq::socket_type::req) {
    socket.set(zmq::sockopt::linger, 0);
    socket.connect("inproc://zeromq.zap.01");
  }
  // Sends frames and returns the reply's frames as strings; empty if none came.
  std::vector<std::string> ask(const std::vector<std::string>& frames) {
    std::vector<zmq::const_buffer> parts;
    for (auto& f : frames) parts.emplace_back(f.data(), f.size());
    REQUIRE(zmq::send_multipart(socket, parts));
    std::vector<zmq::message_t> reply;
    pump_until(rig.loop.get(), [&] {
      return zmq::recv_multipart(socket, std::back_inserter(reply), zmq::recv_flags::dontwait).has_value();
    });
    std::vector<std::string> out;
    for (auto& m : reply) out.push_back(m.to_string());
    return out;
  }
  // A well-formed request for this mechanism and credentials.
  std::vector<std::string> ask(const std::string& request_id, const std::string& mechanism, const std::string& key) {
    std::vector<std::string> req{"1.0", request_id, "argon", "192.0.2.7", "", mechanism};
    if (!key.empty()) req.push_back(key);
    return ask(req);
  }
  zap_rig& rig;
  zmq::socket_t socket;
};

std::string bytes(const std::array<std::uint8_t, 32>& k) { return std::string(reinterpret_cast<const char*>(k.data()), k.size()); }

}  // namespace

TEST_SUITE("unit") {
TEST_CASE("ZAP: the worker and client keys are admitted, named by role in User-Id") {
  zap_rig rig;
  zap_asker asker(rig);
  auto w = asker.ask("r1", "CURVE", bytes(rig.keys.worker.public_key));
  REQUIRE(w.size() == 6);
  CHECK(w[0] == "1.0");
  CHECK(w[1] == "r1");
  CHECK(w[2] == "200");
  CHECK(w[4] == "worker");
  auto c = asker.ask("r2", "CURVE", bytes(rig.keys.client.public_key));
  REQUIRE(c.size() == 6);
  CHECK(c[1] == "r2");
  CHECK(c[2] == "200");
  CHECK(c[4] == "client");
  CHECK(rig.zap.refused() == 0);
  CHECK(rig.refusals.empty());
}

TEST_CASE("ZAP: an unknown key, the broker's own key and a short key are refused with 400, counted and reported") {
  zap_rig rig;
  zap_asker asker(rig);
  const std::vector<std::string> keys{bytes(fresh_keypair().public_key), bytes(rig.keys.broker.public_key),
                                      bytes(rig.keys.worker.public_key).substr(0, 31)};
  int n = 0;
  for (auto& key : keys) {
    auto r = asker.ask("id" + std::to_string(n), "CURVE", key);
    REQUIRE(r.size() == 6);
    CHECK(r[1] == "id" + std::to_string(n));
    CHECK(r[2] == "400");
    CHECK(r[3] == "unknown CURVE key (wrong keyfile?)");
    CHECK(r[4].empty());  // no role
    ++n;
  }
  CHECK(rig.zap.refused() == 3);
  REQUIRE(rig.refusals.size() == 3);
  CHECK(rig.refusals[0].address == "192.0.2.7");
  CHECK(rig.refusals[0].mechanism == "CURVE");
  CHECK(rig.refusals[0].why == "unknown CURVE key (wrong keyfile?)");
}

TEST_CASE("ZAP: any mechanism but CURVE is refused, even with an admitted key") {
  zap_rig rig;
  zap_asker asker(rig);
  auto null = asker.ask("n", "NULL", "");
  REQUIRE(null.size() == 6);
  CHECK(null[2] == "400");
  CHECK(null[3] == "mechanism NULL is not allowed");
  auto plain = asker.ask("p", "PLAIN", bytes(rig.keys.client.public_key));
  REQUIRE(plain.size() == 6);
  CHECK(plain[2] == "400");
  CHECK(plain[4].empty());
  CHECK(rig.zap.refused() == 2);
  REQUIRE(rig.refusals.size() == 2);
  CHECK(rig.refusals[1].mechanism == "PLAIN");
  CHECK(rig.refusals[1].why == "mechanism PLAIN is not allowed");
}

TEST_CASE("ZAP: a malformed request is answered 500 and the handler goes on answering") {
  zap_rig rig;
  zap_asker asker(rig);
  auto bad = asker.ask(std::vector<std::string>{"1.0", "x", "argon"});
  REQUIRE(bad.size() == 6);
  CHECK(bad[2] == "500");
  CHECK(bad[3] == "bad request");
  CHECK(bad[4].empty());
  CHECK(rig.zap.refused() == 0);  // not a handshake, so no refusal
  CHECK(rig.refusals.empty());
  auto good = asker.ask("after", "CURVE", bytes(rig.keys.client.public_key));
  REQUIRE(good.size() == 6);
  CHECK(good[2] == "200");
  CHECK(good[4] == "client");
}

TEST_CASE("CURVE over loopback: worker and client keys get through with their role; a stranger is refused and reported") {
  zap_rig rig;
  zmq::socket_t server(rig.ctx, zmq::socket_type::router);
  server.set(zmq::sockopt::linger, 0);
  apply_curve_server(server, rig.keys.broker);
  server.bind("tcp://127.0.0.1:*");
  const std::string endpoint = server.get(zmq::sockopt::last_endpoint);

  const keypair stranger = fresh_keypair();
  std::vector<std::unique_ptr<zmq::socket_t>> peers;
  auto connect = [&](const keypair& self, const std::string& name) {
    auto s = std::make_unique<zmq::socket_t>(rig.ctx, zmq::socket_type::dealer);
    s->set(zmq::sockopt::linger, 0);
    s->set(zmq::sockopt::routing_id, name);
    apply_curve_client(*s, self, rig.keys.broker);
    s->connect(endpoint);
    REQUIRE(s->send(zmq::buffer(name), zmq::send_flags::dontwait));
    peers.push_back(std::move(s));
  };
  connect(rig.keys.worker, "as-worker");
  connect(rig.keys.client, "as-client");
  connect(stranger, "as-stranger");

  std::map<std::string, std::string> user_ids;  // routing id -> User-Id of its message
  auto arrived = [&] {
    std::vector<zmq::message_t> m;
    while (zmq::recv_multipart(server, std::back_inserter(m), zmq::recv_flags::dontwait)) {
      REQUIRE(m.size() == 2);
      user_ids[m[0].to_string()] = m[1].gets("User-Id");
      m.clear();
    }
    return user_ids.size() >= 2 && !rig.refusals.empty();
  };
  REQUIRE(pump_until(rig.loop.get(), arrived));
  pump_for(rig.loop.get(), 200ms);  // the stranger's message must not follow
  arrived();
  CHECK(user_ids.size() == 2);
  CHECK(user_ids["as-worker"] == "worker");
  CHECK(user_ids["as-client"] == "client");
  CHECK(user_ids.count("as-stranger") == 0);
  CHECK(rig.zap.refused() >= 1);
  REQUIRE(!rig.refusals.empty());
  CHECK(rig.refusals[0].address == "127.0.0.1");
  CHECK(rig.refusals[0].mechanism == "CURVE");
  CHECK(rig.refusals[0].why == "unknown CURVE key (wrong keyfile?)");
}
}
