package io.crmpi.agent;

import io.crmpi.chunks.ChunkRecipe;
import io.crmpi.chunks.ChunkStore;
import io.crmpi.chunks.ChunkWriter;
import io.crmpi.store.Digests;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.Objects;
import java.util.function.LongConsumer;

/**
 * Copies one node's part of an epoch from the node-local level to the
 * state directory, as the job's user, and makes it durable there: every
 * file fsynced, then every directory bottom-up. A working-directory
 * snapshot file that the node-local copy shares with the previous epoch
 * (the same inode: the snapshot hard-linked it) is hard-linked to that
 * epoch's flushed copy instead of copied again. A flush interrupted half
 * way leaves files the epoch's manifest does not yet count at the shared
 * level; a later flush of the same epoch replaces them.
 *
 * <p>With chunks, every image file of 64 KiB or more is stored as chunks
 * (see {@link ChunkWriter}) instead of copied: only the chunks the node's
 * previous flushed epoch does not hold are written, into one pack, and the
 * file's recipe takes its place.
 */
final class LevelFlush {
  private final Path from;
  private final Path to;
  private final Path previousFrom;
  private final Path previousTo;
  private final java.util.function.BooleanSupplier cancelled;
  private final ChunkWriter chunks;
  private long copied;
  private long linked;

  private LevelFlush(Path from, Path to, Path previousFrom, Path previousTo,
      java.util.function.BooleanSupplier cancelled, ChunkWriter chunks) {
    this.from = from;
    this.to = to;
    this.previousFrom = previousFrom;
    this.previousTo = previousTo;
    this.cancelled = cancelled;
    this.chunks = chunks;
  }

  /** Image files smaller than this are copied as they are (CRIU's small images: cores, mappings). */
  static final long CHUNKED_FROM = 64 << 10;

  /**
   * What one flush did: bytes written to the state directory, and bytes
   * not written because they were there already (files linked, chunks
   * reused).
   */
  record Result(long copiedBytes, long linkedBytes) {}

  /** How the images go to the state directory: as chunks (zstd at level, 0 for none), or as files. */
  record Format(boolean chunks, int zstdLevel) {
    static final Format FILES = new Format(false, 0);
  }

  /**
   * Flushes nodeRel (e.g. "nodes/n1") of localEpoch into sharedEpoch;
   * progress hears the bytes of every chunk copied.
   */
  static Result flush(Path localEpoch, Path sharedEpoch, Path previousLocal, Path previousShared, String nodeRel,
      LongConsumer progress) throws IOException {
    return flush(localEpoch, sharedEpoch, previousLocal, previousShared, nodeRel, progress, () -> false,
        Format.FILES, 0);
  }

  /**
   * As above, in format, for epoch; once cancelled says true, the flush
   * stops at its next piece with an IOException.
   */
  static Result flush(Path localEpoch, Path sharedEpoch, Path previousLocal, Path previousShared, String nodeRel,
      LongConsumer progress, java.util.function.BooleanSupplier cancelled, Format format, long epoch)
      throws IOException {
    Objects.requireNonNull(nodeRel, "nodeRel");
    Path from = localEpoch.resolve(nodeRel);
    Path to = sharedEpoch.resolve(nodeRel);
    if (!Files.isDirectory(from, LinkOption.NOFOLLOW_LINKS)) {
      throw new IOException("no node-local copy to flush: " + from + " is missing");
    }
    if (!Files.isDirectory(sharedEpoch, LinkOption.NOFOLLOW_LINKS)) {
      throw new IOException("the epoch's directory in the state directory is missing: " + sharedEpoch
          + " (the epoch was removed meanwhile?)");
    }
    Path previousTo = previousShared == null ? null : previousShared.resolve(nodeRel);
    try (ChunkWriter chunks = format.chunks() ? ChunkWriter.open(ChunkStore.ofEpochDir(sharedEpoch), epoch,
        to.getFileName().toString(), previousRecipes(previousTo), format.zstdLevel()) : null) {
      LevelFlush f = new LevelFlush(from, to, previousLocal == null ? null : previousLocal.resolve(nodeRel),
          previousTo, cancelled, chunks);
      f.copyTree(progress);
      if (chunks != null) {
        chunks.finish(); // the pack is durable before the manifest counts a recipe of it
        f.copied += chunks.packBytes();
        f.linked += chunks.reusedBytes();
      }
      Digests.fsyncTree(to);
      Digests.fsyncDirectory(to.getParent());
      Digests.fsyncDirectory(sharedEpoch);
      f.dropFromPageCache();
      return new Result(f.copied, f.linked);
    }
  }

