package io.crmpi.chunks;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.Map;
import java.util.function.LongConsumer;

/**
 * A job's chunk store in the state directory: {@code JOBDIR/chunks/packs/}
 * holds the pack files, and a flushed image file is a recipe
 * ({@code NAME.crmpi-chunks}) in the epoch's directory where the file
 * would be. Everything in it belongs to the job's user, who may change it;
 * so nothing is trusted that was not checked: each chunk read is checked
 * against its SHA-256 id before its bytes are used, and the file put
 * together from them is checked again against the manifest (and by crmpid
 * against its seal) before a restore uses it.
 */
public final class ChunkStore {
  public static final String RECIPE_SUFFIX = ".crmpi-chunks";
  private final Path packs;

  private ChunkStore(Path dir) {
    this.packs = dir.resolve("packs");
  }

  /** The store of the job whose state-directory root (JOBDIR) is given. */
  public static ChunkStore of(Path jobRoot) {
    return new ChunkStore(jobRoot.resolve("chunks"));
  }

  /** The store of the job an epoch directory ({@code JOBDIR/epochs/E}) belongs to. */
  public static ChunkStore ofEpochDir(Path epochDir) {
    Path epochs = epochDir.toAbsolutePath().normalize().getParent();
    if (epochs == null || epochs.getParent() == null || !epochs.getFileName().toString().equals("epochs")) {
      throw new IllegalArgumentException("not an epoch directory of a job: " + epochDir);
    }
    return of(epochs.getParent());
  }

  public Path packs() {
    return packs;
  }

  /** Where the recipe of file is. */
  public static Path recipeOf(Path file) {
    return file.resolveSibling(file.getFileName() + RECIPE_SUFFIX);
  }

  /** The recipe of file when file is stored as chunks (and not as itself), else null. */
  public static ChunkRecipe recipeFor(Path file) throws IOException {
    if (Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
      return null;
    }
    Path recipe = recipeOf(file);
    if (!Files.isRegularFile(recipe, LinkOption.NOFOLLOW_LINKS)) {
      return null;
    }
    try {
      return ChunkRecipe.decode(Files.readAllBytes(recipe));
    } catch (IOException e) {
      throw new IOException(recipe + ": " + e.getMessage(), e);
    }
  }

  /**
   * Writes the file recipe describes to out, every chunk checked against
   * its id first; progress hears the bytes written. A chunk that is
   * missing, short, or not what its id says is an {@link ChunkException}
   * naming the pack and the offset, and nothing after it is written.
   */
  public void reassemble(ChunkRecipe recipe, WritableByteChannel out, LongConsumer progress) throws IOException {
    Map<String, FileChannel> open = new HashMap<>();
    try {
      byte[] stored = new byte[PageChunker.MAX_BYTES + 1024];
      byte[] raw = new byte[PageChunker.MAX_BYTES];
      MessageDigest sha = ChunkId.sha256();
      for (ChunkRef c : recipe.chunks()) {
        byte[] bytes = read(c, open, stored, raw, sha);
        ByteBuffer b = ByteBuffer.wrap(bytes, 0, c.rawLength());
        while (b.hasRemaining()) {
          out.write(b);
        }
        progress.accept(c.rawLength());
      }
    } finally {
      for (FileChannel ch : open.values()) {
        ch.close();
      }
    }
  }

  private byte[] read(ChunkRef c, Map<String, FileChannel> open, byte[] stored, byte[] raw, MessageDigest sha)
      throws IOException {
    FileChannel ch = open.get(c.pack());
    if (ch == null) {
      Path p = packs.resolve(c.pack());
      try {
        ch = FileChannel.open(p, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
      } catch (IOException e) {
        throw new ChunkException(c, "its pack cannot be opened: " + e);
      }
      open.put(c.pack(), ch);
    }
    if (c.storedLength() > stored.length) {
      throw new ChunkException(c, c.storedLength() + " bytes stored, more than a chunk can take");
    }
    ByteBuffer b = ByteBuffer.wrap(stored, 0, c.storedLength());
    long pos = c.offset();
    while (b.hasRemaining()) {
      int n = ch.read(b, pos);
      if (n < 0) {
        throw new ChunkException(c, "the pack ends at byte " + pos);
      }
      pos += n;
    }
    byte[] bytes = stored;
    if (c.compressed()) {
      try {
        Compression.decompress(stored, c.storedLength(), raw, c.rawLength());
      } catch (IOException e) {
        throw new ChunkException(c, e.getMessage());
      }
      bytes = raw;
    }
    sha.reset();
    sha.update(bytes, 0, c.rawLength());
    if (!ChunkId.fromBytes(sha.digest()).equals(c.id())) {
      throw new ChunkException(c, "its bytes do not match its SHA-256 (the pack was changed or damaged)");
    }
    return bytes;
  }

  /** Makes the creation and removal of dir's entries durable. */
  static void fsyncDirectory(Path dir) throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }

  /** A chunk that cannot be used, and why. */
  public static final class ChunkException extends IOException {
    ChunkException(ChunkRef c, String why) {
      super("chunk " + c.id() + " (" + c.pack() + " at byte " + c.offset() + "): " + why);
    }
  }
}
