package io.crmpi.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crmpi.store.Digests;
import io.crmpi.store.FileDigest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A working directory with a file at the top, one in a subdirectory and
 * crmpi's own state directory, which is excluded; snapshots go where an
 * agent puts them, epochs/N/nodes/local/workdir.
 */
class WorkdirSnapshotTest {
  @TempDir
  Path tmp;

  Path workdir;
  Path state;
  Set<Path> excluded;
  final List<String> log = new ArrayList<>();

  @BeforeEach
  void makeWorkdir() throws IOException {
    workdir = Files.createDirectories(tmp.resolve("run"));
    state = Files.createDirectories(workdir.resolve(".crmpi"));
    excluded = Set.of(state);
    Files.writeString(workdir.resolve("ring.out"), "rank 0: step 1\n");
    Files.createDirectories(workdir.resolve("data"));
    Files.writeString(workdir.resolve("data/grid.bin"), "0123456789");
    Files.writeString(state.resolve("coordinator.log"), "epoch 1 committed\n");
  }

  Path snapshotDir(int epoch) {
    return tmp.resolve("epochs/" + epoch + "/nodes/local/workdir");
  }

  static Object inode(Path p) throws IOException {
    return Files.getAttribute(p, "unix:ino");
  }

  /** Rewrites a file with other content and a later modification time. */
  static void change(Path file, String content) throws IOException {
    FileTime before = Files.getLastModifiedTime(file);
    Files.writeString(file, content);
    Files.setLastModifiedTime(file, FileTime.fromMillis(before.toMillis() + 5_000));
  }

  @Test
  void captureCopiesEveryFileWithItsDigest() throws IOException {
    Path dest = snapshotDir(1);

    List<FileDigest> files = WorkdirSnapshot.capture(workdir, dest, null, excluded);

    assertEquals(List.of(Digests.digest(workdir, workdir.resolve("data/grid.bin")),
        Digests.digest(workdir, workdir.resolve("ring.out"))), files);
    assertEquals(files, Digests.digestTree(dest));
    assertEquals("rank 0: step 1\n", Files.readString(dest.resolve("ring.out")));
    assertNotEquals(inode(workdir.resolve("ring.out")), inode(dest.resolve("ring.out")), "a copy, not a link");
    assertEquals(Files.getLastModifiedTime(workdir.resolve("ring.out")),
        Files.getLastModifiedTime(dest.resolve("ring.out")));
  }

  @Test
  void captureLeavesOutExcludedDirectories() throws IOException {
    Path dest = snapshotDir(1);

    List<FileDigest> files = WorkdirSnapshot.capture(workdir, dest, null, excluded);

    assertTrue(files.stream().noneMatch(f -> f.path().startsWith(".crmpi")), files.toString());
    assertFalse(Files.exists(dest.resolve(".crmpi")));
  }

  @Test
  void captureWritesItsIndexBesideTheSnapshot() throws IOException {
    WorkdirSnapshot.capture(workdir, snapshotDir(1), null, excluded);

    Path index = snapshotDir(1).resolveSibling(WorkdirSnapshot.INDEX);
    assertTrue(Files.isRegularFile(index));
    assertEquals(2, Files.readAllLines(index).size());
  }

  @Test
  void secondCaptureLinksUnchangedFilesAndCopiesChangedOnes() throws IOException {
    List<FileDigest> first = WorkdirSnapshot.capture(workdir, snapshotDir(1), null, excluded);
    change(workdir.resolve("ring.out"), "rank 0: step 1\nrank 0: step 2\n");

    List<FileDigest> second = WorkdirSnapshot.capture(workdir, snapshotDir(2), snapshotDir(1), excluded);

    assertEquals(inode(snapshotDir(1).resolve("data/grid.bin")), inode(snapshotDir(2).resolve("data/grid.bin")),
        "unchanged file is a hard link to the previous copy");
    assertNotEquals(inode(snapshotDir(1).resolve("ring.out")), inode(snapshotDir(2).resolve("ring.out")),
        "changed file is copied");
    assertEquals("rank 0: step 1\nrank 0: step 2\n", Files.readString(snapshotDir(2).resolve("ring.out")));
    assertEquals("rank 0: step 1\n", Files.readString(snapshotDir(1).resolve("ring.out")),
        "the previous snapshot is not touched");
    assertEquals(first.get(0), second.get(0));
    assertEquals(Digests.digest(workdir, workdir.resolve("ring.out")), second.get(1));
    assertEquals(second, Digests.digestTree(snapshotDir(2)));
  }