  /** The recipes of the previous flushed epoch's images of this node (none when it has none or they are damaged). */
  private static List<ChunkRecipe> previousRecipes(Path previousNodeDir) {
    if (previousNodeDir == null) {
      return List.of();
    }
    Path images = previousNodeDir.resolve("image");
    List<ChunkRecipe> recipes = new java.util.ArrayList<>();
    try (java.util.stream.Stream<Path> files = Files.walk(images)) {
      for (Path p : files.filter(p -> p.getFileName().toString().endsWith(ChunkStore.RECIPE_SUFFIX)).toList()) {
        try {
          recipes.add(ChunkRecipe.decode(Files.readAllBytes(p)));
        } catch (IOException e) {
          // not reused: its chunks are written again
        }
      }
    } catch (IOException | java.io.UncheckedIOException e) {
      return List.of();
    }
    return recipes;
  }


  private void copyTree(LongConsumer progress) throws IOException {
    List<Path[]> chunked = new java.util.ArrayList<>();
    Files.walkFileTree(from, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
        Files.createDirectories(to.resolve(from.relativize(dir).toString()));
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        if (!attrs.isRegularFile()) {
          return FileVisitResult.CONTINUE; // crmpi writes regular files only
        }
        String rel = from.relativize(file).toString();
        Path target = to.resolve(rel);
        Files.deleteIfExists(target); // an earlier, interrupted flush of this epoch
        Files.deleteIfExists(ChunkStore.recipeOf(target));
        if (chunks != null && rel.startsWith("image/") && attrs.size() >= CHUNKED_FROM) {
          chunked.add(new Path[] {file, target});
        } else if (!linkUnchanged(rel, attrs, target)) {
          copyFile(file, target, progress);
        }
        return FileVisitResult.CONTINUE;
      }
    });
    storeAllAsChunks(chunked, progress);
  }

  /**
   * Stores the files as chunks, several at a time: hashing and compressing
   * the whole image on one thread made a flush take three times as long as
   * copying it.
   */
  private void storeAllAsChunks(List<Path[]> files, LongConsumer progress) throws IOException {
    Object lock = new Object();
    LongConsumer counted = n -> {
      synchronized (lock) {
        progress.accept(n);
      }
    };
    for (long recipeBytes : io.crmpi.store.ParallelFiles.map(files, "crmpi-flush-chunks",
        f -> storeAsChunks(f[0], f[1], counted))) {
      copied += recipeBytes;
    }
  }

  /**
   * Both copies leave the page cache once the copy is durable, as the images
   * do after the persist: kept, they crowd out the ranks' memory and slow
   * the next dump.
   */
  private void dropFromPageCache() throws IOException {
    for (Path dir : new Path[] {from, to}) {
      try (java.util.stream.Stream<Path> s = Files.walk(dir)) {
        for (Path p : s.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)).toList()) {
          io.crmpi.nativeio.Posix.dropFromPageCache(p);
        }
      }
    }
  }

  /** Links target to the previous epoch's flushed copy when the node-local file is that epoch's. */
  private boolean linkUnchanged(String rel, BasicFileAttributes attrs, Path target) {
    if (previousFrom == null || attrs.fileKey() == null) {
      return false;
    }
    try {
      BasicFileAttributes before = Files.readAttributes(previousFrom.resolve(rel), BasicFileAttributes.class,
          LinkOption.NOFOLLOW_LINKS);
      Path flushed = previousTo.resolve(rel);
      BasicFileAttributes there = Files.readAttributes(flushed, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      if (!attrs.fileKey().equals(before.fileKey()) || !there.isRegularFile() || there.size() != attrs.size()) {
        return false;
      }
      Files.createLink(target, flushed);
      linked += attrs.size();
      return true;
    } catch (IOException | UnsupportedOperationException e) {
      return false; // copied instead
    }
  }

  /** Stores one file as chunks and writes its recipe; returns the recipe's bytes. */
  private long storeAsChunks(Path source, Path target, LongConsumer progress) throws IOException {
    java.util.Set<java.nio.file.attribute.PosixFilePermission> mode = Files.getPosixFilePermissions(source,
        LinkOption.NOFOLLOW_LINKS);
    ChunkRecipe recipe;
    try (FileChannel in = FileChannel.open(source, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
        io.crmpi.nativeio.ReadAhead ahead = io.crmpi.nativeio.ReadAhead.of(source, in.size())) {
      // The node-local copy left the page cache when it was sealed: the disk reads ahead of the hashing
      // and compressing.
      recipe = chunks.write(readingAhead(in, ahead), cancelled, progress);
    }
    byte[] bytes = recipe.encode();
    // Written aside and renamed: the sweep reads every recipe, and must never meet half of one.
    Path recipePath = ChunkStore.recipeOf(target);
    Path aside = recipePath.resolveSibling(recipePath.getFileName() + ".tmp");
    Files.deleteIfExists(aside);
    try (FileChannel out = FileChannel.open(aside, java.util.Set.of(StandardOpenOption.CREATE_NEW,
        StandardOpenOption.WRITE), java.nio.file.attribute.PosixFilePermissions.asFileAttribute(mode))) {
      java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes);
      while (b.hasRemaining()) {
        out.write(b);
      }
      out.force(true);
    }
    Files.move(aside, recipePath, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    return bytes.length;
  }

  /** in, telling ahead how far it has been read. */
  private static java.nio.channels.ReadableByteChannel readingAhead(FileChannel in, io.crmpi.nativeio.ReadAhead ahead) {
    return new java.nio.channels.ReadableByteChannel() {
      private long position;

      @Override
      public int read(java.nio.ByteBuffer dst) throws IOException {
        int n = in.read(dst);
        if (n > 0) {
          position += n;
          ahead.reached(position);
        }
        return n;
      }

      @Override
      public boolean isOpen() {
        return in.isOpen();
      }

      @Override
      public void close() throws IOException {
        in.close();
      }
    };
  }

  private void copyFile(Path source, Path target, LongConsumer progress) throws IOException {
    // Created with the copy's mode (image files are 0600): never readable by others on the way.
    java.util.Set<java.nio.file.attribute.PosixFilePermission> mode = Files.getPosixFilePermissions(source,
        LinkOption.NOFOLLOW_LINKS);
    try (FileChannel in = FileChannel.open(source, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
        FileChannel out = FileChannel.open(target, java.util.Set.of(StandardOpenOption.CREATE_NEW,
            StandardOpenOption.WRITE), java.nio.file.attribute.PosixFilePermissions.asFileAttribute(mode))) {
      long size = in.size();
      for (long pos = 0; pos < size; ) {
        if (cancelled.getAsBoolean()) {
          throw new IOException("flush cancelled: the epoch's node-local copy is being removed");
        }
        long n = in.transferTo(pos, Math.min(size - pos, 16L << 20), out);
        if (n <= 0) {
          throw new IOException("cannot copy " + source + " to " + target + ": short copy at byte " + pos);
        }
        pos += n;
        copied += n;
        progress.accept(n);
      }
    }
  }
}
