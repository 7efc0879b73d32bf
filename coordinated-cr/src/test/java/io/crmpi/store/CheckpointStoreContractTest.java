package io.crmpi.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The behaviour every {@link CheckpointStore} must have, as its interface
 * describes it. An implementation's test extends this class and says how
 * to open a store over some storage and how to corrupt a manifest there.
 */
abstract class CheckpointStoreContractTest {
  static final String JOB = "job-42";
  static final String IMAGE_DIR = "nodes/local/image";
  static final String WORKDIR_DIR = "nodes/local/workdir";

  @TempDir
  Path storage;

  CheckpointStore store;

  /** A store of job {@link #JOB} over storage, empty or as a previous store left it. */
  abstract CheckpointStore open(Path storage) throws IOException;

  /** Makes the commit record of the committed epoch impossible to decode. */
  abstract void corruptManifest(CheckpointStore store, long epoch) throws IOException;

  @BeforeEach
  void openStore() throws IOException {
    store = open(storage);
  }

  @Test
  void epochIdsStrictlyIncrease() throws IOException {
    long first = store.beginEpoch();
    long second = store.beginEpoch();
    long third = store.beginEpoch();
    assertTrue(first > 0, "first epoch " + first);
    assertTrue(second > first && third > second, first + ", " + second + ", " + third);
  }

  @Test
  void beginEpochCreatesAnEmptyDirectory() throws IOException {
    Path dir = store.epochDir(store.beginEpoch());
    assertTrue(Files.isDirectory(dir));
    try (var entries = Files.list(dir)) {
      assertEquals(0, entries.count());
    }
  }

  @Test
  void epochIdsKeepIncreasingAfterReopen() throws IOException {
    long committed = commitNewEpoch();
    long pending = store.beginEpoch();
    CheckpointStore reopened = open(storage);
    long next = reopened.beginEpoch();
    assertTrue(next > pending && pending > committed, committed + ", " + pending + ", " + next);
  }

  @Test
  void epochIdsKeepIncreasingAfterAbortOfTheNewest() throws IOException {
    long aborted = store.beginEpoch();
    store.abort(aborted);
    assertTrue(store.beginEpoch() > aborted);
  }

  @Test
  void epochIdsKeepIncreasingAfterReopenEvenWhenEveryEpochWasAborted() throws IOException {
    long first = store.beginEpoch();
    long second = store.beginEpoch();
    store.abort(first);
    store.abort(second);
    assertTrue(open(storage).beginEpoch() > second);
  }

  @Test
  void nothingIsCommittedInANewStore() throws IOException {
    assertEquals(List.of(), store.committed());
    assertEquals(Optional.empty(), store.latest());
  }

  @Test
  void commitMakesTheEpochVisibleAsLatest() throws IOException {
    long epoch = store.beginEpoch();
    Manifest manifest = fillAndDescribe(epoch);
    assertEquals(Optional.empty(), store.latest());
    store.commit(manifest);
    assertEquals(Optional.of(manifest), store.latest());
    assertEquals(Optional.of(manifest), store.get(epoch));
    assertEquals(List.of(manifest), store.committed());
  }

  @Test
  void committedEpochsSurviveReopen() throws IOException {
    long epoch = commitNewEpoch();
    CheckpointStore reopened = open(storage);
    assertEquals(epoch, reopened.latest().orElseThrow().epoch());
    assertEquals(store.committed(), reopened.committed());
  }

  @Test
  void committedListsEpochsOldestFirstAndSkipsPendingOnes() throws IOException {
    long first = commitNewEpoch();
    long pending = store.beginEpoch();
    long third = commitNewEpoch();
    assertEquals(List.of(first, third), epochs(store.committed()));
    assertEquals(Optional.empty(), store.get(pending));
    assertEquals(third, store.latest().orElseThrow().epoch());
  }

  @Test
  void commitOfAnEpochThatWasNeverBegunIsRefused() {
    assertThrows(IllegalStateException.class, () -> store.commit(manifest(7, List.of(), List.of())));
  }

  @Test
  void commitOfTheSameEpochTwiceIsRefused() throws IOException {
    long epoch = store.beginEpoch();
    Manifest manifest = fillAndDescribe(epoch);
    store.commit(manifest);
    assertThrows(IllegalStateException.class, () -> store.commit(manifest));
  }

  @Test
  void commitOfAnotherJobsManifestIsRefused() throws IOException {
    long epoch = store.beginEpoch();
    Manifest own = fillAndDescribe(epoch);
    Manifest foreign = new Manifest(own.formatVersion(), "other-job", epoch, own.createdAt(),
        own.engine(), own.trigger(), own.timings(), own.nodes());
    assertThrows(IllegalArgumentException.class, () -> store.commit(foreign));
    assertEquals(Optional.empty(), store.latest());
  }

  @Test
  void abortRemovesTheEpochDirectory() throws IOException {
    long epoch = store.beginEpoch();
    fillAndDescribe(epoch);
    store.abort(epoch);
    assertFalse(Files.exists(store.epochDir(epoch)));
  }

