package io.crmpi.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crmpi.nativeio.Posix;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The node-local directory of a job: made safely in a root every user of the node shares. */
class NodeLocalLevelTest {
  @TempDir
  Path root;

  @Test
  void theJobsDirectoryIsTheUsersOwnAndPrivate() throws IOException {
    NodeLocalLevel level = NodeLocalLevel.of(root, Posix.uid(), "job-1");
    level.prepare(Posix.uid());
    Path user = root.resolve("crmpi-" + Posix.uid());
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(user)));
    assertTrue(Files.isDirectory(level.jobDir().resolve("epochs")));
    assertEquals(user.resolve("job-1/epochs/0000000007"), level.epochDir(7));
    level.prepare(Posix.uid()); // again: nothing changes
  }

  @Test
  void aSymlinkPlantedAsTheUsersDirectoryIsRefused() throws IOException {
    Path elsewhere = Files.createDirectory(root.resolve("attacker"));
    Files.createSymbolicLink(root.resolve("crmpi-" + Posix.uid()), elsewhere);
    IOException e = assertThrows(IOException.class,
        () -> NodeLocalLevel.of(root, Posix.uid(), "job").prepare(Posix.uid()));
    assertTrue(e.getMessage().contains("a symlink") && e.getMessage().contains("someone else made it"), e.getMessage());
    assertFalse(Files.exists(elsewhere.resolve("job")), "nothing was made through the link");
  }

  @Test
  void aDirectoryOfAnotherUserIsRefused() throws IOException {
    Files.createDirectory(root.resolve("crmpi-" + Posix.uid()));
    IOException e = assertThrows(IOException.class,
        () -> NodeLocalLevel.of(root, Posix.uid(), "job").prepare(Posix.uid() + 1));
    assertTrue(e.getMessage().contains("not a directory of uid " + (Posix.uid() + 1)), e.getMessage());
  }

  @Test
  void aDirectoryOthersCanEnterIsRefusedWithWhatToDo() throws IOException {
    Path user = Files.createDirectory(root.resolve("crmpi-" + Posix.uid()));
    Files.setPosixFilePermissions(user, PosixFilePermissions.fromString("rwxr-x---"));
    IOException e = assertThrows(IOException.class,
        () -> NodeLocalLevel.of(root, Posix.uid(), "job").prepare(Posix.uid()));
    assertTrue(e.getMessage().contains("chmod 700 " + user), e.getMessage());
  }

  @Test
  void aMissingRootSaysWhatToDo() {
    IOException e = assertThrows(IOException.class,
        () -> NodeLocalLevel.of(root.resolve("no-such"), Posix.uid(), "job").prepare(Posix.uid()));
    assertTrue(e.getMessage().contains("does not exist on this node"), e.getMessage());
  }

  @Test
  void pruneDeletesOnlyTheEpochDirectoriesNotKept() throws IOException {
    NodeLocalLevel level = NodeLocalLevel.of(root, Posix.uid(), "job");
    level.prepare(Posix.uid());
    for (long e : List.of(1L, 2L, 3L)) {
      Files.createDirectories(level.epochDir(e).resolve("nodes/n1/image"));
      Files.writeString(level.epochDir(e).resolve("nodes/n1/image/pages-1.img"), "x");
    }
    Path stranger = Files.createDirectory(level.jobDir().resolve("epochs/notes"));
    assertEquals(List.of(1L, 3L), level.prune(Set.of(2L)));
    assertTrue(Files.exists(level.epochDir(2).resolve("nodes/n1/image/pages-1.img")));
    assertFalse(Files.exists(level.epochDir(1)));
    assertTrue(Files.exists(stranger), "a directory crmpi did not name is left alone");
  }

  @Test
  void pruneAlsoDeletesThePartnerCopiesAndPartialTransfersNotKept() throws IOException {
    NodeLocalLevel level = NodeLocalLevel.of(root, Posix.uid(), "job");
    level.prepare(Posix.uid());
    for (long e : List.of(1L, 2L)) {
      Files.createDirectories(level.partnerDir("node1", e).resolve("image"));
    }
    Path partial1 = Files.createDirectories(level.jobDir().resolve("partners/node1/.0000000001.partial-x7"));
    Path partial2 = Files.createDirectories(level.jobDir().resolve("partners/node1/.0000000002.partial-y8"));
    Path stranger = Files.createDirectories(level.jobDir().resolve("partners/node1/keep-me"));
    assertEquals(List.of(), level.prune(Set.of(2L)), "only this node's own epochs are reported");
    assertFalse(Files.exists(level.partnerDir("node1", 1)));
    assertFalse(Files.exists(partial1));
    assertTrue(Files.exists(level.partnerDir("node1", 2)));
    assertTrue(Files.exists(partial2), "a transfer of a kept epoch may still be running");
    assertTrue(Files.exists(stranger), "a directory crmpi did not name is left alone");
    Files.delete(stranger);
    level.remove();
    assertFalse(Files.exists(level.jobDir()), "remove() left the partner copies");
  }

  @Test
  void partnerDirectoriesNeedANodeName() {
    NodeLocalLevel level = NodeLocalLevel.of(root, 1, "job");
    assertEquals(level.jobDir().resolve("partners/node0/0000000012"), level.partnerDir("node0", 12));
    assertThrows(IllegalArgumentException.class, () -> level.partnerDir("../x", 1));
    assertThrows(IllegalArgumentException.class, () -> level.partnerDir(".hidden", 1));
  }

  @Test
  void relativeRootsAndBadJobKeysAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> NodeLocalLevel.of(Path.of("shm"), 1, "job"));
    assertThrows(IllegalArgumentException.class, () -> NodeLocalLevel.of(root, 1, "../job"));
  }
}
