package io.crmpi.engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The cgroups a node tree belongs in: those of the process that asked for
 * it (the job's step under Slurm, the user's session in local mode), so
 * that the job's limits and accounting hold for every process of the tree.
 * The tree's freezer cgroup is a child of that process's cgroup v2 (or, on
 * a host without cgroup v2, v1 freezer) cgroup; in every other v1
 * hierarchy the tree joins that process's cgroup itself.
 *
 * <p>The paths come from the kernel ({@code /proc/PID/cgroup}), but a
 * cgroup's name is chosen by whoever made it and may contain a newline, so
 * the parse is strict (every hierarchy of this host exactly once, nothing
 * else) and {@link #of(long)} checks that the process really is in every
 * cgroup it found before anyone writes there.
 *
 * @param unified the process's cgroup v2 directory, or null when no
 *     writable cgroup2 hierarchy is mounted
 * @param freezerV1 the process's v1 freezer directory, or null
 * @param v1 the process's directory in every v1 hierarchy with a mount
 */
public record CgroupHome(Path unified, Path freezerV1, List<Path> v1) {
  public CgroupHome {
    v1 = List.copyOf(v1);
  }

  /** The cgroups of process pid (0: this process), checked to be its own. */
  public static CgroupHome of(long pid) throws IOException {
    long who = pid == 0 ? ProcessHandle.current().pid() : pid;
    String own = Files.readString(Path.of("/proc/self/cgroup"));
    String theirs;
    try {
      theirs = Files.readString(Path.of("/proc", Long.toString(who), "cgroup"));
    } catch (java.nio.file.NoSuchFileException e) {
      throw new IOException("process " + who + " is gone: cannot tell which cgroups its node tree belongs in");
    }
    CgroupHome home = parse(theirs, own, Files.readString(Path.of("/proc/self/mountinfo")), Files::isWritable);
    home.requireMember(who);
    return home;
  }

  /**
   * The cgroups that procCgroup (a /proc/PID/cgroup) names, as directories
   * of the mounts in mountinfo (this process's /proc/self/mountinfo).
   * ownCgroup (this process's /proc/self/cgroup) says which hierarchies the
   * host has: procCgroup must name each of them once and nothing else. A
   * cgroup2 mount counts only where writable says so.
   */
  static CgroupHome parse(String procCgroup, String ownCgroup, String mountinfo,
      java.util.function.Predicate<Path> writable) throws IOException {
    Map<String, String> theirs = hierarchies(procCgroup);
    Map<String, String> own = hierarchies(ownCgroup);
    if (!theirs.keySet().equals(own.keySet())) {
      throw new IOException("the process's cgroup list names hierarchies " + theirs.keySet()
          + " but this host has " + own.keySet() + ": refusing to place its node tree");
    }
    List<Mount> mounts = mounts(mountinfo).stream().filter(m -> !m.v2 || writable.test(m.point)).toList();
    Path unified = null;
    Path freezer = null;
    List<Path> v1 = new ArrayList<>();
    for (Map.Entry<String, String> h : theirs.entrySet()) {
      String controllers = h.getKey().substring(h.getKey().indexOf(':') + 1);
      String path = h.getValue();
      if (controllers.isEmpty()) {
        Mount m = mounts.stream().filter(x -> x.v2).findFirst().orElse(null);
        unified = m == null ? null : m.resolve(path);
        continue;
      }
      Set<String> wanted = Set.of(controllers.split(","));
      Mount m = mounts.stream().filter(x -> !x.v2 && x.options.containsAll(wanted)).findFirst().orElse(null);
      if (m == null) {
        continue; // a hierarchy without a mount here: nothing to join
      }
      Path dir = m.resolve(path);
      v1.add(dir);
      if (wanted.contains("freezer")) {
        freezer = dir;
      }
    }
    return new CgroupHome(unified, freezer, v1);
  }

  /** "ID:CONTROLLERS" to path, every hierarchy once. */
  private static Map<String, String> hierarchies(String procCgroup) throws IOException {
    Map<String, String> out = new LinkedHashMap<>();
    for (String line : procCgroup.split("\n")) {
      if (line.isEmpty()) {
        continue;
      }
      String[] f = line.split(":", 3);
      if (f.length != 3 || !f[0].matches("[0-9]+") || !f[2].startsWith("/")) {
        throw new IOException("unexpected line in a /proc/PID/cgroup: '" + line + "'");
      }
      String key = f[0] + ":" + f[1];
      if (out.putIfAbsent(key, f[2]) != null) {
        throw new IOException("hierarchy " + key + " appears twice in a /proc/PID/cgroup (a cgroup name with a"
            + " newline?): refusing to place the node tree");
      }
    }
    return out;
  }

  private record Mount(Path point, String root, boolean v2, Set<String> options) {
    /** The directory of a cgroup path (as the kernel prints it) under this mount. */
    Path resolve(String path) throws IOException {
      String rel;
      if (root.equals("/")) {
        rel = path;
      } else if (path.equals(root) || path.startsWith(root + "/")) {
        rel = path.substring(root.length());
      } else {
        throw new IOException("cgroup " + path + " is outside the mount " + point + " (root " + root + ")");
      }
      Path dir = Path.of(point + rel).normalize();
      if (!dir.startsWith(point) || rel.contains("/../") || rel.endsWith("/..")) {
        throw new IOException("cgroup path " + path + " leaves its mount " + point);
      }
      return dir;
    }
  }

  private static List<Mount> mounts(String mountinfo) {
    List<Mount> out = new ArrayList<>();
    for (String line : mountinfo.split("\n")) {
      int dash = line.indexOf(" - ");
      if (dash < 0) {
        continue;
      }
      String[] pre = line.substring(0, dash).split(" ");
      String[] post = line.substring(dash + 3).split(" ");
      if (pre.length < 5 || post.length < 3) {
        continue;
      }
      boolean v2 = post[0].equals("cgroup2");
      if (!v2 && !post[0].equals("cgroup")) {
        continue;
      }
      Path point = Path.of(pre[4].replace("\\040", " "));
      out.add(new Mount(point, pre[3], v2, new HashSet<>(Arrays.asList(post[2].split(",")))));
    }
    return out;
  }

  /** Checks that pid is in every cgroup found (so nothing that only looked like a path is written to). */
  void requireMember(long pid) throws IOException {
    List<Path> all = new ArrayList<>(v1);
    if (unified != null) {
      all.add(unified);
    }
    String p = Long.toString(pid);
    for (Path dir : all) {
      List<String> procs;
      try {
        procs = Files.readAllLines(dir.resolve("cgroup.procs"));
      } catch (IOException e) {
        throw new IOException("cannot read " + dir.resolve("cgroup.procs") + " to place process " + pid
            + "'s node tree: " + e.getMessage(), e);
      }
      if (procs.stream().noneMatch(l -> l.strip().equals(p))) {
        throw new IOException("process " + pid + " is not in cgroup " + dir + " (it moved while its node tree"
            + " was placed?): try again");
      }
    }
  }

  /**
   * The tree's freezer cgroup NAME, a child of the process's cgroup v2
   * directory (or of its v1 freezer cgroup on a host without cgroup v2).
   */
  public Freezer freezer(String name) throws IOException {
    if (unified != null) {
      return Freezer.under(unified, true, name);
    }
    if (freezerV1 != null) {
      return Freezer.under(freezerV1, false, name);
    }
    throw new IOException("no freezer cgroup: neither a writable cgroup2 hierarchy nor a cgroup v1 freezer is"
        + " mounted; mount one (docs/install.md)");
  }

  /** The v1 cgroups the tree joins besides its freezer (the process's own, so its limits hold). */
  public List<Path> joins() {
    return v1.stream().filter(d -> unified != null || !Objects.equals(d, freezerV1)).toList();
  }
}
