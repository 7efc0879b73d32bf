package io.crmpi.agent;

import io.crmpi.engine.Engine;
import io.crmpi.engine.LaunchSpec;
import io.crmpi.engine.NodeTree;
import io.crmpi.engine.ProgressDisplay;
import io.crmpi.engine.TreeExit;
import io.crmpi.fault.FaultPoint;
import io.crmpi.fault.Faults;
import io.crmpi.protocol.AgentChannel;
import io.crmpi.protocol.AgentReply;
import io.crmpi.protocol.AgentRequest;
import io.crmpi.store.Digests;
import io.crmpi.store.FileDigest;
import io.crmpi.store.NodeImage;
import java.io.IOException;
import java.nio.file.Files;
import io.crmpi.workdir.WorkdirSnapshot;
import io.crmpi.workdir.WorkdirWatch;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.logging.Logger;

/**
 * The node agent: launches and supervises one node tree, and carries out the
 * coordinator's requests for it (freeze, dump with the working-directory
 * snapshot, resume). Requests run one at a time on the agent's own thread,
 * so the coordinator can address every node at once. When the tree ends on
 * its own, the exit listener hears of it; a tree ended by the agent (kill,
 * vacate) is reported as such.
 */
public final class NodeAgent implements NodeHandle {
  private static final Logger LOG = Logger.getLogger(NodeAgent.class.getName());

  private final LaunchSpec spec;
  private final Engine engine;
  private final OutputSink sink;
  private final Faults faults;
  /** The tree killed because it could not be resumed: its exit is a failure, not crmpi's stop. */
  private volatile NodeTree unresumable;
  private final WorkdirWatch workdir;
  private final LongSupplier nanoTime;
  private final ExecutorService thread;
  /** Flushes (on a thread of their own) and prunes of this node's node-local copies. */
  private final LocalLevelKeeper localLevel;
  private final RankChannel ranks;
  private final java.time.Duration quiesceTimeout;
  private volatile NodeTree tree;
  private PendingDump pending;
  /** The newest persisted image, for its Seal round (crmpid's images are sealed there). */
  private final ImageSealing sealing;
  /** Starts of processes in the tree wait here while a checkpoint has it frozen (the agent's thread only). */
  private final ExecGate execs = new ExecGate();
  private long quiescedEpoch;
  private long dumpedEpoch;
  private volatile Consumer<TreeExit> exitListener = e -> {};
  private volatile ProgressDisplay progress = ProgressDisplay.NONE;

