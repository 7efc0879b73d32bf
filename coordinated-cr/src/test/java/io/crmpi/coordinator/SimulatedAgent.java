package io.crmpi.coordinator;

import io.crmpi.protocol.AgentChannel;
import io.crmpi.protocol.AgentReply;
import io.crmpi.protocol.AgentRequest;
import io.crmpi.store.FileDigest;
import io.crmpi.store.NodeImage;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * A node agent for the coordination benchmark: it answers every request
 * successfully, on another thread after a fixed delay (a network round trip
 * and the agent's own handling), and touches no file. Its persisted image
 * names one file of a fixed digest, so the manifest has the size of a real
 * job's.
 */
final class SimulatedAgent implements AgentChannel {
  private static final String SHA = "0".repeat(64);
  private final String node;
  private final Executor replies;

  /**
   * @param node the node's name
   * @param replies where replies are completed (e.g. a delayed executor shared by every agent)
   */
  SimulatedAgent(String node, Executor replies) {
    this.node = node;
    this.replies = replies;
  }

  /** An executor that runs each reply after delayMicros, on pool. */
  static Executor delayed(long delayMicros, Executor pool) {
    return delayMicros <= 0 ? pool : CompletableFuture.delayedExecutor(delayMicros, TimeUnit.MICROSECONDS, pool);
  }

  @Override
  public String node() {
    return node;
  }

  @Override
  public CompletableFuture<AgentReply> send(AgentRequest request) {
    return CompletableFuture.supplyAsync(() -> answer(request), replies);
  }

  private AgentReply answer(AgentRequest request) {
    long epoch = request.epoch();
    if (request instanceof AgentRequest.Dump) {
      return new AgentReply.Dumped(node, epoch, 1);
    }
    if (request instanceof AgentRequest.Resume) {
      return new AgentReply.Resumed(node, epoch);
    }
    if (request instanceof AgentRequest.Persist) {
      NodeImage image = new NodeImage(node, "nodes/" + node + "/image",
          List.of(new FileDigest("pages-1.img", 4096L, SHA)), null, null, List.of(), Map.of("stdout", "pipe:[1]"));
      return new AgentReply.Persisted(node, epoch, image, 1);
    }
    return new AgentReply.Prepared(node, epoch);
  }
}
