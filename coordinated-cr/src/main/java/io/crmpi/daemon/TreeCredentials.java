package io.crmpi.daemon;

import io.crmpi.engine.TreeOwner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Checks that every process of a tree is its owner's and nothing more: all
 * four uids and gids are the owner's, the groups are among the owner's,
 * and no capability is inheritable, permitted, effective or ambient. crmpid checks a
 * tree before it dumps it (so it never seals an image of anything else)
 * and a restored tree before anyone lets it run.
 */
final class TreeCredentials {
  private TreeCredentials() {}

  /** Throws an IOException naming the first process that is not only the owner's. */
  static void requireOwner(List<Long> pids, TreeOwner owner) throws IOException {
    Set<Long> groups = new HashSet<>();
    groups.add((long) owner.gid());
    owner.groups().forEach(g -> groups.add((long) g));
    for (long pid : pids) {
      List<String> status;
      try {
        status = Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"));
      } catch (NoSuchFileException e) {
        continue; // gone: it runs as nobody
      }
      String name = "?";
      for (String line : status) {
        int colon = line.indexOf(':');
        if (colon < 0) {
          continue;
        }
        String key = line.substring(0, colon);
        String value = line.substring(colon + 1).strip();
        switch (key) {
          case "Name" -> name = value;
          case "Uid" -> requireAll(pid, name, "uid", value, owner.uid());
          case "Gid" -> requireAll(pid, name, "gid", value, owner.gid());
          case "Groups" -> {
            for (String g : value.isEmpty() ? new String[0] : value.split("\\s+")) {
              if (!groups.contains(Long.parseLong(g))) {
                throw new IOException(describe(pid, name) + " has group " + g + ", which its owner (uid "
                    + owner.uid() + ") does not have");
              }
            }
          }
          case "CapInh", "CapPrm", "CapEff", "CapAmb" -> {
            if (Long.parseUnsignedLong(value, 16) != 0) {
              throw new IOException(describe(pid, name) + " has capabilities (" + key + " " + value + ")");
            }
          }
          default -> { }
        }
      }
    }
  }

  private static void requireAll(long pid, String name, String what, String value, int expected)
      throws IOException {
    for (String v : value.split("\\s+")) {
      if (Long.parseLong(v) != expected) {
        throw new IOException(describe(pid, name) + " runs with " + what + " " + v + ", not its owner's "
            + expected);
      }
    }
  }

  private static String describe(long pid, String name) {
    return "process " + pid + " (" + name + ") of the tree";
  }
}
