package io.crmpi.agent;

import io.crmpi.engine.TreeExit;
import io.crmpi.protocol.AgentChannel;
import io.crmpi.store.NodeImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

/**
 * What the job's supervisor can do with one node slot of the job, whether
 * its agent runs in the same JVM ({@link NodeAgent}) or on another node
 * (io.crmpi.remote.RemoteAgent): start or restore its tree, start a
 * launcher daemon in it, end it, and hear when it ends. The checkpoint
 * protocol itself goes through {@link AgentChannel}.
 */
public interface NodeHandle extends AgentChannel, AutoCloseable {
  /** Starts the node tree afresh. */
  void launch() throws IOException;

  /**
   * Ends the slot's tree and anything an earlier copy of it left on the
   * node (processes, its job-network interface). Every slot is fenced
   * before any is restored.
   */
  void fence() throws IOException;

  /**
   * Restores the node tree (and the working-directory snapshot it holds)
   * from image, read from the first of epochDirs (the storage levels that
   * hold the epoch, fastest first) where it is intact. The tree may stay
   * frozen until {@link #thaw}: a job's slots run again together, once
   * every one is restored.
   */
  void restore(List<Path> epochDirs, long epoch, NodeImage image, Consumer<String> log) throws IOException;

  /**
   * The same; when partner is not null and this node's node-local copy is
   * gone, the copy is first fetched from a partner port (a slot without
   * partner copies ignores partner).
   */
  default void restore(List<Path> epochDirs, long epoch, NodeImage image, io.crmpi.protocol.PartnerSource partner,
      Consumer<String> log) throws IOException {
    restore(epochDirs, epoch, image, log);
  }

  /** Lets the restored tree run. */
  void thaw() throws IOException;

  /** Starts command as a process of the running tree. */
  void exec(List<String> command) throws IOException;

  /** How many processes the node tree has now; 0 when none runs. */
  int processes() throws IOException;

  /** Whether the slot's agent can still be reached (false once its node is lost). */
  default boolean reachable() {
    return true;
  }

  /** Whether a node tree is running. */
  boolean isRunning();

  /** Kills the node tree, if any, and waits until it is gone. */
  void kill();

  /** Called with the exit of every tree this slot starts or restores. */
  void onTreeExit(Consumer<TreeExit> listener);

  @Override
  void close();
}
