package io.crmpi.store;

import io.crmpi.chunks.ChunkStore;
import io.crmpi.chunks.ChunkSweep;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A {@link CheckpointStore} in a directory of the file system, for one job
 * and one process at a time. Layout: {@code root/epochs/<epoch as 10
 * zero-padded digits>/} per epoch, whose {@code manifest.json} is the commit
 * record, and {@code root/last-epoch}, the highest epoch id ever begun,
 * replaced atomically, so that ids keep increasing across restarts even when
 * every epoch directory has been deleted.
 *
 * <p>An epoch directory whose manifest does not decode, or names another
 * epoch or job, is malformed: {@link #committed()} skips it and never
 * deletes it, and {@link #abort} refuses it. {@link #retain} deletes it only
 * when it is older than every committed epoch that retention keeps, i.e.
 * when it would have been deleted had it decoded; a malformed epoch within
 * the retention window is left for a person to look at. An I/O error while
 * reading a manifest is thrown, not skipped: it says that the storage is
 * failing, not that the epoch was never committed.
 */
public final class FileCheckpointStore implements CheckpointStore {
  static final String MANIFEST = "manifest.json";
  static final String LAST_EPOCH = "last-epoch";
  /** Present once {@link #removeImages} ran: the manifests stay, the images are gone. */
  public static final String IMAGES_REMOVED = "images-removed";
  private static final Pattern EPOCH_NAME = Pattern.compile("\\d{10,19}");
  private static final System.Logger LOG = System.getLogger(FileCheckpointStore.class.getName());

  private final Path root;
  private final Path epochs;
  private final String job;
  private final SpaceProbe space;

  /** How many bytes the file system of a path still gives its user. */
  @FunctionalInterface
  public interface SpaceProbe {
    long usableBytes(Path path) throws IOException;
  }

  private FileCheckpointStore(Path root, String job, SpaceProbe space) {
    this.root = root;
    this.epochs = root.resolve("epochs");
    this.job = job;
    this.space = space;
  }

  /** The same store, its free space measured by probe (tests: a full disk without filling one). */
  public FileCheckpointStore withSpaceProbe(SpaceProbe probe) {
    return new FileCheckpointStore(root, job, probe);
  }

  @Override
  public long usableBytes() throws IOException {
    return space.usableBytes(epochs);
  }

  /** Opens the store of job under root, creating its directories when absent. */
  public static FileCheckpointStore open(Path root, String job) throws IOException {
    if (job == null || job.isBlank()) {
      throw new IllegalArgumentException("job is blank: '" + job + "'");
    }
    FileCheckpointStore store = new FileCheckpointStore(root.toAbsolutePath().normalize(), job,
        p -> Files.getFileStore(p).getUsableSpace());
    Files.createDirectories(store.epochs);
    Digests.fsyncDirectory(store.root);
    return store;
  }

  /** The directory the store lives in, absolute. */
  public Path root() {
    return root;
  }

  /** The job whose epochs this store holds. */
  public String job() {
    return job;
  }

  @Override
  public synchronized long beginEpoch() throws IOException {
    List<Long> ids = epochIds();
    long highest = ids.isEmpty() ? 0 : ids.get(ids.size() - 1);
    long next = Math.max(readLastEpoch(), highest) + 1;
    DurableFiles.writeAtomically(root.resolve(LAST_EPOCH),
        (next + "\n").getBytes(StandardCharsets.US_ASCII));
    Files.createDirectory(epochDir(next));
    Digests.fsyncDirectory(epochs);
    return next;
  }

  @Override
  public Path epochDir(long epoch) {
    if (epoch <= 0) {
      throw new IllegalArgumentException("epoch <= 0: " + epoch);
    }
    return epochs.resolve(dirName(epoch));
  }

  @Override
  public synchronized void commit(Manifest manifest) throws IOException {
    long epoch = manifest.epoch();
    if (!manifest.job().equals(job)) {
      throw new IllegalArgumentException("manifest of job '" + manifest.job()
          + "' does not belong in the store of job '" + job + "'");
    }
    Path dir = epochDir(epoch);
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      throw new IllegalStateException(
          "epoch " + epoch + " was not begun or was aborted: no directory " + dir);
    }
    if (Files.exists(dir.resolve(MANIFEST), LinkOption.NOFOLLOW_LINKS)) {
      throw new IllegalStateException("epoch " + epoch + " is already committed: " + dir.resolve(MANIFEST));
    }
    Optional<Manifest> latest = latest();
    if (latest.isPresent() && latest.get().epoch() > epoch) {
      throw new IllegalStateException("epoch " + epoch + " is not newer than the latest committed epoch "
          + latest.get().epoch());
    }
    DurableFiles.writeAtomically(dir.resolve(MANIFEST), ManifestCodec.toJson(manifest));
    // A new epoch has its images: the store is restorable again (a job run anew after it succeeded).
    if (Files.deleteIfExists(root.resolve(IMAGES_REMOVED))) {
      Digests.fsyncDirectory(root);
    }
  }

  @Override
  public synchronized void abort(long epoch) throws IOException {
    Path dir = epochDir(epoch);
    Path manifest = dir.resolve(MANIFEST);
    if (Files.exists(manifest, LinkOption.NOFOLLOW_LINKS)) {
      throw new IllegalStateException("epoch " + epoch + " is committed (" + manifest
          + " exists); abort deletes only uncommitted epochs");
    }
    if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
      DurableFiles.deleteTree(dir);
      Digests.fsyncDirectory(epochs);
    }
  }

  @Override
  public List<Manifest> committed() throws IOException {
    List<Manifest> committed = new ArrayList<>();
    for (long epoch : epochIds()) {
      load(epoch).ifPresent(committed::add);
    }
    return committed;
  }

  @Override
  public Optional<Manifest> latest() throws IOException {
    List<Long> ids = epochIds();
    for (int i = ids.size() - 1; i >= 0; i--) {
      Optional<Manifest> manifest = load(ids.get(i));
      if (manifest.isPresent()) {
        return manifest;
      }
    }
    return Optional.empty();
  }

  @Override
  public Optional<Manifest> get(long epoch) throws IOException {
    return load(epoch);
  }

  @Override
  public List<String> verify(Manifest manifest) throws IOException {
    return verify(manifest, Scope.EVERYTHING);
  }

  @Override
  public List<String> verify(Manifest manifest, Scope scope) throws IOException {
    return verify(manifest, scope, bytes -> { });
  }

  /**
   * {@inheritDoc}
   *
   * <p>A node's part is intact when it verifies at one of the levels that
   * hold the epoch, the node-local one first. A node-local copy that is not
   * on this host (another node's) is checked where it is restored; an
   * epoch held only there is not reported here.
   */
  @Override
  public List<String> verify(Manifest manifest, Scope scope, java.util.function.LongConsumer bytesDone)
      throws IOException {
    if (!manifest.job().equals(job)) {
      throw new IllegalArgumentException("manifest of job '" + manifest.job()
          + "' does not belong in the store of job '" + job + "'");
    }
    EpochLevels levels = manifest.levels();
    if (!levels.holds(StorageLevel.LOCAL)) {
      return EpochVerifier.verify(epochDir(manifest.epoch()), manifest, scope == Scope.EVERYTHING, bytesDone);
    }
    List<String> problems = new ArrayList<>();
    for (NodeImage node : manifest.nodes()) {
      List<String> nodeProblems = new ArrayList<>();
      boolean intact = false;
      for (Path dir : levelDirs(manifest)) {
        boolean shared = dir.equals(epochDir(manifest.epoch()));
        if (!shared && !Files.isDirectory(dir.resolve(node.imageDir()), LinkOption.NOFOLLOW_LINKS)) {
          if (levels.holds(StorageLevel.PARTNER)) {
            nodeProblems.clear();
            intact = true; // its restore fetches the partner copy, or reads the state directory, and checks it
            break;
          }
          continue; // not on this host: its node checks it
        }
        List<String> p = EpochVerifier.verifyNode(dir, node, scope == Scope.EVERYTHING, bytesDone);
        if (p.isEmpty()) {
          intact = true;
          break;
        }
        String level = (shared ? StorageLevel.SHARED : StorageLevel.LOCAL).label();
        p.forEach(line -> nodeProblems.add(level + " " + line));
      }
      if (!intact) {
        problems.addAll(nodeProblems);
      }
    }
    return problems;
  }

  /**
   * Records that a committed epoch is now also durable at level: its
   * manifest is replaced atomically by one that says so. False when the
   * epoch is no longer committed (retention removed it meanwhile).
   */
  @Override
  public synchronized boolean addLevel(long epoch, StorageLevel level) throws IOException {
    Optional<Manifest> m = load(epoch);
    if (m.isEmpty()) {
      return false;
    }
    if (!m.get().levels().holds(level)) {
      DurableFiles.writeAtomically(epochDir(epoch).resolve(MANIFEST), ManifestCodec.toJson(m.get().withLevel(level)));
    }
    return true;
  }

  @Override
  public synchronized boolean recordSeal(Manifest sealed) throws IOException {
    if (!sealed.sealed()) {
      throw new IllegalArgumentException("epoch " + sealed.epoch() + ": the manifest to record is not sealed");
    }
    Optional<Manifest> m = load(sealed.epoch());
    if (m.isEmpty()) {
      return false;
    }
    // Only the node images change: the levels recorded meanwhile stay (none is, today: the flush waits for the seal).
    Manifest next = m.get().withNodes(sealed.nodes()).withTimings(sealed.timings());
    DurableFiles.writeAtomically(epochDir(sealed.epoch()).resolve(MANIFEST), ManifestCodec.toJson(next));
    return true;
  }

  @Override
  public synchronized void withdraw(long epoch) throws IOException {
    Optional<Manifest> m = load(epoch);
    if (m.isPresent() && m.get().sealed()) {
      throw new IllegalStateException("epoch " + epoch + " is sealed; only an epoch whose seal never came is"
          + " withdrawn");
    }
    if (Files.exists(epochDir(epoch), LinkOption.NOFOLLOW_LINKS)) {
      delete(epoch);
      Digests.fsyncDirectory(epochs);
    }
  }

  /**
   * {@inheritDoc}
   *
   * <p>Does nothing while no epoch is committed. Malformed epochs are
   * removed only when older than the oldest epoch kept (see the class
   * comment).
   */
  @Override
  public synchronized List<Long> retain(int keep, Set<Long> pinned) throws IOException {
    if (keep < 1) {
      throw new IllegalArgumentException(
          "keep < 1: " + keep + " (retention never deletes the newest epoch)");
    }
    List<Long> ids = epochIds();
    List<Long> committed = new ArrayList<>();
    List<Long> pending = new ArrayList<>();
    long newestShared = 0;
    for (long epoch : ids) {
      if (!Files.exists(epochDir(epoch).resolve(MANIFEST), LinkOption.NOFOLLOW_LINKS)) {
        pending.add(epoch);
      } else {
        Optional<Manifest> m = load(epoch);
        if (m.isPresent() && !m.get().sealed()) {
          pending.add(epoch); // committed, but its seal never came: never restored, debris once a newer one is
        } else if (m.isPresent()) {
          committed.add(epoch);
          if (m.get().levels().holds(StorageLevel.SHARED)) {
            newestShared = epoch;
          }
        }
      }
    }
    if (committed.isEmpty()) {
      return List.of();
    }
    long newest = committed.get(committed.size() - 1);
    long oldestKept = committed.get(Math.max(0, committed.size() - keep));
    List<Long> removed = new ArrayList<>();
    for (long epoch : ids) {
      boolean debris = pending.contains(epoch) ? epoch < newest : epoch < oldestKept && !pinned.contains(epoch);
      if (debris) {
        delete(epoch);
        removed.add(epoch);
      }
    }
    if (!removed.isEmpty()) {
      Digests.fsyncDirectory(epochs);
    }
    sweepChunks(newestShared);
    return removed;
  }

  /** Removes the chunk packs no epoch refers to any more (see {@link ChunkSweep}). */
  private void sweepChunks(long newestShared) throws IOException {
    ChunkSweep.Result r = ChunkSweep.sweep(ChunkStore.of(root), epochs, newestShared);
    if (r.skipped() != null) {
      LOG.log(Level.WARNING, "job " + job + ": chunk packs not swept: " + r.skipped());
    } else if (r.packsRemoved() > 0) {
      LOG.log(Level.DEBUG, () -> "job " + job + ": removed " + r.packsRemoved() + " chunk packs no epoch uses ("
          + r.bytesFreed() + " bytes)");
    }
  }

  /**
   * Deletes every committed epoch's images and working-directory snapshots,
   * keeping its manifest (the record of what was taken): for a job that has
   * finished. The marker {@value #IMAGES_REMOVED} is written first, durably,
   * with why, so that an interrupted removal never leaves an epoch that looks
   * restorable. Returns the bytes freed.
   */
  public synchronized long removeImages(String why) throws IOException {
    DurableFiles.writeAtomically(root.resolve(IMAGES_REMOVED), (why + "\n").getBytes(StandardCharsets.UTF_8));
    long freed = 0;
    for (long epoch : epochIds()) {
      Path dir = epochDir(epoch);
      try (java.util.stream.Stream<Path> s = Files.list(dir)) {
        for (Path p : s.filter(p -> !p.getFileName().toString().equals(MANIFEST)).toList()) {
          freed += DurableFiles.bytesFreedByDeleting(p);
          DurableFiles.deleteTree(p);
        }
      }
    }
    Path chunks = root.resolve("chunks");
    if (Files.isDirectory(chunks, LinkOption.NOFOLLOW_LINKS)) {
      freed += DurableFiles.bytesFreedByDeleting(chunks);
      DurableFiles.deleteTree(chunks);
    }
    Digests.fsyncDirectory(epochs);
    return freed;
  }

  /** Why the images were removed, if {@link #removeImages} ran. */
  public Optional<String> imagesRemoved() throws IOException {
    Path marker = root.resolve(IMAGES_REMOVED);
    return Files.exists(marker, LinkOption.NOFOLLOW_LINKS)
        ? Optional.of(Files.readString(marker, StandardCharsets.UTF_8).strip()) : Optional.empty();
  }

  /** Removes the manifest first, durably, so the epoch is never seen half-deleted as committed. */
  private void delete(long epoch) throws IOException {
    Path dir = epochDir(epoch);
    if (Files.deleteIfExists(dir.resolve(MANIFEST))) {
      Digests.fsyncDirectory(dir);
    }
    DurableFiles.deleteTree(dir);
  }

  /** The committed manifest of epoch, or empty when it has none or a malformed one. */
  private Optional<Manifest> load(long epoch) throws IOException {
    Path file = epochDir(epoch).resolve(MANIFEST);
    if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
      return Optional.empty();
    }
    Manifest manifest;
    try {
      manifest = ManifestCodec.read(file);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (ManifestException e) {
      LOG.log(Level.WARNING, "skipping epoch " + epoch + ": " + e.getMessage());
      return Optional.empty();
    }
    if (manifest.epoch() != epoch || !manifest.job().equals(job)) {
      LOG.log(Level.WARNING, "skipping epoch " + epoch + ": manifest " + file + " is of job '"
          + manifest.job() + "' epoch " + manifest.epoch() + ", expected job '" + job + "' epoch " + epoch);
      return Optional.empty();
    }
    return Optional.of(manifest);
  }

  /** Ids of every epoch directory, ascending. */
  private List<Long> epochIds() throws IOException {
    try (Stream<Path> list = Files.list(epochs)) {
      return list
          .filter(p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS))
          .map(p -> p.getFileName().toString())
          .filter(name -> EPOCH_NAME.matcher(name).matches())
          .map(FileCheckpointStore::parseEpoch)
          .filter(epoch -> epoch > 0)
          .sorted()
          .toList();
    }
  }

  /** The id an epoch directory is named for, or -1 when the name is not exactly that of an id. */
  private static long parseEpoch(String name) {
    try {
      long epoch = Long.parseLong(name);
      return name.equals(dirName(epoch)) ? epoch : -1;
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private static String dirName(long epoch) {
    return String.format(Locale.ROOT, "%010d", epoch);
  }

  private long readLastEpoch() throws IOException {
    Path file = root.resolve(LAST_EPOCH);
    if (!Files.exists(file)) {
      return 0;
    }
    String text = Files.readString(file, StandardCharsets.US_ASCII).strip();
    try {
      long last = Long.parseLong(text);
      if (last >= 0) {
        return last;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IOException(file + " is malformed: '" + text + "' is not an epoch id");
  }
}
