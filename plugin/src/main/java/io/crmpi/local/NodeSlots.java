package io.crmpi.local;

import io.crmpi.agent.NodeHandle;
import io.crmpi.cluster.RemoteSlots;
import io.crmpi.remote.RemoteAgent;
import io.crmpi.store.NodeImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.logging.Logger;

/**
 * The node slots of one run of a job: slot 0 (this node, where the job's
 * command runs) and, in a multi-node job, the remote slots. It starts,
 * restores and ends their trees together, and serves the launch requests
 * of slot 0's tree (crmpi-rsh) by starting commands in the other slots.
 */
final class NodeSlots implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(NodeSlots.class.getName());
  private final String job;
  private final List<NodeHandle> nodes;
  private final RemoteSlots remotes;

  /** @param remotes the remote slots (nodes 1..n), or null for a single-node job */
  NodeSlots(String job, NodeHandle local, RemoteSlots remotes) {
    this(job, remotes == null ? List.of(local)
        : java.util.stream.Stream.concat(java.util.stream.Stream.of(local), remotes.agents().stream()).toList(),
        remotes);
  }

  /** Slots without remote launching (tests, single-node jobs). */
  NodeSlots(String job, List<NodeHandle> nodes) {
    this(job, nodes, null);
  }

  private NodeSlots(String job, List<NodeHandle> nodes, RemoteSlots remotes) {
    this.job = job;
    this.nodes = List.copyOf(nodes);
    this.remotes = remotes;
  }

  List<NodeHandle> all() {
    return nodes;
  }

  NodeHandle get(int slot) {
    return nodes.get(slot);
  }

  int size() {
    return nodes.size();
  }

  List<String> names() {
    return nodes.stream().map(NodeHandle::node).toList();
  }

  /** Starts every slot's tree: the other nodes' (empty) trees first, then the job's command in slot 0. */
  void launchAll() throws IOException {
    for (NodeHandle n : nodes.subList(1, nodes.size())) {
      n.launch();
    }
    nodes.get(0).launch();
  }

  /**
   * Restores every slot from one epoch, in three steps that each finish on
   * every slot before the next begins: fence (nothing of an earlier copy of
   * any slot still runs or holds its address on the job network, where it
   * would answer the restored peers with resets), restore (CRIU re-creates
   * each tree with its TCP connections), thaw (the ranks run again
   * together). The first failure is thrown.
   */
  void restoreAll(List<Path> epochDirs, long epoch, Map<String, NodeImage> images) throws IOException {
    restoreAll(epochDirs, epoch, images, null);
  }

  /**
   * The same; with localEpochDir (an epoch held at the PARTNER level), a
   * slot whose node-local copy is gone first fetches it from a partner
   * port: the one of the node that should hold it first, then the others.
   */
  void restoreAll(List<Path> epochDirs, long epoch, Map<String, NodeImage> images, Path localEpochDir)
      throws IOException {
    Map<String, io.crmpi.protocol.PartnerSource> partners = localEpochDir == null ? Map.of()
        : partnerSources(localEpochDir);
    onEvery(NodeHandle::fence);
    onEvery(n -> n.restore(epochDirs, epoch, images.get(n.node()), partners.get(n.node()),
        msg -> LOG.info("job " + job + " epoch " + epoch + ": " + msg)));
    onEvery(NodeHandle::thaw);
  }

  /** For each slot: the partner ports to ask for its part, its partner's first. */
  Map<String, io.crmpi.protocol.PartnerSource> partnerSources(Path localEpochDir) {
    Map<String, io.crmpi.protocol.PartnerSource> sources = new java.util.HashMap<>();
    List<String> names = names();
    for (NodeHandle n : nodes) {
      String holder = io.crmpi.store.EpochLevels.partnerOf(n.node(), names);
      List<String> endpoints = new java.util.ArrayList<>();
      nodes.stream().filter(o -> o.node().equals(holder)).map(NodeHandle::partnerEndpoint)
          .filter(java.util.Objects::nonNull).forEach(endpoints::add);
      nodes.stream().filter(o -> !o.node().equals(holder) && !o.node().equals(n.node()))
          .map(NodeHandle::partnerEndpoint).filter(java.util.Objects::nonNull).forEach(endpoints::add);
      if (holder != null && !endpoints.isEmpty()) {
        sources.put(n.node(), new io.crmpi.protocol.PartnerSource(endpoints, localEpochDir));
      }
    }
    return sources;
  }

  /** What a step does to one slot. */
  private interface SlotStep {
    void apply(NodeHandle n) throws IOException;
  }

  /** Runs step on every slot at once and waits for all of them; the first failure is thrown. */
  private void onEvery(SlotStep step) throws IOException {
    List<CompletableFuture<Void>> all = nodes.stream()
        .map(n -> CompletableFuture.runAsync(() -> {
          try {
            step.apply(n);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        })).toList();
    IOException failure = null;
    for (CompletableFuture<Void> f : all) {
      try {
        f.join();
      } catch (CompletionException e) {
        Throwable c = e.getCause() instanceof UncheckedIOException u ? u.getCause() : e.getCause();
        if (failure == null) {
          failure = c instanceof IOException io ? io : new IOException(String.valueOf(c.getMessage()), c);
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  /** The first slot whose agent cannot be reached any more (its node is lost), if any. */
  java.util.Optional<String> unreachable() {
    return nodes.stream().filter(n -> !n.reachable()).map(NodeHandle::node).findFirst();
  }

  void killAll() {
    nodes.forEach(NodeHandle::kill);
  }

  boolean allRunning() {
    return nodes.stream().allMatch(NodeHandle::isRunning);
  }

  /**
   * A launch request from slot 0's tree (crmpi-rsh): starts its command
   * with /bin/sh inside the tree of the slot on its host.
   */
  void launch(LaunchRequest request) throws IOException {
    String host = request.host();
    List<RemoteAgent> remote = remotes == null ? List.of() : remotes.agents();
    RemoteAgent target = remote.stream().filter(r -> r.host().equals(host)).findFirst().orElse(null);
    if (target == null) {
      throw new IOException("job " + job + " has no node slot on host " + host + " (its remote nodes are "
          + remote.stream().map(RemoteAgent::host).toList() + ")");
    }
    try {
      target.exec(List.of("/bin/sh", "-c", request.commandForSlot()));
      LOG.info("job " + job + ": started on " + host + " (" + target.node() + "): " + abbreviate(request.command()));
    } catch (IOException e) {
      LOG.warning("job " + job + ": cannot start on " + host + ": " + e.getMessage());
      throw e;
    }
  }

  private static String abbreviate(String s) {
    return s.length() <= 120 ? s : s.substring(0, 120) + "...";
  }

  /** Kills every tree, closes the agents and ends the remote agents' step. */
  @Override
  public void close() {
    killAll();
    nodes.forEach(NodeHandle::close);
    if (remotes != null) {
      remotes.close();
    }
  }
}
