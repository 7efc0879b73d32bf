package io.crmpi.store;

import io.crmpi.chunks.ChunkRecipe;
import io.crmpi.chunks.ChunkStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongConsumer;

/**
 * Checks the files of one committed epoch against its manifest: every file
 * listed must exist, be a regular file, and have the recorded size and
 * SHA-256. Each problem is one line naming the file relative to the epoch
 * directory, e.g. {@code "nodes/local/image/pages-1.img: sha256 mismatch"}.
 * A file the flush stored as chunks (see {@link ChunkStore}) is checked as
 * the file its chunks put together, each chunk against its id on the way.
 */
public final class EpochVerifier {
  private EpochVerifier() {}

  static List<String> verify(Path epochDir, Manifest manifest) throws IOException {
    return verify(epochDir, manifest, true, bytes -> { });
  }

  /**
   * With images false, only the working-directory snapshots are checked;
   * bytesDone hears each file's size once it is checked.
   */
  static List<String> verify(Path epochDir, Manifest manifest, boolean images, LongConsumer bytesDone)
      throws IOException {
    List<String> problems = new ArrayList<>();
    if (!Files.isDirectory(epochDir)) {
      problems.add("epoch " + manifest.epoch() + ": directory " + epochDir + " is missing");
      return problems;
    }
    for (NodeImage node : manifest.nodes()) {
      problems.addAll(verifyNode(epochDir, node, images, bytesDone));
    }
    return problems;
  }

  /**
   * Checks one node's part of an epoch in epochDir (a copy at any storage
   * level): its images (when images is true) and its working-directory
   * snapshot. Empty when intact.
   */
  public static List<String> verifyNode(Path epochDir, NodeImage node, boolean images, LongConsumer bytesDone) {
    List<String> problems = new ArrayList<>();
    if (images) {
      checkTree(epochDir, node.imageDir(), node.files(), problems, bytesDone);
    }
    if (node.workdirDir() != null) {
      checkTree(epochDir, node.workdirDir(), node.workdirFiles(), problems, bytesDone);
    } else if (!node.workdirFiles().isEmpty()) {
      problems.add("node " + node.node() + ": " + node.workdirFiles().size()
          + " working-directory files listed but no workdirDir");
    }
    return problems;
  }

  /**
   * Whether every image file of node is in epochDir with its recorded size
   * (a quick look: the digests are checked as the images are read).
   */
  public static boolean imagesPresent(Path epochDir, NodeImage node) {
    Path base = epochDir.resolve(node.imageDir()).normalize();
    if (!base.startsWith(epochDir.normalize())) {
      return false;
    }
    for (FileDigest f : node.files()) {
      Path file = base.resolve(f.path());
      try {
        ChunkRecipe recipe = ChunkStore.recipeFor(file);
        long size = recipe != null ? recipe.size()
            : Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) ? Files.size(file) : -1;
        if (size != f.size()) {
          return false;
        }
      } catch (IOException e) {
        return false;
      }
    }
    return true;
  }

  /** Whether any image file of node in epochDir is stored as chunks (and must be put together to be read). */
  public static boolean imagesChunked(Path epochDir, NodeImage node) {
    Path base = epochDir.resolve(node.imageDir());
    for (FileDigest f : node.files()) {
      Path file = base.resolve(f.path());
      if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)
          && Files.exists(ChunkStore.recipeOf(file), LinkOption.NOFOLLOW_LINKS)) {
        return true;
      }
    }
    return false;
  }

  private static void checkTree(
      Path epochDir, String dirName, List<FileDigest> files, List<String> problems, LongConsumer bytesDone) {
    Path base = epochDir.resolve(dirName).normalize();
    if (!base.startsWith(epochDir.normalize())) {
      problems.add(dirName + ": directory is outside the epoch directory " + epochDir);
      return;
    }
    String prefix = dirName.isEmpty() || dirName.equals(".") ? "" : dirName.replaceAll("/+$", "") + "/";
    for (FileDigest expected : files) {
      String problem = !expected.digested() ? "never sealed (no digest recorded)"
          : check(base, base.resolve(expected.path()), expected);
      if (problem != null) {
        problems.add(prefix + expected.path() + ": " + problem);
      }
      bytesDone.accept(expected.size());
    }
  }

  /** What is wrong with the file file's recipe puts together, or null when it matches. */
  private static String checkChunked(Path base, Path file, FileDigest expected) {
    try {
      ChunkRecipe recipe = ChunkStore.recipeFor(file);
      if (recipe.size() != expected.size()) {
        return "size " + recipe.size() + " in its chunk recipe, manifest says " + expected.size();
      }
      java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
      ChunkStore.ofEpochDir(epochDirOf(base)).reassemble(recipe, new java.nio.channels.WritableByteChannel() {
        @Override
        public int write(java.nio.ByteBuffer b) {
          int n = b.remaining();
          sha.update(b);
          return n;
        }

        @Override
        public boolean isOpen() {
          return true;
        }

        @Override
        public void close() { }
      }, n -> { });
      String actual = java.util.HexFormat.of().formatHex(sha.digest());
      return actual.equals(expected.sha256()) ? null : "sha256 mismatch (as put together from its chunks)";
    } catch (IOException | IllegalArgumentException | java.security.NoSuchAlgorithmException e) {
      return "cannot be put together from its chunks: " + e.getMessage();
    }
  }

  /** The epoch directory an image directory (EPOCH/nodes/NODE/image) is in. */
  private static Path epochDirOf(Path imageDir) {
    for (Path p = imageDir.toAbsolutePath().normalize(); p != null; p = p.getParent()) {
      Path parent = p.getParent();
      if (parent != null && parent.getFileName() != null && parent.getFileName().toString().equals("epochs")) {
        return p;
      }
    }
    throw new IllegalArgumentException(imageDir + " is not inside a job's epochs directory");
  }

  /** What is wrong with file, or null when it matches. */
  private static String check(Path base, Path file, FileDigest expected) {
    if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
      return Files.exists(ChunkStore.recipeOf(file), LinkOption.NOFOLLOW_LINKS)
          ? checkChunked(base, file, expected) : "missing";
    }
    if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
      return "not a regular file";
    }
    try {
      long size = Files.size(file);
      if (size != expected.size()) {
        return "size " + size + ", manifest says " + expected.size();
      }
      FileDigest actual = Digests.digest(base, file);
      if (actual.size() != expected.size()) {
        return "size " + actual.size() + ", manifest says " + expected.size();
      }
      return actual.sha256().equals(expected.sha256()) ? null : "sha256 mismatch";
    } catch (IOException e) {
      return "unreadable: " + e;
    }
  }
}
