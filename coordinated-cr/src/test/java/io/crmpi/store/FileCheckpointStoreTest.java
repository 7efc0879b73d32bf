package io.crmpi.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Runs the store contract on {@link FileCheckpointStore}, and checks its on-disk layout. */
class FileCheckpointStoreTest extends CheckpointStoreContractTest {
  @Override
  CheckpointStore open(Path storage) throws IOException {
    return FileCheckpointStore.open(storage, JOB);
  }

  @Override
  void corruptManifest(CheckpointStore store, long epoch) throws IOException {
    Files.writeString(manifestOf(epoch), "{\"formatVersion\": 1, \"job\": ");
  }

  Path manifestOf(long epoch) {
    return store.epochDir(epoch).resolve("manifest.json");
  }

  @Test
  void epochsLiveInZeroPaddedDirectoriesWithTheirManifest() throws IOException {
    long epoch = commitNewEpoch();
    assertEquals(storage.resolve("epochs").resolve(String.format("%010d", epoch)), store.epochDir(epoch));
    assertTrue(Files.isRegularFile(manifestOf(epoch)));
    assertFalse(Files.exists(store.epochDir(epoch).resolve("manifest.json.tmp")));
    assertEquals(store.latest().orElseThrow(), ManifestCodec.read(manifestOf(epoch)));
  }

  @Test
  void removingTheImagesKeepsEveryManifestAndSaysWhy() throws IOException {
    long first = commitNewEpoch();
    long second = commitNewEpoch();
    FileCheckpointStore files = (FileCheckpointStore) store;
    assertTrue(files.imagesRemoved().isEmpty());
    long freed = files.removeImages("job ring succeeded");
    assertTrue(freed >= 2 * 70_000, "freed " + freed);
    for (long epoch : new long[] {first, second}) {
      try (java.util.stream.Stream<Path> s = Files.list(store.epochDir(epoch))) {
        assertEquals(java.util.List.of("manifest.json"), s.map(p -> p.getFileName().toString()).toList());
      }
    }
    assertEquals(java.util.List.of(first, second),
        store.committed().stream().map(Manifest::epoch).toList(), "the record of what was taken is gone");
    assertEquals(java.util.Optional.of("job ring succeeded"), files.imagesRemoved());
    assertEquals(java.util.Optional.of("job ring succeeded"), FileCheckpointStore.open(storage, JOB).imagesRemoved());
    commitNewEpoch();
    assertTrue(files.imagesRemoved().isEmpty(), "a new epoch with images left the store marked as removed");
  }

  @Test
  void lastEpochFileHoldsTheHighestEpochBegun() throws IOException {
    store.beginEpoch();
    long second = store.beginEpoch();
    assertEquals(second + "\n", Files.readString(storage.resolve("last-epoch")));
    assertFalse(Files.exists(storage.resolve("last-epoch.tmp")));
  }

  @Test
  void epochIdsContinueAfterTheHighestDirectoryWhenLastEpochIsLost() throws IOException {
    store.beginEpoch();
    long second = store.beginEpoch();
    Files.delete(storage.resolve("last-epoch"));
    assertEquals(second + 1, open(storage).beginEpoch());
  }

  @Test
  void aMalformedLastEpochFileStopsBeginEpochWithItsContent() throws IOException {
    Files.writeString(storage.resolve("last-epoch"), "garbage\n");
    IOException e = assertThrows(IOException.class, () -> store.beginEpoch());
    assertTrue(e.getMessage().contains("'garbage'"), e.getMessage());
  }

  @Test
  void aManifestOfAnotherEpochIsNotCommitted() throws IOException {
    long first = commitNewEpoch();
    long second = store.beginEpoch();
    Files.copy(manifestOf(first), manifestOf(second));
    assertEquals(List.of(first), epochs(store.committed()));
    assertEquals(first, store.latest().orElseThrow().epoch());
  }

  @Test
  void aStoreOfAnotherJobSeesNoCommittedEpochs() throws IOException {
    commitNewEpoch();
    assertEquals(List.of(), FileCheckpointStore.open(storage, "other-job").committed());
  }

  @Test
  void directoriesNotNamedLikeEpochsAreIgnored() throws IOException {
    Files.createDirectories(storage.resolve("epochs").resolve("notes"));
    Files.createDirectories(storage.resolve("epochs").resolve("00000000007"));
    long epoch = commitNewEpoch();
    assertEquals(1, epoch);
    assertEquals(List.of(), store.retain(1));
    assertTrue(Files.isDirectory(storage.resolve("epochs").resolve("notes")));
  }

  @Test
  void retentionKeepsAMalformedEpochWithinTheRetentionWindow() throws IOException {
    commitNewEpoch();
    long broken = commitNewEpoch();
    long newest = commitNewEpoch();
    corruptManifest(store, broken);
    assertEquals(List.of(), store.retain(2));
    assertTrue(Files.isRegularFile(manifestOf(broken)));
    assertEquals(newest, store.latest().orElseThrow().epoch());
  }

