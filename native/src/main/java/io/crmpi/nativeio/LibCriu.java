package io.crmpi.nativeio;

import com.sun.jna.Library;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;

/**
 * libcriu's thread-safe "local options" API (criu.h), as far as crmpi uses
 * it: asking the criu binary set with {@code criu_local_set_service_binary}
 * for its version. Dumps run criu as a child process of their own, which
 * can be killed at a deadline (the engine's CriuDump). Only {@link Criu}
 * uses it.
 */
interface LibCriu extends Library {
  int criu_local_init_opts(PointerByReference opts);

  void criu_local_free_opts(Pointer opts);

  int criu_local_set_service_binary(Pointer opts, String path);

  int criu_local_get_version(Pointer opts);
}
