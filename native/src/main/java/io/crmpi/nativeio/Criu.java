package io.crmpi.nativeio;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The facade over libcriu: version check, kernel check and dump. Each call
 * makes its own libcriu options, so calls from several threads do not
 * interfere. Failures become {@link CriuException}s that quote CRIU's error
 * lines from its log.
 */
public final class Criu {
  /** The oldest CRIU crmpi works with (4.2: vDSO and SO_PASSCRED fixes). */
  public static final int MIN_VERSION = 40200;

  private final LibCriu lib;
  private final CriuInstallation installation;

  private Criu(LibCriu lib, CriuInstallation installation) {
    this.lib = lib;
    this.installation = installation;
  }

  /** Loads libcriu from the installation and checks the CRIU version. */
  public static Criu load(CriuInstallation installation) {
    Path protobuf = installation.library().resolveSibling("libprotobuf-c.so.1");
    if (Files.exists(protobuf)) {
      NativeLibrary.getInstance(protobuf.toString());
    }
    LibCriu lib = Native.load(installation.library().toString(), LibCriu.class);
    Criu criu = new Criu(lib, installation);
    int version = criu.version();
    if (version < MIN_VERSION) {
      throw new IllegalStateException("CRIU " + installation.binary() + " is version "
          + formatVersion(version) + ", crmpi needs >= " + formatVersion(MIN_VERSION)
          + ": run scripts/setup.sh");
    }
    return criu;
  }

  public CriuInstallation installation() {
    return installation;
  }

  /** The version as major*10000 + minor*100 + sublevel, e.g. 40201. */
  public int version() {
    Pointer opts = newOptions();
    try {
      int v = lib.criu_local_get_version(opts);
      if (v < 0) {
        throw new CriuException("cannot ask " + installation.binary() + " for its version: "
            + describe(v), null);
      }
      return v;
    } finally {
      lib.criu_local_free_opts(opts);
    }
  }

  public static String formatVersion(int v) {
    return (v / 10000) + "." + (v / 100 % 100) + "." + (v % 100);
  }

  /** The error lines of a CRIU log, minus the ones known to be harmless here. */
  public static String errorLines(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      String errors = lines.stream()
          .filter(l -> l.contains("Error") && !isHarmless(l))
          .limit(8)
          .map(String::strip)
          .collect(Collectors.joining("\n  "));
      return errors.isEmpty() ? " (see " + log + ")" : "\n  " + errors + "\n  (full log: " + log + ")";
    } catch (IOException e) {
      return " (no log at " + log + ")";
    }
  }

  private static boolean isHarmless(String line) {
    return line.contains("RLIMIT_NOFILE")
        || line.contains("iptables")
        || line.contains("ip6tables")
        || line.contains("already assigned");
  }

  private Pointer newOptions() {
    PointerByReference ref = new PointerByReference();
    check(lib.criu_local_init_opts(ref), "init_opts");
    Pointer opts = ref.getValue();
    check(lib.criu_local_set_service_binary(opts, installation.binary().toString()),
        "set_service_binary");
    return opts;
  }

  private static void check(int rc, String call) {
    if (rc < 0) {
      throw new CriuException("libcriu criu_local_" + call + " failed: " + describe(rc), null);
    }
  }

  private static String describe(int rc) {
    int errno = -rc;
    if (errno == 52) {
      return "CRIU reported an error";
    }
    return Posix.strerror(errno) + " (errno " + errno + ")";
  }
}
