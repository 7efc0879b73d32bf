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
  /** What every tree's freezer cgroup is called: crmpi.NAME. */
  static final String PREFIX = "crmpi.";
  private static final Duration SETTLE = Duration.ofSeconds(10);

  private final Path dir;
  private final boolean v2;

  private Freezer(Path dir, boolean v2) {
    this.dir = dir;
    this.v2 = v2;
  }

  /**
   * Creates (or reuses) the cgroup crmpi.NAME under parent: a cgroup v2
   * directory (freezing is built in, and a frozen v2 task dies on SIGKILL,
   * so a tree frozen for a checkpoint is still fenced when its runtime is
   * killed) or a directory of a v1 freezer hierarchy. See {@link CgroupHome}
   * for where parent is.
   */
  static Freezer under(Path parent, boolean v2, String name) throws IOException {
    if (!name.matches("[A-Za-z0-9._-]+")) {
      throw new IllegalArgumentException("cgroup name must be [A-Za-z0-9._-]+: " + name);
    }
    Path dir = parent.resolve(PREFIX + name);
    try {
      Files.createDirectory(dir);
    } catch (java.nio.file.FileAlreadyExistsException e) {
      // an earlier copy of the tree left it: reused, after its fence
    }
    Freezer f = new Freezer(dir, v2);
    f.thaw();
    return f;
  }

  /**
   * The freezer cgroup at dir that an earlier tree used (see
   * {@link TreeCgroupRecord}), if it is still there and is one of crmpi's.
   */
  static Optional<Freezer> existing(Path dir) {
    if (!dir.getFileName().toString().startsWith(PREFIX)) {
      return Optional.empty();
    }
    if (Files.exists(dir.resolve("cgroup.freeze"))) {
      return Optional.of(new Freezer(dir, true));
    }
    if (Files.exists(dir.resolve("freezer.state"))) {
      return Optional.of(new Freezer(dir, false));
    }
    return Optional.empty();
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
    java.util.Set<Long> killed = new java.util.HashSet<>();
    long deadline = System.nanoTime() + wait.toNanos();
    for (List<Long> tasks = tasks(); !tasks.isEmpty(); tasks = tasks()) {
      if (v2 && Files.exists(dir.resolve("cgroup.kill"))) {
        Files.writeString(dir.resolve("cgroup.kill"), "1"); // the whole cgroup at once, frozen or not
        killed.addAll(tasks);
        tasks = List.of();
      }
      for (long pid : tasks) {
        if (Posix.kill(pid, Posix.SIGKILL)) {
          killed.add(pid); // a task that is still dying is listed (and killed) again: counted once
        }
      }
      thawQuietly(); // a frozen task dies only once thawed
      if (System.nanoTime() > deadline) {
        throw new IOException("cgroup " + dir + " still has " + tasks.size() + " tasks " + tasks
            + " after SIGKILL; they may be stuck in the kernel (D state)");
      }
      sleepBriefly();
    }
    return killed.size();
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
