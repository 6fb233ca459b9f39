/* An Argon task plugin in plain C: tasks "wc" and "sha256".
 *
 *   argon-worker --broker tcp://127.0.0.1:5555 --key argon.key --capacity 4 \
 *                --plugin build/examples/plugin/libargon_tasks.so
 *   printf 'one two\nthree\n' | argon submit --broker ... --key ... wc       # 2 3 14
 *   printf 'abc' | argon submit --broker ... --key ... sha256               # ba7816bf...
 *
 * wc counts lines, words and bytes like `wc`; sha256 prints the hex SHA-256
 * of the input (libsodium's crypto_hash_sha256). Both report progress on
 * large inputs and stop early when the task is cancelled.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "argon/plugin.h"

/* The host table, kept from registration (its functions stay valid). */
static struct argon_plugin_host host;

/* Work is done in chunks so progress and cancel are looked at now and then. */
#define CHUNK ((size_t)1 << 20)

/* Reports progress through the chunks of a large input; returns non-zero when cancelled. */
static int step(argon_task* task, size_t done, size_t total) {
  if (total > CHUNK) host.task_progress(task, (uint32_t)(done * 100 / total), "counting");
  if (host.task_cancelled(task)) {
    host.task_fail(task, "cancelled", "the task was cancelled");
    return 1;
  }
  return 0;
}

static int count_words(argon_task* task, const unsigned char* in, size_t len, void* user) {
  size_t lines = 0, words = 0, i;
  int in_word = 0;
  char out[96];
  (void)user;
  for (i = 0; i < len; ++i) {
    unsigned char c = in[i];
    int space = c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
    if (c == '\n') ++lines;
    if (!space && !in_word) ++words;
    in_word = !space;
    if (i % CHUNK == CHUNK - 1 && step(task, i, len)) return 1;
  }
  snprintf(out, sizeof out, "%zu %zu %zu\n", lines, words, len);
  return host.task_write_output(task, out, strlen(out));
}

static int hash_sha256(argon_task* task, const unsigned char* in, size_t len, void* user) {
  crypto_hash_sha256_state state;
  unsigned char digest[crypto_hash_sha256_BYTES];
  char hex[crypto_hash_sha256_BYTES * 2 + 2];
  size_t done = 0;
  (void)user;
  crypto_hash_sha256_init(&state);
  while (done < len) {
    size_t n = len - done < CHUNK ? len - done : CHUNK;
    crypto_hash_sha256_update(&state, in + done, n);
    done += n;
    if (step(task, done, len)) return 1;
  }
  crypto_hash_sha256_final(&state, digest);
  sodium_bin2hex(hex, sizeof hex - 1, digest, sizeof digest);
  strcat(hex, "\n");
  return host.task_write_output(task, hex, strlen(hex));
}

uint32_t argon_plugin_abi_version(void) { return ARGON_PLUGIN_ABI_VERSION; }

int argon_plugin_register(const struct argon_plugin_host* h) {
  if (sodium_init() < 0) return 1;
  host = *h;
  if (host.register_task(host.host, "wc", count_words, NULL) != 0) return 1;
  if (host.register_task(host.host, "sha256", hash_sha256, NULL) != 0) return 1;
  host.log(host.host, "tasks wc and sha256 ready");
  return 0;
}
