package io.crmpi.protocol;

import io.crmpi.store.NodeImage;
import java.util.Objects;

/** A node agent's answer to one {@link AgentRequest}. */
public sealed interface AgentReply {
  String node();

  long epoch();

  /** The tree is quiesced or frozen. */
  record Prepared(String node, long epoch) implements AgentReply {
    public Prepared {
      Objects.requireNonNull(node, "node");
    }
  }

  /** The tree's image is written (not yet durable); the tree is still frozen. */
  record Dumped(String node, long epoch, long dumpMillis) implements AgentReply {
    public Dumped {
      Objects.requireNonNull(node, "node");
      if (dumpMillis < 0) {
        throw new IllegalArgumentException("dumpMillis < 0: " + dumpMillis);
      }
    }
  }

  /**
   * Every file of the node's image is durable. Its files carry their
   * digests, or (crmpid's images) not yet: {@link Sealed} brings them.
   */
  record Persisted(String node, long epoch, NodeImage image, long persistMillis) implements AgentReply {
    public Persisted {
      requireOwnImage(node, image);
    }
  }

  /** The node's image with every file's digest and crmpid's seal: from now on it can be restored. */
  record Sealed(String node, long epoch, NodeImage image, long sealMillis) implements AgentReply {
    public Sealed {
      requireOwnImage(node, image);
      if (!image.sealed()) {
        throw new IllegalArgumentException("node " + node + " epoch " + epoch + ": a sealed image without digests");
      }
      if (sealMillis < 0) {
        throw new IllegalArgumentException("sealMillis < 0: " + sealMillis);
      }
    }
  }

  /** The node's part of the epoch is durable in the state directory. */
  record Flushed(String node, long epoch, long bytes, long linkedBytes, long flushMillis) implements AgentReply {
    public Flushed {
      Objects.requireNonNull(node, "node");
      if (bytes < 0 || linkedBytes < 0 || flushMillis < 0) {
        throw new IllegalArgumentException("negative flush figures: " + bytes + ", " + linkedBytes + ", " + flushMillis);
      }
    }
  }

  /** The node's part of the epoch is durable at its partner node. */
  record Replicated(String node, long epoch, long bytes, long millis) implements AgentReply {
    public Replicated {
      Objects.requireNonNull(node, "node");
      if (bytes < 0 || millis < 0) {
        throw new IllegalArgumentException("negative replication figures: " + bytes + ", " + millis);
      }
    }
  }

  /** The node-local copies not kept are gone. */
  record Pruned(String node, long epoch, java.util.List<Long> removed) implements AgentReply {
    public Pruned {
      Objects.requireNonNull(node, "node");
      removed = java.util.List.copyOf(removed);
    }
  }

  /** The request could not be carried out; the message says why. */
  record Failed(String node, long epoch, String message) implements AgentReply {
    public Failed {
      Objects.requireNonNull(node, "node");
      Objects.requireNonNull(message, "message");
    }
  }

  /**
   * The node's tree ended on its own before it could be prepared (the job
   * is finishing): the epoch is called off without counting as a failure.
   */
  record TreeEnded(String node, long epoch) implements AgentReply {
    public TreeEnded {
      Objects.requireNonNull(node, "node");
    }
  }

  /** The tree runs again (or was ended, for a vacate). */
  record Resumed(String node, long epoch) implements AgentReply {
    public Resumed {
      Objects.requireNonNull(node, "node");
    }
  }

  /** A node answers with its own image only. */
  private static void requireOwnImage(String node, NodeImage image) {
    Objects.requireNonNull(node, "node");
    Objects.requireNonNull(image, "image");
    if (!image.node().equals(node)) {
      throw new IllegalArgumentException("image of node " + image.node() + " sent by " + node);
    }
  }
}