  @Test
  void abortOfAnUnknownEpochIsANoOp() throws IOException {
    store.abort(12345);
    assertEquals(List.of(), store.committed());
  }

  @Test
  void abortOfACommittedEpochIsRefused() throws IOException {
    long epoch = commitNewEpoch();
    assertThrows(IllegalStateException.class, () -> store.abort(epoch));
    assertEquals(epoch, store.latest().orElseThrow().epoch());
  }

  @Test
  void retentionKeepsTheNewestN() throws IOException {
    long e1 = commitNewEpoch();
    long e2 = commitNewEpoch();
    long e3 = commitNewEpoch();
    long e4 = commitNewEpoch();
    assertEquals(List.of(e1, e2), store.retain(2));
    assertEquals(List.of(e3, e4), epochs(store.committed()));
    assertFalse(Files.exists(store.epochDir(e1)));
    assertFalse(Files.exists(store.epochDir(e2)));
  }

  @Test
  void retentionKeepsPinnedEpochsBeyondTheNewestN() throws IOException {
    long e1 = commitNewEpoch();
    long e2 = commitNewEpoch();
    long e3 = commitNewEpoch();
    long e4 = commitNewEpoch();
    assertEquals(List.of(e1, e3), store.retain(1, java.util.Set.of(e2)));
    assertEquals(List.of(e2, e4), epochs(store.committed()));
    assertEquals(List.of(), store.verify(store.get(e2).orElseThrow()));
    assertEquals(List.of(e2), store.retain(1, java.util.Set.of()));
  }

  @Test
  void retentionNeverDeletesTheNewestEpoch() throws IOException {
    commitNewEpoch();
    long newest = commitNewEpoch();
    store.retain(1);
    assertEquals(List.of(newest), epochs(store.committed()));
    assertEquals(List.of(), store.retain(1));
    assertEquals(List.of(), store.verify(store.latest().orElseThrow()));
  }

