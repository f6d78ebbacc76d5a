/*
 * nameThread(name) -> boolean: names the calling thread (its /proc comm, what `top -H` and `ps -L` show),
 * as the capture thread is named loopy-capture: the store's thread and the engine workers would otherwise
 * show as "node", like V8's own helpers. Linux keeps 15 bytes of a name; longer ones are cut.
 */
#define _GNU_SOURCE
#include <pthread.h>

#include "napi-util.h"
#include "thread-name.h"

napi_value loopy_name_thread(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char name[16];
  size_t length = 0;
  napi_value result;
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], name, sizeof name, &length) != napi_ok) {
    napi_throw_type_error(env, NULL, "nameThread(name): name must be a string");
    return NULL;
  }
  NAPI_CALL(env, napi_get_boolean(env, pthread_setname_np(pthread_self(), name) == 0, &result));
  return result;
}
