package io.crmpi.workdir;

import io.crmpi.store.FileDigest;
import io.crmpi.store.WorkdirRecord;
import io.crmpi.store.WrittenFile;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * What a node agent knows of the job's working directory: which files its
 * node tree writes, seen in /proc every interval and again at each
 * checkpoint, so that a checkpoint records exactly those files and a restore
 * rolls back exactly those. A file written and closed again within one
 * interval between two checkpoints may be missed; it is then left as the job
 * wrote it (docs/user-guide.md says so).
 */
public final class WorkdirWatch implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(WorkdirWatch.class.getName());
  /** How often the tree's open files are looked at between checkpoints. */
  public static final Duration INTERVAL = Duration.ofMillis(500);

  private final String job;
  private final Path workdir;
  private final Set<Path> excluded;
  private final Clock clock;
  private final TreeFiles treeFiles;
  private final WrittenSet written = new WrittenSet();
  private final WorkdirCapture capture = new WorkdirCapture();
  private final ScheduledExecutorService scanner;
  private volatile long rootPid;
  private volatile java.time.Instant pausedUntil = java.time.Instant.MIN;
  /** The longest a pause lasts when nothing resumes it (an agent that lost its coordinator). */
  static final Duration MAX_PAUSE = Duration.ofMinutes(2);

  /**
   * @param excluded directories under workdir that are crmpi's own (its
   *     state directory), never recorded
   */
  public WorkdirWatch(String job, Path workdir, Set<Path> excluded, Clock clock, Duration interval) {
    this(job, workdir, excluded, clock, interval, Path.of("/proc"));
  }

  WorkdirWatch(String job, Path workdir, Set<Path> excluded, Clock clock, Duration interval, Path proc) {
    this.job = job;
    this.workdir = workdir;
    this.excluded = Set.copyOf(excluded);
    this.clock = clock;
    this.treeFiles = new TreeFiles(proc);
    this.scanner = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "crmpi-workdir-" + job);
      t.setDaemon(true);
      return t;
    });
    scanner.scheduleWithFixedDelay(this::scanBetweenCheckpoints, interval.toMillis(), interval.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  /** Watches the tree whose init is pid (after a launch or a restore); 0 for none. */
  public void watch(long pid) {
    rootPid = pid;
    resumeScans();
    scanQuietly();
  }

  /**
   * Stops the scans between checkpoints until {@link #resumeScans} (or
   * {@link #MAX_PAUSE}): from the quiesce to the thaw, a scan would only
   * take CPU from the ranks the quiesce waits for, and the capture scans the
   * frozen tree anyway.
   */
  public void pauseScans() {
    pausedUntil = clock.instant().plus(MAX_PAUSE);
  }

  public void resumeScans() {
    pausedUntil = java.time.Instant.MIN;
  }

  /** Looks at the tree's open files now. */
  public void scan() {
    long pid = rootPid;
    if (pid > 0) {
      written.observe(treeFiles.scan(pid, workdir, excluded), workdir);
    }
  }

  private void scanBetweenCheckpoints() {
    if (clock.instant().isBefore(pausedUntil)) {
      return;
    }
    scanQuietly();
  }

  private void scanQuietly() {
    try {
      scan();
    } catch (RuntimeException e) {
      LOG.log(Level.FINE, "job " + job + ": scan of the tree's open files failed", e);
    }
  }

  /**
   * Records the written files into dest (the tree is frozen): looks at the
   * open files once more first.
   *
   * @param previous this node's snapshot directory of the previous epoch, or null
   */
  public WorkdirSnapshot capture(Path dest, Path previous, Consumer<String> warn) throws IOException {
    scan();
    return capture.capture(workdir, written.view(), dest, previous, clock.instant(), warn);
  }

  /**
   * Rolls the written files back to record (before the tree is restored),
   * then keeps tracking every file the record names.
   */
  public void restore(WorkdirRecord record, Path snapshot, Consumer<String> log) throws IOException {
    new WorkdirRestore(workdir, log).apply(record, snapshot, written.view());
    for (WrittenFile f : record.files()) {
      written.adopt(f.path(), f.state() == WrittenFile.State.APPEND);
    }
  }

  /** Restores the snapshot of a manifest of an earlier crmpi (copies only, nothing removed). */
  public void restoreCopies(List<FileDigest> copies, Path snapshot, Consumer<String> log) throws IOException {
    new WorkdirRestore(workdir, log).applyCopies(copies, snapshot);
    copies.forEach(c -> written.adopt(c.path(), false));
  }

  @Override
  public void close() {
    scanner.shutdownNow();
  }
}
