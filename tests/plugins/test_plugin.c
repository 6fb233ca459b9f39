/* Test plugins, one source built three ways (see tests/meson.build):
 * ARGON_TEST_PLUGIN_GOOD registers "describe" (prints what the host tells
 * about the task) and "refuse" (fails with its own kind); ..._BAD_ABI
 * claims another ABI version; ..._FAILING_REGISTER refuses to load. */
#include <stdio.h>
#include <string.h>

#include "argon/plugin.h"

static struct argon_plugin_host host;  /* kept from registration */

static int describe(argon_task* task, const unsigned char* in, size_t len, void* user) {
  char out[512];
  host.task_progress(task, 50, "half way");
  snprintf(out, sizeof out, "id=%s attempt=%u deadline=%s cancelled=%d input=%.*s user=%s", host.task_id(task),
           (unsigned)host.task_attempt(task), host.task_deadline_ms(task) ? "set" : "none", host.task_cancelled(task),
           (int)len, (const char*)in, (const char*)user);
  return host.task_write_output(task, out, strlen(out));
}

static int refuse(argon_task* task, const unsigned char* in, size_t len, void* user) {
  (void)in;
  (void)len;
  (void)user;
  host.task_fail(task, "invalid_input", "refused on purpose");
  return 1;
}

uint32_t argon_plugin_abi_version(void) {
#ifdef ARGON_TEST_PLUGIN_BAD_ABI
  return ARGON_PLUGIN_ABI_VERSION + 41;
#else
  return ARGON_PLUGIN_ABI_VERSION;
#endif
}

int argon_plugin_register(const struct argon_plugin_host* h) {
  static char tag[] = "from-register";
  host = *h;
#ifdef ARGON_TEST_PLUGIN_FAILING_REGISTER
  (void)describe;
  (void)refuse;
  (void)tag;
  return 7;
#else
  if (host.register_task(host.host, "describe", describe, tag) != 0) return 1;
  if (host.register_task(host.host, "exec", describe, tag) == 0) return 2; /* reserved: must be refused */
  return host.register_task(host.host, "refuse", refuse, NULL);
#endif
}
