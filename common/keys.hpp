// Keys: one keyfile, three CURVE keypairs (broker, worker, client).
//
// A keyfile from argon keygen holds the 32-byte master key itself
// ("argon-master-key:" and 64 hex digits); any other keyfile's bytes, less
// trailing newlines, go through Argon2id with a fixed salt to the master key
// (a passphrase needs stretching; random bits do not). crypto_kdf derives
// one subkey per role; crypto_box_seed_keypair turns each subkey into a
// keypair. Every
// process holding the keyfile derives the same keys, so no key exchange is
// needed. docs/protocol.md gives the parameters and test vectors.
#pragma once

#include <array>
#include <cstdint>
#include <vector>
#include <optional>
#include <string>
#include <string_view>

#include <zmq.hpp>

namespace argon::common {

// A CURVE keypair as raw bytes.
struct keypair {
  std::array<std::uint8_t, 32> public_key{};  // shared with peers
  std::array<std::uint8_t, 32> secret_key{};  // never leaves the process
};

// The three roles' keypairs.
struct role_keys {
  keypair broker;  // CURVE server
  keypair worker;  // worker slots and control channels
  keypair client;  // clients, the CLI and the monitor
};

// Derives all three keypairs from a keyfile's contents (trailing newlines trimmed).
// Throws config_error for an empty keyfile, or one that starts with
// master_key_prefix but does not go on with exactly 64 hex digits.
[[nodiscard]] role_keys derive_keys(std::string_view keyfile_bytes);

// Reads a keyfile and derives its keys; a worker keyfile, when given, supplies the
// worker keypair. Throws config_error when a file is missing, unreadable or empty.
// A keyfile that its group or others may read is used, with a warning that names
// it and the fix (chmod 600): whoever reads it can pose as any role.
[[nodiscard]] role_keys load_keys(const std::string& path, const std::optional<std::string>& worker_path = {});

// Marks a keyfile that holds the master key itself, in 64 hex digits.
inline constexpr std::string_view master_key_prefix = "argon-master-key:";

// The text of a new random keyfile: master_key_prefix, 32 random bytes in hex, a newline.
[[nodiscard]] std::string new_keyfile_text();

// Writes a new random keyfile with mode 0600; refuses to overwrite. Throws config_error.
void write_keyfile(const std::string& path);

// Lower-case hex of 32 bytes, for logs and docs.
[[nodiscard]] std::string to_hex(const std::array<std::uint8_t, 32>& bytes);

// Makes s the CURVE server with the broker's secret key, checked by the ZAP domain "argon".
void apply_curve_server(zmq::socket_ref s, const keypair& broker);

// Makes s a CURVE client with its own keypair, trusting the broker's public key.
void apply_curve_client(zmq::socket_ref s, const keypair& self, const keypair& broker);

// Turns "host:port" into "tcp://host:port"; leaves "scheme://..." as it is.
[[nodiscard]] std::string normalize_endpoint(const std::string& endpoint);
// The brokers a client or worker is given: `several` when not empty, else
// `one` split at commas; each normalised. Throws config_error for an empty
// one, one given twice, or more than `most`.
[[nodiscard]] std::vector<std::string> broker_endpoints(const std::string& one, const std::vector<std::string>& several,
                                                        std::size_t most);

}  // namespace argon::common
