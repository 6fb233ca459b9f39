// Key derivation with libsodium; the constants here are part of the protocol.
#include "keys.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sodium.h>
#include <unistd.h>

#include <cstring>

#include <fmt/format.h>

#include "errors.hpp"
#include "log.hpp"
#include "user_file.hpp"

namespace argon::common {
namespace {

constexpr char salt[crypto_pwhash_SALTBYTES + 1] = "argon-keyfile-v1";  // 16 bytes, fixed
constexpr char kdf_context[crypto_kdf_CONTEXTBYTES + 1] = "argon-v1";   // 8 bytes, fixed
constexpr std::uint64_t broker_subkey = 1, worker_subkey = 2, client_subkey = 3;

void init_sodium() {
  if (sodium_init() < 0) throw config_error("libsodium could not be initialised");
}

std::string_view trim_newlines(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

keypair keypair_from(const unsigned char* master, std::uint64_t subkey_id) {
  unsigned char seed[crypto_box_SEEDBYTES];
  crypto_kdf_derive_from_key(seed, sizeof seed, subkey_id, kdf_context, master);
  keypair k;
  crypto_box_seed_keypair(k.public_key.data(), k.secret_key.data(), seed);
  sodium_memzero(seed, sizeof seed);
  return k;
}

// A keyfile "argon-master-key:" + 64 hex digits holds the master key itself:
// 256 random bits from argon keygen need no stretching, and reading one
// costs microseconds where Argon2id costs about 0.13 s of CPU per process.
bool read_master_key(std::string_view secret, unsigned char (&out)[crypto_kdf_KEYBYTES]) {
  if (!secret.starts_with(master_key_prefix)) return false;
  const std::string_view hex = secret.substr(master_key_prefix.size());
  std::size_t got = 0;
  if (hex.size() != 2 * sizeof out ||
      sodium_hex2bin(out, sizeof out, hex.data(), hex.size(), nullptr, &got, nullptr) != 0 || got != sizeof out)
    throw config_error(fmt::format("the keyfile starts with '{}' but is not followed by exactly 64 hex digits; "
                                   "make a new one with 'argon keygen FILE'", master_key_prefix));
  return true;
}

void master_key(std::string_view secret, unsigned char (&out)[crypto_kdf_KEYBYTES]) {
  init_sodium();
  secret = trim_newlines(secret);
  if (secret.empty()) throw config_error("the keyfile is empty");
  if (read_master_key(secret, out)) return;
  if (crypto_pwhash(out, sizeof out, secret.data(), secret.size(),
                    reinterpret_cast<const unsigned char*>(salt), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                    crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) != 0)
    throw config_error("Argon2id key derivation ran out of memory");
}

}  // namespace

role_keys derive_keys(std::string_view keyfile_bytes) {
  unsigned char master[crypto_kdf_KEYBYTES];
  master_key(keyfile_bytes, master);
  role_keys keys{keypair_from(master, broker_subkey), keypair_from(master, worker_subkey),
                 keypair_from(master, client_subkey)};
  sodium_memzero(master, sizeof master);
  return keys;
}

namespace {
// A regular file that its group or others may read holds a secret they should not have.
void warn_if_shared(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & (S_IRWXG | S_IRWXO)) == 0) return;
  log::warn("keyfile {} can be read by its group or by others (mode {:04o}); whoever reads it can pose as the broker, "
            "a worker or a client: run chmod 600 {}", path, st.st_mode & 07777, path);
}
}  // namespace

role_keys load_keys(const std::string& path, const std::optional<std::string>& worker_path) {
  role_keys keys = derive_keys(read_user_file(path, "keyfile"));
  warn_if_shared(path);
  if (worker_path) {
    keys.worker = derive_keys(read_user_file(*worker_path, "keyfile")).worker;
    warn_if_shared(*worker_path);
  }
  return keys;
}

std::string new_keyfile_text() {
  init_sodium();
  std::array<std::uint8_t, 32> raw;
  randombytes_buf(raw.data(), raw.size());
  std::string text = std::string(master_key_prefix) + to_hex(raw) + "\n";
  sodium_memzero(raw.data(), raw.size());
  return text;
}

void write_keyfile(const std::string& path) {
  const std::string text = new_keyfile_text();
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) throw config_error("cannot create keyfile '" + path + "': " + std::strerror(errno));
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = ::close(fd) == 0 && ok;
  if (!ok) throw config_error("cannot write keyfile '" + path + "'");
}

std::string to_hex(const std::array<std::uint8_t, 32>& bytes) {
  char out[65];
  sodium_bin2hex(out, sizeof out, bytes.data(), bytes.size());
  return out;
}

void apply_curve_server(zmq::socket_ref s, const keypair& broker) {
  s.set(zmq::sockopt::curve_server, 1);
  s.set(zmq::sockopt::curve_secretkey, zmq::const_buffer(broker.secret_key.data(), 32));
  s.set(zmq::sockopt::zap_domain, "argon");
}

void apply_curve_client(zmq::socket_ref s, const keypair& self, const keypair& broker) {
  s.set(zmq::sockopt::curve_serverkey, zmq::const_buffer(broker.public_key.data(), 32));
  s.set(zmq::sockopt::curve_publickey, zmq::const_buffer(self.public_key.data(), 32));
  s.set(zmq::sockopt::curve_secretkey, zmq::const_buffer(self.secret_key.data(), 32));
}

std::string normalize_endpoint(const std::string& endpoint) {
  if (endpoint.find("://") != std::string::npos) return endpoint;
  if (endpoint.find(':') == std::string::npos) throw config_error("endpoint '" + endpoint + "' is not tcp://host:port or host:port");
  return "tcp://" + endpoint;
}

std::vector<std::string> broker_endpoints(const std::string& one, const std::vector<std::string>& several, std::size_t most) {
  std::vector<std::string> given = several;
  if (given.empty())
    for (std::size_t start = 0;;) {
      const std::size_t comma = one.find(',', start);
      given.push_back(one.substr(start, comma == std::string::npos ? comma : comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  std::vector<std::string> out;
  for (const auto& b : given) {
    if (b.empty()) throw config_error("an empty broker endpoint; give tcp://host:port");
    std::string ep = normalize_endpoint(b);
    if (std::find(out.begin(), out.end(), ep) != out.end()) throw config_error("broker " + ep + " is given twice");
    out.push_back(std::move(ep));
  }
  if (out.size() > most) throw config_error("at most " + std::to_string(most) + " brokers, not " + std::to_string(out.size()));
  return out;
}

}  // namespace argon::common
