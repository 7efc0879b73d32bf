package io.crmpi.workdir;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crmpi.store.WrittenFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * The working-directory record against a real process that holds files open
 * the way a job's ranks do, read from the real /proc: only what the process
 * writes is recorded and rolled back, and nothing else in the directory is
 * read, changed or removed.
 */
class WorkdirWatchTest {
  @TempDir Path tmp;
  private Path workdir;
  private Path epochs;
  private Process job;
  private WorkdirWatch watch;
  private final List<String> log = new ArrayList<>();

  @BeforeEach
  void setUp() throws IOException {
    workdir = Files.createDirectories(tmp.resolve("work"));
    epochs = Files.createDirectories(tmp.resolve("epochs"));
    watch = new WorkdirWatch("t", workdir, Set.of(), Clock.systemUTC(), Duration.ofHours(1));
  }

  @AfterEach
  void tearDown() throws InterruptedException {
    watch.close();
    if (job != null) {
      job.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  /** Starts a shell in workdir that opens files as script says and then waits. */
  private void startJob(String script) throws Exception {
    job = new ProcessBuilder("sh", "-c", script + "; echo ready; exec sleep 600").directory(workdir.toFile())
        .redirectErrorStream(true).start();
    byte[] ready = job.getInputStream().readNBytes(6);
    assertEquals("ready\n", new String(ready, StandardCharsets.US_ASCII), "the job did not start");
    watch.watch(job.pid());
  }

  private WorkdirSnapshot capture(int epoch, Integer previous) throws IOException {
    Path dest = epochs.resolve(epoch + "/workdir");
    return watch.capture(dest, previous == null ? null : epochs.resolve(previous + "/workdir"), log::add);
  }

  private static Map<String, WrittenFile> byPath(WorkdirSnapshot s) {
    return s.record().files().stream().collect(Collectors.toMap(WrittenFile::path, f -> f));
  }

  private static void append(Path file, String text) throws IOException {
    Files.writeString(file, text, StandardOpenOption.APPEND);
  }

  /**
   * A file the tree writes and closes between two checkpoints is recorded
   * when a scan between them saw it open; none runs while scans are paused
   * (from a quiesce to the thaw).
   */
  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void noScanRunsWhileScansArePaused(boolean paused) throws Exception {
    watch.close();
    watch = new WorkdirWatch("t", workdir, Set.of(), Clock.systemUTC(), Duration.ofMillis(20));
    job = new ProcessBuilder("sh", "-c", "echo ready; read go; exec 3>brief.txt; echo x >&3; sleep 0.4; exec 3>&-;"
        + " echo closed; exec sleep 600").directory(workdir.toFile()).redirectErrorStream(true).start();
    assertEquals("ready\n", new String(job.getInputStream().readNBytes(6), StandardCharsets.US_ASCII));
    watch.watch(job.pid());
    if (paused) {
      watch.pauseScans();
    }
    job.getOutputStream().write('\n');
    job.getOutputStream().flush();
    assertEquals("closed\n", new String(job.getInputStream().readNBytes(7), StandardCharsets.US_ASCII));

    Set<String> recorded = byPath(capture(1, null)).keySet();

    assertEquals(paused ? Set.of() : Set.of("brief.txt"), recorded);
  }

  @Test
  void recordsOnlyTheFilesTheTreeHoldsOpenForWriting() throws Exception {
    Files.write(workdir.resolve("input.dat"), new byte[4 << 20]);
    Files.createDirectories(workdir.resolve("out"));
    startJob("exec 3>out/result.txt 4>>run.log 5<input.dat; printf 'partial' >&3; echo start >&4");

    WorkdirSnapshot s = capture(1, null);

    Map<String, WrittenFile> files = byPath(s);
    assertEquals(Set.of("out/result.txt", "run.log"), files.keySet(), "recorded " + files);
    assertEquals(WrittenFile.State.COPY, files.get("out/result.txt").state());
    assertEquals(WrittenFile.State.APPEND, files.get("run.log").state());
    assertEquals(6, files.get("run.log").size());
    assertEquals(List.of("out/result.txt"), s.copies().stream().map(c -> c.path()).toList(),
        "only the rewritten file is copied; the append-only log and the input are not");
    assertFalse(Files.exists(epochs.resolve("1/workdir/input.dat")));
  }

  @Test
  void aRestoreRollsBackWhatTheTreeWroteWithItsModeAndLeavesEverythingElse() throws Exception {
    Path script = workdir.resolve("step.sh");
    Files.writeString(script, "#!/bin/sh\n");
    Files.setAttribute(script, "unix:mode", 0750);
    Files.writeString(workdir.resolve("notes.txt"), "the user's notes\n");
    startJob("exec 3<>step.sh 4>>run.log; echo one >&4");
    WorkdirSnapshot s = capture(1, null);

    // After the checkpoint: the job rewrites its file and appends; the user edits and adds files of their own.
    Files.writeString(script, "#!/bin/sh\necho changed after the checkpoint\n");
    Files.setAttribute(script, "unix:mode", 0600);
    append(workdir.resolve("run.log"), "two\n");
    Files.writeString(workdir.resolve("notes.txt"), "edited after the checkpoint\n");
    Files.writeString(workdir.resolve("new-by-user.txt"), "mine\n");

    watch.restore(s.record(), epochs.resolve("1/workdir"), log::add);

    assertEquals("#!/bin/sh\n", Files.readString(script));
    assertEquals(0750, Reach.mode(script), "the mode came back with the content");
    assertEquals("one\n", Files.readString(workdir.resolve("run.log")), "the log is cut back to the checkpoint");
    assertEquals("edited after the checkpoint\n", Files.readString(workdir.resolve("notes.txt")));
    assertEquals("mine\n", Files.readString(workdir.resolve("new-by-user.txt")));
    assertTrue(log.contains("cut run.log back from 8 to 4 bytes"), log.toString());
  }

  @Test
  void aFileTheTreeCreatedAfterTheCheckpointIsRemovedOneItOnlyOpenedLaterIsLeft() throws Exception {
    Files.writeString(workdir.resolve("old.dat"), "before the job\n");
    startJob("exec 3>first.out");
    WorkdirSnapshot s = capture(1, null);
    Thread.sleep(20);
    // After the checkpoint the job creates a new file, and opens an older one for writing.
    Process later = new ProcessBuilder("sh", "-c", "exec 3>created.out 4>>old.dat; echo x >&3; echo y >&4;"
        + " echo ready; exec sleep 600").directory(workdir.toFile()).start();
    try {
      assertEquals("ready", new String(later.getInputStream().readNBytes(5), StandardCharsets.US_ASCII));
      watch.watch(later.pid());
      watch.restore(s.record(), epochs.resolve("1/workdir"), log::add);
    } finally {
      later.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    assertFalse(Files.exists(workdir.resolve("created.out")), log.toString());
    assertEquals("before the job\ny\n", Files.readString(workdir.resolve("old.dat")), log.toString());
    assertTrue(log.contains("removed created.out: the job created it after the checkpoint"), log.toString());
  }

  @Test
  void aFileOfTheSameNameTheJobNeverWroteIsNotRemoved() throws Exception {
    startJob("exec 3>tmp.out");
    Files.delete(workdir.resolve("tmp.out"));
    WorkdirSnapshot s = capture(1, null);
    assertEquals(WrittenFile.State.ABSENT, byPath(s).get("tmp.out") == null ? null : byPath(s).get("tmp.out").state(),
        "a written file that is gone is recorded as absent: " + s.record());
    Files.writeString(workdir.resolve("tmp.out"), "the user's own file\n");

    watch.restore(s.record(), epochs.resolve("1/workdir"), log::add);

    assertEquals("the user's own file\n", Files.readString(workdir.resolve("tmp.out")));
  }

  @Test
  void aSymlinkPlantedWhereAWrittenFileWasIsReplacedNotFollowed() throws Exception {
    Path victim = Files.writeString(tmp.resolve("victim.txt"), "not the job's\n");
    startJob("exec 3>result.txt; printf 'at checkpoint' >&3");
    WorkdirSnapshot s = capture(1, null);
    Files.delete(workdir.resolve("result.txt"));
    Files.createSymbolicLink(workdir.resolve("result.txt"), victim);
    Files.createSymbolicLink(workdir.resolve("result.txt.crmpi-restore"), victim);

    watch.restore(s.record(), epochs.resolve("1/workdir"), log::add);

    assertEquals("not the job's\n", Files.readString(victim));
    assertFalse(Files.isSymbolicLink(workdir.resolve("result.txt")));
    assertEquals("at checkpoint", Files.readString(workdir.resolve("result.txt")));
  }

  @Test
  void aDirectoryReplacedByASymlinkIsNotWrittenThrough() throws Exception {
    Path elsewhere = Files.createDirectories(tmp.resolve("elsewhere"));
    Files.createDirectories(workdir.resolve("out"));
    startJob("exec 3>out/r.txt; printf 'v1' >&3");
    WorkdirSnapshot s = capture(1, null);
    job.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    Files.delete(workdir.resolve("out/r.txt"));
    Files.delete(workdir.resolve("out"));
    Files.createSymbolicLink(workdir.resolve("out"), elsewhere);

    watch.restore(s.record(), epochs.resolve("1/workdir"), log::add);

    assertFalse(Files.exists(elsewhere.resolve("r.txt")), "the restore wrote through the symlink");
    assertTrue(log.stream().anyMatch(l -> l.startsWith("warning: cannot restore out/r.txt")), log.toString());
  }

  @Test
  void anUnchangedFileIsLinkedFromThePreviousEpochAndAChangedOneCopied() throws Exception {
    startJob("exec 3>a.out 4>b.out; printf 'a' >&3; printf 'b' >&4");
    capture(1, null);
    Files.writeString(workdir.resolve("b.out"), "b changed");
    WorkdirSnapshot second = capture(2, 1);

    Object linked = Files.getAttribute(epochs.resolve("2/workdir/a.out"), "unix:ino");
    assertEquals(Files.getAttribute(epochs.resolve("1/workdir/a.out"), "unix:ino"), linked);
    assertArrayEquals("b changed".getBytes(StandardCharsets.US_ASCII),
        Files.readAllBytes(epochs.resolve("2/workdir/b.out")));
    assertEquals(2, second.copies().size());
  }

  @Test
  void anAppendOnlyFileIsDigestedIncrementallyAndItsRewrittenPrefixIsLeftWithAWarning() throws Exception {
    startJob("exec 3>>log.txt; echo one >&3");
    capture(1, null);
    append(workdir.resolve("log.txt"), "two\n");
    WorkdirSnapshot second = capture(2, 1);
    WrittenFile log2 = byPath(second).get("log.txt");
    assertEquals(Sha256.ofPrefix(workdir.resolve("log.txt"), 8), log2.sha256(),
        "the running digest equals a digest of the whole file");
    Files.writeString(workdir.resolve("log.txt"), "ONE\ntwo\nthree\n");

    watch.restore(second.record(), epochs.resolve("2/workdir"), log::add);

    assertEquals("ONE\ntwo\nthree\n", Files.readString(workdir.resolve("log.txt")));
    assertTrue(log.contains("warning: the first 8 bytes of log.txt changed since the checkpoint; left as it is"),
        log.toString());
  }

  @Test
  void filesUnderAnExcludedDirectoryAreNeverRecorded() throws Exception {
    Path state = Files.createDirectories(workdir.resolve(".crmpi"));
    watch.close();
    watch = new WorkdirWatch("t", workdir, Set.of(state), Clock.systemUTC(), Duration.ofHours(1));
    startJob("exec 3>.crmpi/own 4>mine");
    assertEquals(Set.of("mine"), byPath(capture(1, null)).keySet());
    assertTrue(Files.exists(state.resolve("own"), LinkOption.NOFOLLOW_LINKS));
  }
}
