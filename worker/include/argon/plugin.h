/* argon/plugin.h — the C interface between argon-worker and task plugins.
 *
 * A plugin is a shared object loaded with `argon-worker --plugin lib.so`.
 * It exports exactly two functions:
 *
 *   uint32_t argon_plugin_abi_version(void);   returns ARGON_PLUGIN_ABI_VERSION
 *   int argon_plugin_register(const struct argon_plugin_host* host);
 *
 * The worker calls argon_plugin_abi_version() first and refuses the plugin
 * unless it returns the worker's ARGON_PLUGIN_ABI_VERSION. It then calls
 * argon_plugin_register() once, on the main thread; the plugin calls
 * host->register_task() for each task it serves and returns 0, or non-zero
 * to refuse to load (the worker then stops with exit status 2). The host
 * table is valid only during that call; the function pointers in it stay
 * valid while the worker runs, so a plugin may keep a copy of the table.
 *
 * A task function runs on a slot's handler thread, one task per slot at a
 * time, possibly on several threads at once for different tasks. It reads
 * its input, writes its output with host->task_write_output() (which
 * appends), and returns 0 for success. To fail, it calls
 * host->task_fail() with an error kind (NULL or "" for "task_error") and a
 * message, and returns non-zero; a non-zero return without task_fail()
 * fails the task as task_error "plugin task NAME returned N". The argon_task
 * pointer is valid only until the task function returns. No C++ exception
 * may leave a plugin; the worker catches any that does and fails the task,
 * but a plugin must not rely on that.
 *
 * Plain C89 plus <stdint.h>/<stddef.h>: usable from C and C++.
 */
#ifndef ARGON_PLUGIN_H
#define ARGON_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this interface; changes whenever the host table changes. */
#define ARGON_PLUGIN_ABI_VERSION 1u

/* One running task, opaque to the plugin. */
typedef struct argon_task argon_task;

/* A task function: input bytes in, 0 for success; user is the pointer given at registration. */
typedef int (*argon_task_fn)(argon_task* task, const unsigned char* input, size_t input_len, void* user);

/* What the worker offers a plugin. */
struct argon_plugin_host {
  uint32_t abi_version; /* the worker's ARGON_PLUGIN_ABI_VERSION */
  void* host;           /* pass back to register_task */
  /* Registers a task name (1-128 bytes, not "exec"); returns 0, or -1 for a bad name or fn. */
  int (*register_task)(void* host, const char* name, argon_task_fn fn, void* user);
  /* Logs one line at the worker's "note" level, prefixed with the plugin's file name. */
  void (*log)(void* host, const char* message);

  /* The task's id (NUL-terminated, valid while the task runs). */
  const char* (*task_id)(const argon_task* task);
  /* 1 on the first start of the task, 2 on the next, ... */
  uint32_t (*task_attempt)(const argon_task* task);
  /* Unix time in milliseconds by which to finish; 0 when there is no deadline. */
  uint64_t (*task_deadline_ms)(const argon_task* task);
  /* Non-zero once the task has been cancelled: return soon. */
  int (*task_cancelled)(const argon_task* task);
  /* Reports progress (0-100, message may be NULL); cheap, coalesced by the worker. */
  void (*task_progress)(argon_task* task, uint32_t percent, const char* message);
  /* Appends bytes to the task's output; returns 0, or -1 past the worker's result limit. */
  int (*task_write_output)(argon_task* task, const void* data, size_t len);
  /* Sets the task's error kind and message; the task function then returns non-zero. */
  void (*task_fail)(argon_task* task, const char* kind, const char* message);
};

/* The two functions a plugin exports. */
uint32_t argon_plugin_abi_version(void);
int argon_plugin_register(const struct argon_plugin_host* host);

#ifdef __cplusplus
}
#endif

#endif /* ARGON_PLUGIN_H */