  @Test
  void retentionDeletesAMalformedEpochOlderThanEveryEpochKept() throws IOException {
    long broken = commitNewEpoch();
    commitNewEpoch();
    long newest = commitNewEpoch();
    corruptManifest(store, broken);
    assertEquals(List.of(broken, newest - 1), store.retain(1));
    assertFalse(Files.exists(store.epochDir(broken)));
  }

  @Test
  void abortRefusesAnEpochWithAMalformedManifest() throws IOException {
    long broken = commitNewEpoch();
    corruptManifest(store, broken);
    assertThrows(IllegalStateException.class, () -> store.abort(broken));
    assertTrue(Files.exists(manifestOf(broken)));
  }

  @Test
  void commitOfAnEpochOlderThanTheLatestIsRefused() throws IOException {
    long older = store.beginEpoch();
    Manifest olderManifest = fillAndDescribe(older);
    long newer = commitNewEpoch();
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> store.commit(olderManifest));
    String expected = "epoch " + older + " is not newer than the latest committed epoch " + newer;
    assertTrue(e.getMessage().contains(expected), e.getMessage());
  }

  @Test
  void verifyReportsAMissingEpochDirectoryOnce() throws IOException {
    Manifest manifest = store.get(commitNewEpoch()).orElseThrow();
    Files.delete(manifestOf(manifest.epoch()));
    store.abort(manifest.epoch());
    List<String> problems = store.verify(manifest);
    assertEquals(1, problems.size(), problems.toString());
    assertTrue(problems.get(0).contains("is missing"), problems.get(0));
  }

  @Test
  void openRefusesABlankJob() {
    assertThrows(IllegalArgumentException.class, () -> FileCheckpointStore.open(storage, " "));
  }

  /** Commits an epoch whose one image file the flush stored as chunks; returns the file's bytes. */
  private byte[] commitChunkedEpoch(long seed) throws Exception {
    long epoch = store.beginEpoch();
    byte[] pages = new byte[300 * 1024];
    new java.util.Random(seed).nextBytes(pages);
    io.crmpi.chunks.ChunkRecipe recipe;
    try (io.crmpi.chunks.ChunkWriter w = io.crmpi.chunks.ChunkWriter.open(io.crmpi.chunks.ChunkStore.of(storage),
        epoch, "local", List.of(), 1)) {
      recipe = w.write(java.nio.channels.Channels.newChannel(new java.io.ByteArrayInputStream(pages)), () -> false,
          n -> { });
      w.finish();
    }
    Path file = store.epochDir(epoch).resolve(IMAGE_DIR).resolve("pages-1.img");
    Files.createDirectories(file.getParent());
    Files.write(io.crmpi.chunks.ChunkStore.recipeOf(file), recipe.encode());
    String sha = java.util.HexFormat.of().formatHex(
        java.security.MessageDigest.getInstance("SHA-256").digest(pages));
    store.commit(manifest(epoch, List.of(new FileDigest("pages-1.img", pages.length, sha)), List.of()));
    return pages;
  }

  private List<Path> packs() throws IOException {
    try (java.util.stream.Stream<Path> s = Files.list(storage.resolve("chunks/packs"))) {
      return s.sorted().toList();
    }
  }

  @Test
  void anImageStoredAsChunksIsVerifiedAsTheFileTheyPutTogether() throws Exception {
    commitChunkedEpoch(1);
    Manifest m = store.latest().orElseThrow();
    assertEquals(List.of(), store.verify(m, CheckpointStore.Scope.EVERYTHING));
    Path pack = packs().get(0);
    byte[] b = Files.readAllBytes(pack);
    b[100] ^= 1;
    Files.write(pack, b);
    List<String> problems = store.verify(m, CheckpointStore.Scope.EVERYTHING);
    assertEquals(1, problems.size(), problems.toString());
    assertTrue(problems.get(0).startsWith(IMAGE_DIR + "/pages-1.img: cannot be put together from its chunks")
        && problems.get(0).contains("SHA-256"), problems.get(0));
  }

  @Test
  void retentionRemovesThePacksOfTheEpochsItRemoves() throws Exception {
    commitChunkedEpoch(2);
    commitChunkedEpoch(3);
    List<Path> before = packs();
    assertEquals(2, before.size());
    store.retain(1);
    assertEquals(List.of(before.get(1)), packs(), "the removed epoch's pack is gone, the kept one's stays");
    assertEquals(List.of(), store.verify(store.latest().orElseThrow(), CheckpointStore.Scope.EVERYTHING));
    ((FileCheckpointStore) store).removeImages("job done");
    assertFalse(Files.exists(storage.resolve("chunks")), "removing the images removes the chunks");
  }
}
