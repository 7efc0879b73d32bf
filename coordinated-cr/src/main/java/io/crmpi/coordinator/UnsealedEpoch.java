package io.crmpi.coordinator;

import io.crmpi.protocol.AgentChannel;
import io.crmpi.protocol.AgentReply;
import io.crmpi.protocol.AgentRequest;
import io.crmpi.store.CheckpointStore;
import io.crmpi.store.Manifest;
import io.crmpi.store.NodeImage;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.logging.Logger;
import java.util.stream.Collectors;

/**
 * After crmpi restarted: the newest committed epoch, when its seal never
 * came (crmpi stopped between the commit and the seal), is sealed now if
 * every node's crmpid still holds its image (crmpid keeps a persisted image
 * for a while after its tree ended). Otherwise it stays unsealed: it is
 * never restored, and retention deletes it once a newer epoch is sealed.
 */
public final class UnsealedEpoch {
  private static final Logger LOG = Logger.getLogger(UnsealedEpoch.class.getName());

  private UnsealedEpoch() {}

  /**
   * Seals the newest committed epoch if it is not sealed; returns the
   * sealed manifest, or empty when there was nothing to seal or it could
   * not be sealed (said in the log).
   */
  public static Optional<Manifest> sealNewest(String job, CheckpointStore store, List<? extends AgentChannel> agents,
      Duration timeout, Deadlines deadlines) throws IOException {
    Optional<Manifest> newest = store.latest();
    if (newest.isEmpty() || newest.get().sealed()) {
      return Optional.empty();
    }
    Manifest m = newest.get();
    Map<String, NodeImage> images = m.nodes().stream().collect(Collectors.toMap(NodeImage::node, n -> n));
    List<AgentChannel> asked = new ArrayList<>();
    for (AgentChannel a : agents) {
      if (images.containsKey(a.node())) {
        asked.add(a);
      }
    }
    if (asked.size() != images.size()) {
      LOG.warning("job " + job + " epoch " + m.epoch() + ": committed but never sealed, and the nodes of this run "
          + asked.stream().map(AgentChannel::node).toList() + " are not its nodes " + images.keySet()
          + ": it is skipped");
      return Optional.empty();
    }
    Function<AgentChannel, AgentRequest> reseal = a -> new AgentRequest.Reseal(m.epoch(), images.get(a.node()));
    Broadcast.Phase phase = Broadcast.send(asked, reseal, timeout, deadlines);
    if (!phase.ok(AgentReply.Sealed.class)) {
      LOG.warning("job " + job + " epoch " + m.epoch() + ": committed but never sealed (crmpi stopped before the"
          + " seal), and it cannot be sealed now: " + phase.problem() + "; it is skipped");
      return Optional.empty();
    }
    List<NodeImage> sealed = m.nodes().stream()
        .map(n -> ((AgentReply.Sealed) phase.replies().get(n.node())).image()).toList();
    Manifest done = m.withNodes(sealed);
    if (!store.recordSeal(done)) {
      return Optional.empty();
    }
    LOG.info("job " + job + " epoch " + m.epoch() + ": committed before crmpi stopped and sealed now (crmpid still"
        + " held its images)");
    return Optional.of(done);
  }
}
