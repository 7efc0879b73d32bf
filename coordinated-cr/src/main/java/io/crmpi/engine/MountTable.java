package io.crmpi.engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The mounts of a node tree, read from /proc/PID/mountinfo, sorted into the
 * ones that belong to the tree (its /proc and the tmpfs and devpts mounts crmpi-ns made,
 * whose contents go into the image) and the external ones (everything bound
 * in from the host, which CRIU only records and binds again at restore).
 */
public final class MountTable {
  /** The key under which the working directory's bind mount is saved. */
  public static final String WORKDIR_KEY = "crmpi-workdir";

  private MountTable() {}

  /** One line of mountinfo: mount point, filesystem type and source. */
  record Mount(String mountPoint, String fsType, String source) {}

  static List<Mount> parse(List<String> mountinfo) {
    List<Mount> mounts = new ArrayList<>();
    for (String line : mountinfo) {
      String[] f = line.split(" ");
      int dash = List.of(f).indexOf("-");
      if (f.length < 10 || dash < 6 || dash + 2 >= f.length) {
        throw new IllegalArgumentException("malformed mountinfo line: " + line);
      }
      mounts.add(new Mount(unescape(f[4]), f[dash + 1], f[dash + 2]));
    }
    return mounts;
  }

  /** The mount points of a mountinfo file's lines, as they are written there (unescaped). */
  public static List<Path> mountPoints(List<String> mountinfo) {
    return parse(mountinfo).stream().map(m -> Path.of(m.mountPoint())).toList();
  }

  /**
   * External mounts of the tree rooted at pid: key to mount point, the
   * working directory under {@link #WORKDIR_KEY}, every other one under
   * its own mount point.
   */
  public static Map<String, String> externalMounts(long pid, Path workdir) throws IOException {
    return external(parse(Files.readAllLines(Path.of("/proc", Long.toString(pid), "mountinfo"))), workdir);
  }

  static Map<String, String> external(List<Mount> mounts, Path workdir) {
    Map<String, String> result = new LinkedHashMap<>();
    for (Mount m : mounts) {
      if (m.mountPoint().equals("/") || isOwnedByTree(m)) {
        continue;
      }
      String key = m.mountPoint().equals(workdir.toString()) ? WORKDIR_KEY : m.mountPoint();
      result.put(key, m.mountPoint());
    }
    return result;
  }

  private static boolean isOwnedByTree(Mount m) {
    return (m.fsType().equals("proc") && m.mountPoint().equals("/proc"))
        || ((m.fsType().equals("tmpfs") || m.fsType().equals("devpts")) && m.source().startsWith("crmpi-"));
  }

  /** mountinfo escapes space, tab, newline and backslash as octal. */
  static String unescape(String s) {
    StringBuilder b = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\' && i + 3 < s.length()) {
        b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
        i += 3;
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }
}
