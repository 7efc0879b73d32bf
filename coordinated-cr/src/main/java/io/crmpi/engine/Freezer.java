package io.crmpi.engine;

import io.crmpi.nativeio.Posix;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * A freezer cgroup holding one node tree, so that every node tree of a job
 * can be stopped before any is dumped and the time the ranks stand still is
 * known exactly. Works with the cgroup v1 freezer controller
 * ({@code freezer.state}) and with cgroup v2 ({@code cgroup.freeze}).
 */
public final class Freezer {
  private static final Path V1 = Path.of("/sys/fs/cgroup/freezer");
  private static final List<Path> V2_CANDIDATES = List.of(Path.of("/sys/fs/cgroup"),
      Path.of("/sys/fs/cgroup/unified"));
  private static final Duration SETTLE = Duration.ofSeconds(10);

  private final Path dir;
  private final boolean v2;

  private Freezer(Path dir, boolean v2) {
    this.dir = dir;
    this.v2 = v2;
  }

  /**
   * Creates (or reuses) the cgroup crmpi/NAME. cgroup v2 is preferred where
   * a writable cgroup2 hierarchy is mounted (pure v2 at /sys/fs/cgroup, or
   * the unified hierarchy of a hybrid setup): a frozen v2 task dies on
   * SIGKILL, so a tree frozen for a checkpoint is still fenced when its
   * runtime is killed, and in a hybrid setup the tree stays in the job's v1
   * controller cgroups. Else the v1 freezer.
   */
  public static Freezer create(String name) throws IOException {
    Optional<Path> v2 = v2Hierarchy();
    if (v2.isPresent()) {
      return create(v2.get(), true, name);
    }
    if (Files.isDirectory(V1)) {
      return create(V1, false, name);
    }
    throw new IOException("no freezer cgroup: neither a cgroup2 hierarchy (" + V2_CANDIDATES + ") nor " + V1
        + " (cgroup v1) is mounted and writable; mount one");
  }

  /** The freezer of the cgroup a dump recorded (crmpi/NAME under the hierarchy it was made on). */
  public static Freezer forImage(Path recorded) throws IOException {
    String name = recorded.getFileName().toString();
    Path hierarchy = recorded.getParent() == null ? null : recorded.getParent().getParent();
    if (hierarchy != null && hierarchy.equals(V1) && Files.isDirectory(V1)) {
      return create(V1, false, name);
    }
    for (Path candidate : V2_CANDIDATES) {
      if (candidate.equals(hierarchy) && isV2(candidate)) {
        return create(candidate, true, name);
      }
    }
    throw new IOException("the image's freezer cgroup " + recorded + " is on a cgroup hierarchy this host does"
        + " not have (it was made on a host with another cgroup layout)");
  }

  private static Optional<Path> v2Hierarchy() {
    return V2_CANDIDATES.stream().filter(Freezer::isV2).findFirst();
  }

  private static boolean isV2(Path p) {
    return Files.exists(p.resolve("cgroup.controllers")) && Files.isWritable(p);
  }

  /**
   * Creates (or reuses) the cgroup crmpi/NAME under hierarchy: a cgroup v1
   * freezer mount, or (v2) any cgroup2 mount, where freezing is built in.
   */
  static Freezer create(Path hierarchy, boolean v2, String name) throws IOException {
    if (!name.matches("[A-Za-z0-9._-]+")) {
      throw new IllegalArgumentException("cgroup name must be [A-Za-z0-9._-]+: " + name);
    }
    Path dir = hierarchy.resolve("crmpi").resolve(name);
    Files.createDirectories(dir);
    Freezer f = new Freezer(dir, v2);
    f.thaw();
    return f;
  }

  /** The cgroup directory (what crmpi-ns joins and CRIU's --freeze-cgroup names). */
  public Path dir() {
    return dir;
  }

  /** Freezes every task of the cgroup and waits until the kernel says FROZEN. */
  public void freeze() throws IOException {
    write(v2 ? "1" : "FROZEN");
    long deadline = System.nanoTime() + SETTLE.toNanos();
    while (!isFrozen()) {
      if (System.nanoTime() > deadline) {
        thaw();
        throw new IOException("cgroup " + dir + " did not freeze within " + SETTLE.toSeconds() + " s");
      }
      Thread.onSpinWait();
      sleepBriefly();
    }
  }

  public void thaw() throws IOException {
    write(v2 ? "0" : "THAWED");
  }

  public boolean isFrozen() throws IOException {
    if (v2) {
      return Files.readString(dir.resolve("cgroup.events")).contains("frozen 1");
    }
    return Files.readString(dir.resolve("freezer.state")).strip().equals("FROZEN");
  }

  void thawQuietly() {
    try {
      thaw();
    } catch (IOException e) {
      // the cgroup is gone with its tree: nothing left to thaw
    }
  }

  /**
   * Kills every task left in the cgroup (a tree whose runtime died, a
   * restore killed half-way) and waits until none is left, so that nothing
   * of an earlier copy of the tree runs beside a new one. Returns how many
   * tasks it killed.
   *
   * @throws IOException when tasks are still there after the wait
   */
  public int killTasks(Duration wait) throws IOException {
    int killed = 0;
    long deadline = System.nanoTime() + wait.toNanos();
    for (List<Long> tasks = tasks(); !tasks.isEmpty(); tasks = tasks()) {
      if (v2 && Files.exists(dir.resolve("cgroup.kill"))) {
        Files.writeString(dir.resolve("cgroup.kill"), "1"); // the whole cgroup at once, frozen or not
        killed += tasks.size();
        tasks = List.of();
      }
      for (long pid : tasks) {
        if (Posix.kill(pid, Posix.SIGKILL)) {
          killed++;
        }
      }
      thawQuietly(); // a frozen task dies only once thawed
      if (System.nanoTime() > deadline) {
        throw new IOException("cgroup " + dir + " still has " + tasks.size() + " tasks " + tasks
            + " after SIGKILL; they may be stuck in the kernel (D state)");
      }
      sleepBriefly();
    }
    return killed;
  }

  /** The pids in the cgroup (empty when it is gone). */
  public List<Long> tasks() throws IOException {
    try {
      return Files.readAllLines(dir.resolve("cgroup.procs")).stream().map(String::strip)
          .filter(l -> !l.isEmpty()).map(Long::parseLong).toList();
    } catch (NoSuchFileException e) {
      return List.of();
    }
  }

  /** Removes the cgroup once its tasks are gone; never fails. */
  void destroyQuietly() {
    try {
      thawQuietly();
      Files.deleteIfExists(dir);
    } catch (IOException e) {
      // still busy or already gone: a later create() reuses it
    }
  }

  private void write(String state) throws IOException {
    Files.writeString(dir.resolve(v2 ? "cgroup.freeze" : "freezer.state"), state);
  }

  private static void sleepBriefly() {
    try {
      Thread.sleep(1);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
