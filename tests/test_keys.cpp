// Keys: derivation matches the documented vectors; keyfiles; endpoints; a real handshake.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <cctype>
#include <filesystem>
#include <fstream>

#include <zmq_addon.hpp>

#include "errors.hpp"
#include "keys.hpp"
#include "support/process.hpp"

using namespace argon::common;

TEST_SUITE("unit") {
TEST_CASE("derivation matches the test vectors in docs/protocol.md") {
  auto k = derive_keys("correct horse battery staple\n");
  CHECK(to_hex(k.broker.public_key) == "c586ffb72f15bc7be82d4a30670712663393f4fbd079017e871458dcebc00c1f");
  CHECK(to_hex(k.worker.public_key) == "df2d5e0bca0318677f71f6017cb70348225e76591955856e38933dbbda8cc52f");
  CHECK(to_hex(k.client.public_key) == "11c3b68af78da07f9152cb704f53815f982bca508fef8ed6bddf2ba293cba95a");
  auto h = derive_keys("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n");
  CHECK(to_hex(h.broker.public_key) == "403b750e4ff4d147dbc34f6eb2722187f7928a47d91244cae824e06b71b7ea7d");
  CHECK(to_hex(h.worker.public_key) == "559086031e83cf93a36e416d4660b1a0bf70d05d7f935bf658cb20ea980fcc61");
  CHECK(to_hex(h.client.public_key) == "39c00710554eeae58fdd9f0d9cf1c029662b108d3d454cd5b595f9500eee7253");
  auto m = derive_keys("argon-master-key:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n");
  CHECK(to_hex(m.broker.public_key) == "3080980a4805d2dea53abb1ae8fa6573088d80f79b22ef241db40d8c4413b70a");
  CHECK(to_hex(m.worker.public_key) == "cb7f393469c443876a42f30213a9f51238a9a7e004debf8f4d9285989d8ef35b");
  CHECK(to_hex(m.client.public_key) == "2854284595b7164d234d47e9364e287abbbaacd587031c203273c0d31c95ee24");
}

TEST_CASE("a master-key keyfile is read as it is: any hex case, and anything but 64 hex digits is refused") {
  const std::string hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
  std::string upper = hex;
  for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  CHECK(derive_keys("argon-master-key:" + upper).client.public_key ==
        derive_keys("argon-master-key:" + hex).client.public_key);
  for (const std::string& bad : {std::string("argon-master-key:"), "argon-master-key:" + hex.substr(2),
                                "argon-master-key:" + hex + "00", "argon-master-key:" + hex.substr(0, 62) + "zz",
                                "argon-master-key: " + hex}) {
    INFO(bad);
    CHECK_THROWS_WITH_AS((void)derive_keys(bad), doctest::Contains("64 hex digits"), config_error);
  }
  CHECK(derive_keys("Argon-master-key:" + hex).client.public_key !=
        derive_keys("argon-master-key:" + hex).client.public_key);  // another prefix is a passphrase
}

TEST_CASE("trailing newlines do not matter, and roles differ") {
  auto a = derive_keys("x"), b = derive_keys("x\n"), c = derive_keys("x\r\n");
  CHECK(a.client.public_key == b.client.public_key);
  CHECK(a.client.public_key == c.client.public_key);
  CHECK(a.broker.public_key != a.worker.public_key);
  CHECK(a.worker.public_key != a.client.public_key);
  CHECK(derive_keys("y").client.public_key != a.client.public_key);
  CHECK_THROWS_AS((void)derive_keys("\n"), config_error);
}

TEST_CASE("keygen writes argon-master-key:, 64 hex characters and a newline, mode 0600, and never overwrites") {
  argon::test::temp_dir dir;
  std::string path = dir.file("k");
  write_keyfile(path);
  struct stat st{};
  REQUIRE(stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  std::string text = argon::test::read_file(path);
  const std::string prefix(master_key_prefix);
  REQUIRE(text.starts_with(prefix));
  CHECK(text.size() == prefix.size() + 65);
  CHECK(text.back() == '\n');
  CHECK(text.find_first_not_of("0123456789abcdef", prefix.size()) == prefix.size() + 64);
  (void)load_keys(path);  // its own format loads
  CHECK_THROWS_AS(write_keyfile(path), config_error);
  CHECK(argon::test::read_file(path) == text);
  CHECK_THROWS_AS((void)load_keys(dir.file("missing")), config_error);
}

TEST_CASE("a separate worker keyfile supplies only the worker key") {
  argon::test::temp_dir dir;
  std::ofstream(dir.file("shared")) << "shared secret\n";
  std::ofstream(dir.file("workers")) << "worker secret\n";
  auto k = load_keys(dir.file("shared"), dir.file("workers"));
  CHECK(k.broker.public_key == derive_keys("shared secret").broker.public_key);
  CHECK(k.client.public_key == derive_keys("shared secret").client.public_key);
  CHECK(k.worker.public_key == derive_keys("worker secret").worker.public_key);
}

TEST_CASE("endpoints: host:port becomes tcp://host:port") {
  CHECK(normalize_endpoint("127.0.0.1:5555") == "tcp://127.0.0.1:5555");
  CHECK(normalize_endpoint("tcp://*:5555") == "tcp://*:5555");
  CHECK(normalize_endpoint("ipc:///tmp/a") == "ipc:///tmp/a");
  CHECK_THROWS_AS((void)normalize_endpoint("localhost"), config_error);
}

TEST_CASE("derived keys complete a CURVE handshake, with a ZAP handler admitting the client key") {
  auto k = derive_keys("handshake test");
  zmq::context_t ctx;
  zmq::socket_t zap(ctx, zmq::socket_type::rep);
  zap.bind("inproc://zeromq.zap.01");
  zmq::socket_t server(ctx, zmq::socket_type::router), client(ctx, zmq::socket_type::dealer);
  apply_curve_server(server, k.broker);
  server.bind("tcp://127.0.0.1:*");
  apply_curve_client(client, k.client, k.broker);
  client.connect(server.get(zmq::sockopt::last_endpoint));
  (void)client.send(zmq::str_buffer("hello"), zmq::send_flags::none);
  std::vector<zmq::message_t> request;
  REQUIRE(zmq::recv_multipart(zap, std::back_inserter(request)));
  REQUIRE(request.size() >= 7);
  CHECK(request[5].to_string() == "CURVE");
  CHECK(request[6].size() == 32);
  bool is_client = std::equal(k.client.public_key.begin(), k.client.public_key.end(), request[6].data<std::uint8_t>());
  CHECK(is_client);
  std::array<zmq::const_buffer, 6> reply{zmq::str_buffer("1.0"), zmq::buffer(request[1].data(), request[1].size()),
                                         zmq::str_buffer("200"), zmq::str_buffer("OK"), zmq::str_buffer("client"), zmq::str_buffer("")};
  zmq::send_multipart(zap, reply);
  zmq::message_t id, body;
  server.set(zmq::sockopt::rcvtimeo, 5000);
  REQUIRE(server.recv(id));
  REQUIRE(server.recv(body));
  CHECK(body.to_string() == "hello");
  CHECK(std::string(body.gets("User-Id")) == "client");
}
}