  /**
   * @param ranks the control channel to the ranks that carry libcrmpi, or
   *     null when the tree is only frozen
   * @param quiesceTimeout how long the ranks may take to quiesce (shorter
   *     than the coordinator's prepare timeout, so that the agent answers)
   */
  public NodeAgent(LaunchSpec spec, Engine engine, OutputSink sink, Faults faults, WorkdirWatch workdir,
      LongSupplier nanoTime, RankChannel ranks, java.time.Duration quiesceTimeout) {
    this.ranks = ranks;
    this.quiesceTimeout = quiesceTimeout;
    this.spec = spec;
    this.engine = engine;
    this.sink = sink;
    this.faults = faults;
    this.workdir = workdir;
    this.nanoTime = nanoTime;
    this.sealing = new ImageSealing(spec, engine, faults, nanoTime);
    this.thread = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "crmpi-agent-" + spec.node());
      t.setDaemon(true);
      return t;
    });
    this.localLevel = new LocalLevelKeeper(spec.job(), spec.node(), faults, nanoTime, () -> progress);
  }

  /** Shows the progress of this node's dumps and restores there (by default nowhere). */
  public NodeAgent withProgress(ProgressDisplay display) {
    this.progress = display;
    return this;
  }

  @Override
  public String node() {
    return spec.node();
  }

  @Override
  public void onTreeExit(Consumer<TreeExit> listener) {
    this.exitListener = listener;
  }

  @Override
  public void launch() throws IOException {
    if (ranks != null) {
      ranks.treeEnded();
    }
    faults.check(FaultPoint.LAUNCH, 0);
    attach(engine.launch(spec));
  }

  /**
   * Restores from the first of epochDirs (the storage levels that hold the
   * epoch, fastest first) whose copy of this node's part is here and
   * intact: every image file present with its size (the engine checks
   * their digests as it reads them) and the working-directory snapshot
   * verified. A restore that fails from one level is cleaned up (fenced)
   * and tried from the next. A copy whose images the flush stored as
   * chunks is first put back together into the first (node-local) level's
   * directory, each chunk checked on the way, and restored from there.
   */
  @Override
  public void restore(List<Path> epochDirs, long epoch, NodeImage image, Consumer<String> log) throws IOException {
    if (epochDirs.isEmpty()) {
      throw new IOException("epoch " + epoch + " is held at no storage level");
    }
    IOException failure = null;
    for (int i = 0; i < epochDirs.size(); i++) {
      Path dir = epochDirs.get(i);
      String next = i + 1 < epochDirs.size() ? "; trying " + epochDirs.get(i + 1) : "";
      String problem = copyProblem(dir, image);
      if (problem != null) {
        log.accept("node " + node() + ": its copy in " + dir + " is not usable (" + problem + ")" + next);
        failure = new IOException("node " + node() + ": " + problem);
        continue;
      }
      try {
        Path images = dir;
        if (io.crmpi.store.EpochVerifier.imagesChunked(dir, image)) {
          images = Rehydration.intoFastestLevel(epochDirs, i, image, node(), progress.open("job " + spec.job()
              + " epoch " + epoch + ": node " + node() + " reassembling its images from chunks"), log);
        }
        log.accept("node " + node() + ": restoring from " + dir);
        restoreFrom(dir, images, epoch, image, log);
        return;
      } catch (IOException e) {
        if (next.isEmpty()) {
          throw e;
        }
        log.accept("node " + node() + ": the restore from " + dir + " failed (" + e.getMessage() + ")" + next);
        fence();
        failure = e;
      }
    }
    throw failure;
  }

  /** Why this node's part of the epoch in dir cannot be restored, or null when it can. */
  private static String copyProblem(Path dir, NodeImage image) {
    if (!io.crmpi.store.EpochVerifier.imagesPresent(dir, image)) {
      return "image files missing or of the wrong size";
    }
    List<String> problems = io.crmpi.store.EpochVerifier.verifyNode(dir, image, false, n -> { });
    return problems.isEmpty() ? null : String.join("; ", problems);
  }

  /**
   * Rolls back the working-directory files the tree wrote, as the image
   * recorded them, and restores the node tree from the image.
   */
  private void restoreFrom(Path epochDir, Path imagesDir, long epoch, NodeImage image, Consumer<String> log)
      throws IOException {
    if (image.written() != null) {
      workdir.restore(image.written(), epochDir.resolve(image.workdirDir()), log);
    } else if (image.workdirDir() != null) {
      workdir.restoreCopies(image.workdirFiles(), epochDir.resolve(image.workdirDir()), log);
    }
    faults.check(FaultPoint.RESTORE, epoch);
    if (ranks != null) {
      ranks.expectRestart(epoch);
    }
    NodeTree restored;
    try (ProgressDisplay.Meter meter = progress.open("job " + spec.job() + " epoch " + epoch + ": node " + node()
        + " restoring (reading and checking its image)")) {
      restored = engine.restore(spec, imagesDir.resolve(image.imageDir()), image, epoch, meter);
    }
    attach(restored);
  }

  @Override
  public void fence() throws IOException {
    kill();
    engine.fence(spec);
  }

  @Override
  public void thaw() throws IOException {
    NodeTree t = tree;
    if (t != null) {
      engine.thaw(t);
    }
  }

  private void attach(NodeTree t) {
    tree = t;
    thread.execute(execs::thawed); // a new tree is not frozen; starts meant for the old one fail
    workdir.watch(t.initPid());
    OutputPump.start(t.stdout(), "stdout", sink, spec.job());
    OutputPump.start(t.stderr(), "stderr", sink, spec.job());
    // A tree this agent killed because it could not resume it failed: the job restarts, it is not stopped.
    t.exit().thenAccept(e -> exitListener.accept(unresumable == t && e.killedByCrmpi()
        ? new TreeExit(TreeExit.UNRESUMABLE, false) : e));
  }

  @Override
  public boolean isRunning() {
    NodeTree t = tree;
    return t != null && t.isAlive();
  }

  @Override
  public int processes() {
    NodeTree t = tree;
    return t == null ? 0 : t.processes();
  }

  @Override
  public void kill() {
    NodeTree t = tree;
    if (t != null) {
      t.kill();
    }
  }

  /** On the agent's thread, never inside a checkpoint: between its freeze and thaw it waits ({@link ExecGate}). */
  @Override
  public void exec(List<String> command) throws IOException {
    NodeTree target = tree;
    execs.start(thread, command.get(0), () -> {
      if (tree != target) {
        throw new IOException("node " + node() + ": the tree " + command.get(0) + " was to start in has ended");
      }
      engine.exec(liveTree(0), spec, command);
    });
  }

  @Override
  public CompletableFuture<AgentReply> send(AgentRequest request) {
    return CompletableFuture.supplyAsync(() -> handle(request),
        request instanceof AgentRequest.Flush ? localLevel.flusher() : thread);
  }

  AgentReply handle(AgentRequest request) {
    try {
      if (request instanceof AgentRequest.Prepare p) {
        return prepare(p);
      } else if (request instanceof AgentRequest.Dump d) {
        return dump(d);
      } else if (request instanceof AgentRequest.Persist p) {
        return persist(p);
      } else if (request instanceof AgentRequest.Seal p) {
        return sealing.seal(p);
      } else if (request instanceof AgentRequest.Reseal r) {
        return sealing.reseal(r);
      } else if (request instanceof AgentRequest.Resume r) {
        return resume(r);
      } else if (request instanceof AgentRequest.Flush f) {
        return localLevel.flush(f);
      } else if (request instanceof AgentRequest.Prune p) {
        return localLevel.prune(p);
      }
      throw new IllegalArgumentException("unknown request " + request);
    } catch (IOException | RuntimeException e) {
      LOG.fine(() -> "job " + spec.job() + " epoch " + request.epoch() + ": " + e);
      return new AgentReply.Failed(node(), request.epoch(), String.valueOf(e.getMessage()));
    }
  }

  private NodeTree liveTree(long epoch) throws IOException {
    NodeTree t = tree;
    if (t == null || !t.isAlive()) {
      throw new IOException("node " + node() + " has no running node tree"
          + (epoch > 0 ? " at epoch " + epoch : ""));
    }
    return t;
  }

  /**
   * Quiesces and freezes the tree. A tree that ended on its own, before or
   * during the prepare (the job is finishing: its cgroup and its ranks go
   * away under the freeze), is answered as such, not as a failure.
   */
  private AgentReply prepare(AgentRequest.Prepare p) throws IOException {
    NodeTree t = tree;
    if (t != null && !t.isAlive()) {
      return new AgentReply.TreeEnded(node(), p.epoch());
    }
    long start = nanoTime.getAsLong();
    try {
      return prepare(p, liveTree(p.epoch()));
    } catch (IOException | RuntimeException e) {
      long spent = (nanoTime.getAsLong() - start) / 1_000_000;
      if (t != null && TreeEnding.endedWithin(t, TreeEnding.prepareGrace(quiesceTimeout, spent))) {
        LOG.fine(() -> "job " + spec.job() + " epoch " + p.epoch() + ": node " + node()
            + ": the tree ended during the prepare (" + e.getMessage() + ")");
        return new AgentReply.TreeEnded(node(), p.epoch());
      }
      throw e;
    }
  }

  private AgentReply prepare(AgentRequest.Prepare p, NodeTree t) throws IOException {
    faults.check(FaultPoint.PREPARE, p.epoch(), t::initPid);
    if (engine.needsRanks() && (ranks == null || !ranks.hasRanks())) {
      throw new IOException("the " + engine.name() + " engine needs ranks that carry libcrmpi, and none has"
          + " connected to the agent (link with -lcrmpi or LD_PRELOAD libcrmpi.so)");
    }
    workdir.pauseScans(); // until the resume; the capture scans the frozen tree
    if (ranks != null && ranks.hasRanks()) {
      Quiesced q = ranks.quiesce(p.epoch(), engine.statePath(spec, p.epoch()), quiesceTimeout);
      quiescedEpoch = p.epoch();
      LOG.info(() -> "job " + spec.job() + " epoch " + p.epoch() + ": quiesced " + q.ranks() + " ranks "
          + q.describe());
    }
    faults.check(FaultPoint.FREEZE, p.epoch(), t::initPid);
    engine.freeze(t);
    execs.frozen();
    return new AgentReply.Prepared(node(), p.epoch());
  }

  private AgentReply dump(AgentRequest.Dump d) throws IOException {
    long start = nanoTime.getAsLong();
    NodeTree t = liveTree(d.epoch());
    String nodeRel = "nodes/" + node();
    Path nodeDir = d.epochDir().resolve(nodeRel);
    Path imageDir = nodeDir.resolve("image");
    if (d.localJobDir() != null) {
      io.crmpi.store.NodeLocalLevel.at(d.localJobDir()).prepare(io.crmpi.nativeio.Posix.uid());
    }
    Files.createDirectories(nodeDir);
    // The engine gives up a little before the coordinator does, so that its answer says why.
    Map<String, String> attributes;
    try (ProgressDisplay.Meter meter = progress.open("job " + spec.job() + " epoch " + d.epoch() + ": node "
        + node() + " dumping")) {
      attributes = engine.dump(t, spec, imageDir,
          java.time.Duration.ofMillis(Math.max(1000, d.timeoutMillis() * 9 / 10)), meter);
    } catch (IOException e) {
      throw FailedDumpLog.keep(e, imageDir.resolve("dump.log"), spec, d.epoch());
    }
    faults.check(FaultPoint.DUMP, d.epoch(), t::initPid);
    long dumped = nanoTime.getAsLong();
    String workdirRel = nodeRel + "/workdir";
    Path previous = d.previousEpochDir() == null ? null : d.previousEpochDir().resolve(workdirRel);
    WorkdirSnapshot snapshot = workdir.capture(d.epochDir().resolve(workdirRel),
        previous != null && Files.isDirectory(previous, LinkOption.NOFOLLOW_LINKS) ? previous : null,
        w -> LOG.warning("job " + spec.job() + " epoch " + d.epoch() + ": " + w));
    pending = new PendingDump(d.epoch(), d.epochDir(), nodeRel, attributes, workdirRel, snapshot, t);
    dumpedEpoch = d.epoch();
    long end = nanoTime.getAsLong();
    LOG.fine(() -> "job " + spec.job() + " epoch " + d.epoch() + ": node " + node() + " dumped in "
        + (dumped - start) / 1_000_000 + " ms, working directory recorded in " + (end - dumped) / 1_000_000 + " ms");
    return new AgentReply.Dumped(node(), d.epoch(), (end - start) / 1_000_000);
  }

  private AgentReply persist(AgentRequest.Persist p) throws IOException {
    long start = nanoTime.getAsLong();
    PendingDump dump = pending;
    if (dump == null || dump.epoch() != p.epoch()) {
      throw new IOException("node " + node() + " has no dump of epoch " + p.epoch() + " to persist");
    }
    pending = null;
    if (tree != dump.tree() || !dump.tree().isAlive()) {
      // A tree that ended right after its dump may have been dying when it was dumped: never commit it.
      throw new IOException("the node tree of node " + node() + " ended during checkpoint " + p.epoch());
    }
    Path nodeDir = dump.epochDir().resolve(dump.nodeRel());
    faults.check(FaultPoint.PERSIST, p.epoch(), dump.tree()::initPid);
    io.crmpi.engine.PersistedImage persisted = engine.persist(dump.tree(), spec, nodeDir.resolve("image"), p.epoch(),
        dump.attributes());
    List<FileDigest> files = persisted.files();
    if (persisted.sealed()) {
      Digests.fsyncTree(nodeDir);
    } else {
      // crmpid fsynced the image, whose files stay root's until their seal: the rest of the node's part here.
      Path workdirCopy = dump.epochDir().resolve(dump.workdirRel());
      if (Files.isDirectory(workdirCopy, LinkOption.NOFOLLOW_LINKS)) {
        Digests.fsyncTree(workdirCopy);
      }
      Digests.fsyncDirectory(nodeDir);
    }
    Digests.fsyncDirectory(nodeDir.getParent());
    NodeImage image = new NodeImage(node(), dump.nodeRel() + "/image", files, dump.workdirRel(),
        spec.workdir().toString(), dump.workdir().copies(), persisted.attributes(), dump.workdir().record());
    sealing.persisted(p.epoch(), dump.tree(), nodeDir.resolve("image"), persisted, image);
    return new AgentReply.Persisted(node(), p.epoch(), image, (nanoTime.getAsLong() - start) / 1_000_000);
  }

  /** What a dump leaves for the persist step of the same epoch. */
  private record PendingDump(long epoch, Path epochDir, String nodeRel, Map<String, String> attributes,
      String workdirRel, WorkdirSnapshot workdir, NodeTree tree) {}

  private AgentReply resume(AgentRequest.Resume r) throws IOException {
    try {
      return resume(r, tree);
    } finally {
      workdir.resumeScans();
      execs.thawed(); // thawed, killed or gone: the starts that waited go ahead (or fail)
    }
  }

  private AgentReply resume(AgentRequest.Resume r, NodeTree t) throws IOException {
    if (t == null) {
      return new AgentReply.Resumed(node(), r.epoch());
    }
    if (r.vacate()) {
      t.kill();
      return new AgentReply.Resumed(node(), r.epoch());
    }
    if (!t.isAlive()) {
      quiescedEpoch = 0; // a tree that ended has nothing to thaw, and its ranks are gone
      return new AgentReply.Resumed(node(), r.epoch());
    }
    try {
      faults.check(FaultPoint.RESUME, r.epoch(), t::initPid);
      engine.thaw(t);
      if (ranks != null && quiescedEpoch == r.epoch()) {
        ranks.resume(r.epoch(), dumpedEpoch == r.epoch() ? RankChannel.Outcome.CONTINUE : RankChannel.Outcome.ABORT);
        quiescedEpoch = 0;
      }
    } catch (IOException | RuntimeException e) {
      if (TreeEnding.endedWithin(t, TreeEnding.GRACE_MILLIS)) {
        quiescedEpoch = 0; // it ended on its own meanwhile: nothing is left frozen
        return new AgentReply.Resumed(node(), r.epoch());
      }
      // A tree left frozen would hang the job for good: killed, it restarts from its last committed checkpoint.
      LOG.severe("job " + spec.job() + " epoch " + r.epoch() + ": node " + node() + " cannot resume its tree ("
          + e.getMessage() + "); killing it, so that the job restarts from its last committed checkpoint");
      unresumable = t;
      t.kill();
      throw e;
    }
    return new AgentReply.Resumed(node(), r.epoch());
  }

  @Override
  public void close() {
    thread.shutdownNow();
    localLevel.close();
    workdir.close();
    if (ranks != null) {
      try {
        ranks.close();
      } catch (IOException e) {
        LOG.fine("closing the rank channel: " + e);
      }
    }
  }
}
