package io.crmpi.chunks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Chunks written by a flush, put back together, deduplicated across epochs, checked, and swept. */
class ChunkStoreTest {
  private static final int PAGE = PageChunker.PAGE;

  @TempDir
  Path job;

  private ChunkStore store() {
    return ChunkStore.of(job);
  }

  private static byte[] random(int size, long seed) {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    return b;
  }

  private ChunkWriter writer(long epoch, List<ChunkRecipe> previous, int level) {
    return ChunkWriter.open(store(), epoch, "n1", previous, level);
  }

  private static ChunkRecipe write(ChunkWriter w, byte[] data) throws IOException {
    return w.write(Channels.newChannel(new java.io.ByteArrayInputStream(data)), () -> false, n -> { });
  }

  private byte[] reassemble(ChunkRecipe r) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    store().reassemble(r, Channels.newChannel(out), n -> { });
    return out.toByteArray();
  }

  @Test
  void aFileComesBackByteForByteFromItsChunks() throws IOException {
    byte[] data = random(3 * 1024 * 1024 + 123, 1); // not a whole number of pages
    ChunkRecipe r;
    try (ChunkWriter w = writer(1, List.of(), 1)) {
      r = write(w, data);
      w.finish();
    }
    assertEquals(data.length, r.size());
    assertTrue(r.chunks().size() > 100, "content-defined chunks of about 8 KiB: " + r.chunks().size());
    assertArrayEquals(data, reassemble(r));
    assertArrayEquals(data, reassemble(ChunkRecipe.decode(r.encode())));
    Path pack = store().packs().resolve(r.chunks().get(0).pack());
    assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
        Files.getPosixFilePermissions(pack)));
  }

  @Test
  void onlyTheChunksAroundAChangeAreWrittenAgainEvenWhenPagesShift() throws IOException {
    byte[] first = random(16 * 1024 * 1024, 2);
    ChunkRecipe r1;
    try (ChunkWriter w = writer(1, List.of(), 1)) {
      r1 = write(w, first);
      w.finish();
    }
    // 1% rewritten in one place, and one page inserted near the start: everything after it moves by a page.
    byte[] second = new byte[first.length + PAGE];
    System.arraycopy(first, 0, second, 0, 100 * PAGE);
    System.arraycopy(random(PAGE, 3), 0, second, 100 * PAGE, PAGE);
    System.arraycopy(first, 100 * PAGE, second, 101 * PAGE, first.length - 100 * PAGE);
    System.arraycopy(random(first.length / 100, 4), 0, second, 2000 * PAGE, first.length / 100);
    ChunkRecipe r2;
    long written;
    long reused;
    try (ChunkWriter w = writer(2, List.of(r1), 1)) {
      r2 = write(w, second);
      w.finish();
      written = w.packBytes();
      reused = w.reusedBytes();
    }
    assertArrayEquals(second, reassemble(r2));
    assertTrue(written < second.length / 20, "wrote " + written + " of " + second.length);
    assertEquals(second.length, reused + w2New(r2, r1));
  }

  /** The raw bytes of r2's chunks that r1 does not have. */
  private static long w2New(ChunkRecipe r2, ChunkRecipe r1) {
    Set<ChunkId> old = r1.chunks().stream().map(ChunkRef::id).collect(Collectors.toSet());
    Set<ChunkId> counted = new java.util.HashSet<>();
    long n = 0;
    for (ChunkRef c : r2.chunks()) {
      if (!old.contains(c.id()) && counted.add(c.id())) {
        n += c.rawLength();
      } else if (!old.contains(c.id())) {
        n += c.rawLength(); // a repeat within the flush is reused too, counted in reusedBytes
      }
    }
    return n;
  }

  @Test
  void compressibleChunksAreCompressedAndRandomOnesStoredAsTheyAre() throws IOException {
    byte[] text = new byte[2 * 1024 * 1024];
    for (int i = 0; i < text.length; i++) {
      text[i] = (byte) ("halo exchange step " + (i / 977)).charAt(i % 19);
    }
    byte[] noise = random(2 * 1024 * 1024, 5);
    try (ChunkWriter w = writer(1, List.of(), 1)) {
      ChunkRecipe t = write(w, text);
      long afterText = w.packBytes();
      ChunkRecipe n = write(w, noise);
      w.finish();
      assertTrue(afterText < text.length / 4, "text stored in " + afterText);
      assertEquals(noise.length, w.packBytes() - afterText);
      assertTrue(t.chunks().stream().allMatch(ChunkRef::compressed));
      assertTrue(n.chunks().stream().noneMatch(ChunkRef::compressed));
      assertArrayEquals(text, reassemble(t));
      assertArrayEquals(noise, reassemble(n));
    }
    try (ChunkWriter w = writer(2, List.of(), 0)) {
      ChunkRecipe t = write(w, text);
      w.finish();
      assertTrue(t.chunks().stream().noneMatch(ChunkRef::compressed), "level 0 stores chunks uncompressed");
      assertEquals(w.newBytes(), w.packBytes());
      assertArrayEquals(text, reassemble(t));
    }
  }

  @Test
  void severalFilesWrittenAtOnceShareOnePackAndAChunkIsStoredOnce() throws Exception {
    byte[] a = random(2 * 1024 * 1024, 20);
    byte[] b = random(2 * 1024 * 1024, 21);
    List<ChunkRecipe> recipes;
    long newBytes;
    try (ChunkWriter w = writer(1, List.of(), 0)) {
      java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
      try {
        List<java.util.concurrent.Future<ChunkRecipe>> f = new java.util.ArrayList<>();
        for (byte[] data : List.of(a, b, a, b)) {
          f.add(pool.submit(() -> write(w, data)));
        }
        recipes = new java.util.ArrayList<>();
        for (var x : f) {
          recipes.add(x.get());
        }
      } finally {
        pool.shutdown();
      }
      w.finish();
      newBytes = w.newBytes();
      assertEquals(newBytes, w.packBytes());
      assertEquals(2L * a.length, w.newBytes() + 0, "each distinct chunk stored once");
      assertEquals(2L * a.length, w.reusedBytes(), "the second copy of each file reused every chunk");
    }
    assertArrayEquals(a, reassemble(recipes.get(0)));
    assertArrayEquals(b, reassemble(recipes.get(1)));
    assertArrayEquals(a, reassemble(recipes.get(2)));
    assertArrayEquals(b, reassemble(recipes.get(3)));
    assertEquals(1, recipes.stream().flatMap(r -> r.packs().stream()).distinct().count(), "one pack per flush");
  }

  @Test
  void aDamagedChunkIsCaughtBeforeItsBytesAreUsed() throws IOException {
    byte[] data = random(1024 * 1024, 6);
    ChunkRecipe r;
    try (ChunkWriter w = writer(1, List.of(), 1)) {
      r = write(w, data);
      w.finish();
    }
    ChunkRef third = r.chunks().get(2);
    Path pack = store().packs().resolve(third.pack());
    byte[] bytes = Files.readAllBytes(pack);
    bytes[(int) third.offset() + 10] ^= 1;
    Files.write(pack, bytes);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ChunkStore.ChunkException e = assertThrows(ChunkStore.ChunkException.class,
        () -> store().reassemble(r, Channels.newChannel(out), n -> { }));
    assertTrue(e.getMessage().contains(third.id().toString()) && e.getMessage().contains("SHA-256"),
        e.getMessage());
    assertEquals(r.chunks().get(0).rawLength() + r.chunks().get(1).rawLength(), out.size(),
        "nothing of the damaged chunk or after it was written");
  }

  @Test
  void aDamagedOrTornRecipeIsRefusedAsSuch() throws IOException {
    ChunkRecipe r;
    try (ChunkWriter w = writer(1, List.of(), 1)) {
      r = write(w, random(200 * 1024, 7));
      w.finish();
    }
    byte[] encoded = r.encode();
    encoded[20] ^= 1;
    IOException damaged = assertThrows(IOException.class, () -> ChunkRecipe.decode(encoded));
    assertTrue(damaged.getMessage().contains("CRC32C"), damaged.getMessage());
    IOException torn = assertThrows(IOException.class,
        () -> ChunkRecipe.decode(java.util.Arrays.copyOf(r.encode(), 40)));
    assertTrue(torn.getMessage().contains("damaged") || torn.getMessage().contains("torn"), torn.getMessage());
  }

  @Test
  void theLiveChunksOfAPackTheLastEpochUsedLessThanHalfOfMoveAFewAtATime() throws IOException {
    byte[] first = random(4 * 1024 * 1024, 8);
    ChunkRecipe r1;
    try (ChunkWriter w = writer(1, List.of(), 0)) {
      r1 = write(w, first);
      w.finish();
    }
    // The previous epoch used the first third of that pack: the pack is retiring.
    List<ChunkRef> third = r1.chunks().subList(0, r1.chunks().size() / 3);
    ChunkRecipe previous = new ChunkRecipe(third.stream().mapToLong(ChunkRef::rawLength).sum(), third);
    byte[] kept = java.util.Arrays.copyOf(first, (int) previous.size());
    ChunkRecipe r2;
    long moved;
    try (ChunkWriter w = writer(2, List.of(previous), 0)) {
      r2 = write(w, kept);
      w.finish();
      moved = w.newBytes();
    }
    assertArrayEquals(kept, reassemble(r2));
    assertTrue(moved > 0, "no live chunk of the retiring pack was written again");
    assertTrue(moved <= kept.length * ChunkWriter.REWRITE_SHARE, "moved " + moved + " bytes at once, more than "
        + ChunkWriter.REWRITE_SHARE + " of " + kept.length);
    String firstPack = r1.chunks().get(0).pack();
    assertTrue(r2.packs().contains(firstPack), "the rest is still read where it is");

    // A pack the previous epoch used in full is not touched.
    try (ChunkWriter w = writer(3, List.of(r1), 0)) {
      write(w, first);
      w.finish();
      assertEquals(0, w.newBytes());
    }
  }

  @Test
  void theSweepRemovesOnlyPacksNoRecipeUsesAndNeverOneAFlushMayStillBeWriting() throws IOException {
    Path epochs = job.resolve("epochs");
    ChunkRecipe live = recipeIn(epochs, 3, random(300 * 1024, 9));
    ChunkRecipe dead;
    try (ChunkWriter w = writer(2, List.of(), 1)) {
      dead = write(w, random(300 * 1024, 10));
      w.finish();
    }
    ChunkRecipe inFlight;
    try (ChunkWriter w = writer(5, List.of(), 1)) {
      inFlight = write(w, random(300 * 1024, 11));
      w.finish();
    }
    Files.writeString(store().packs().resolve("notes.txt"), "not a pack");
    ChunkSweep.Result r = ChunkSweep.sweep(store(), epochs, 4);
    assertEquals(1, r.packsRemoved());
    assertFalse(Files.exists(store().packs().resolve(dead.chunks().get(0).pack())));
    assertTrue(Files.exists(store().packs().resolve(live.chunks().get(0).pack())));
    assertTrue(Files.exists(store().packs().resolve(inFlight.chunks().get(0).pack())),
        "a pack of an epoch newer than the newest shared one is never swept");
    assertTrue(Files.exists(store().packs().resolve("notes.txt")));
    assertArrayEquals(random(300 * 1024, 9), reassemble(live));
  }

  @Test
  void anUnreadableRecipeStopsTheSweep() throws IOException {
    Path epochs = job.resolve("epochs");
    recipeIn(epochs, 3, random(100 * 1024, 12));
    ChunkRecipe dead;
    try (ChunkWriter w = writer(2, List.of(), 1)) {
      dead = write(w, random(100 * 1024, 13));
      w.finish();
    }
    Path bad = epochs.resolve("0000000003/nodes/n2/image/pages-1.img" + ChunkStore.RECIPE_SUFFIX);
    Files.createDirectories(bad.getParent());
    Files.write(bad, new byte[] {1, 2, 3});
    ChunkSweep.Result r = ChunkSweep.sweep(store(), epochs, 4);
    assertEquals(0, r.packsRemoved());
    assertNotNull(r.skipped());
    assertTrue(Files.exists(store().packs().resolve(dead.chunks().get(0).pack())));
  }

  @Test
  void theStoreOfAnEpochDirectoryIsItsJobs() {
    assertEquals(job.resolve("chunks/packs"), ChunkStore.ofEpochDir(job.resolve("epochs/0000000004")).packs());
    assertThrows(IllegalArgumentException.class, () -> ChunkStore.ofEpochDir(job.resolve("elsewhere/4")));
  }

  /** A recipe of data written by epoch's flush, in the epoch's directory under epochs. */
  private ChunkRecipe recipeIn(Path epochs, long epoch, byte[] data) throws IOException {
    ChunkRecipe r;
    try (ChunkWriter w = writer(epoch, List.of(), 1)) {
      r = write(w, data);
      w.finish();
    }
    Path file = epochs.resolve(String.format("%010d/nodes/n1/image/pages-1.img", epoch));
    Files.createDirectories(file.getParent());
    Files.write(ChunkStore.recipeOf(file), r.encode());
    return r;
  }
}
