package io.crmpi.remote;

import io.crmpi.engine.LaunchSpec;
import io.crmpi.protocol.AgentRequest;
import io.crmpi.store.NodeImage;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/** What the coordinator sends a remote node agent, after the handshake. */
sealed interface ToAgent {
  /**
   * The slot's assignment: what its tree runs, and how. Sent once, first.
   *
   * @param partnerDir with partner copies, the job's directory at the
   *     node-local level, where the agent's partner port keeps the copies
   *     of its partners (it answers {@link FromAgent.Listening}); else null
   */
  record Assign(LaunchSpec spec, String engine, long quiesceTimeoutMillis, String faults, Path partnerDir)
      implements ToAgent {
    public Assign(LaunchSpec spec, String engine, long quiesceTimeoutMillis, String faults) {
      this(spec, engine, quiesceTimeoutMillis, faults, null);
    }

    public Assign {
      if (partnerDir != null && !partnerDir.isAbsolute()) {
        throw new IllegalArgumentException("partnerDir must be absolute: " + partnerDir);
      }
      Objects.requireNonNull(spec, "spec");
      if (engine == null || !engine.matches("[a-z]{1,16}")) {
        throw new IllegalArgumentException("engine must be a short lower-case name");
      }
      if (quiesceTimeoutMillis <= 0) {
        throw new IllegalArgumentException("quiesceTimeoutMillis <= 0: " + quiesceTimeoutMillis);
      }
      faults = faults == null ? "" : faults;
    }
  }

  /** The heartbeat; the agent answers {@link FromAgent.Pong}. */
  record Ping() implements ToAgent {}

  /** The job ends: the agent kills its tree and exits. */
  record Bye() implements ToAgent {}

  /** A call on the node agent, answered by id (see {@link FromAgent.Answer}). */
  sealed interface Call extends ToAgent {
    long id();
  }

  /** A checkpoint-protocol request. */
  record Send(long id, AgentRequest request) implements Call {
    public Send {
      requireId(id);
      Objects.requireNonNull(request, "request");
    }
  }

  /** Start the slot's tree from its assignment. */
  record Launch(long id) implements Call {
    public Launch {
      requireId(id);
    }
  }

  /**
   * Restore the slot's tree from its image of an epoch, read from the first
   * of epochDirs where it is intact; with partner, a node-local copy that is
   * gone is first fetched from a partner port.
   */
  record Restore(long id, List<Path> epochDirs, long epoch, NodeImage image, io.crmpi.protocol.PartnerSource partner)
      implements Call {
    public Restore(long id, List<Path> epochDirs, long epoch, NodeImage image) {
      this(id, epochDirs, epoch, image, null);
    }

    public Restore {
      requireId(id);
      epochDirs = List.copyOf(epochDirs);
      if (epochDirs.isEmpty()) {
        throw new IllegalArgumentException("no epoch directory to restore from");
      }
      Objects.requireNonNull(image, "image");
      if (epoch <= 0) {
        throw new IllegalArgumentException("epoch <= 0: " + epoch);
      }
    }
  }

  /** Run a command inside the running tree (crmpi-rsh's launch on this node). */
  record Exec(long id, List<String> command) implements Call {
    public Exec {
      requireId(id);
      command = List.copyOf(command);
      if (command.isEmpty()) {
        throw new IllegalArgumentException("empty command");
      }
    }
  }

  /** End the tree. */
  record Kill(long id) implements Call {
    public Kill {
      requireId(id);
    }
  }

  /** End every copy of the tree on the node, the running one and any left over. */
  record Fence(long id) implements Call {
    public Fence {
      requireId(id);
    }
  }

  /** Thaw a tree left frozen. */
  record Thaw(long id) implements Call {
    public Thaw {
      requireId(id);
    }
  }

  /** Count the tree's processes. */
  record CountProcesses(long id) implements Call {
    public CountProcesses {
      requireId(id);
    }
  }

  private static void requireId(long id) {
    if (id <= 0) {
      throw new IllegalArgumentException("call id <= 0: " + id);
    }
  }
}
