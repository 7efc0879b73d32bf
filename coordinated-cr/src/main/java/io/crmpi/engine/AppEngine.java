package io.crmpi.engine;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The application-assisted engine: no process is dumped. At the quiesced
 * point the ranks' checkpoint callbacks write their own state, and libcrmpi
 * its drained messages, into a per-rank directory under this engine's
 * staging area (given to the ranks with PREPARE); the dump moves that
 * directory into the epoch. A restore starts the job afresh (any nodes,
 * any addresses) with CRMPI_RESTART_DIR and CRMPI_RESTART_EPOCH set, and
 * the program reads its state back after MPI_Init. The state files are
 * written and read by the job's own user; only starting trees needs
 * privilege, which the {@link TreeStarter} (crmpi-ns, or crmpid for an
 * ordinary user) provides.
 */
public final class AppEngine implements Engine {
  static final String ATTR_RANKS = "stateDirs";
  private final TreeStarter trees;

  /** The app engine of a root job: crmpi-ns starts its trees. */
  public AppEngine(Path crmpiNs) {
    this(new NodeTreeRuntime(crmpiNs));
  }

  public AppEngine(TreeStarter trees) {
    this.trees = trees;
  }

  @Override
  public String name() {
    return "app";
  }

  @Override
  public boolean needsRanks() {
    return true;
  }

  @Override
  public String statePath(LaunchSpec spec, long epoch) throws IOException {
    Path dir = staging(spec, epoch);
    deleteTree(dir);
    Files.createDirectories(dir);
    return dir.toString();
  }

  @Override
  public void exec(NodeTree tree, LaunchSpec spec, java.util.List<String> command) throws IOException {
    trees.exec(tree, spec, command);
  }

  @Override
  public NodeTree launch(LaunchSpec spec) throws IOException {
    return trees.launch(spec);
  }

  @Override
  public void fence(LaunchSpec spec) throws IOException {
    trees.fence(spec);
  }

  @Override
  public void freeze(NodeTree tree) {
    // The ranks hold still in libcrmpi's quiesce: nothing to freeze.
  }

  @Override
  public void thaw(NodeTree tree) {
    // Nothing was frozen.
  }

  @Override
  public Map<String, String> dump(NodeTree tree, LaunchSpec spec, Path imageDir, java.time.Duration timeout)
      throws IOException {
    Path state = latestStaging(spec);
    long ranks;
    try (Stream<Path> s = Files.list(state)) {
      ranks = s.filter(p -> p.getFileName().toString().startsWith("rank-")).count();
    }
    if (ranks == 0) {
      throw new IOException("no rank wrote its state into " + state
          + ": the app engine needs ranks that carry libcrmpi");
    }
    Files.move(state, imageDir, StandardCopyOption.ATOMIC_MOVE);
    return Map.of(ATTR_RANKS, Long.toString(ranks));
  }

  @Override
  public NodeTree restore(LaunchSpec spec, Path imageDir, io.crmpi.store.NodeImage image, long epoch)
      throws IOException {
    Path restart = spec.runtimeDir().resolve("app-restart");
    deleteTree(restart);
    copyTree(imageDir, restart);
    return trees.launch(spec.withEnvironment(Map.of("CRMPI_RESTART_DIR", restart.toString(),
        "CRMPI_RESTART_EPOCH", Long.toString(epoch))));
  }

  private static Path staging(LaunchSpec spec, long epoch) {
    return spec.runtimeDir().resolve("app-state").resolve(Long.toString(epoch));
  }

  private static Path latestStaging(LaunchSpec spec) throws IOException {
    Path base = spec.runtimeDir().resolve("app-state");
    try (Stream<Path> s = Files.list(base)) {
      return s.max(Comparator.comparingLong(p -> Long.parseLong(p.getFileName().toString())))
          .orElseThrow(() -> new IOException("no app state staged in " + base));
    }
  }

  private static void copyTree(Path from, Path to) throws IOException {
    Files.walkFileTree(from, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
        Files.createDirectories(to.resolve(from.relativize(dir).toString()));
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        Files.copy(file, to.resolve(from.relativize(file).toString()), StandardCopyOption.REPLACE_EXISTING);
        return FileVisitResult.CONTINUE;
      }
    });
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
