package io.crmpi.nativeio;

import com.sun.jna.Library;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;

/**
 * libcriu's thread-safe "local options" API (criu.h). Every call drives the
 * criu binary set with {@code criu_local_set_service_binary} in swrk mode.
 * Only {@link Criu} uses it.
 */
interface LibCriu extends Library {
  int NETWORK_LOCK_NFTABLES = 2;

  int criu_local_init_opts(PointerByReference opts);

  void criu_local_free_opts(Pointer opts);

  int criu_local_set_service_binary(Pointer opts, String path);

  void criu_local_set_pid(Pointer opts, int pid);

  void criu_local_set_images_dir_fd(Pointer opts, int fd);

  int criu_local_set_log_file(Pointer opts, String name);

  void criu_local_set_log_level(Pointer opts, int level);

  void criu_local_set_leave_running(Pointer opts, boolean leaveRunning);

  void criu_local_set_tcp_established(Pointer opts, boolean tcpEstablished);

  int criu_local_set_freeze_cgroup(Pointer opts, String cgroup);

  void criu_local_set_network_lock(Pointer opts, int method);

  int criu_local_add_ext_mount(Pointer opts, String key, String value);

  void criu_local_set_ghost_limit(Pointer opts, int limit);

  int criu_local_dump(Pointer opts);

  int criu_local_check(Pointer opts);

  int criu_local_get_version(Pointer opts);
}
