package io.crmpi.remote;

import io.crmpi.agent.NodeHandle;
import io.crmpi.engine.TreeExit;
import io.crmpi.protocol.AgentReply;
import io.crmpi.protocol.AgentRequest;
import io.crmpi.protocol.PartnerSource;
import io.crmpi.store.EpochVerifier;
import io.crmpi.store.NodeImage;
import io.crmpi.store.NodeLocalLevel;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * A node slot with partner copies (storage level PARTNER): the slot's own
 * handle, plus the node's partner port, where it keeps its partners'
 * copies, and the link that sends its own part of an epoch to its partner
 * ({@link AgentRequest.Replicate}, on a thread of its own, beside the
 * checkpoints). A restore whose node-local copy is gone (its node was
 * lost) first fetches the part from a partner port, into the node-local
 * level, and restores from there. Everything else is the slot's.
 */
public final class PartnerSlot implements NodeHandle {
  private static final Logger LOG = Logger.getLogger(PartnerSlot.class.getName());

  private final NodeHandle slot;
  private final PartnerPort port;
  private final String jobKey;
  private final ExecutorService sender;

  private PartnerSlot(NodeHandle slot, PartnerPort port, String jobKey) {
    this.slot = slot;
    this.port = port;
    this.jobKey = jobKey;
    this.sender = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "crmpi-partner-" + slot.node());
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * Opens the partner port of slot's node on address, keeping copies under
   * localJobDir (the job's node-local directory, checked and made private
   * to the user first).
   */
  public static PartnerSlot open(NodeHandle slot, InetAddress address, String jobKey, Path localJobDir)
      throws IOException {
    NodeLocalLevel.at(localJobDir).prepare(io.crmpi.nativeio.Posix.uid());
    String job = localJobDir.getFileName().toString();
    return new PartnerSlot(slot, PartnerPort.listen(address, jobKey, localJobDir, job), jobKey);
  }

  @Override
  public String partnerEndpoint() {
    return port.endpoint();
  }

  @Override
  public CompletableFuture<AgentReply> send(AgentRequest request) {
    if (request instanceof AgentRequest.Replicate r) {
      return CompletableFuture.supplyAsync(() -> replicate(r), sender);
    }
    return slot.send(request);
  }

  private AgentReply replicate(AgentRequest.Replicate r) {
    long start = System.nanoTime();
    Path part = NodeLocalLevel.at(r.localJobDir()).epochDir(r.epoch()).resolve("nodes").resolve(node());
    try {
      long bytes = PartnerLink.put(r.partnerEndpoint(), jobKey, node(), r.epoch(), part);
      return new AgentReply.Replicated(node(), r.epoch(), bytes, (System.nanoTime() - start) / 1_000_000);
    } catch (IOException | RuntimeException e) {
      return new AgentReply.Failed(node(), r.epoch(), "node " + node() + ": the partner copy to " + r.partner()
          + " (" + r.partnerEndpoint() + ") failed: " + e.getMessage());
    }
  }

  @Override
  public void restore(List<Path> epochDirs, long epoch, NodeImage image, Consumer<String> log) throws IOException {
    slot.restore(epochDirs, epoch, image, log);
  }

  @Override
  public void restore(List<Path> epochDirs, long epoch, NodeImage image, PartnerSource partner,
      Consumer<String> log) throws IOException {
    if (partner != null) {
      fetchIfGone(partner, epoch, image, log);
    }
    slot.restore(epochDirs, epoch, image, log);
  }

  /**
   * Fetches this node's part of epoch from the first partner port that
   * holds it, when the node-local copy is gone; a failure only leaves the
   * restore to the next level (the state directory).
   */
  private void fetchIfGone(PartnerSource partner, long epoch, NodeImage image, Consumer<String> log) {
    Path target = partner.localEpochDir().resolve("nodes").resolve(node());
    if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
      if (EpochVerifier.imagesPresent(partner.localEpochDir(), image)) {
        return;
      }
      log.accept("node " + node() + ": its node-local copy of epoch " + epoch + " is incomplete; the restore reads"
          + " another level");
      return;
    }
    try {
      NodeLocalLevel.at(partner.localEpochDir().getParent().getParent()).prepare(io.crmpi.nativeio.Posix.uid());
    } catch (IOException e) {
      log.accept("node " + node() + ": cannot fetch its partner copy: " + e.getMessage());
      return;
    }
    for (String endpoint : partner.endpoints()) {
      if (endpoint.equals(port.endpoint())) {
        continue; // a node never holds its own partner copy
      }
      long start = System.nanoTime();
      try {
        PartnerLink.get(endpoint, jobKey, node(), epoch, target);
        long bytes = image.files().stream().mapToLong(f -> f.size()).sum();
        log.accept(String.format(Locale.ROOT, "node %s: fetched its part of epoch %d from the partner copy at %s"
            + " (%.1f MiB in %.2f s)", node(), epoch, endpoint, bytes / 1048576.0,
            (System.nanoTime() - start) / 1e9));
        return;
      } catch (IOException | RuntimeException e) {
        LOG.fine(() -> "node " + node() + " epoch " + epoch + ": no partner copy at " + endpoint + ": "
            + e.getMessage());
      }
    }
    log.accept("node " + node() + ": no partner port holds its part of epoch " + epoch + "; the restore reads"
        + " another level");
  }

  @Override
  public String node() {
    return slot.node();
  }

  @Override
  public void launch() throws IOException {
    slot.launch();
  }

  @Override
  public void fence() throws IOException {
    slot.fence();
  }

  @Override
  public void thaw() throws IOException {
    slot.thaw();
  }

  @Override
  public void exec(List<String> command) throws IOException {
    slot.exec(command);
  }

  @Override
  public int processes() throws IOException {
    return slot.processes();
  }

  @Override
  public boolean reachable() {
    return slot.reachable();
  }

  @Override
  public boolean isRunning() {
    return slot.isRunning();
  }

  @Override
  public void kill() {
    slot.kill();
  }

  @Override
  public void onTreeExit(Consumer<TreeExit> listener) {
    slot.onTreeExit(listener);
  }

  @Override
  public void close() {
    sender.shutdownNow();
    port.close();
    slot.close();
  }
}
