package io.crmpi.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * One job's directory at the node-local storage level: {@code
 * ROOT/crmpi-UID/JOB/epochs/<epoch, 10 digits>/nodes/NODE/}, the same path
 * on every node of the job, each node holding its own part. ROOT is shared
 * by every user of the node (/dev/shm, a local SSD's /scratch), so the
 * user's directory in it is made 0700 and is refused when another user
 * made it first, when it is a symlink, or when others can enter it: a
 * second account on the node must not read, plant or replace anything of
 * the job there.
 *
 * <p>With partner copies, the node also holds another node's part of
 * some epochs, at {@code ROOT/crmpi-UID/JOB/partners/NODE/<epoch>/} (what
 * that node had at {@code epochs/<epoch>/nodes/NODE/}).
 *
 * <p>Only the epoch directories crmpi wrote are ever deleted (names of
 * exactly 10 digits under the job's own directory, and the partial copies
 * a broken transfer left, named {@code .<epoch>.partial-*}).
 */
public final class NodeLocalLevel {
  private static final Pattern EPOCH_NAME = Pattern.compile("\\d{10}");
  private static final Pattern PARTIAL_NAME = Pattern.compile("\\.(\\d{10})\\.partial-[A-Za-z0-9]+");
  /** A node name, as slots are named: it becomes a path component. */
  public static final Pattern NODE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
  private final Path jobDir;

  private NodeLocalLevel(Path jobDir) {
    this.jobDir = jobDir;
  }

  /** The level of job for the user uid under root (nothing is created). */
  public static NodeLocalLevel of(Path root, int uid, String job) {
    if (!root.isAbsolute()) {
      throw new IllegalArgumentException("the node-local directory must be an absolute path: " + root);
    }
    if (job == null || !job.matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
      throw new IllegalArgumentException("bad job key '" + job + "'");
    }
    return new NodeLocalLevel(root.normalize().resolve("crmpi-" + uid).resolve(job));
  }

  /** The level whose job directory is jobDir (as {@link #jobDir()} gave it). */
  public static NodeLocalLevel at(Path jobDir) {
    return new NodeLocalLevel(jobDir.toAbsolutePath().normalize());
  }

  public Path jobDir() {
    return jobDir;
  }

  public Path epochDir(long epoch) {
    if (epoch <= 0) {
      throw new IllegalArgumentException("epoch <= 0: " + epoch);
    }
    return jobDir.resolve("epochs").resolve(String.format(Locale.ROOT, "%010d", epoch));
  }

  /** Where this node keeps its copy of another node's part of an epoch (a partner copy). */
  public Path partnerDir(String node, long epoch) {
    if (node == null || !NODE_NAME.matcher(node).matches()) {
      throw new IllegalArgumentException("bad node name '" + node + "'");
    }
    return jobDir.resolve("partners").resolve(node).resolve(epochDir(epoch).getFileName());
  }

  /**
   * Creates the job's directory on this node, for the user uid (the
   * caller's own), checking the user's directory in the shared root.
   *
   * @throws IOException with what is wrong and what to do when the root is
   *     missing or the user's directory is not safely theirs
   */
  public void prepare(int uid) throws IOException {
    Path userDir = jobDir.getParent();
    Path root = userDir.getParent();
    if (!Files.isDirectory(root)) {
      throw new IOException("the node-local directory " + root + " does not exist on this node: create it (a"
          + " directory on local disk, or /dev/shm), or leave --local-dir unset to write checkpoints to the state"
          + " directory only");
    }
    try {
      Files.createDirectory(userDir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    } catch (java.nio.file.FileAlreadyExistsException e) {
      // checked below
    }
    PosixFileAttributes a = Files.readAttributes(userDir, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    int owner = (Integer) Files.getAttribute(userDir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
    if (!a.isDirectory() || owner != uid) {
      throw new IOException(userDir + " is " + (a.isSymbolicLink() ? "a symlink" : a.isDirectory()
          ? "a directory of uid " + owner : "not a directory") + ", not a directory of uid " + uid
          + " (crmpi made it for you otherwise): someone else made it; ask your administrator to remove it");
    }
    Set<PosixFilePermission> p = a.permissions();
    if (p.stream().anyMatch(x -> x.name().startsWith("GROUP") || x.name().startsWith("OTHERS"))) {
      throw new IOException(userDir + " can be entered by other users (mode "
          + PosixFilePermissions.toString(p) + "): chmod 700 " + userDir);
    }
    Files.createDirectories(jobDir.resolve("epochs"));
  }

  /**
   * Deletes this node's copies of every epoch not in keep (older node-local
   * copies beyond retention, and aborted epochs). Returns those removed.
   */
  public List<Long> prune(Set<Long> keep) throws IOException {
    List<Long> removed = pruneEpochs(jobDir.resolve("epochs"), keep);
    Path partners = jobDir.resolve("partners");
    if (Files.isDirectory(partners, LinkOption.NOFOLLOW_LINKS)) {
      List<Path> nodes;
      try (Stream<Path> s = Files.list(partners)) {
        nodes = s.filter(d -> NODE_NAME.matcher(d.getFileName().toString()).matches())
            .filter(d -> Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)).sorted().toList();
      }
      for (Path node : nodes) {
        pruneEpochs(node, keep);
      }
    }
    return removed;
  }

  /** Deletes the epoch directories and partial copies under dir not in keep; returns the epochs removed. */
  private static List<Long> pruneEpochs(Path dir, Set<Long> keep) throws IOException {
    List<Long> removed = new ArrayList<>();
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      return removed;
    }
    List<Path> dirs;
    try (Stream<Path> s = Files.list(dir)) {
      dirs = s.filter(d -> EPOCH_NAME.matcher(d.getFileName().toString()).matches()
              || PARTIAL_NAME.matcher(d.getFileName().toString()).matches())
          .filter(d -> Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)).sorted().toList();
    }
    for (Path d : dirs) {
      java.util.regex.Matcher partial = PARTIAL_NAME.matcher(d.getFileName().toString());
      long epoch = partial.matches() ? Long.parseLong(partial.group(1)) : Long.parseLong(d.getFileName().toString());
      if (!keep.contains(epoch)) { // a partial copy of a kept epoch may be in the middle of its transfer
        DurableFiles.deleteTree(d);
        if (!partial.matches()) {
          removed.add(epoch);
        }
      }
    }
    return removed;
  }

  /** Removes the job's directory on this node (the job is over and its copies are not needed). */
  public void remove() throws IOException {
    if (Files.isDirectory(jobDir, LinkOption.NOFOLLOW_LINKS)) {
      prune(Set.of());
      Files.deleteIfExists(jobDir.resolve("epochs"));
      Path partners = jobDir.resolve("partners");
      if (Files.isDirectory(partners, LinkOption.NOFOLLOW_LINKS)) {
        try (Stream<Path> s = Files.list(partners)) {
          for (Path node : s.filter(d -> NODE_NAME.matcher(d.getFileName().toString()).matches()).toList()) {
            Files.deleteIfExists(node);
          }
        }
        Files.deleteIfExists(partners);
      }
      Files.deleteIfExists(jobDir);
    }
  }
}
