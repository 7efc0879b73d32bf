package io.crmpi.chunks;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.LongConsumer;

/**
 * Stores one node's image files of one epoch as chunks: a chunk the
 * node's previous flushed epoch already stored is referred to where it is,
 * every other chunk is appended (compressed where that pays) to one new
 * pack file, fsynced once by {@link #finish}. A pack the previous epoch
 * used less than half of is retiring: its live chunks are written again,
 * emptiest pack first, at most {@value #REWRITE_SHARE} of the image per
 * flush (so no flush pays for all of them at once), and once the older
 * epochs are gone the pack is too: a long job's store does not fill with
 * packs kept alive by a few chunks each.
 */
public final class ChunkWriter implements AutoCloseable {
  /** A pack less used than this by the previous epoch is retiring. */
  static final double RETIRE_BELOW = 0.5;
  /** At most this share of the image is written again per flush to empty retiring packs. */
  static final double REWRITE_SHARE = 0.05;
  private final ChunkStore store;
  private final long epoch;
  private final String node;
  private final Map<ChunkId, ChunkRef> known;
  private final int level;
  /** Guards the pack and the counters: several files may be written at once, each on its own thread. */
  private final Object packLock = new Object();
  private String packName;
  private FileChannel pack;
  private long packBytes;
  private long newBytes;
  private long reusedBytes;

  private ChunkWriter(ChunkStore store, long epoch, String node, Map<ChunkId, ChunkRef> known, int level) {
    this.store = store;
    this.epoch = epoch;
    this.node = node;
    this.known = new java.util.concurrent.ConcurrentHashMap<>(known);
    this.level = level;
    Compression.atLevel(level).close(); // a bad level fails here, not in the middle of a flush
  }

  /**
   * A writer for node's part of epoch, reusing the chunks of the recipes
   * of previousRecipes (that node's recipes in the previous flushed epoch;
   * empty for none); level is zstd's (0: no compression).
   */
  public static ChunkWriter open(ChunkStore store, long epoch, String node, List<ChunkRecipe> previousRecipes,
      int level) {
    return new ChunkWriter(store, epoch, node, reusable(store, previousRecipes), level);
  }

  private static Map<ChunkId, ChunkRef> reusable(ChunkStore store, List<ChunkRecipe> previous) {
    Map<ChunkId, ChunkRef> byId = new HashMap<>();
    long image = 0;
    for (ChunkRecipe r : previous) {
      image += r.size();
      for (ChunkRef c : r.chunks()) {
        byId.putIfAbsent(c.id(), c);
      }
    }
    Map<String, List<ChunkRef>> byPack = new HashMap<>();
    byId.values().forEach(c -> byPack.computeIfAbsent(c.pack(), p -> new java.util.ArrayList<>()).add(c));
    Map<String, Double> liveShare = new HashMap<>();
    for (Map.Entry<String, List<ChunkRef>> e : byPack.entrySet()) {
      long used = e.getValue().stream().mapToLong(ChunkRef::storedLength).sum();
      try {
        liveShare.put(e.getKey(), (double) used / Math.max(1, Files.size(store.packs().resolve(e.getKey()))));
      } catch (IOException gone) {
        e.getValue().forEach(c -> byId.remove(c.id())); // written again rather than referred to
      }
    }
    // The live chunks of the emptiest packs (under half used) move to the new pack, a few each flush.
    long budget = (long) (image * REWRITE_SHARE);
    List<String> retiring = liveShare.entrySet().stream().filter(e -> e.getValue() < RETIRE_BELOW)
        .sorted(Map.Entry.comparingByValue()).map(Map.Entry::getKey).toList();
    for (String pack : retiring) {
      for (ChunkRef c : byPack.get(pack)) {
        if (budget < c.rawLength()) {
          return byId;
        }
        byId.remove(c.id());
        budget -= c.rawLength();
      }
    }
    return byId;
  }

  /**
   * Reads in to its end and returns its recipe; cancelled is asked between
   * chunks. Several files may be written at once from different threads
   * (their chunks are hashed and compressed in parallel, and appended to
   * the one pack in turn); progress must then be safe to call from them.
   */
  public ChunkRecipe write(ReadableByteChannel in, BooleanSupplier cancelled, LongConsumer progress)
      throws IOException {
    List<ChunkRef> refs = new java.util.ArrayList<>();
    long[] size = {0};
    try (Compression compression = Compression.atLevel(level)) {
      PageChunker.split(in, (buf, len) -> {
        if (cancelled.getAsBoolean()) {
          throw new IOException("flush cancelled: the epoch's node-local copy is being removed");
        }
        ChunkId id = ChunkId.of(buf, 0, len);
        ChunkRef ref = known.get(id);
        if (ref == null) {
          int stored = compression.compress(buf, len);
          ref = stored < 0 ? append(id, buf, len, len, false) : append(id, compression.output(), stored, len, true);
        } else {
          synchronized (packLock) {
            reusedBytes += len;
          }
        }
        refs.add(ref);
        size[0] += len;
        progress.accept(len);
      });
    }
    return new ChunkRecipe(size[0], refs);
  }

  /** Appends stored[0, storedLength) as chunk id, unless another thread stored it meanwhile. */
  private ChunkRef append(ChunkId id, byte[] stored, int storedLength, int rawLength, boolean compressed)
      throws IOException {
    synchronized (packLock) {
      ChunkRef there = known.get(id);
      if (there != null) {
        reusedBytes += rawLength;
        return there;
      }
      openPack();
      ByteBuffer b = ByteBuffer.wrap(stored, 0, storedLength);
      long offset = packBytes;
      while (b.hasRemaining()) {
        pack.write(b);
      }
      packBytes += storedLength;
      newBytes += rawLength;
      ChunkRef ref = new ChunkRef(id, packName, offset, storedLength, rawLength, compressed);
      known.put(id, ref);
      return ref;
    }
  }

  private void openPack() throws IOException {
    if (pack == null) {
      Files.createDirectories(store.packs(), PosixFilePermissions.asFileAttribute(
          PosixFilePermissions.fromString("rwx------")));
      packName = PackName.next(epoch, node);
      pack = FileChannel.open(store.packs().resolve(packName), java.util.Set.of(StandardOpenOption.CREATE_NEW,
          StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS),
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    }
  }

  /** Makes the new pack durable (its data, then its directory entry); before any recipe refers to it. */
  public void finish() throws IOException {
    synchronized (packLock) {
      finishPack();
    }
  }

  private void finishPack() throws IOException {
    if (pack != null) {
      pack.force(true);
      pack.close();
      pack = null;
      ChunkStore.fsyncDirectory(store.packs());
      io.crmpi.nativeio.Posix.dropFromPageCache(store.packs().resolve(packName)); // as the flushed copies
    }
  }

  /** Bytes written to the new pack (after compression). */
  public long packBytes() {
    synchronized (packLock) {
      return packBytes;
    }
  }

  /** Uncompressed bytes of the chunks that were new. */
  public long newBytes() {
    synchronized (packLock) {
      return newBytes;
    }
  }

  /** Bytes of the chunks referred to where an earlier flush stored them. */
  public long reusedBytes() {
    synchronized (packLock) {
      return reusedBytes;
    }
  }

  /** Closes an unfinished pack; it is left for the sweep (no recipe refers to it yet). */
  @Override
  public void close() throws IOException {
    synchronized (packLock) {
      if (pack != null) {
        pack.close();
        pack = null;
      }
    }
  }
}