  @Test
  void captureCopiesAFileThatIsNewSinceThePreviousOne() throws IOException {
    WorkdirSnapshot.capture(workdir, snapshotDir(1), null, excluded);
    Files.writeString(workdir.resolve("data/new.bin"), "fresh");

    List<FileDigest> second = WorkdirSnapshot.capture(workdir, snapshotDir(2), snapshotDir(1), excluded);

    assertEquals(List.of("data/grid.bin", "data/new.bin", "ring.out"),
        second.stream().map(FileDigest::path).toList());
    assertEquals("fresh", Files.readString(snapshotDir(2).resolve("data/new.bin")));
  }

  @Test
  void restorePutsTheWorkdirBackAndReportsEachChange() throws IOException {
    List<FileDigest> files = WorkdirSnapshot.capture(workdir, snapshotDir(1), null, excluded);
    change(workdir.resolve("ring.out"), "rank 0: step 1\nrank 0: step 2\n");
    Files.delete(workdir.resolve("data/grid.bin"));
    Files.delete(workdir.resolve("data"));
    Files.writeString(workdir.resolve("late.out"), "written after the checkpoint");
    Files.writeString(state.resolve("coordinator.log"), "epoch 2 committed\n");
    Files.writeString(state.resolve("agent.log"), "restarting\n");

    WorkdirSnapshot.restore(snapshotDir(1), files, workdir, excluded, log::add);

    assertEquals("rank 0: step 1\n", Files.readString(workdir.resolve("ring.out")));
    assertEquals("0123456789", Files.readString(workdir.resolve("data/grid.bin")));
    assertFalse(Files.exists(workdir.resolve("late.out")));
    assertEquals("epoch 2 committed\n", Files.readString(state.resolve("coordinator.log")));
    assertEquals("restarting\n", Files.readString(state.resolve("agent.log")));
    assertEquals(List.of(
        "restored data/grid.bin (10 bytes) to its checkpoint state",
        "restored ring.out (15 bytes) to its checkpoint state",
        "removed late.out: created after the checkpoint"), log);
    assertEquals(files, Digests.digestTree(workdir).stream()
        .filter(f -> !f.path().startsWith(".crmpi/")).toList());
  }

  @Test
  void restoreOfAnUnchangedWorkdirChangesAndReportsNothing() throws IOException {
    List<FileDigest> files = WorkdirSnapshot.capture(workdir, snapshotDir(1), null, excluded);
    Object inode = inode(workdir.resolve("ring.out"));

    WorkdirSnapshot.restore(snapshotDir(1), files, workdir, excluded, log::add);

    assertEquals(List.of(), log);
    assertEquals(inode, inode(workdir.resolve("ring.out")), "an identical file is not rewritten");
  }

  @Test
  void restoreFromALinkedSnapshotLeavesThePreviousSnapshotIntact() throws IOException {
    WorkdirSnapshot.capture(workdir, snapshotDir(1), null, excluded);
    List<FileDigest> second = WorkdirSnapshot.capture(workdir, snapshotDir(2), snapshotDir(1), excluded);
    change(workdir.resolve("data/grid.bin"), "garbage written later");

    WorkdirSnapshot.restore(snapshotDir(2), second, workdir, excluded, log::add);

    assertEquals("0123456789", Files.readString(workdir.resolve("data/grid.bin")));
    assertEquals("0123456789", Files.readString(snapshotDir(1).resolve("data/grid.bin")));
    assertEquals(List.of("restored data/grid.bin (10 bytes) to its checkpoint state"), log);
  }
}
