package io.crmpi.agent;

import io.crmpi.chunks.ChunkRecipe;
import io.crmpi.chunks.ChunkStore;
import io.crmpi.engine.ProgressDisplay;
import io.crmpi.store.DurableFiles;
import io.crmpi.store.FileDigest;
import io.crmpi.store.NodeImage;
import io.crmpi.store.NodeLocalLevel;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

/**
 * Puts a node's images back together from the state directory's chunks
 * into the node-local level, as the job's user, so that crmpid restores
 * plain files as it always does (and checks them against its seal). Each
 * chunk is checked against its id as it is read; a file whose chunk is
 * damaged fails here, before anything is restored. The images are built in
 * a directory of their own and renamed into place whole, replacing what
 * the node-local level held for the epoch (a short or damaged copy). When
 * the node-local level cannot take them (full, or missing on a node the
 * job was requeued to), they are put together beside the chunks, in the
 * epoch's directory in the state directory, rather than not at all.
 */
final class Rehydration {
  private Rehydration() {}

  /**
   * Puts the images of epochDirs[i], stored as chunks, back together in
   * epochDirs[0] (the node-local level, fastest first) and returns that
   * directory; meter shows the progress and is closed.
   */
  static Path intoFastestLevel(List<Path> epochDirs, int i, NodeImage image, String node,
      ProgressDisplay.Meter meter, Consumer<String> log) throws IOException {
    try (meter) {
      if (i == 0) {
        throw new IOException("its images in " + epochDirs.get(0) + " are stored as chunks, and the epoch has no"
            + " node-local level to put them back together in");
      }
      Path from = epochDirs.get(i);
      Path into = epochDirs.get(0);
      log.accept("node " + node + ": putting its images back together from the chunks in " + from
          + " into " + into);
      long total = image.files().stream().mapToLong(FileDigest::size).sum();
      long[] done = {0};
      try {
        rehydrate(from, into, image, io.crmpi.nativeio.Posix.uid(), n -> meter.at(done[0] += n, total));
        return into;
      } catch (ChunkStore.ChunkException damaged) {
        throw damaged; // damaged wherever it is put together
      } catch (IOException e) {
        // No room, or no node-local directory on this node (a requeue to nodes set up otherwise).
        Path aside = from.resolve(ASIDE);
        log.accept("node " + node + ": cannot put its images together at the node-local level (" + e.getMessage()
            + "); putting them together in " + aside + " instead");
        done[0] = 0;
        build(from, aside, image, n -> meter.at(done[0] += n, total));
        return aside;
      }
    }
  }

  /**
   * Where in the state directory's epoch directory the images are put
   * together when the node-local level cannot take them (removed with the
   * epoch).
   */
  static final String ASIDE = "reassembled";

  /**
   * Writes node's image files of the epoch in from (the state directory's
   * copy, chunks and plain files) to the same place under into (the
   * epoch's directory at the node-local level); progress hears the bytes.
   */
  static void rehydrate(Path from, Path into, NodeImage image, int uid, LongConsumer progress) throws IOException {
    Path epochs = into.getParent();
    if (epochs == null || epochs.getParent() == null) {
      throw new IOException("not a node-local epoch directory: " + into);
    }
    NodeLocalLevel.at(epochs.getParent()).prepare(uid);
    build(from, into, image, progress);
  }

  /** Puts the images together under into (made the owner's only), replacing what is there. */
  private static void build(Path from, Path into, NodeImage image, LongConsumer progress) throws IOException {
    Files.createDirectories(into, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    Path target = into.resolve(image.imageDir()).normalize();
    if (!target.startsWith(into.normalize())) {
      throw new IOException("image directory " + image.imageDir() + " is outside the epoch directory");
    }
    Files.createDirectories(target.getParent());
    Path building = Files.createTempDirectory(target.getParent(), ".rehydrating-",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    try {
      ChunkStore store = ChunkStore.ofEpochDir(from);
      Path source = from.resolve(image.imageDir());
      for (FileDigest f : image.files()) {
        Path out = building.resolve(f.path());
        Files.createDirectories(out.getParent());
        Path in = source.resolve(f.path());
        ChunkRecipe recipe = ChunkStore.recipeFor(in);
        if (recipe == null) {
          Files.copy(in, out, LinkOption.NOFOLLOW_LINKS);
          progress.accept(f.size());
          continue;
        }
        try (FileChannel ch = FileChannel.open(out, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))) {
          store.reassemble(recipe, ch, progress);
        }
      }
      if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
        DurableFiles.deleteTree(target);
      }
      Files.move(building, target, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException | RuntimeException e) {
      DurableFiles.deleteTree(building);
      throw e;
    }
  }
}
