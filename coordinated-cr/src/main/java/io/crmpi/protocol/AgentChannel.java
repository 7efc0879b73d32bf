package io.crmpi.protocol;

import java.util.concurrent.CompletableFuture;

/**
 * How the coordinator reaches one node agent: in the same JVM in local
 * mode, over the network across nodes. Requests never throw; a transport
 * failure completes the future exceptionally.
 */
public interface AgentChannel {
  String node();

  CompletableFuture<AgentReply> send(AgentRequest request);

  /**
   * host:port of the port where this node keeps its partners' copies
   * (storage level PARTNER), or null when it has none (no partner copies,
   * or its agent has not said yet).
   */
  default String partnerEndpoint() {
    return null;
  }
}