  @Test
  void retentionRefusesToKeepFewerThanOne() throws IOException {
    commitNewEpoch();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> store.retain(0));
    assertTrue(e.getMessage().contains("keep < 1: 0"), e.getMessage());
    assertEquals(1, store.committed().size());
  }

  @Test
  void retentionSweepsUncommittedDebrisOlderThanTheLatest() throws IOException {
    long debris = store.beginEpoch();
    fillAndDescribe(debris);
    long committed = commitNewEpoch();
    assertEquals(List.of(debris), store.retain(5));
    assertFalse(Files.exists(store.epochDir(debris)));
    assertEquals(List.of(committed), epochs(store.committed()));
  }

  @Test
  void aPendingEpochNewerThanTheLatestSurvivesRetention() throws IOException {
    commitNewEpoch();
    long latest = commitNewEpoch();
    long pending = store.beginEpoch();
    fillAndDescribe(pending);
    store.retain(1);
    assertTrue(Files.isDirectory(store.epochDir(pending)));
    assertEquals(latest, store.latest().orElseThrow().epoch());
  }

  @Test
  void retentionWithNothingCommittedDeletesNothing() throws IOException {
    long pending = store.beginEpoch();
    assertEquals(List.of(), store.retain(1));
    assertTrue(Files.isDirectory(store.epochDir(pending)));
  }

  @Test
  void verifyOfAnIntactEpochFindsNothing() throws IOException {
    commitNewEpoch();
    assertEquals(List.of(), store.verify(store.latest().orElseThrow()));
  }

  @Test
  void verifyDetectsAFlippedByte() throws IOException {
    Manifest manifest = store.get(commitNewEpoch()).orElseThrow();
    Path pages = store.epochDir(manifest.epoch()).resolve(IMAGE_DIR).resolve("pages-1.img");
    byte[] bytes = Files.readAllBytes(pages);
    bytes[bytes.length / 2] ^= 0x01;
    Files.write(pages, bytes);
    assertEquals(List.of(IMAGE_DIR + "/pages-1.img: sha256 mismatch"), store.verify(manifest));
  }

  @Test
  void verifyDetectsATruncatedFile() throws IOException {
    Manifest manifest = store.get(commitNewEpoch()).orElseThrow();
    Path out = store.epochDir(manifest.epoch()).resolve(WORKDIR_DIR).resolve("results/out.txt");
    Files.write(out, new byte[] {'x'});
    List<String> problems = store.verify(manifest);
    assertEquals(1, problems.size(), problems.toString());
    assertTrue(problems.get(0).startsWith(WORKDIR_DIR + "/results/out.txt: size 1"), problems.get(0));
  }

  @Test
  void verifyDetectsAMissingFile() throws IOException {
    Manifest manifest = store.get(commitNewEpoch()).orElseThrow();
    Files.delete(store.epochDir(manifest.epoch()).resolve(IMAGE_DIR).resolve("core-1.img"));
    assertEquals(List.of(IMAGE_DIR + "/core-1.img: missing"), store.verify(manifest));
  }

  @Test
  void committedSkipsAMalformedManifestWithoutDeletingIt() throws IOException {
    long older = commitNewEpoch();
    long broken = commitNewEpoch();
    corruptManifest(store, broken);
    assertEquals(List.of(older), epochs(store.committed()));
    assertEquals(older, store.latest().orElseThrow().epoch());
    assertEquals(Optional.empty(), store.get(broken));
    assertTrue(Files.isDirectory(store.epochDir(broken)));
    assertTrue(open(storage).beginEpoch() > broken);
  }

  /** Begins an epoch, fills it with a small image and commits it. */
  /** Commits a new epoch as crmpid's images are committed: before their seal, without digests. */
  long commitUnsealedEpoch() throws IOException {
    long epoch = store.beginEpoch();
    store.commit(unsealed(fillAndDescribe(epoch)));
    return epoch;
  }

  static Manifest unsealed(Manifest m) {
    return m.withNodes(m.nodes().stream().map(n -> n.sealedAs(n.files().stream()
        .map(f -> FileDigest.unsealed(f.path(), f.size())).toList(), n.attributes())).toList());
  }

  @Test
  void anUnsealedEpochIsCommittedThenRecordedSealedKeepingItsLevels() throws IOException {
    long epoch = store.beginEpoch();
    Manifest filled = fillAndDescribe(epoch);
    Manifest sealed = new Manifest(filled.formatVersion(), filled.job(), epoch, filled.createdAt(), filled.engine(),
        filled.trigger(), filled.timings(), filled.nodes(), EpochLevels.local(store.epochDir(epoch)));
    store.commit(unsealed(sealed));
    assertFalse(store.latest().orElseThrow().sealed());
    assertTrue(store.addLevel(epoch, StorageLevel.SHARED));
    assertTrue(store.recordSeal(sealed));
    Manifest stored = store.latest().orElseThrow();
    assertTrue(stored.sealed());
    assertEquals(sealed.nodes(), stored.nodes());
    assertTrue(stored.levels().holds(StorageLevel.SHARED), "the seal must keep the levels recorded before it");
    assertEquals(List.of(), store.verify(stored));
    assertThrows(IllegalArgumentException.class, () -> store.recordSeal(unsealed(sealed)));
    assertFalse(store.recordSeal(fillAndDescribe(store.beginEpoch())), "an epoch not committed is not sealed");
  }

  @Test
  void anUnsealedEpochIsWithdrawnAndASealedOneNever() throws IOException {
    long sealed = commitNewEpoch();
    long unsealed = commitUnsealedEpoch();
    assertThrows(IllegalStateException.class, () -> store.withdraw(sealed));
    store.withdraw(unsealed);
    assertEquals(List.of(sealed), epochs(store.committed()));
    assertFalse(Files.exists(store.epochDir(unsealed)));
    store.withdraw(unsealed); // gone already: nothing to do
  }

  @Test
  void retentionCountsOnlySealedEpochsAndDeletesAnUnsealedOneOnceANewerIsSealed() throws IOException {
    long one = commitNewEpoch();
    long two = commitUnsealedEpoch();
    assertEquals(List.of(), store.retain(1), "the newest sealed epoch and the unsealed one after it stay");
    assertEquals(List.of(one, two), epochs(store.committed()));
    long three = commitNewEpoch();
    assertEquals(List.of(one, two), store.retain(1));
    assertEquals(List.of(three), epochs(store.committed()));
  }

  long commitNewEpoch() throws IOException {
    long epoch = store.beginEpoch();
    store.commit(fillAndDescribe(epoch));
    return epoch;
  }

  /** Writes image and working-directory files into the epoch and returns its manifest. */
  Manifest fillAndDescribe(long epoch) throws IOException {
    Path dir = store.epochDir(epoch);
    Path image = Files.createDirectories(dir.resolve(IMAGE_DIR));
    Path workdir = Files.createDirectories(dir.resolve(WORKDIR_DIR).resolve("results"));
    byte[] pages = new byte[70_000];
    for (int i = 0; i < pages.length; i++) {
      pages[i] = (byte) (i * 31 + epoch);
    }
    Files.write(image.resolve("pages-1.img"), pages);
    Files.writeString(image.resolve("core-1.img"), "core of epoch " + epoch, StandardCharsets.UTF_8);
    Files.writeString(workdir.resolve("out.txt"), "step " + epoch + "\n", StandardCharsets.UTF_8);
    Digests.fsyncTree(dir);
    return manifest(epoch, Digests.digestTree(image), Digests.digestTree(dir.resolve(WORKDIR_DIR)));
  }

  static Manifest manifest(long epoch, List<FileDigest> files, List<FileDigest> workdirFiles) {
    NodeImage node = new NodeImage("local", IMAGE_DIR, files, WORKDIR_DIR, "/home/user/run",
        workdirFiles, Map.of("stdout", "pipe:[4242]"));
    return new Manifest(Manifest.FORMAT_VERSION, JOB, epoch, Instant.parse("2024-05-01T12:00:00.123Z"),
        "criu", "periodic", new Timings(10, 200, 180, 250), List.of(node));
  }

  static List<Long> epochs(List<Manifest> manifests) {
    return manifests.stream().map(Manifest::epoch).toList();
  }
}
