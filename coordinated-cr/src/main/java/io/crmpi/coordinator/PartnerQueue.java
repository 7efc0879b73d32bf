package io.crmpi.coordinator;

import io.crmpi.protocol.AgentChannel;
import io.crmpi.protocol.AgentReply;
import io.crmpi.protocol.AgentRequest;
import io.crmpi.store.CheckpointStore;
import io.crmpi.store.EpochLevels;
import io.crmpi.store.StorageLevel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.logging.Logger;
import java.util.stream.Collectors;

/**
 * The partner copies of committed epochs (storage level PARTNER): every
 * node sends its node-local part to its partner (the next node by name),
 * on a thread of their own, while the job runs and checkpoints on. Only
 * the newest epoch asked for is copied; once every node's copy is durable
 * at its partner, the epoch's manifest says it is held at PARTNER too. A
 * failed copy costs only that level of that epoch.
 */
final class PartnerQueue implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(PartnerQueue.class.getName());
  private final String job;
  private final List<AgentChannel> agents;
  private final CheckpointStore store;
  private final Path localJobDir;
  private final Duration timeout;
  private final Deadlines deadlines;
  private final LongSupplier nanoTime;
  private final NewestEpochWorker worker;
  /** The epoch being copied (0: none): the nodes keep its node-local copy meanwhile. */
  private volatile long copying;
  private boolean warnedNoPort;

  PartnerQueue(String job, List<AgentChannel> agents, CheckpointStore store, StoragePlan storage,
      Deadlines deadlines, LongSupplier nanoTime) {
    this.job = job;
    this.agents = List.copyOf(agents);
    this.store = store;
    this.localJobDir = storage.localJobDir();
    this.timeout = storage.flushTimeout();
    this.deadlines = deadlines;
    this.nanoTime = nanoTime;
    this.worker = new NewestEpochWorker("crmpi-partners-" + job);
  }

  /** Copies epoch to the partners in the background, unless a newer epoch is asked for first. */
  void request(long epoch) {
    worker.request(epoch, () -> {
      copying = epoch;
      try {
        copy(epoch);
      } finally {
        copying = 0;
      }
    }, () -> { });
  }

  /** The epoch whose partner copies are being made, or 0. */
  long copying() {
    return copying;
  }

  private void copy(long epoch) {
    Map<String, AgentChannel> byNode = agents.stream().collect(Collectors.toMap(AgentChannel::node, a -> a));
    for (AgentChannel a : agents) {
      String partner = EpochLevels.partnerOf(a.node(), byNode.keySet());
      if (byNode.get(partner).partnerEndpoint() == null) {
        if (!warnedNoPort) { // once: it stays so for this run of the job
          warnedNoPort = true;
          LOG.warning("job " + job + " epoch " + epoch + ": no partner copies: node " + partner
              + " has not said where its partner port listens (its agent's log says why)");
        }
        return;
      }
    }
    long start = nanoTime.getAsLong();
    Broadcast.Phase phase = Broadcast.send(agents, a -> {
      String partner = EpochLevels.partnerOf(a.node(), byNode.keySet());
      return new AgentRequest.Replicate(epoch, localJobDir, partner, byNode.get(partner).partnerEndpoint());
    }, timeout, deadlines);
    if (worker.closed()) {
      return;
    }
    if (!phase.ok(AgentReply.Replicated.class)) {
      LOG.warning("job " + job + " epoch " + epoch + ": partner copies failed: " + phase.problem()
          + "; the epoch stays committed at its other levels");
      return;
    }
    long bytes = phase.replies().values().stream().mapToLong(r -> ((AgentReply.Replicated) r).bytes()).sum();
    try {
      if (store.addLevel(epoch, StorageLevel.PARTNER)) {
        LOG.info(String.format(java.util.Locale.ROOT, "job %s epoch %d: partner copies made: %.1f MiB in %.2f s;"
            + " the epoch survives the loss of any one node", job, epoch, bytes / 1048576.0,
            (nanoTime.getAsLong() - start) / 1e9));
      }
    } catch (java.io.IOException | RuntimeException e) {
      LOG.warning("job " + job + " epoch " + epoch + ": partner copies made, but its manifest could not say so: "
          + e);
    }
  }

  /** A copy that runs is left to end on its own (its answers are ignored); none starts after this. */
  @Override
  public void close() {
    worker.close();
  }
}
