package io.crmpi.remote;

import io.crmpi.engine.TreeExit;
import io.crmpi.protocol.AgentReply;
import java.util.Objects;

/** What a remote node agent sends the coordinator, after the handshake. */
sealed interface FromAgent {
  /** The answer to the call with this id. */
  sealed interface Answer extends FromAgent {
    long id();
  }

  /** The call succeeded and returns nothing. */
  record Done(long id) implements Answer {}

  /** The answer to a {@link ToAgent.Send}. */
  record Replied(long id, AgentReply reply) implements Answer {
    public Replied {
      Objects.requireNonNull(reply, "reply");
    }
  }

  /** The answer to a {@link ToAgent.CountProcesses}. */
  record Counted(long id, int processes) implements Answer {
    public Counted {
      if (processes < 0) {
        throw new IllegalArgumentException("processes < 0: " + processes);
      }
    }
  }

  /** The call failed; the message says why. */
  record CallFailed(long id, String error) implements Answer {
    public CallFailed {
      Objects.requireNonNull(error, "error");
    }
  }

  /** The slot's tree ended. */
  record Exited(TreeExit exit) implements FromAgent {
    public Exited {
      Objects.requireNonNull(exit, "exit");
    }
  }

  /** Output of the tree's command, stdout or stderr. */
  record Output(String stream, byte[] data) implements FromAgent {
    public Output {
      if (!"stdout".equals(stream) && !"stderr".equals(stream)) {
        throw new IllegalArgumentException("stream must be stdout or stderr");
      }
      Objects.requireNonNull(data, "data");
    }
  }

  /** A line for the coordinator's log (restore progress). */
  record Log(String message) implements FromAgent {
    public Log {
      Objects.requireNonNull(message, "message");
    }
  }

  /** The agent's partner port listens at endpoint (host:port); sent after an assignment with partner copies. */
  record Listening(String endpoint) implements FromAgent {
    public Listening {
      if (endpoint == null || !endpoint.matches("[A-Za-z0-9.:\\[\\]_-]{1,300}:\\d{1,5}")) {
        throw new IllegalArgumentException("bad partner endpoint (want HOST:PORT)");
      }
    }
  }

  /** The answer to a {@link ToAgent.Ping}. */
  record Pong() implements FromAgent {}
}
