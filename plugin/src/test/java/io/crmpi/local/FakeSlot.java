package io.crmpi.local;

import io.crmpi.agent.NodeHandle;
import io.crmpi.engine.TreeExit;
import io.crmpi.protocol.AgentReply;
import io.crmpi.protocol.AgentRequest;
import io.crmpi.store.NodeImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * A node slot for the supervisor's unit tests: every call does nothing
 * (a running tree, no processes, no protocol); each test overrides what
 * it scripts or records.
 */
abstract class FakeSlot implements NodeHandle {
  private final String node;

  FakeSlot(String node) {
    this.node = node;
  }

  @Override
  public String node() {
    return node;
  }

  @Override
  public CompletableFuture<AgentReply> send(AgentRequest request) {
    throw new UnsupportedOperationException("the protocol is not part of this test");
  }

  @Override
  public void launch() throws IOException {}

  @Override
  public void fence() throws IOException {}

  @Override
  public void restore(java.util.List<Path> epochDirs, long epoch, NodeImage image, Consumer<String> log) throws IOException {}

  @Override
  public void thaw() throws IOException {}

  @Override
  public void exec(List<String> command) {}

  @Override
  public int processes() {
    return 0;
  }

  @Override
  public boolean isRunning() {
    return true;
  }

  @Override
  public void kill() {}

  @Override
  public void onTreeExit(Consumer<TreeExit> listener) {}

  @Override
  public void close() {}
}
